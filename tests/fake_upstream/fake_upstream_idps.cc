// Identity providers and the login policy's links in the fake upstream: the public FakeUpstream
// methods (locked delegation to UpstreamState, upstream_idps.cc) and the list endpoints
// POST /admin/v1/policies/login/idps/_search and /management/v1/policies/login/idps/_search.
#include <httplib.h>

#include "fake_upstream/fake_upstream_impl.h"
#include "fake_upstream/request_json.h"
#include "fake_upstream/state_json.h"

namespace policyd::testing_support {

Reply FakeUpstreamImpl::SearchLoginPolicyIdps(const httplib::Request& req, bool management) {
  std::string org_id;  // the admin API lists the instance's
  if (management) {
    org_id = CallerOrg(req);
    if (state_.FindOrg(org_id) == nullptr) {
      return StatusReply(Status::PermissionDenied("Organisation doesn't exist (AUTH-Bs7Ds)"));
    }
  }
  // ListLoginPolicyIDPsRequest is {query}: the org domains' request shape without queries.
  auto search = ParseDomainSearch(req.body, /*instance=*/false);
  if (!search) return StatusReply(search.error());
  Reply reply;
  reply.body = RenderLoginPolicyIdps(state_, state_.EffectiveIdpLinks(org_id), *search);
  return reply;
}

// --- FakeUpstream ---

Result<std::string> FakeUpstream::AddIdp(std::string_view org_id, IdpKind kind,
                                         std::string_view name) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.AddIdp(org_id, kind, name);
}

Result<std::string> FakeUpstream::AddIdpConfig(std::string_view org_id, IdpConfigKind kind,
                                               std::string_view name) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.AddIdpConfig(org_id, kind, name);
}

Status FakeUpstream::ChangeIdp(std::string_view idp_id, std::optional<std::string_view> name) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.ChangeIdp(idp_id, name);
}

Status FakeUpstream::MigrateIdp(std::string_view idp_id, IdpKind to, std::string_view name) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.MigrateIdp(idp_id, to, name);
}

Status FakeUpstream::SetIdpConfigActive(std::string_view idp_id, bool active) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.SetIdpConfigActive(idp_id, active);
}

Status FakeUpstream::RemoveIdp(std::string_view idp_id) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.RemoveIdp(idp_id);
}

Status FakeUpstream::AddIdpToLoginPolicy(std::string_view org_id, std::string_view idp_id) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.LinkIdp(org_id, idp_id, true);
}

Status FakeUpstream::RemoveIdpFromLoginPolicy(std::string_view org_id, std::string_view idp_id) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.LinkIdp(org_id, idp_id, false);
}

std::vector<IdpInfo> FakeUpstream::Idps() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<IdpInfo> out;
  for (const auto& [id, idp] : impl_->state_.idps()) {
    out.push_back({idp.id, idp.org_id, idp.name, idp.type, !idp.kind.has_value(), idp.active});
  }
  return out;  // idps() is ordered by id
}

std::vector<std::string> FakeUpstream::LoginPolicyIdpLinks(std::string_view org_id) const {
  std::lock_guard lock(impl_->mutex_);
  const KindSpec* login = FindKind("login");
  const KindRow* row = org_id.empty() ? impl_->state_.EffectiveKindRow(*login, "")
                                      : impl_->state_.OwnKindRow(*login, org_id);
  return row == nullptr ? std::vector<std::string>{} : row->idps;
}

}  // namespace policyd::testing_support
