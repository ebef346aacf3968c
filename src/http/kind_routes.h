// KindApi: the upstream IAM's (ZITADEL's) REST reads of the seven other policy kinds
// (model/policy_kinds.h: password complexity, password age, lockout, login, privacy,
// notification, label), answered from the local store with the upstream's paths, status codes
// and JSON bytes (json/kind_json.h; ../shared/upstream/zitadel-events-and-policies.md §3). For
// each kind, with <path> its REST path (password/complexity, password/age, lockout, login,
// privacy, notification, label):
//
//   GET /admin/v1/policies/<path>                 the instance default: {"policy":{…,
//                                                 "isDefault":true}}
//   GET /management/v1/policies/<path>            x-zitadel-orgid: the org's effective policy
//                                                 (its own row, else the default with
//                                                 isDefault), plus the deprecated top-level
//                                                 "isDefault":true where that response has it;
//                                                 an org the store does not know is 403
//                                                 "Organisation doesn't exist (AUTH-Bs7Ds)"; no
//                                                 header is 400 (policyd has no caller)
//   GET /management/v1/policies/default/<path>    the instance default as {"policy":…}; an
//                                                 x-zitadel-orgid is checked (unknown: 403), none
//                                                 is fine (the answer is the same for every org)
//   GET /admin/v1/policies/label/_preview         the label policy's preview rows (changes not
//   GET /management/v1/policies/label/_preview      activated yet): the org's preview, else the
//                                                 instance's with isDefault, as the upstream's
//                                                 PreviewLabelPolicyByOrg
//
// The label reads answer the *active* rows, so an org whose label policy was added but never
// activated gets the instance default, as upstream.
//
// The upstream's writes on these paths answer 501 UNIMPLEMENTED naming the upstream (as
// http/compat_routes.h): PUT /admin/v1/policies/<path> (the lockout's is PUT
// /admin/v1/policies/password/lockout; the notification's also POST), POST/PUT/DELETE
// /management/v1/policies/<path>, POST …/policies/label/_activate and DELETE
// …/policies/label/{logo,logo_dark,icon,icon_dark,font} under both prefixes. Other methods on
// these paths are 405, as the upstream's gateway answers.
//
// As for the domain policy (http/compat_common.h): no data yet 503, a kind with no instance
// default stored yet (a store written before the kinds, until its cold start; the label preview
// of a store only loaded from a snapshot, which carries no previews) 503, store errors
// 500, stale data answered with x-policyd-stale or refused with 503 (--refuse-when-stale).
//
// Not served (404 as any unknown path): the v2 settings twins (/v2/settings/password/complexity,
// /v2/settings/login, /v2/settings/branding, …), whose shapes the facts policyd is built on do not
// give; the login policy's factor and IdP lists and their writes
// (…/policies/login/{second_factors,multi_factors,idps}…); the management default of the preview.
//
// Thread-safety: the handlers run on any number of threads at once (Store::Read and
// ServingState are thread-safe; each request uses its own LookupBatch). The Store,
// ServingState and Clock must outlive the KindApi, which must outlive the Router.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "http/router.h"
#include "model/policy_kinds.h"
#include "server/serving_state.h"
#include "store/store.h"

namespace policyd::http {

class KindApi {
 public:
  // `upstream` (may be empty: not syncing) is named in the answers to writes.
  KindApi(const Store& store, const ServingState& state, const Clock& clock, std::string upstream);

  // Adds the routes above to `router`.
  void AddRoutes(Router& router) const;

 private:
  enum class Scope {
    kAdmin,              // the instance default
    kManagement,         // the effective policy of the org in x-zitadel-orgid
    kManagementDefault,  // the instance default, through the management API
  };

  void AddKindRoutes(Router& router, PolicyKind kind) const;
  void AddRejectedWrite(Router& router, std::string_view method, std::string_view path) const;
  HttpResponse Get(const HttpRequest& request, PolicyKind kind, Scope scope) const;
  // Reads `kind` (and `org`, which the store need not be able to hold: then it is an org it does
  // not know) and answers it in `scope`; a named org must be known (else 403).
  HttpResponse Answer(PolicyKind kind, std::optional<std::string_view> org, Scope scope) const;

  const Store& store_;
  const ServingState& state_;
  const Clock& clock_;
  const std::string upstream_;
};

}  // namespace policyd::http
