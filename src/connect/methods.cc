#include "connect/methods.h"

namespace policyd::connect {
namespace {

constexpr std::string_view kM = kManagementService;
constexpr std::string_view kA = kAdminService;

constexpr MethodSpec kMethods[] = {
    {kM, "GetOrgIAMPolicy", "/management/v1/policies/orgiam", false},
    {kM, "GetDomainPolicy", "/management/v1/policies/domain", false},
    {kM, "GetLoginPolicy", "/management/v1/policies/login", false},
    {kM, "GetDefaultLoginPolicy", "/management/v1/policies/default/login", false},
    {kM, "GetPasswordComplexityPolicy", "/management/v1/policies/password/complexity", false},
    {kM, "GetDefaultPasswordComplexityPolicy",
     "/management/v1/policies/default/password/complexity", false},
    {kM, "GetPasswordAgePolicy", "/management/v1/policies/password/age", false},
    {kM, "GetDefaultPasswordAgePolicy", "/management/v1/policies/default/password/age", false},
    {kM, "GetLockoutPolicy", "/management/v1/policies/lockout", false},
    {kM, "GetDefaultLockoutPolicy", "/management/v1/policies/default/lockout", false},
    {kM, "GetPrivacyPolicy", "/management/v1/policies/privacy", false},
    {kM, "GetDefaultPrivacyPolicy", "/management/v1/policies/default/privacy", false},
    {kM, "GetNotificationPolicy", "/management/v1/policies/notification", false},
    {kM, "GetDefaultNotificationPolicy", "/management/v1/policies/default/notification", false},
    {kM, "GetLabelPolicy", "/management/v1/policies/label", false},
    {kM, "GetPreviewLabelPolicy", "/management/v1/policies/label/_preview", false},
    {kM, "GetDefaultLabelPolicy", "/management/v1/policies/default/label", false},
    {kA, "GetOrgIAMPolicy", "/admin/v1/policies/orgiam", false},
    {kA, "GetCustomOrgIAMPolicy", "/admin/v1/orgs/{orgId}/policies/orgiam", true},
    {kA, "GetDomainPolicy", "/admin/v1/policies/domain", false},
    {kA, "GetCustomDomainPolicy", "/admin/v1/orgs/{orgId}/policies/domain", true},
    {kA, "GetLabelPolicy", "/admin/v1/policies/label", false},
    {kA, "GetPreviewLabelPolicy", "/admin/v1/policies/label/_preview", false},
    {kA, "GetLoginPolicy", "/admin/v1/policies/login", false},
    {kA, "GetPasswordComplexityPolicy", "/admin/v1/policies/password/complexity", false},
    {kA, "GetPasswordAgePolicy", "/admin/v1/policies/password/age", false},
    {kA, "GetLockoutPolicy", "/admin/v1/policies/lockout", false},
    {kA, "GetPrivacyPolicy", "/admin/v1/policies/privacy", false},
    {kA, "GetNotificationPolicy", "/admin/v1/policies/notification", false},
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
