#include "http/compat_routes.h"

#include "http/compat_json.h"
#include "json/policy_json.h"
#include "resolve/resolve.h"

namespace policyd::http {
namespace {

// Characters as the upstream's request validation counts them (Go runes): every byte that does
// not continue a UTF-8 sequence.
std::size_t RuneCount(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

CompatApi::CompatApi(const Store& store, const ServingState& state, const Clock& clock,
                     std::string upstream)
    : store_(store), state_(state), clock_(clock), upstream_(std::move(upstream)) {}

void CompatApi::AddRoutes(Router& router) const {
  for (const auto& [name, shape] :
       {std::pair{"domain", Shape::kDomainPolicy}, std::pair{"orgiam", Shape::kOrgIamPolicy}}) {
    const std::string suffix = std::string("/policies/") + name;
    const auto s = shape;
    router.Add("GET", "/management/v1" + suffix,
               [this, s](const HttpRequest& r) { return ManagementPolicy(r, s); });
    router.Add("GET", "/admin/v1" + suffix,
               [this, s](const HttpRequest&) { return AdminDefault(s); });
    router.Add("PUT", "/admin/v1" + suffix,
               [this](const HttpRequest& r) { return WriteRejected(r, upstream_); });
    const std::string org_path = "/admin/v1/orgs/{orgId}" + suffix;
    router.Add("GET", org_path, [this, s](const HttpRequest& r) { return AdminOrg(r, s); });
    for (const char* method : {"POST", "PUT", "DELETE"}) {
      router.Add(method, org_path,
                 [this](const HttpRequest& r) { return WriteRejected(r, upstream_); });
    }
  }
  router.Add("GET", "/v2/settings/domain",
             [this](const HttpRequest& r) { return DomainSettings(r); });
}

HttpResponse CompatApi::ManagementPolicy(const HttpRequest& request, Shape shape) const {
  const std::optional<std::string_view> org = request.Header(kOrgIdHeader);
  if (!org || org->empty()) return OrgHeaderMissing();
  return Answer(*org, /*strict=*/true, shape);
}

HttpResponse CompatApi::AdminDefault(Shape shape) const {
  return Answer(std::nullopt, /*strict=*/false, shape);
}

HttpResponse CompatApi::AdminOrg(const HttpRequest& request, Shape shape) const {
  const std::string_view id = request.PathParam("orgId");
  if (RuneCount(id) > kMaxIdLength) {
    // protoc-gen-validate's message for the request's `org_id` rule (1-200 characters).
    return ErrorAnswer(Code::kInvalidArgument,
                       std::string("invalid ") +
                           (shape == Shape::kOrgIamPolicy ? "GetCustomOrgIAMPolicyRequest"
                                                          : "GetCustomDomainPolicyRequest") +
                           ".OrgId: value length must be between 1 and 200 runes, inclusive");
  }
  return Answer(id, /*strict=*/false, shape);
}

HttpResponse CompatApi::DomainSettings(const HttpRequest& request) const {
  // ctx is a oneof {orgId, instance} passed as query parameters; unknown parameters are ignored
  // (a typo falls through to the caller's org, here to the header or the error below).
  if (request.QueryParam("ctx.instance") == "true") {
    return Answer(std::nullopt, /*strict=*/false, Shape::kDomainSettings);
  }
  for (const char* name : {"ctx.orgId", "ctx.org_id"}) {
    if (std::optional<std::string_view> id = request.QueryParam(name); id && !id->empty()) {
      return Answer(*id, /*strict=*/false, Shape::kDomainSettings);
    }
  }
  if (std::optional<std::string_view> org = request.Header(kOrgIdHeader); org && !org->empty()) {
    return Answer(*org, /*strict=*/true, Shape::kDomainSettings);
  }
  return ErrorAnswer(
      Code::kInvalidArgument,
      "no org given: policyd has no caller whose org it could use; add ctx.orgId=<org "
      "id> or ctx.instance=true to the query, or the x-zitadel-orgid header");
}

std::string CompatApi::Body(const DomainPolicy& policy, Shape shape) {
  switch (shape) {
    case Shape::kOrgIamPolicy:
      return FormatOrgIamPolicyResponse(policy);
    case Shape::kDomainSettings:
      return FormatDomainSettingsResponse(policy);
    case Shape::kDomainPolicy:
      break;
  }
  return FormatGetPolicyResponse(policy);
}

HttpResponse CompatApi::Answer(std::optional<std::string_view> org, bool strict,
                               Shape shape) const {
  // An id the store cannot hold is not one of its orgs: no need to look it up.
  const bool storable = org && ValidateId("org id", *org).ok();
  LookupBatch batch;
  if (storable) batch.Add(*org);
  bool stale = false;
  if (std::optional<HttpResponse> refused = ReadForAnswer(store_, state_, clock_, batch, stale)) {
    return std::move(*refused);
  }
  HttpResponse response;
  const OrgView view = storable ? batch.org(0) : OrgView{};
  if (org && strict && !view.known) {
    response = OrgDoesNotExist();
  } else {
    Result<DomainPolicy> policy = ResolveDefaultPolicy(batch.instance());
    if (storable) {
      Result<Resolution> resolved = ResolveOrgPolicy(*org, view, batch.instance(), false);
      policy = resolved ? Result<DomainPolicy>(std::move(resolved->policy))
                        : Result<DomainPolicy>(Err(resolved.error()));
    }
    if (!policy) return ErrorAnswer(policy.error().code(), policy.error().message());
    response.body = Body(*policy, shape);
  }
  MarkStale(response, stale);
  return response;
}

}  // namespace policyd::http
