// The policy kinds of issue #14 in the fake upstream: the public FakeUpstream methods (locked
// delegation to UpstreamState) and the GET endpoints /admin/v1/policies/<path>,
// /management/v1/policies/<path> and /management/v1/policies/default/<path>.
#include <httplib.h>

#include "fake_upstream/fake_upstream_impl.h"
#include "fake_upstream/state_json.h"

namespace policyd::testing_support {
namespace {

constexpr std::string_view kAdminPrefix = "/admin/v1/policies/";
constexpr std::string_view kManagementPrefix = "/management/v1/policies/";
constexpr std::string_view kDefaultInfix = "default/";

Status UnknownKind(std::string_view kind) {
  return Status::InvalidArgument("unknown policy kind \"" + std::string(kind) + "\"");
}

// Runs `f(state, spec)` under the lock for a known kind.
template <typename F>
auto WithKind(FakeUpstreamImpl& impl, std::string_view kind, F f)
    -> decltype(f(impl.state_, *FindKind(kind))) {
  const KindSpec* spec = FindKind(kind);
  if (spec == nullptr) return UnknownKind(kind);
  std::lock_guard lock(impl.mutex_);
  return f(impl.state_, *spec);
}

std::optional<std::int64_t> FactorFromName(LoginFactor list, std::string_view name) {
  return list == LoginFactor::kSecond ? SecondFactorFromName(name) : MultiFactorFromName(name);
}

Status ChangeFactor(FakeUpstreamImpl& impl, std::string_view org_id, LoginFactor list,
                    std::string_view factor, bool add) {
  const auto type = FactorFromName(list, factor);
  if (!type) return Status::InvalidArgument("unknown factor \"" + std::string(factor) + "\"");
  std::lock_guard lock(impl.mutex_);
  return impl.state_.ChangeLoginFactor(org_id, list, *type, add);
}

}  // namespace

std::optional<KindRoute> ParseKindPath(std::string_view path) {
  KindRoute route;
  if (path.starts_with(kAdminPrefix)) {
    path.remove_prefix(kAdminPrefix.size());
  } else if (path.starts_with(kManagementPrefix)) {
    path.remove_prefix(kManagementPrefix.size());
    route.scope = KindScope::kManagement;
    if (path.starts_with(kDefaultInfix)) {
      path.remove_prefix(kDefaultInfix.size());
      route.scope = KindScope::kManagementDefault;
    }
  } else {
    return std::nullopt;
  }
  if (path == "label/_preview" && route.scope != KindScope::kManagementDefault) {
    route.preview = true;
    path = "label";
  }
  route.kind = FindKindByPath(path);
  if (route.kind == nullptr) return std::nullopt;
  return route;
}

std::optional<std::string> FakeUpstreamImpl::KindBody(const KindSpec& kind, std::string_view org_id,
                                                      KindScope scope, bool preview) const {
  const bool management = scope == KindScope::kManagement;
  const KindRow* row = preview ? state_.EffectivePreviewLabelRow(management ? org_id : "")
                               : state_.EffectiveKindRow(kind, management ? org_id : "");
  if (row == nullptr) return std::nullopt;
  std::string body =
      "{\"policy\":" + RenderKindPolicy(kind, *row, AssetPrefix(), state_.IdpLinkViews(*row));
  // The deprecated top-level is_default of some management responses.
  if (management && kind.management_is_default && row->is_default) body += ",\"isDefault\":true";
  return body + "}";
}

Reply FakeUpstreamImpl::GetKindPolicy(const httplib::Request& req, const KindRoute& route) {
  std::string org_id;
  // The auth interceptor checks the org of every management call: the x-zitadel-orgid, else the
  // caller's. The default reads need none, so a fake without a caller org answers them.
  const bool named = !req.get_header_value("x-zitadel-orgid").empty();
  if (route.scope == KindScope::kManagement ||
      (route.scope == KindScope::kManagementDefault && named)) {
    org_id = CallerOrg(req);
    if (state_.FindOrg(org_id) == nullptr) {
      return StatusReply(Status::PermissionDenied("Organisation doesn't exist (AUTH-Bs7Ds)"));
    }
  }
  auto body = KindBody(*route.kind, org_id, route.scope, route.preview);
  if (!body) {
    return StatusReply(Status::NotFound("Errors." + std::string(route.kind->name) +
                                        "Policy.NotFound (QUERY-fake)"));
  }
  Reply reply;
  reply.body = std::move(*body);
  return reply;
}

// --- FakeUpstream ---

Status FakeUpstream::AddOrgKindPolicy(std::string_view kind, std::string_view org_id,
                                      std::string_view fields_json) {
  return WithKind(*impl_, kind, [&](UpstreamState& s, const KindSpec& spec) -> Status {
    auto fields = ParseKindFields(spec, fields_json);
    if (!fields) return fields.error();
    if (spec.id != KindId::kLogin &&
        (!fields->second_factors.empty() || !fields->multi_factors.empty())) {
      return Status::InvalidArgument("only the login policy has factors");
    }
    return s.AddOrgKindPolicy(spec, org_id, *fields);
  });
}

Status FakeUpstream::ChangeOrgKindPolicy(std::string_view kind, std::string_view org_id,
                                         std::string_view fields_json) {
  if (org_id.empty()) return Status::InvalidArgument("no org id");
  return WithKind(*impl_, kind, [&](UpstreamState& s, const KindSpec& spec) -> Status {
    auto fields = ParseKindFields(spec, fields_json);
    if (!fields) return fields.error();
    return s.ChangeKindPolicy(spec, org_id, *fields);
  });
}

Status FakeUpstream::RemoveOrgKindPolicy(std::string_view kind, std::string_view org_id) {
  return WithKind(*impl_, kind, [&](UpstreamState& s, const KindSpec& spec) {
    return s.RemoveOrgKindPolicy(spec, org_id);
  });
}

Status FakeUpstream::ChangeDefaultKindPolicy(std::string_view kind, std::string_view fields_json) {
  return WithKind(*impl_, kind, [&](UpstreamState& s, const KindSpec& spec) -> Status {
    auto fields = ParseKindFields(spec, fields_json);
    if (!fields) return fields.error();
    return s.ChangeKindPolicy(spec, "", *fields);
  });
}

Status FakeUpstream::AddLoginFactor(std::string_view org_id, LoginFactor list,
                                    std::string_view factor) {
  return ChangeFactor(*impl_, org_id, list, factor, true);
}

Status FakeUpstream::RemoveLoginFactor(std::string_view org_id, LoginFactor list,
                                       std::string_view factor) {
  return ChangeFactor(*impl_, org_id, list, factor, false);
}

Status FakeUpstream::ActivateLabelPolicy(std::string_view org_id) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.ActivateLabel(org_id);
}

Result<std::string> FakeUpstream::AddLabelAsset(std::string_view org_id, LabelAsset asset) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.ChangeLabelAsset(org_id, asset, true);
}

Status FakeUpstream::RemoveLabelAsset(std::string_view org_id, LabelAsset asset) {
  std::lock_guard lock(impl_->mutex_);
  auto key = impl_->state_.ChangeLabelAsset(org_id, asset, false);
  return key ? Status::Ok() : key.error();
}

std::string FakeUpstream::KindPolicyBody(std::string_view kind, std::string_view org_id) const {
  std::lock_guard lock(impl_->mutex_);
  const UpstreamState& s = impl_->state_;
  if (s.FindOrg(org_id) == nullptr) return "";
  if (kind == "domain") return RenderPolicy(s.EffectivePolicy(org_id), false);
  const KindSpec* spec = FindKind(kind);
  if (spec == nullptr) return "";
  return impl_->KindBody(*spec, org_id, KindScope::kManagement).value_or("");
}

std::string FakeUpstream::DefaultKindPolicyBody(std::string_view kind) const {
  std::lock_guard lock(impl_->mutex_);
  const UpstreamState& s = impl_->state_;
  if (kind == "domain") {
    const PolicyRecord& row = s.default_policy();
    return RenderPolicy({row.flags, true, row.details}, false);
  }
  const KindSpec* spec = FindKind(kind);
  if (spec == nullptr) return "";
  return impl_->KindBody(*spec, "", KindScope::kAdmin).value_or("");
}

std::vector<std::string> FakeUpstream::OrgsWithOwnKindPolicy(std::string_view kind) const {
  std::vector<std::string> ids;
  const KindSpec* spec = FindKind(kind);
  if (spec == nullptr) return ids;
  std::lock_guard lock(impl_->mutex_);
  for (const auto& [id, org] : impl_->state_.orgs()) {
    if (impl_->state_.OwnKindRow(*spec, id) != nullptr) ids.push_back(id);
  }
  return ids;  // orgs_ is ordered by id
}

std::string FakeUpstream::AssetPrefix() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->AssetPrefix();
}

}  // namespace policyd::testing_support
