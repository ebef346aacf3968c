// What the upstream-compatible routes share (http/compat_routes.h for the domain policy,
// http/kind_routes.h for the other kinds): their error answers, the answer to one of the
// upstream's writes, and the read every answer starts with (staleness, the store, whether any
// data is there yet), so that every path answers these cases with the same bytes.
//
// Thread-safety: plain functions. ReadForAnswer runs on any number of threads at once, as
// Store::Read and ServingState allow; each call needs its own LookupBatch.
#pragma once

#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "http/router.h"
#include "server/serving_state.h"
#include "store/store.h"

namespace policyd::http {

// The header that names the org of a management read.
inline constexpr std::string_view kOrgIdHeader = "x-zitadel-orgid";
// The header added to answers made from stale data.
inline constexpr std::string_view kStaleHeader = "x-policyd-stale";

// Status HttpStatusFromCode(code) with a google.rpc.Status body (FormatStatusBody).
HttpResponse ErrorAnswer(Code code, std::string_view text, std::string_view error_id = {});

// 403 "Organisation doesn't exist (AUTH-Bs7Ds)": what the upstream's auth interceptor answers
// for an x-zitadel-orgid it does not know.
HttpResponse OrgDoesNotExist();

// 400 INVALID_ARGUMENT for a management read without x-zitadel-orgid: the upstream would use the
// calling user's org, and policyd has no caller.
HttpResponse OrgHeaderMissing();

// 501 UNIMPLEMENTED for one of the upstream's writes, naming `upstream` (empty: policyd is not
// syncing from one) as where to send it.
HttpResponse WriteRejected(const HttpRequest& request, std::string_view upstream);

// Reads `batch` (its ids and kinds set by the caller) for an answer. nullopt: answer from
// `batch`, and `stale` says whether the answer must carry kStaleHeader (MarkStale). Otherwise the
// answer to send instead: 503 UNAVAILABLE when the data is stale and the state refuses stale
// data, 500 when the store cannot be read (code DATA_LOSS for a row that does not decode,
// INTERNAL otherwise), 503 UNAVAILABLE when nothing has been synced or loaded yet.
std::optional<HttpResponse> ReadForAnswer(const Store& store, const ServingState& state,
                                          const Clock& clock, LookupBatch& batch, bool& stale);

// Adds kStaleHeader: true to `response` when `stale`.
void MarkStale(HttpResponse& response, bool stale);

}  // namespace policyd::http
