// Requests on the wire: decoding (server side) and encoding (client side).
//
// The generated FlatBuffers types never leave wire/: the server sees a RequestView whose string
// views point into the received frame, the client passes plain values.
//
// Pure. Thread-safe (a RequestView is only valid while its frame's bytes are).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "check/check.h"
#include "model/policy_kinds.h"

namespace policyd {

enum class RequestKind : std::uint8_t {
  kGetOrgPolicy,
  kGetOrgPolicies,
  kGetDefaultPolicy,
  kGetStatus,
  kCheck,       // one Check (check/check.h)
  kCheckBatch,  // 1..kMaxBatchChecks Checks
  kDump,        // the whole store, answered in DumpChunk frames (wire/dump.h)
};

// Most orgs one GetOrgPolicies frame may ask for, and most checks one CheckBatch may hold.
inline constexpr std::size_t kMaxBatchOrgs = 1024;
inline constexpr std::size_t kMaxBatchChecks = 1024;

// A verified request, viewing the frame it was decoded from.
class RequestView {
 public:
  std::uint64_t id() const { return id_; }
  RequestKind kind() const { return kind_; }
  bool strict() const { return strict_; }
  // kGetStatus: the client also wants the daemon's counters.
  bool with_counters() const { return with_counters_; }
  // Org ids asked for: one for kGetOrgPolicy, 1..kMaxBatchOrgs for kGetOrgPolicies, else none.
  std::size_t org_count() const;
  std::string_view org_id(std::size_t i) const;
  // Checks asked for: one for kCheck, 1..kMaxBatchChecks for kCheckBatch, else none. The kind
  // is as sent (not yet validated: see ValidateCheckRequest); absent strings read as empty.
  std::size_t check_count() const;
  CheckRequest check(std::size_t i) const;
  // kGetOrgPolicy, kGetOrgPolicies, kGetDefaultPolicy: the kinds to answer. A request without
  // `kinds` (every old client) asks for kDomain only; else exactly the kinds listed.
  KindSet kinds() const { return kinds_; }

 private:
  friend struct RequestDecoder;
  std::uint64_t id_ = 0;
  RequestKind kind_ = RequestKind::kGetStatus;
  bool strict_ = false;
  bool with_counters_ = false;
  KindSet kinds_ = KindSet::Of(PolicyKind::kDomain);
  std::string_view single_org_;
  const void* batch_ids_ = nullptr;  // flatbuffers vector of strings, for kGetOrgPolicies
  const void* checks_ = nullptr;     // fb::Check for kCheck, vector of them for kCheckBatch
};

// Why a frame could not be turned into a request; `id` is the request's id when the buffer
// verified far enough to read it, else 0.
struct RequestError {
  std::uint64_t id = 0;
  Status status;
};

// Verifies `frame` (the FlatBuffer, without the length prefix; its first byte must be 8-byte
// aligned so that 64-bit fields are read aligned) with the FlatBuffers Verifier and
// returns a view of it. Errors (always INVALID_ARGUMENT): not a verifiable Request buffer (wrong
// file identifier, truncated, garbage), missing or unknown request kind, missing org ids, too
// many org ids, a CheckBatch without checks or with too many, `kinds` present but empty, naming
// a kind twice or a number this daemon does not know ("unsupported policy kind N"). Org ids
// themselves are validated by the resolver, checks (PASSWORD included: its org id and password
// are as sent) by ValidateCheckRequest.
tl::expected<RequestView, RequestError> DecodeRequest(std::span<const std::uint8_t> frame);

// Client side: each call appends one complete frame (length prefix included) to `out`.
void AppendGetOrgPolicy(std::vector<std::uint8_t>& out, std::uint64_t id, std::string_view org_id,
                        bool strict);
void AppendGetOrgPolicies(std::vector<std::uint8_t>& out, std::uint64_t id,
                          std::span<const std::string> org_ids, bool strict);
void AppendGetDefaultPolicy(std::vector<std::uint8_t>& out, std::uint64_t id);
// The same requests naming `kinds` (written in kind number order; must not be empty). The calls
// above write no kinds at all, exactly as before kinds existed.
void AppendGetOrgKinds(std::vector<std::uint8_t>& out, std::uint64_t id, std::string_view org_id,
                       KindSet kinds, bool strict);
void AppendGetOrgsKinds(std::vector<std::uint8_t>& out, std::uint64_t id,
                        std::span<const std::string> org_ids, KindSet kinds, bool strict);
void AppendGetDefaultKinds(std::vector<std::uint8_t>& out, std::uint64_t id, KindSet kinds);
void AppendGetStatus(std::vector<std::uint8_t>& out, std::uint64_t id, bool with_counters = false);
// An empty org_id / value is not written (absent on the wire; read back as empty). A PASSWORD
// check's password is wiped from the builder's memory once copied into `out` (the caller owns,
// and should wipe, `out`).
void AppendCheck(std::vector<std::uint8_t>& out, std::uint64_t id, const CheckRequest& check);
void AppendCheckBatch(std::vector<std::uint8_t>& out, std::uint64_t id,
                      std::span<const CheckRequest> checks);

}  // namespace policyd
