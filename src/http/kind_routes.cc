#include "http/kind_routes.h"

#include "http/compat_common.h"
#include "json/kind_json.h"
#include "resolve/resolve.h"

namespace policyd::http {
namespace {

constexpr std::string_view kAdminPolicies = "/admin/v1/policies/";
constexpr std::string_view kManagementPolicies = "/management/v1/policies/";

// "password/complexity" of "/admin/v1/policies/password/complexity".
std::string_view PathOf(const KindSpec& spec) {
  std::string_view path = spec.admin_path;
  path.remove_prefix(kAdminPolicies.size());
  return path;
}

// The name of `kind` in policyd's own messages.
std::string KindName(PolicyKind kind) {
  return kind == PolicyKind::kLabelPreview ? "label preview" : std::string(SpecOf(kind).cli_name);
}

}  // namespace

KindApi::KindApi(const Store& store, const ServingState& state, const Clock& clock,
                 std::string upstream)
    : store_(store), state_(state), clock_(clock), upstream_(std::move(upstream)) {}

void KindApi::AddRoutes(Router& router) const {
  for (PolicyKind kind : kGenericKinds) AddKindRoutes(router, kind);
  const KindSpec& preview = SpecOf(PolicyKind::kLabelPreview);
  router.Add("GET", preview.admin_path, [this](const HttpRequest& r) {
    return Get(r, PolicyKind::kLabelPreview, Scope::kAdmin);
  });
  router.Add("GET", preview.management_path, [this](const HttpRequest& r) {
    return Get(r, PolicyKind::kLabelPreview, Scope::kManagement);
  });
  for (std::string_view prefix : {kAdminPolicies, kManagementPolicies}) {
    const std::string label = std::string(prefix) + "label/";
    AddRejectedWrite(router, "POST", label + "_activate");
    for (const char* asset : {"logo", "logo_dark", "icon", "icon_dark", "font"}) {
      AddRejectedWrite(router, "DELETE", label + asset);
    }
  }
}

void KindApi::AddKindRoutes(Router& router, PolicyKind kind) const {
  const KindSpec& spec = SpecOf(kind);
  router.Add("GET", spec.admin_path,
             [this, kind](const HttpRequest& r) { return Get(r, kind, Scope::kAdmin); });
  router.Add("GET", spec.management_path,
             [this, kind](const HttpRequest& r) { return Get(r, kind, Scope::kManagement); });
  router.Add(
      "GET", std::string(kManagementPolicies) + "default/" + std::string(PathOf(spec)),
      [this, kind](const HttpRequest& r) { return Get(r, kind, Scope::kManagementDefault); });
  // The lockout policy's admin write is on another path than its read (admin.proto).
  AddRejectedWrite(router, "PUT",
                   kind == PolicyKind::kLockout ? std::string(kAdminPolicies) + "password/lockout"
                                                : std::string(spec.admin_path));
  if (kind == PolicyKind::kNotification) AddRejectedWrite(router, "POST", spec.admin_path);
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    AddRejectedWrite(router, method, spec.management_path);
  }
}

void KindApi::AddRejectedWrite(Router& router, std::string_view method,
                               std::string_view path) const {
  router.Add(std::string(method), path,
             [this](const HttpRequest& r) { return WriteRejected(r, upstream_); });
}

HttpResponse KindApi::Get(const HttpRequest& request, PolicyKind kind, Scope scope) const {
  std::optional<std::string_view> org = request.Header(kOrgIdHeader);
  if (org && org->empty()) org.reset();
  switch (scope) {
    case Scope::kAdmin:
      return Answer(kind, std::nullopt, scope);
    case Scope::kManagement:
      if (!org) return OrgHeaderMissing();
      break;
    case Scope::kManagementDefault:
      // The upstream would check the caller's org, whose default is every org's.
      break;
  }
  return Answer(kind, org, scope);
}

HttpResponse KindApi::Answer(PolicyKind kind, std::optional<std::string_view> org,
                             Scope scope) const {
  // An id the store cannot hold is not one of its orgs: no need to look it up.
  const bool storable = org && ValidateId("org id", *org).ok();
  LookupBatch batch;
  batch.set_kinds(KindSet::Of(kind));
  if (storable) batch.Add(*org);
  bool stale = false;
  if (std::optional<HttpResponse> refused = ReadForAnswer(store_, state_, clock_, batch, stale)) {
    return std::move(*refused);
  }
  HttpResponse response;
  if (org && !CheckOrgLookup(*org, storable && batch.org(0).known, /*strict=*/true).ok()) {
    // Unknown, or an id no org can have: what the upstream answers for such an x-zitadel-orgid.
    response = OrgDoesNotExist();
  } else {
    const bool management = scope == Scope::kManagement;
    const KindPolicy* own = management ? batch.kind_policy(0, kind) : nullptr;
    KindResolution resolved;
    if (!ResolveKindInto(kind, own, batch.kind_default(kind), resolved).ok()) {
      return ErrorAnswer(Code::kUnavailable, "policyd has no " + KindName(kind) +
                                                 " policy data yet (not synced from the "
                                                 "upstream or loaded from a snapshot yet)");
    }
    response.body = FormatKindGetResponse(*resolved.policy, resolved.is_default, management);
  }
  MarkStale(response, stale);
  return response;
}

}  // namespace policyd::http
