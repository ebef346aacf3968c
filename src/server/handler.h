// RequestHandler: one request frame in, one response frame out. Synchronous, no Asio types.
//
// It decodes and verifies the request (wire/), reads the store at one consistent point
// (store/), resolves the default-versus-org fallback (resolve/), decides checks (check/) and
// encodes the answer. Buffers are reused between requests, so a warmed-up handler does not
// allocate for single lookups, nor for checks that need no domains (RocksDB's own reads may:
// of domains, and the verified-domain point read while its files hold range tombstones, as after
// a snapshot load until compaction drops them).
//
// Kinds: a lookup naming generic kinds reads them with the domain policy in the same Store::Read,
// so one frame's answers come from one consistent view; each resolves on its own rows
// (resolve.h ResolveKindInto). A lookup without kinds (every older client) answers as before.
//
// Checks: the policies of every org a request's checks name, the instance default and, for each
// login name with an '@', the orgs that have its domain verified (check/check.h
// LoginNameClaimedDomain; the store's verified-domain index) come from one Store::Read. When a
// decision needs domains (CheckNeedsDomains; never for an org the store does not know) all of it
// is read again with the domains, from one RocksDB view, and every check is decided on that.
//
// Dumps: a Dump request opens a DumpStream (server/dump_stream.h) on a Store::OpenDumpCursor
// view and appends nothing; the session takes the stream (TakeDump) and writes its frames before
// it answers anything after the Dump. A dump is served whatever the data's age (it is an
// operator's copy, not an answer to a service), like a status request.
//
// Counting: with a RequestMetrics (the serving thread's), every answered frame is counted by kind
// and result code, and the session reports latency through RecordLatency. With a counters
// source, a status request asking for counters gets them.
//
// Thread-safety: one handler per connection; not safe for concurrent use. The Store, the
// ServingState, the Clock, the RequestMetrics (written only from this handler's thread) and the
// counters source are shared and must outlive the handler.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "check/check.h"
#include "server/dump_stream.h"
#include "server/request_metrics.h"
#include "server/serving_state.h"
#include "store/store.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd {

// Whether an answered request frame may have held a secret (a PASSWORD check's password): then
// its bytes are to be overwritten (FrameBuffer::WipeLast) as soon as it is answered.
enum class FrameSecrets : std::uint8_t { kNone, kMayHoldSecret };

// Fills a status answer's counters (every thread's requests, connections, sync).
using CountersSource = std::function<void(DaemonCounters&)>;

class RequestHandler {
 public:
  // `metrics` (may be null: nothing is counted) and `counters` (may be null: status answers
  // carry no counters) as described above.
  RequestHandler(const Store& store, const ServingState& state, const Clock& clock,
                 std::string version, RequestMetrics* metrics = nullptr,
                 const CountersSource* counters = nullptr);

  // Appends exactly one response frame answering `frame` (a request FlatBuffer without its
  // length prefix, 8-byte aligned) to `out`. Every failure becomes an error response. Returns
  // kMayHoldSecret for a request with a PASSWORD check and for a frame that could not be decoded
  // (which may be one); the answer never holds the password.
  FrameSecrets Handle(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out);

  // Appends an error response for a frame whose length prefix cannot be answered (the session
  // then closes the connection); counted as an undecodable request and a bad frame.
  void AppendError(std::uint64_t id, const Status& error, std::vector<std::uint8_t>& out);

  // Whether the last Handle() began a dump, and the stream that answers it (null when none); the
  // caller writes every frame of it before handling the next request.
  bool dump_pending() const { return dump_ != nullptr; }
  std::unique_ptr<DumpStream> TakeDump() { return std::move(dump_); }

  // Records that `frames` requests were answered `ns` nanoseconds after they were read.
  void RecordLatency(std::uint64_t ns, std::size_t frames) {
    if (metrics_ != nullptr) metrics_->RecordLatency(ns, frames);
  }

 private:
  // Each returns the code of the answer it appended.
  Code Answer(const RequestView& request, std::vector<std::uint8_t>& out);
  Code HandleOrgs(const RequestView& request, bool stale, std::vector<std::uint8_t>& out);
  Code HandleDefault(const RequestView& request, bool stale, std::vector<std::uint8_t>& out);
  // Resolves org `i` of a lookup (batch_ read) for `kinds` into resolutions_[i] and
  // kind_answers_[i].
  Status ResolveOrg(const RequestView& request, std::size_t i, KindSet kinds);
  // Resolves the generic kinds in `kinds` into `out` from batch_: org `org`'s own rows, else the
  // instance defaults (nullopt: the defaults alone).
  Status ResolveKinds(KindSet kinds, std::optional<std::size_t> org, KindAnswers& out) const;
  Code HandleStatus(const RequestView& request, Timestamp now, std::vector<std::uint8_t>& out);
  Code HandleChecks(const RequestView& request, bool stale, std::vector<std::uint8_t>& out);
  Code HandleDump(const RequestView& request, std::vector<std::uint8_t>& out);
  // Validates and resolves every check of `request` on the policies batch_ holds, into
  // resolutions_ (or errors_) and check_views_; returns whether any resolved check needs domains.
  bool ResolveChecks(const RequestView& request);
  static bool NeedsDomains(const CheckRequest& check, const Resolution& resolution);
  // Resolves check `i`, a PASSWORD check of org `org` in batch_, into password_policies_[i].
  Status ResolvePasswordCheck(const CheckRequest& check, std::size_t i, std::size_t org);
  // Decides resolved check `i` (org index `org` in batch_, none for the instance's checks) into
  // decisions_[i] and completes its view; its domains, when needed, are batch_'s.
  void DecideCheck(const CheckRequest& check, std::size_t i, std::optional<std::size_t> org);
  void DecidePassword(const CheckRequest& check, std::size_t i);
  Code Fail(std::uint64_t id, const Status& error, std::vector<std::uint8_t>& out);

  const Store& store_;
  const ServingState& state_;
  const Clock& clock_;
  const std::string version_;
  RequestMetrics* const metrics_;
  const CountersSource* const counters_;
  LookupBatch batch_;
  ResponseEncoder encoder_;
  std::vector<Resolution> resolutions_;  // grows to the largest batch, never shrinks
  DomainPolicy default_policy_;
  std::vector<KindAnswers> kind_answers_;  // per org of a lookup that names kinds
  KindAnswers default_kinds_;
  std::vector<KindResolution> password_policies_;  // per check: PASSWORD's policy
  std::vector<Status> errors_;
  std::vector<OrgAnswer> answers_;
  std::vector<CheckDecision> decisions_;  // grows to the largest check batch, never shrinks
  std::vector<CheckResultView> check_views_;
  std::vector<std::size_t> claim_queries_;  // per check: its claim query in batch_, or kNoClaims
  std::unique_ptr<DumpStream> dump_;        // a Dump's answer until the session takes it
  static constexpr std::size_t kNoClaims = SIZE_MAX;
};

}  // namespace policyd
