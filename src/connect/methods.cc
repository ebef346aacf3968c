#include "connect/methods.h"

namespace policyd::connect {
namespace {

constexpr std::string_view kM = kManagementService;
constexpr std::string_view kA = kAdminService;
constexpr RequestOrg kNone = RequestOrg::kNone;
constexpr RequestOrg kPath = RequestOrg::kOrgIdInPath;

constexpr MethodSpec kMethods[] = {
    {kM, "GetOrgIAMPolicy", "/management/v1/policies/orgiam", kNone},
    {kM, "GetDomainPolicy", "/management/v1/policies/domain", kNone},
    {kM, "GetLoginPolicy", "/management/v1/policies/login", kNone},
    {kM, "GetDefaultLoginPolicy", "/management/v1/policies/default/login", kNone},
    {kM, "GetPasswordComplexityPolicy", "/management/v1/policies/password/complexity", kNone},
    {kM, "GetDefaultPasswordComplexityPolicy",
     "/management/v1/policies/default/password/complexity", kNone},
    {kM, "GetPasswordAgePolicy", "/management/v1/policies/password/age", kNone},
    {kM, "GetDefaultPasswordAgePolicy", "/management/v1/policies/default/password/age", kNone},
    {kM, "GetLockoutPolicy", "/management/v1/policies/lockout", kNone},
    {kM, "GetDefaultLockoutPolicy", "/management/v1/policies/default/lockout", kNone},
    {kM, "GetPrivacyPolicy", "/management/v1/policies/privacy", kNone},
    {kM, "GetDefaultPrivacyPolicy", "/management/v1/policies/default/privacy", kNone},
    {kM, "GetNotificationPolicy", "/management/v1/policies/notification", kNone},
    {kM, "GetDefaultNotificationPolicy", "/management/v1/policies/default/notification", kNone},
    {kM, "GetLabelPolicy", "/management/v1/policies/label", kNone},
    {kM, "GetPreviewLabelPolicy", "/management/v1/policies/label/_preview", kNone},
    {kM, "GetDefaultLabelPolicy", "/management/v1/policies/default/label", kNone},
    {kA, "GetOrgIAMPolicy", "/admin/v1/policies/orgiam", kNone},
    {kA, "GetCustomOrgIAMPolicy", "/admin/v1/orgs/{orgId}/policies/orgiam", kPath},
    {kA, "GetDomainPolicy", "/admin/v1/policies/domain", kNone},
    {kA, "GetCustomDomainPolicy", "/admin/v1/orgs/{orgId}/policies/domain", kPath},
    {kA, "GetLabelPolicy", "/admin/v1/policies/label", kNone},
    {kA, "GetPreviewLabelPolicy", "/admin/v1/policies/label/_preview", kNone},
    {kA, "GetLoginPolicy", "/admin/v1/policies/login", kNone},
    {kA, "GetPasswordComplexityPolicy", "/admin/v1/policies/password/complexity", kNone},
    {kA, "GetPasswordAgePolicy", "/admin/v1/policies/password/age", kNone},
    {kA, "GetLockoutPolicy", "/admin/v1/policies/lockout", kNone},
    {kA, "GetPrivacyPolicy", "/admin/v1/policies/privacy", kNone},
    {kA, "GetNotificationPolicy", "/admin/v1/policies/notification", kNone},
    {kSettingsService, "GetDomainSettings", "/v2/settings/domain", RequestOrg::kContextInQuery},
};

}  // namespace

std::span<const MethodSpec> Methods() { return kMethods; }

const MethodSpec* FindMethod(std::string_view service, std::string_view method) {
  for (const MethodSpec& spec : kMethods) {
    if (spec.service == service && spec.method == method) return &spec;
  }
  return nullptr;
}

}  // namespace policyd::connect
