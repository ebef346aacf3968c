// policyd client library: what a co-located service links to ask policyd for domain policies.
//
//   auto client = policyd::Client::Connect("/run/policyd/policyd.sock");
//   if (!client) { /* client.error(): UNAVAILABLE when the daemon is unreachable */ }
//   auto answer = client->GetOrgPolicy("300000000000000042");
//   if (answer && answer->policy.flags.user_login_must_be_domain) { ... }
//
// Plain POSIX I/O with a per-call deadline: no event loop, no threads. A round trip is usually
// four system calls: send, a receive that finds nothing yet, poll() until the answer is there,
// and one receive that brings all of it (measured faster than a blocking receive bounded by
// SO_RCVTIMEO). Requests carry increasing ids; the library checks that each response answers the
// request it sent. For pipelining, Send() several frames built with wire/request.h and
// Receive() the answers in order.
//
// Errors (Status codes): UNAVAILABLE (cannot connect, connection lost), DEADLINE_EXCEEDED
// (no answer within the timeout), INTERNAL (the daemon answered something undecodable or for
// another request), and the daemon's own error codes (NOT_FOUND for a strict lookup of an
// unknown org, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, PERMISSION_DENIED, UNAVAILABLE when it
// refuses stale data). After UNAVAILABLE, DEADLINE_EXCEEDED or INTERNAL the connection is closed;
// Connect again.
//
// Thread-safety: a Client is one connection; use one per thread (or guard it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/store_state.h"
#include "wire/response.h"

namespace policyd {

// What a dump transferred (Client::Dump).
struct DumpSummary {
  std::uint64_t orgs = 0;   // orgs in the document
  std::uint64_t bytes = 0;  // the document's size
};

struct ClientOptions {
  // Bounds connecting, and each call: sending its request and receiving its whole answer share
  // one deadline (kept to the millisecond). Dump's later frames, Send() and Receive() get one
  // each.
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  std::uint32_t max_response_bytes = 16u << 20;
  // Called when a signal interrupts a blocking connect, send or receive. OK: keep waiting until
  // the deadline; an error ends the call with it and closes the connection. Unset: keep waiting.
  // (The Python extension lets KeyboardInterrupt through this way.)
  std::function<Status()> on_signal;
};

class Client {
 public:
  static Result<Client> Connect(const std::string& socket_path, ClientOptions options = {});

  Client(Client&& other) noexcept;
  Client& operator=(Client&& other) noexcept;
  ~Client();

  // The effective policy of one org. With `strict`, an unknown org is NOT_FOUND.
  Result<PolicyAnswer> GetOrgPolicy(std::string_view org_id, bool strict = false);
  // Many orgs in one round trip; answers in request order, each with its own status.
  Result<std::vector<PolicyAnswer>> GetOrgPolicies(std::span<const std::string> org_ids,
                                                   bool strict = false);
  // The instance default.
  Result<PolicyAnswer> GetDefaultPolicy();
  // Several policy kinds in one round trip, all read from one consistent view of the daemon:
  // each answer has PolicyAnswer::kinds for the generic kinds of `kinds` and ::policy when
  // `kinds` has kDomain (::has_domain). `kinds` must not be empty (INVALID_ARGUMENT, nothing
  // sent). A successful answer that lacks a kind asked for is UNIMPLEMENTED: a daemon older than
  // policy kinds ignores them and answers the domain policy only.
  Result<PolicyAnswer> GetOrgKinds(std::string_view org_id, KindSet kinds, bool strict = false);
  // Many orgs, the same kinds for each; answers in request order, each with its own status.
  Result<std::vector<PolicyAnswer>> GetOrgsKinds(std::span<const std::string> org_ids,
                                                 KindSet kinds, bool strict = false);
  // The instance defaults of `kinds`.
  Result<PolicyAnswer> GetDefaultKinds(KindSet kinds);
  // Local policy checks (README "Checks"), each one round trip. The answer says allowed or not,
  // why (reason, message), the matched domain and the policy the decision used. Errors: those of
  // every call, plus the daemon's INVALID_ARGUMENT (bad org id, an org id on an SMTP check) and
  // NOT_FOUND (`strict` and an unknown org). A value that is no login name, address or domain is
  // an answer (allowed=false, an INVALID_* reason), not an error.
  Result<CheckAnswer> CheckLoginName(std::string_view org_id, std::string_view login_name,
                                     bool strict = false);
  Result<CheckAnswer> CheckSmtpSender(std::string_view address);
  Result<CheckAnswer> CheckDomainVerification(std::string_view org_id, std::string_view domain,
                                              bool strict = false);
  // Does `password` satisfy the org's effective password complexity policy (the upstream's
  // PasswordComplexityPolicy.Check)? The answer has allowed, reason (PASSWORD_*), error_id and
  // message of the first failing rule, and password_complexity, the policy used. The password is
  // only sent; the library wipes its send buffer after every request.
  Result<CheckAnswer> CheckPassword(std::string_view org_id, std::string_view password,
                                    bool strict = false);
  // Any one check, e.g. built by the caller.
  Result<CheckAnswer> Check(const CheckRequest& check);
  // 1..1024 checks of any kinds in one round trip; answers in request order, each with its own
  // status (a check's INVALID_ARGUMENT or NOT_FOUND fails it alone).
  Result<std::vector<CheckAnswer>> CheckBatch(std::span<const CheckRequest> checks);
  // Store and sync state; `with_counters` adds what the daemon has done since it started
  // (ServerStatus::counters: requests, latency histogram, connections, sync rounds).
  Result<ServerStatus> GetStatus(bool with_counters = false);

  // The whole store as the snapshot document (json/snapshot_json.h), exactly what `policyctl dump
  // --data-dir` writes for the same state, read by the daemon from one consistent view and
  // streamed in frames (wire/dump.h): `sink` gets the document's bytes in order, a piece per
  // frame (at most 256 KiB), as they arrive. The timeout applies to each frame. Errors: those of
  // every call; the daemon's FAILED_PRECONDITION (no state yet) or an error that ends the dump
  // midway (what `sink` got is then incomplete); UNIMPLEMENTED from a daemon older than dumps
  // over the socket; INTERNAL for chunks out of order; the sink's own error. The connection is
  // closed unless the dump ended with its last frame or an error frame.
  Result<DumpSummary> Dump(const std::function<Status(std::string_view)>& sink);

  // False once a transport failure closed the connection (errors the daemon answered with
  // leave it open).
  bool connected() const { return fd_ >= 0; }

  // Low level, for pipelining: a fresh request id, raw frames out, decoded responses in.
  std::uint64_t NextId() { return ++last_id_; }
  Status Send(std::span<const std::uint8_t> frames);
  Result<Response> Receive();
  // The next frame's payload, undecoded (its length checked against max_response_bytes): valid
  // until the next call on this Client. For a caller with its own decoder (the Python extension).
  Result<std::span<const std::uint8_t>> ReceiveFrame();
  // Send(frames) then ReceiveFrame() under one deadline. When sending fails, the answer is still
  // read (the daemon may have answered, e.g. refused the peer, before reading the request); the
  // send's error is returned only when there is none.
  Result<std::span<const std::uint8_t>> Exchange(std::span<const std::uint8_t> frames);

  // Closes the connection (connected() is then false); the destructor does too.
  void Close();

 private:
  using Deadline = std::chrono::steady_clock::time_point;

  Client(int fd, ClientOptions options) : fd_(fd), options_(std::move(options)) {}
  Result<Response> RoundTrip(std::uint64_t id);
  Result<PolicyAnswer> OneKindsAnswer(std::uint64_t id, KindSet kinds);
  Result<Response> Decode(std::span<const std::uint8_t> payload);
  // Transport (client.cc): one deadline per call.
  Deadline StartCall();
  Status Wait(short events, Deadline deadline);
  Status Interrupted();
  Status SendUntil(std::span<const std::uint8_t> frames, Deadline deadline);
  Result<std::span<const std::uint8_t>> ReceiveUntil(Deadline deadline);
  Status Fill(std::size_t bytes, Deadline deadline);
  void Resize(std::size_t capacity);
  std::uint8_t* Buffer() { return reinterpret_cast<std::uint8_t*>(in_.get()); }

  int fd_ = -1;
  ClientOptions options_;
  std::uint64_t last_id_ = 0;
  std::vector<std::uint8_t> out_;
  // Received bytes, 8-byte aligned so that a payload can start aligned (the Verifier checks
  // alignment), in_capacity_ bytes allocated on the first receive and not zeroed: held_ bytes
  // from offset 4, the first taken_ of them (the frame last returned) dropped by the next
  // receive.
  std::unique_ptr<std::uint64_t[]> in_;
  std::size_t in_capacity_ = 0;
  std::size_t held_ = 0;
  std::size_t taken_ = 0;
};

}  // namespace policyd
