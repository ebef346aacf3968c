// Request handling of the fake upstream: counting, faults, routing, authentication, endpoints.
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "fake_upstream/fake_upstream_impl.h"
#include "fake_upstream/request_json.h"
#include "fake_upstream/state_json.h"
#include "json/policy_json.h"

namespace policyd::testing_support {
namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr std::string_view kAudienceScope = "urn:zitadel:iam:org:project:id:zitadel:aud";
constexpr std::string_view kOrgDomainsPath = "/management/v1/orgs/me/domains/_search";
constexpr std::string_view kInstanceDomainsPath = "/admin/v1/domains/_search";
constexpr std::string_view kAdminLoginIdpsPath = "/admin/v1/policies/login/idps/_search";
constexpr std::string_view kManagementLoginIdpsPath = "/management/v1/policies/login/idps/_search";

Reply MakeReply(int status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

Reply JsonReply(std::string body) { return MakeReply(200, std::move(body)); }

Reply OAuthError(std::string_view error, std::string_view description) {
  nlohmann::ordered_json body = {{"error", error}, {"error_description", description}};
  return MakeReply(400, body.dump());
}

// The answer of a scripted fault that replaces the real one (nullopt: not such a fault).
std::optional<Reply> FaultReply(const Fault& fault) {
  switch (fault.kind) {
    case FaultKind::kInternalError:
      return StatusReply(Status::Internal("Errors.Internal (FAKE-500)"));
    case FaultKind::kTooManyRequests: {
      Reply r =
          StatusReply(Status::ResourceExhausted("Errors.Quota.RequestsExhausted (QUOTA-12iop)"));
      r.headers["Retry-After"] = std::to_string(fault.retry_after.count());
      return r;
    }
    case FaultKind::kUnavailable:
      return StatusReply(Status::Unavailable("Errors.Unavailable (FAKE-503)"));
    case FaultKind::kWrongToken:
      return StatusReply(Status::Unauthenticated("Errors.Token.Invalid (AUTH-7fs1e)"));
    default:
      return std::nullopt;
  }
}

// application/x-www-form-urlencoded, as OAuth token requests are sent.
std::map<std::string, std::string> ParseForm(std::string_view body) {
  const auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const auto decode = [&](std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
        out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::map<std::string, std::string> form;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const std::size_t eq = pair.find('=');
    form[decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return form;
}

// "{id}" of "/admin/v1/orgs/{id}/policies/domain" (or, when `legacy`, of the deprecated
// ".../policies/orgiam"); "" for any other path.
std::string OrgIdOfPolicyPath(std::string_view path, bool legacy = false) {
  constexpr std::string_view kPrefix = "/admin/v1/orgs/";
  const std::string_view suffix = legacy ? "/policies/orgiam" : "/policies/domain";
  if (!path.starts_with(kPrefix) || !path.ends_with(suffix)) return "";
  if (path.size() <= kPrefix.size() + suffix.size()) return "";
  const std::string_view id =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - suffix.size());
  return id.find('/') == std::string_view::npos ? std::string(id) : "";
}

// Characters as protoc-gen-validate counts them for the 1-200 character orgId rule (Go runes).
std::size_t RuneCount(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The deprecated Org IAM writes: they carry only userLoginMustBeDomain and set the other two
// flags to true (internal/api/grpc/admin/domain_policy.go; API notes §1.1 caveat).
Result<PolicyFlags> ParseLegacyPolicyFlags(std::string_view body) {
  auto flags = ParsePolicyFlags(body);
  if (flags) {
    flags->validate_org_domains = true;
    flags->smtp_sender_address_matches_instance_domain = true;
  }
  return flags;
}

}  // namespace

Reply StatusReply(const Status& status) {
  return MakeReply(HttpStatusFromCode(status.code()),
                   RenderStatus(status.code(), status.message()));
}

void FakeUpstreamImpl::Dispatch(const httplib::Request& req, httplib::Response& res) {
  {
    std::lock_guard lock(mutex_);
    ++request_counts_[req.path];
    ++total_requests_;
  }
  cv_.notify_all();
  std::optional<Fault> fault = faults_.Take(req.path);
  std::optional<FaultKind> mangle;
  if (fault) {
    if (std::optional<Reply> reply = FaultReply(*fault)) return Write(std::move(*reply), {}, res);
    switch (fault->kind) {
      case FaultKind::kConnectionReset:
        ResetConnection(port_, req.remote_port);
        res.status = 500;  // never reaches the client: writing fails on the reset socket
        return;
      case FaultKind::kSlow:
        if (!SlowDown(fault->delay))
          return Write(StatusReply(Status::Unavailable("stopping")), {}, res);
        break;
      default:
        mangle = fault->kind;
        break;
    }
  }
  Write(Route(req), mangle, res);
}

void FakeUpstreamImpl::Write(Reply reply, std::optional<FaultKind> mangle, httplib::Response& res) {
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  if (mangle == FaultKind::kMalformedJson) {
    reply.status = 200;
    reply.body.resize(reply.body.size() / 2);
    if (reply.body.empty()) reply.body = "{";
  }
  res.status = reply.status;
  if (mangle != FaultKind::kTruncatedBody || reply.body.empty()) {
    res.set_content(reply.body, reply.content_type);
    return;
  }
  // Content-Length announces the whole body; half is sent, then the provider fails, which makes
  // httplib close the connection with the rest missing.
  auto body = std::make_shared<std::string>(std::move(reply.body));
  const std::size_t sent = body->size() / 2;
  res.set_content_provider(body->size(), reply.content_type,
                           [body, sent](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                             if (offset < sent) sink.write(body->data() + offset, sent - offset);
                             return false;
                           });
}

Reply FakeUpstreamImpl::Route(const httplib::Request& req) {
  const std::string& path = req.path;
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  std::vector<std::string_view> allowed;
  const std::string legacy_org_id = OrgIdOfPolicyPath(path, /*legacy=*/true);
  const bool legacy = !legacy_org_id.empty() || path == "/admin/v1/policies/orgiam" ||
                      path == "/management/v1/policies/orgiam";
  const std::string org_id = legacy ? legacy_org_id : OrgIdOfPolicyPath(path);
  if (path == "/oauth/v2/token") {
    allowed = {"POST"};
  } else if (path == "/.well-known/openid-configuration") {
    allowed = {"GET"};
  } else if (path == "/admin/v1/policies/domain" || path == "/admin/v1/policies/orgiam") {
    allowed = {"GET", "PUT"};
  } else if (!org_id.empty()) {
    allowed = {"GET", "POST", "PUT", "DELETE"};
  } else if (path == "/management/v1/policies/domain" || path == "/management/v1/policies/orgiam" ||
             path == "/v2/settings/domain") {
    allowed = {"GET"};
  } else if (path == "/admin/v1/orgs/_search" || path == "/admin/v1/events/_search" ||
             path == kOrgDomainsPath || path == kInstanceDomainsPath ||
             path == kAdminLoginIdpsPath || path == kManagementLoginIdpsPath) {
    allowed = {"POST"};
  } else if (ParseKindPath(path)) {
    allowed = {"GET"};  // the kinds' writes are FakeUpstream methods, not endpoints
  } else {
    return StatusReply({Code::kNotFound, "Not Found"});
  }
  if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) {
    Reply r = StatusReply({Code::kUnimplemented, "Method Not Allowed"});
    r.status = 405;
    return r;
  }
  std::lock_guard lock(mutex_);
  if (path == "/oauth/v2/token") return Token(req);
  if (path == "/.well-known/openid-configuration") {
    nlohmann::ordered_json doc = {{"issuer", base_url_},
                                  {"token_endpoint", base_url_ + "/oauth/v2/token"}};
    return JsonReply(doc.dump());
  }
  if (std::optional<Reply> denied = CheckAuth(req)) return std::move(*denied);
  if (path == "/admin/v1/policies/domain" || path == "/admin/v1/policies/orgiam") {
    if (method == "PUT") return WriteDefaultPolicy(req, legacy);
    const PolicyRecord& row = state_.default_policy();
    return JsonReply(RenderPolicy({row.flags, true, row.details}, legacy));
  }
  if (!org_id.empty()) {
    return method == "GET" ? GetOrgPolicy(req, org_id, legacy)
                           : WriteOrgPolicy(req, org_id, legacy);
  }
  if (path == "/management/v1/policies/domain" || path == "/management/v1/policies/orgiam") {
    return GetManagementPolicy(req, legacy);
  }
  if (path == "/v2/settings/domain") return GetDomainSettings(req);
  if (const std::optional<KindRoute> kind = ParseKindPath(path)) return GetKindPolicy(req, *kind);
  if (path == "/admin/v1/orgs/_search") return SearchOrgs(req);
  if (path == kOrgDomainsPath) return SearchOrgDomains(req);
  if (path == kInstanceDomainsPath) return SearchInstanceDomains(req);
  if (path == kAdminLoginIdpsPath || path == kManagementLoginIdpsPath) {
    return SearchLoginPolicyIdps(req, path == kManagementLoginIdpsPath);
  }
  return SearchEvents(req);
}

std::optional<Reply> FakeUpstreamImpl::CheckAuth(const httplib::Request& req) const {
  const std::string header = req.get_header_value("Authorization");
  if (header.empty()) {
    return StatusReply(Status::Unauthenticated("auth header missing (AUTH-7fs1e)"));
  }
  std::string scheme = header.substr(0, 7);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string token = scheme == "bearer " ? header.substr(7) : "";
  if (!token.empty() && token == pat_) return std::nullopt;
  const auto it = tokens_.find(token);
  if (it != tokens_.end() && std::chrono::steady_clock::now() < it->second) return std::nullopt;
  return StatusReply(Status::Unauthenticated("Errors.Token.Invalid (AUTH-7fs1e)"));
}

Reply FakeUpstreamImpl::GetOrgPolicy(const httplib::Request&, std::string_view org_id,
                                     bool legacy) {
  if (RuneCount(org_id) > kMaxIdLength) {
    return StatusReply(Status::InvalidArgument(
        std::string("invalid ") +
        (legacy ? "GetCustomOrgIAMPolicyRequest" : "GetCustomDomainPolicyRequest") +
        ".OrgId: value length must be between 1 and 200 runes, inclusive"));
  }
  return JsonReply(RenderPolicy(state_.EffectivePolicy(org_id), legacy));
}

Reply FakeUpstreamImpl::WriteOrgPolicy(const httplib::Request& req, std::string_view org_id,
                                       bool legacy) {
  Status status;
  if (req.method == "DELETE") {
    status = state_.RemoveOrgPolicy(org_id);
  } else {
    auto flags = legacy ? ParseLegacyPolicyFlags(req.body) : ParsePolicyFlags(req.body);
    if (!flags) return StatusReply(flags.error());
    status = req.method == "POST" ? state_.AddOrgPolicy(org_id, *flags)
                                  : state_.ChangeOrgPolicy(org_id, *flags);
  }
  if (!status.ok()) return StatusReply(status);
  const StoredEvent& e = state_.events().back();
  return JsonReply(RenderWriteDetails(
      {e.sequence, e.creation_date, e.creation_date, e.resource_owner}, req.method == "POST"));
}

Reply FakeUpstreamImpl::WriteDefaultPolicy(const httplib::Request& req, bool legacy) {
  auto flags = legacy ? ParseLegacyPolicyFlags(req.body) : ParsePolicyFlags(req.body);
  if (!flags) return StatusReply(flags.error());
  const Status status = state_.ChangeDefaultPolicy(*flags);
  if (!status.ok()) return StatusReply(status);
  return JsonReply(RenderWriteDetails(state_.default_policy().details, false));
}

std::string FakeUpstreamImpl::CallerOrg(const httplib::Request& req) const {
  if (req.has_header("x-zitadel-orgid")) return req.get_header_value("x-zitadel-orgid");
  return options_.caller_org_id;
}

Reply FakeUpstreamImpl::GetManagementPolicy(const httplib::Request& req, bool legacy) {
  const std::string org_id = CallerOrg(req);
  if (state_.FindOrg(org_id) == nullptr) {
    return StatusReply(Status::PermissionDenied("Organisation doesn't exist (AUTH-Bs7Ds)"));
  }
  return JsonReply(RenderPolicy(state_.EffectivePolicy(org_id), legacy));
}

Reply FakeUpstreamImpl::GetDomainSettings(const httplib::Request& req) {
  if (req.get_param_value("ctx.instance") == "true") {
    const PolicyRecord& row = state_.default_policy();
    return JsonReply(RenderDomainSettings({row.flags, true, row.details}));
  }
  std::string org_id = req.get_param_value("ctx.orgId");
  if (org_id.empty()) org_id = req.get_param_value("ctx.org_id");
  if (org_id.empty()) {
    org_id = CallerOrg(req);
    if (state_.FindOrg(org_id) == nullptr) {
      return StatusReply(Status::PermissionDenied("Organisation doesn't exist (AUTH-Bs7Ds)"));
    }
  }
  return JsonReply(RenderDomainSettings(state_.EffectivePolicy(org_id)));
}

Reply FakeUpstreamImpl::SearchOrgs(const httplib::Request& req) {
  auto search = ParseOrgSearch(req.body);
  if (!search) return StatusReply(search.error());
  return JsonReply(RenderOrgs(state_, *search));
}

Reply FakeUpstreamImpl::SearchOrgDomains(const httplib::Request& req) {
  // The management API's org: x-zitadel-orgid, else the caller's own; unknown -> 403.
  const FakeOrg* org = state_.FindOrg(CallerOrg(req));
  if (org == nullptr) {
    return StatusReply(Status::PermissionDenied("Organisation doesn't exist (AUTH-Bs7Ds)"));
  }
  auto search = ParseDomainSearch(req.body, /*instance=*/false);
  if (!search) return StatusReply(search.error());
  return JsonReply(RenderOrgDomains(state_, *org, *search));
}

Reply FakeUpstreamImpl::SearchInstanceDomains(const httplib::Request& req) {
  auto search = ParseDomainSearch(req.body, /*instance=*/true);
  if (!search) return StatusReply(search.error());
  return JsonReply(RenderInstanceDomains(state_, *search));
}

Reply FakeUpstreamImpl::SearchEvents(const httplib::Request& req) {
  auto search = ParseEventSearch(req.body);
  if (!search) return StatusReply(search.error());
  Timestamp visible_from;
  if (retention_.count() > 0) {
    const Timestamp now = state_.Now();
    const std::int64_t ns = now.seconds * 1'000'000'000 + now.nanos - retention_.count();
    visible_from = {ns / 1'000'000'000, static_cast<std::int32_t>(ns % 1'000'000'000)};
  }
  return JsonReply(RenderEvents(state_, *search, visible_from));
}

Reply FakeUpstreamImpl::Token(const httplib::Request& req) {
  ++token_requests_;
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0) {
    return OAuthError("invalid_request", "expected application/x-www-form-urlencoded");
  }
  auto form = ParseForm(req.body);
  if (form["grant_type"] != kJwtBearer) {
    return OAuthError("unsupported_grant_type", "grant_type must be " + std::string(kJwtBearer));
  }
  const std::string scope = " " + form["scope"] + " ";
  if (scope.find(" " + std::string(kAudienceScope) + " ") == std::string::npos) {
    return OAuthError("invalid_scope", "scope must contain " + std::string(kAudienceScope));
  }
  if (form["assertion"].empty()) return OAuthError("invalid_request", "assertion missing");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  auto user = VerifyAssertion(form["assertion"], keys_, base_url_, now.count());
  if (!user) return OAuthError("invalid_grant", user.error().message());
  std::string token = RandomToken();
  tokens_[token] = std::chrono::steady_clock::now() + token_lifetime_;
  ++issued_tokens_;
  nlohmann::ordered_json body = {
      {"access_token", token}, {"token_type", "Bearer"}, {"expires_in", token_lifetime_.count()}};
  Reply reply = JsonReply(body.dump());
  reply.headers["Cache-Control"] = "no-store";
  return reply;
}

}  // namespace policyd::testing_support
