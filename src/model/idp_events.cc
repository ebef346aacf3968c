#include "model/idp_events.h"

#include <array>

namespace policyd {
namespace {

// The IdP templates and their domain.IDPType (internal/domain/idp.go). Instance LDAP events are
// "ldap.v2" since v2.23; org LDAP kept "ldap".
struct Template {
  std::string_view instance_name;
  std::string_view org_name;
  std::uint8_t type;
};
constexpr std::array<Template, 13> kTemplates = {{
    {"oidc", "oidc", 1},
    {"jwt", "jwt", 2},
    {"oauth", "oauth", 3},
    {"ldap.v2", "ldap", 4},
    {"azure", "azure", 5},
    {"github", "github", 6},
    {"github_enterprise", "github_enterprise", 7},
    {"gitlab", "gitlab", 8},
    {"gitlab_self_hosted", "gitlab_self_hosted", 9},
    {"google", "google", 10},
    {"apple", "apple", 11},
    {"saml", "saml", 12},
    {"zitadel", "zitadel", 13},
}};

constexpr std::uint8_t kAzureAd = 5, kGoogle = 10, kOidc = 1, kJwt = 2;

struct Fixed {
  std::string_view type;
  IdpEventType meaning;
};
constexpr std::array<Fixed, 22> kFixed = {{
    {"instance.policy.login.idpprovider.added", {true, IdpAction::kLinkAdded, 0, "idpConfigId"}},
    {"instance.policy.login.idpprovider.removed",
     {true, IdpAction::kLinkRemoved, 0, "idpConfigId"}},
    {"instance.policy.login.idpprovider.cascade.removed",
     {true, IdpAction::kLinkRemoved, 0, "idpConfigId"}},
    {"org.policy.login.idpprovider.added", {false, IdpAction::kLinkAdded, 0, "idpConfigId"}},
    {"org.policy.login.idpprovider.removed", {false, IdpAction::kLinkRemoved, 0, "idpConfigId"}},
    {"org.policy.login.idpprovider.cascade.removed",
     {false, IdpAction::kLinkRemoved, 0, "idpConfigId"}},
    {"iam.idp.config.added", {true, IdpAction::kAdded, 0, "idpConfigId"}},
    {"org.idp.config.added", {false, IdpAction::kAdded, 0, "idpConfigId"}},
    {"iam.idp.config.changed", {true, IdpAction::kChanged, 0, "idpConfigId"}},
    {"org.idp.config.changed", {false, IdpAction::kChanged, 0, "idpConfigId"}},
    {"iam.idp.oidc.config.added", {true, IdpAction::kTyped, kOidc, "idpConfigId"}},
    {"org.idp.oidc.config.added", {false, IdpAction::kTyped, kOidc, "idpConfigId"}},
    {"iam.idp.jwt.config.added", {true, IdpAction::kTyped, kJwt, "idpConfigId"}},
    {"org.idp.jwt.config.added", {false, IdpAction::kTyped, kJwt, "idpConfigId"}},
    {"iam.idp.config.removed", {true, IdpAction::kRemoved, 0, "idpConfigId"}},
    {"org.idp.config.removed", {false, IdpAction::kRemoved, 0, "idpConfigId"}},
    {"instance.idp.removed", {true, IdpAction::kRemoved, 0, "id"}},
    {"org.idp.removed", {false, IdpAction::kRemoved, 0, "id"}},
    {"instance.idp.oidc.migrated.azure", {true, IdpAction::kMigrated, kAzureAd, "id"}},
    {"instance.idp.oidc.migrated.google", {true, IdpAction::kMigrated, kGoogle, "id"}},
    {"org.idp.oidc.migrated.azure", {false, IdpAction::kMigrated, kAzureAd, "id"}},
    {"org.idp.oidc.migrated.google", {false, IdpAction::kMigrated, kGoogle, "id"}},
}};

}  // namespace

std::optional<IdpEventType> ClassifyIdpEvent(std::string_view type) {
  for (const Fixed& f : kFixed) {
    if (f.type == type) return f.meaning;
  }
  bool instance = false;
  if (type.starts_with("instance.idp.")) {
    instance = true;
    type.remove_prefix(13);
  } else if (type.starts_with("org.idp.")) {
    type.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  for (const Template& t : kTemplates) {
    const std::string_view name = instance ? t.instance_name : t.org_name;
    if (!type.starts_with(name) || type.size() <= name.size() || type[name.size()] != '.') {
      continue;
    }
    const std::string_view action = type.substr(name.size() + 1);
    if (action == "added") return IdpEventType{instance, IdpAction::kAdded, t.type, "id"};
    if (action == "changed") return IdpEventType{instance, IdpAction::kChanged, t.type, "id"};
  }
  return std::nullopt;
}

const std::vector<std::string>& IdpEventTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    for (const Fixed& f : kFixed) out.emplace_back(f.type);
    for (const Template& t : kTemplates) {
      for (const char* action : {".added", ".changed"}) {
        out.push_back("instance.idp." + std::string(t.instance_name) + action);
        out.push_back("org.idp." + std::string(t.org_name) + action);
      }
    }
    return out;
  }();
  return types;
}

}  // namespace policyd
