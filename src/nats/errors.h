// Translation of cnats errors (natsStatus plus the JetStream API error code) into policyd's
// Status, at the edge of the nats module. Internal to src/nats: it includes <nats.h>.
//
// The mapping keeps apart the cases a caller must act on differently:
//   kAborted            JetStream 10071 "wrong last sequence": a compare-and-set lost, another
//                       writer changed the key first. Re-read and decide again.
//   kDeadlineExceeded   NATS_TIMEOUT: no answer in time. A publish may or may not have been
//                       stored; retry with the same Nats-Msg-Id to make it land at most once.
//   kUnavailable        no responders, disconnected, no server, JetStream 10008 (cluster not
//                       available) / 10118 (stream offline): transient, retry with backoff.
//   kNotFound           missing stream/bucket/key (NATS_NOT_FOUND, 10059, 10037).
//   kPermissionDenied   NATS_NOT_PERMITTED, authentication failures.
//   kFailedPrecondition JetStream 10058 (stream exists with a different configuration).
//   kInternal / kUnknown anything else.
// Messages carry what was attempted, cnats's status text, the JetStream code and the library's
// last error text for the calling thread (nats_GetLastError), which names the server's reason.
//
// Thread-safety: pure functions, except that FromNats reads cnats's per-thread last error, so it
// must be called on the thread that made the failing call, right after it.
#pragma once

#include <nats/nats.h>

#include <string_view>

#include "base/status.h"

namespace policyd::nats {

// The JetStream API error codes this module tells apart (nats/status.h names them too).
inline constexpr int kJsWrongLastSequence = 10071;
inline constexpr int kJsClusterNotAvailable = 10008;
inline constexpr int kJsStreamOffline = 10118;
inline constexpr int kJsStreamNotFound = 10059;
inline constexpr int kJsNoMessageFound = 10037;
inline constexpr int kJsStreamNameExists = 10058;

// Status for `s` (must not be NATS_OK) from the call described by `what` ("publish $KV.b.k").
// `js_code` is the jsErrCode the call stored, 0 when none.
Status FromNats(natsStatus s, int js_code, std::string_view what);

}  // namespace policyd::nats
