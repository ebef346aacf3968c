// CompatApi: the upstream IAM's (ZITADEL's) REST reads of the domain policy, answered from the
// local store with the upstream's paths, status codes and JSON bytes
// (../shared/upstream/zitadel-api.md §1.1-1.4, §2):
//
//   GET /management/v1/policies/domain      x-zitadel-orgid: the org's effective policy;
//   GET /management/v1/policies/orgiam        an org the store does not know is 403
//                                             "Organisation doesn't exist (AUTH-Bs7Ds)"
//   GET /admin/v1/policies/domain           the instance default
//   GET /admin/v1/policies/orgiam
//   GET /admin/v1/orgs/{orgId}/policies/domain   the org's effective policy; an unknown org
//   GET /admin/v1/orgs/{orgId}/policies/orgiam     gets the default (no 404), like upstream;
//                                                  an orgId over 200 characters is 400
//   GET /v2/settings/domain?ctx.instance=true | ?ctx.orgId=ID (or ctx.org_id) | x-zitadel-orgid
//                                           v2 names; a ctx.orgId is not checked (unknown:
//                                           default), the header's org is (unknown: 403)
//
// The upstream's write endpoints on these paths (PUT /admin/v1/policies/domain|orgiam,
// POST/PUT/DELETE /admin/v1/orgs/{orgId}/policies/domain|orgiam) answer 501 UNIMPLEMENTED with
// a body naming the upstream to send them to; other methods 405 like the upstream's gateway.
//
// Where policyd cannot be the upstream (answers the upstream would not give):
//   * no caller identity: the upstream falls back to the calling user's org when a management
//     or v2 read names no org; policyd answers 400 INVALID_ARGUMENT saying which to add. Access
//     is the socket file's permissions; an Authorization header is ignored.
//   * no data yet (nothing synced): 503 UNAVAILABLE. Store read errors: 500 INTERNAL.
//   * stale data (older than --max-staleness): answered as usual plus the header
//     `x-policyd-stale: true`; with --refuse-when-stale, 503 UNAVAILABLE instead.
//
// Thread-safety: the handlers run on any number of threads at once (Store::Read and
// ServingState are thread-safe; each request uses its own LookupBatch). The Store,
// ServingState and Clock must outlive the CompatApi, which must outlive the Router.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "http/compat_common.h"
#include "http/router.h"
#include "server/serving_state.h"
#include "store/store.h"

namespace policyd::http {

class CompatApi {
 public:
  // `upstream` (may be empty: not syncing) is named in the answers to writes.
  CompatApi(const Store& store, const ServingState& state, const Clock& clock,
            std::string upstream);

  // Adds the routes above to `router`.
  void AddRoutes(Router& router) const;

 private:
  enum class Shape { kDomainPolicy, kOrgIamPolicy, kDomainSettings };

  HttpResponse ManagementPolicy(const HttpRequest& request, Shape shape) const;
  HttpResponse AdminDefault(Shape shape) const;
  HttpResponse AdminOrg(const HttpRequest& request, Shape shape) const;
  HttpResponse DomainSettings(const HttpRequest& request) const;
  // Reads the org (nullopt: the instance default) and answers its effective policy in `shape`;
  // when `strict`, an unknown org is 403 AUTH-Bs7Ds. The id need not be one the store can hold:
  // an over-long id, or one with control characters, is an org it does not know, as upstream.
  HttpResponse Answer(std::optional<std::string_view> org, bool strict, Shape shape) const;
  static std::string Body(const DomainPolicy& policy, Shape shape);

  const Store& store_;
  const ServingState& state_;
  const Clock& clock_;
  const std::string upstream_;
};

}  // namespace policyd::http
