// DaemonCounters: what policyd has done since it started — requests by kind and result code, the
// request latency histogram, connections, sync rounds — as plain cumulative values.
//
// The serving threads and the sync thread count into their own lock-free cells (server/,
// sync/); a status request with counters, `policyctl top` and the Prometheus endpoint read one
// DaemonCounters summed from them. Rates and percentiles are computed by the reader from two
// successive values, so the daemon keeps no time windows.
//
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"

namespace policyd {

// Request kinds as counted: the wire's RequestBody type numbers (schemas/request.fbs), and 0 for
// a frame that did not decode into a request (bad length prefix, failed verification, unknown
// kind).
inline constexpr std::uint8_t kKindUndecodable = 0;
inline constexpr std::uint8_t kKindGetOrgPolicy = 1;
inline constexpr std::uint8_t kKindGetOrgPolicies = 2;
inline constexpr std::uint8_t kKindGetDefaultPolicy = 3;
inline constexpr std::uint8_t kKindGetStatus = 4;
inline constexpr std::uint8_t kKindCheck = 5;       // one local check (check/check.h)
inline constexpr std::uint8_t kKindCheckBatch = 6;  // a batch of checks
inline constexpr std::uint8_t kKindDump = 7;        // a dump of the store (wire/dump.h)
inline constexpr std::size_t kCountedKinds = 8;
inline constexpr std::size_t kCountedCodes = 17;  // Code::kOk .. Code::kUnauthenticated

// The Prometheus label value of a counted kind ("get_org_policy"; "undecodable" for 0;
// "unknown" for numbers a newer daemon may send).
constexpr std::string_view CountedKindName(std::uint8_t kind) {
  constexpr std::array<std::string_view, kCountedKinds> kNames = {
      "undecodable", "get_org_policy", "get_org_policies", "get_default_policy",
      "get_status",  "check",          "check_batch",      "dump"};
  return kind < kNames.size() ? kNames[kind] : "unknown";
}

// True for the kinds that read policy data (what "lookups" means in rates and dashboards); checks
// read it too.
constexpr bool IsLookupKind(std::uint8_t kind) {
  return kind == kKindGetOrgPolicy || kind == kKindGetOrgPolicies ||
         kind == kKindGetDefaultPolicy || kind == kKindCheck || kind == kKindCheckBatch;
}

// Why a sync round failed, coarser than the Status code so that an operator can tell at a glance
// whose problem it is. Values are stable (they index counters and go on the wire).
enum class SyncFailureCause : std::uint8_t {
  kUnavailable = 0,  // UNAVAILABLE: cannot connect, TLS, 5xx, answer cut short
  kTimeout = 1,      // DEADLINE_EXCEEDED: connect or request timeout
  kRateLimited = 2,  // RESOURCE_EXHAUSTED: 429
  kAuth = 3,         // UNAUTHENTICATED / PERMISSION_DENIED: credentials or role
  kBadResponse = 4,  // INVALID_ARGUMENT, NOT_FOUND, DATA_LOSS, FAILED_PRECONDITION, OUT_OF_RANGE
  kStoreWrite = 5,   // the store could not be written (disk full, I/O error)
  kOther = 6,        // INTERNAL, UNKNOWN, CANCELLED, ... (see the last error)
};
inline constexpr std::size_t kSyncFailureCauses = 7;

constexpr std::string_view SyncFailureCauseName(SyncFailureCause cause) {
  constexpr std::array<std::string_view, kSyncFailureCauses> kNames = {
      "unavailable", "timeout", "rate_limited", "auth", "bad_response", "store_write", "other"};
  const auto i = static_cast<std::size_t>(cause);
  return i < kNames.size() ? kNames[i] : "other";
}

// The cause of a failed round from its Status; `store_write_failed` when the round failed
// because the store could not be written (whatever code that carried).
constexpr SyncFailureCause SyncFailureCauseOf(Code code, bool store_write_failed) {
  if (store_write_failed) return SyncFailureCause::kStoreWrite;
  switch (code) {
    case Code::kUnavailable:
      return SyncFailureCause::kUnavailable;
    case Code::kDeadlineExceeded:
      return SyncFailureCause::kTimeout;
    case Code::kResourceExhausted:
      return SyncFailureCause::kRateLimited;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
      return SyncFailureCause::kAuth;
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kDataLoss:
    case Code::kFailedPrecondition:
    case Code::kOutOfRange:
      return SyncFailureCause::kBadResponse;
    default:
      return SyncFailureCause::kOther;
  }
}

// What became of a request to the webhook listener (--webhook-listen). Values index counters.
enum class WebhookResult : std::uint8_t {
  kAccepted = 0,          // correctly signed: a sync was asked for
  kUnsigned = 1,          // no ZITADEL-Signature header
  kInvalid = 2,           // a malformed header or no signature matching the key
  kExpired = 3,           // correctly signed, but its timestamp is outside the tolerance
  kTooLarge = 4,          // the body is over the limit
  kBadRequest = 5,        // not a well-formed HTTP request
  kNotFound = 6,          // another path
  kMethodNotAllowed = 7,  // the path, but not POST
};
inline constexpr std::size_t kWebhookResults = 8;

constexpr std::string_view WebhookResultName(WebhookResult result) {
  constexpr std::array<std::string_view, kWebhookResults> kNames = {
      "accepted",  "unsigned",    "invalid",   "expired",
      "too_large", "bad_request", "not_found", "method_not_allowed"};
  const auto i = static_cast<std::size_t>(result);
  return i < kNames.size() ? kNames[i] : "bad_request";
}

// Requests of one kind that ended with one code.
struct RequestCount {
  std::uint8_t kind = kKindUndecodable;
  Code code = Code::kOk;
  std::uint64_t count = 0;
  friend bool operator==(const RequestCount&, const RequestCount&) = default;
};

// A latency histogram: counts[i] requests took at most bounds_ns[i] (and more than the bound
// before); counts has one more entry than bounds, the requests above the last bound (+Inf).
// Counts are per bucket, not cumulative.
struct LatencyHistogram {
  std::vector<std::uint64_t> bounds_ns;
  std::vector<std::uint64_t> counts;
  std::uint64_t sum_ns = 0;
  std::uint64_t Total() const {
    std::uint64_t n = 0;
    for (std::uint64_t c : counts) n += c;
    return n;
  }
  friend bool operator==(const LatencyHistogram&, const LatencyHistogram&) = default;
};

struct DaemonCounters {
  Timestamp started;                   // when this daemon process began serving
  std::vector<RequestCount> requests;  // every (kind, code) pair counted so far, none with 0
  LatencyHistogram latency;            // time from reading a request to writing its answer
  std::uint64_t connections_open = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t rejected_max_connections = 0;  // refused over --max-connections
  std::uint64_t rejected_per_peer = 0;         // refused over --max-connections-per-peer
  std::uint64_t rejected_reserved = 0;         // refused: only reserved places were left
  std::uint64_t rejected_peer = 0;             // denied by the peer allowlist
  std::uint64_t closed_bad_frame = 0;          // closed after a bad length prefix
  std::uint64_t sync_attempts = 0;             // sync rounds begun
  std::uint64_t sync_successes = 0;
  std::array<std::uint64_t, kSyncFailureCauses> sync_failures{};  // by SyncFailureCause
  std::uint64_t cold_starts = 0;
  std::uint64_t events_applied = 0;  // upstream events that changed the store
  // Webhook requests by WebhookResult (all zero without --webhook-listen; not on the wire).
  std::array<std::uint64_t, kWebhookResults> webhook_requests{};

  std::uint64_t SyncFailures() const {
    std::uint64_t n = 0;
    for (std::uint64_t f : sync_failures) n += f;
    return n;
  }
  friend bool operator==(const DaemonCounters&, const DaemonCounters&) = default;
};

}  // namespace policyd
