#include "http/compat_common.h"

#include <string>

#include "http/compat_json.h"

namespace policyd::http {

HttpResponse ErrorAnswer(Code code, std::string_view text, std::string_view error_id) {
  HttpResponse response;
  response.status = HttpStatusFromCode(code);
  response.body = FormatStatusBody(code, text, error_id);
  return response;
}

HttpResponse OrgDoesNotExist() {
  return ErrorAnswer(Code::kPermissionDenied, "Organisation doesn't exist", "AUTH-Bs7Ds");
}

HttpResponse OrgHeaderMissing() {
  return ErrorAnswer(Code::kInvalidArgument,
                     "x-zitadel-orgid header missing: policyd has no caller whose org it could "
                     "use; name the org in the x-zitadel-orgid header");
}

HttpResponse WriteRejected(const HttpRequest& request, std::string_view upstream) {
  std::string text = "policyd answers reads only: send " + request.method + " " + request.path +
                     " to the upstream IAM";
  text += upstream.empty() ? " (policyd is not syncing from one)" : " at " + std::string(upstream);
  return ErrorAnswer(Code::kUnimplemented, text);
}

std::optional<HttpResponse> ReadForAnswer(const Store& store, const ServingState& state,
                                          const Clock& clock, LookupBatch& batch, bool& stale) {
  stale = state.IsStale(clock.Now());
  if (stale && state.refuse_when_stale()) {
    return ErrorAnswer(Code::kUnavailable,
                       "policy data is older than max-staleness and policyd is configured to "
                       "refuse stale data");
  }
  if (Status s = store.Read(batch); !s.ok()) {
    return ErrorAnswer(s.code() == Code::kDataLoss ? Code::kDataLoss : Code::kInternal,
                       "policyd cannot read its store: " + s.message());
  }
  if (batch.instance() == nullptr) {
    return ErrorAnswer(Code::kUnavailable,
                       "policyd has no policy data yet (nothing synced from the upstream or "
                       "loaded from a snapshot)");
  }
  return std::nullopt;
}

void MarkStale(HttpResponse& response, bool stale) {
  if (stale) response.headers.emplace_back(kStaleHeader, "true");
}

}  // namespace policyd::http
