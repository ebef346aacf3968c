#include "model/policy_kinds.h"

#include <algorithm>
#include <string>

namespace policyd {
namespace {

using T = FieldType;

// ---- Enums (proto/zitadel/policy.proto) ----

constexpr std::string_view kPasswordlessNames[] = {"PASSWORDLESS_TYPE_NOT_ALLOWED",
                                                   "PASSWORDLESS_TYPE_ALLOWED"};
// domain.PasswordlessType: 1 allowed; anything else is NOT_ALLOWED.
constexpr std::uint32_t kPasswordlessFromEvent[] = {0, 1};
constexpr EnumSpec kPasswordlessType{"PasswordlessType", kPasswordlessNames, kPasswordlessFromEvent,
                                     0};

constexpr std::string_view kSecondFactorNames[] = {
    "SECOND_FACTOR_TYPE_UNSPECIFIED", "SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F",
    "SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_OTP_SMS"};
// domain.SecondFactorType: 0 unspecified, 1 TOTP, 2 U2F, 3 OTP email, 4 OTP SMS; others are
// UNSPECIFIED.
constexpr std::uint32_t kSecondFactorFromEvent[] = {0, 1, 2, 3, 4};
constexpr EnumSpec kSecondFactorType{"SecondFactorType", kSecondFactorNames, kSecondFactorFromEvent,
                                     0};

constexpr std::string_view kMultiFactorNames[] = {"MULTI_FACTOR_TYPE_UNSPECIFIED",
                                                  "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"};
constexpr std::uint32_t kMultiFactorFromEvent[] = {0, 1};
constexpr EnumSpec kMultiFactorType{"MultiFactorType", kMultiFactorNames, kMultiFactorFromEvent, 0};

constexpr std::string_view kThemeModeNames[] = {"THEME_MODE_UNSPECIFIED", "THEME_MODE_AUTO",
                                                "THEME_MODE_DARK", "THEME_MODE_LIGHT"};
// domain.LabelPolicyThemeMode: 0 auto, 1 light, 2 dark; anything else is AUTO (so an answer never
// has THEME_MODE_UNSPECIFIED).
constexpr std::uint32_t kThemeModeFromEvent[] = {1, 3, 2};
constexpr EnumSpec kThemeMode{"ThemeMode", kThemeModeNames, kThemeModeFromEvent, 1};

// zitadel.idp.v1.IDPType: there is no 2.
constexpr std::string_view kIdpTypeNames[] = {"IDP_TYPE_UNSPECIFIED", "IDP_TYPE_OIDC", "",
                                              "IDP_TYPE_JWT"};
constexpr EnumSpec kIdpType{"IDPType", kIdpTypeNames, {}, 0};

// The upstream's domain.IDPType (internal/domain/idp.go), which the kIdpTable row keeps.
constexpr std::string_view kDomainIdpTypeNames[] = {
    "unspecified", "oidc",   "jwt",       "oauth",  "ldap",
    "azure_ad",    "github", "github_es", "gitlab", "gitlab_self_hosted",
    "google",      "apple",  "saml",      "zitadel"};
constexpr EnumSpec kDomainIdpType{"domain.IDPType", kDomainIdpTypeNames, {}, 0};

// ---- Fields, in declaration order without details and is_default ----

constexpr FieldSpec kPasswordComplexityFields[] = {
    {"minLength", "min_length", T::kUint64, "minLength"},
    {"hasUppercase", "has_uppercase", T::kBool, "hasUppercase"},
    {"hasLowercase", "has_lowercase", T::kBool, "hasLowercase"},
    {"hasNumber", "has_number", T::kBool, "hasNumber"},
    {"hasSymbol", "has_symbol", T::kBool, "hasSymbol"},
};

constexpr FieldSpec kPasswordAgeFields[] = {
    {"maxAgeDays", "max_age_days", T::kUint64, "maxAgeDays"},
    {"expireWarnDays", "expire_warn_days", T::kUint64, "expireWarnDays"},
};

constexpr FieldSpec kLockoutFields[] = {
    {"maxPasswordAttempts", "max_password_attempts", T::kUint64, "maxPasswordAttempts"},
    {"maxOtpAttempts", "max_otp_attempts", T::kUint64, "maxOTPAttempts"},
};

constexpr FieldSpec kLoginFields[] = {
    {"allowUsernamePassword", "allow_username_password", T::kBool, "allowUsernamePassword"},
    {"allowRegister", "allow_register", T::kBool, "allowRegister"},
    {"allowExternalIdp", "allow_external_idp", T::kBool, "allowExternalIdp"},
    {"forceMfa", "force_mfa", T::kBool, "forceMFA"},
    {"passwordlessType", "passwordless_type", T::kEnum, "passwordlessType", &kPasswordlessType},
    // is_default
    {"hidePasswordReset", "hide_password_reset", T::kBool, "hidePasswordReset"},
    {"ignoreUnknownUsernames", "ignore_unknown_usernames", T::kBool, "ignoreUnknownUsernames"},
    {"defaultRedirectUri", "default_redirect_uri", T::kString, "defaultRedirectURI"},
    {"passwordCheckLifetime", "password_check_lifetime", T::kDuration, "passwordCheckLifetime"},
    {"externalLoginCheckLifetime", "external_login_check_lifetime", T::kDuration,
     "externalLoginCheckLifetime"},
    {"mfaInitSkipLifetime", "mfa_init_skip_lifetime", T::kDuration, "mfaInitSkipLifetime"},
    {"secondFactorCheckLifetime", "second_factor_check_lifetime", T::kDuration,
     "secondFactorCheckLifetime"},
    {"multiFactorCheckLifetime", "multi_factor_check_lifetime", T::kDuration,
     "multiFactorCheckLifetime"},
    {"secondFactors", "second_factors", T::kEnumList, "", &kSecondFactorType},
    {"multiFactors", "multi_factors", T::kEnumList, "", &kMultiFactorType},
    {"allowDomainDiscovery", "allow_domain_discovery", T::kBool, "allowDomainDiscovery"},
    {"disableLoginWithEmail", "disable_login_with_email", T::kBool, "disableLoginWithEmail"},
    {"disableLoginWithPhone", "disable_login_with_phone", T::kBool, "disableLoginWithPhone"},
    {"forceMfaLocalOnly", "force_mfa_local_only", T::kBool, "forceMFALocalOnly"},
    // In the proto, but no event key for it was found in the upstream: read from the API and
    // snapshots only.
    {"useDefaultUriForNotificationLinks", "use_default_uri_for_notification_links", T::kBool, ""},
    // Declared after multi_factors (field 18), appended here: set by the idpprovider events and
    // the IdP events (sync/idp_reducer.h), not by added/changed payloads.
    {"idps", "idps", T::kIdpLinks, "", &kIdpType},
};
constexpr std::uint8_t kLoginJsonOrder[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10,
                                            11, 12, 13, 14, 20, 15, 16, 17, 18, 19};
static_assert(std::size(kLoginJsonOrder) == std::size(kLoginFields));

constexpr FieldSpec kIdpTableFields[] = {
    {"idps", "idps", T::kIdpLinks, "", &kDomainIdpType},
};

constexpr FieldSpec kPrivacyFields[] = {
    {"tosLink", "tos_link", T::kString, "tosLink"},
    {"privacyLink", "privacy_link", T::kString, "privacyLink"},
    // is_default
    {"helpLink", "help_link", T::kString, "helpLink"},
    {"supportEmail", "support_email", T::kString, "supportEmail"},
    {"docsLink", "docs_link", T::kString, "docsLink"},
    {"customLink", "custom_link", T::kString, "customLink"},
    {"customLinkText", "custom_link_text", T::kString, "customLinkText"},
};

constexpr FieldSpec kNotificationFields[] = {
    // is_default
    {"passwordChange", "password_change", T::kBool, "passwordChange"},
};

constexpr FieldSpec kLabelFields[] = {
    {"primaryColor", "primary_color", T::kString, "primaryColor"},
    // is_default
    {"hideLoginNameSuffix", "hide_login_name_suffix", T::kBool, "hideLoginNameSuffix"},
    {"warnColor", "warn_color", T::kString, "warnColor"},
    {"backgroundColor", "background_color", T::kString, "backgroundColor"},
    {"fontColor", "font_color", T::kString, "fontColor"},
    {"primaryColorDark", "primary_color_dark", T::kString, "primaryColorDark"},
    {"backgroundColorDark", "background_color_dark", T::kString, "backgroundColorDark"},
    {"warnColorDark", "warn_color_dark", T::kString, "warnColorDark"},
    {"fontColorDark", "font_color_dark", T::kString, "fontColorDark"},
    {"disableWatermark", "disable_watermark", T::kBool, "disableWatermark", nullptr,
     "disableMsgPopup"},
    {"logoUrl", "logo_url", T::kString, ""},
    {"iconUrl", "icon_url", T::kString, ""},
    {"logoUrlDark", "logo_url_dark", T::kString, ""},
    {"iconUrlDark", "icon_url_dark", T::kString, ""},
    {"fontUrl", "font_url", T::kString, ""},
    {"themeMode", "theme_mode", T::kEnum, "themeMode", &kThemeMode},
};

constexpr KindSpec kSpecs[kStoredKindCount] = {
    {PolicyKind::kDomain,
     "domain",
     "domain",
     "DomainPolicy",
     "/admin/v1/policies/domain",
     "/management/v1/policies/domain",
     false,
     "policy.domain",
     {},
     0},
    {PolicyKind::kPasswordComplexity, "password-complexity", "passwordComplexity",
     "PasswordComplexityPolicy", "/admin/v1/policies/password/complexity",
     "/management/v1/policies/password/complexity", true, "policy.password.complexity",
     kPasswordComplexityFields, 5},
    {PolicyKind::kPasswordAge, "password-age", "passwordAge", "PasswordAgePolicy",
     "/admin/v1/policies/password/age", "/management/v1/policies/password/age", true,
     "policy.password.age", kPasswordAgeFields, 2},
    {PolicyKind::kLockout, "lockout", "lockout", "LockoutPolicy", "/admin/v1/policies/lockout",
     "/management/v1/policies/lockout", true, "policy.lockout", kLockoutFields, 2},
    {PolicyKind::kLogin, "login", "login", "LoginPolicy", "/admin/v1/policies/login",
     "/management/v1/policies/login", true, "policy.login", kLoginFields, 5, kLoginJsonOrder},
    {PolicyKind::kPrivacy, "privacy", "privacy", "PrivacyPolicy", "/admin/v1/policies/privacy",
     "/management/v1/policies/privacy", false, "policy.privacy", kPrivacyFields, 2},
    {PolicyKind::kNotification, "notification", "notification", "NotificationPolicy",
     "/admin/v1/policies/notification", "/management/v1/policies/notification", false,
     "policy.notification", kNotificationFields, 0},
    {PolicyKind::kLabel, "label", "label", "LabelPolicy", "/admin/v1/policies/label",
     "/management/v1/policies/label", true, "policy.label", kLabelFields, 1},
    {PolicyKind::kLabelPreview, "", "", "LabelPolicy", "/admin/v1/policies/label/_preview",
     "/management/v1/policies/label/_preview", true, "policy.label", kLabelFields, 1},
    {PolicyKind::kIdpTable, "", "", "IdpTable", "", "", false, "", kIdpTableFields, 1},
};

bool FitsEnum(const EnumSpec* spec, std::uint64_t number) {
  return spec != nullptr && number < spec->values.size() && !spec->values[number].empty();
}

Status CheckLinks(std::string_view what, PolicyKind kind, const FieldSpec& field,
                  const std::vector<IdpLink>& links);

Status FieldError(std::string_view what, const FieldSpec& field, std::string_view problem) {
  return Status::InvalidArgument(std::string(what) + "." + std::string(field.json_name) + ": " +
                                 std::string(problem));
}

struct ActionSuffix {
  std::string_view suffix;
  KindAction action;
  PolicyKind only;  // kDomain: any generic kind; else only this kind
  int asset_field;  // the label field index of an asset URL, or -1
};

// Label field indexes of the asset URLs (kLabelFields).
constexpr int kLogoUrl = 10, kIconUrl = 11, kLogoUrlDark = 12, kIconUrlDark = 13, kFontUrl = 14;

constexpr ActionSuffix kSuffixes[] = {
    {".added", KindAction::kAdded, PolicyKind::kDomain, -1},
    {".changed", KindAction::kChanged, PolicyKind::kDomain, -1},
    {".removed", KindAction::kRemoved, PolicyKind::kDomain, -1},
    {".secondfactor.added", KindAction::kSecondFactorAdded, PolicyKind::kLogin, -1},
    {".secondfactor.removed", KindAction::kSecondFactorRemoved, PolicyKind::kLogin, -1},
    {".multifactor.added", KindAction::kMultiFactorAdded, PolicyKind::kLogin, -1},
    {".multifactor.removed", KindAction::kMultiFactorRemoved, PolicyKind::kLogin, -1},
    {".activated", KindAction::kLabelActivated, PolicyKind::kLabel, -1},
    {".logo.added", KindAction::kAssetAdded, PolicyKind::kLabel, kLogoUrl},
    {".logo.removed", KindAction::kAssetRemoved, PolicyKind::kLabel, kLogoUrl},
    {".icon.added", KindAction::kAssetAdded, PolicyKind::kLabel, kIconUrl},
    {".icon.removed", KindAction::kAssetRemoved, PolicyKind::kLabel, kIconUrl},
    {".logo.dark.added", KindAction::kAssetAdded, PolicyKind::kLabel, kLogoUrlDark},
    {".logo.dark.removed", KindAction::kAssetRemoved, PolicyKind::kLabel, kLogoUrlDark},
    {".icon.dark.added", KindAction::kAssetAdded, PolicyKind::kLabel, kIconUrlDark},
    {".icon.dark.removed", KindAction::kAssetRemoved, PolicyKind::kLabel, kIconUrlDark},
    {".font.added", KindAction::kAssetAdded, PolicyKind::kLabel, kFontUrl},
    {".font.removed", KindAction::kAssetRemoved, PolicyKind::kLabel, kFontUrl},
    {".assets.removed", KindAction::kAssetsRemoved, PolicyKind::kLabel, -1},
};

Status CheckLinks(std::string_view what, PolicyKind kind, const FieldSpec& field,
                  const std::vector<IdpLink>& links) {
  if (links.size() > MaxIdpLinks(kind)) return FieldError(what, field, "too many links");
  for (const IdpLink& link : links) {
    if (link.id.empty() || link.id.size() > kMaxIdLength) {
      return FieldError(what, field, "an IdP id must have 1 to 200 bytes");
    }
    if (link.name.size() > kMaxKindStringLength) return FieldError(what, field, "name too long");
    if (!FitsEnum(field.enum_spec, link.type)) {
      return FieldError(what, field, "not a value of " + std::string(field.enum_spec->name));
    }
  }
  // Each IdP once (the upstream's key is the owner and the IdP id). Small lists: pairwise.
  if (links.size() <= 64) {
    for (std::size_t i = 0; i < links.size(); ++i) {
      for (std::size_t j = i + 1; j < links.size(); ++j) {
        if (links[i].id == links[j].id)
          return FieldError(what, field, "IdP " + links[i].id + " twice");
      }
    }
    return Status::Ok();
  }
  std::vector<std::string_view> ids;
  ids.reserve(links.size());
  for (const IdpLink& link : links) ids.push_back(link.id);
  std::sort(ids.begin(), ids.end());
  if (auto twice = std::adjacent_find(ids.begin(), ids.end()); twice != ids.end()) {
    return FieldError(what, field, "IdP " + std::string(*twice) + " twice");
  }
  return Status::Ok();
}

}  // namespace

std::optional<KindEventType> ClassifyKindEvent(std::string_view type) {
  bool instance = false;
  if (type.starts_with("instance.")) {
    instance = true;
    type.remove_prefix(9);
  } else if (type.starts_with("org.")) {
    type.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  for (PolicyKind kind : kGenericKinds) {
    const std::string_view base = SpecOf(kind).event_base;
    if (!type.starts_with(base)) continue;
    const std::string_view rest = type.substr(base.size());
    for (const ActionSuffix& s : kSuffixes) {
      if (rest != s.suffix || (s.only != PolicyKind::kDomain && s.only != kind)) continue;
      // The upstream has no instance-level "removed" policy events.
      if (instance && s.action == KindAction::kRemoved) return std::nullopt;
      return KindEventType{kind, instance, s.action,
                           static_cast<std::uint8_t>(s.asset_field < 0 ? 0 : s.asset_field)};
    }
  }
  return std::nullopt;
}

const std::vector<std::string>& KindEventTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    for (std::string_view scope : {"instance.", "org."}) {
      for (PolicyKind kind : kGenericKinds) {
        for (const ActionSuffix& s : kSuffixes) {
          if (s.only != PolicyKind::kDomain && s.only != kind) continue;
          if (scope == "instance." && s.action == KindAction::kRemoved) continue;
          out.push_back(std::string(scope) + std::string(SpecOf(kind).event_base) +
                        std::string(s.suffix));
        }
      }
    }
    return out;
  }();
  return types;
}

const KindSpec& SpecOf(PolicyKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  return kSpecs[index < kStoredKindCount ? index : 0];
}

std::optional<PolicyKind> KindFromCliName(std::string_view name) {
  for (const KindSpec& spec : kSpecs) {
    if (!name.empty() && spec.cli_name == name) return spec.kind;
  }
  return std::nullopt;
}

std::optional<PolicyKind> KindFromSnapshotName(std::string_view name) {
  for (const KindSpec& spec : kSpecs) {
    if (!name.empty() && spec.snapshot_name == name) return spec.kind;
  }
  return std::nullopt;
}

KindPolicy EmptyKindPolicy(PolicyKind kind) {
  KindPolicy policy;
  policy.kind = kind;
  policy.fields.resize(SpecOf(kind).fields.size());
  return policy;
}

int FindKindField(const KindSpec& spec, std::string_view name) {
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].json_name == name || spec.fields[i].proto_name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

namespace {
std::size_t IdpLinksField(PolicyKind kind) {
  static const auto login =
      static_cast<std::size_t>(FindKindField(SpecOf(PolicyKind::kLogin), "idps"));
  return kind == PolicyKind::kIdpTable ? 0 : login;
}
}  // namespace

std::vector<IdpLink>& IdpLinksOf(KindPolicy& row) {
  return row.fields[IdpLinksField(row.kind)].links;
}
const std::vector<IdpLink>& IdpLinksOf(const KindPolicy& row) {
  return row.fields[IdpLinksField(row.kind)].links;
}

Status CheckKindPolicy(std::string_view what, const KindPolicy& policy) {
  if (policy.kind == PolicyKind::kDomain || !IsStoredKind(static_cast<std::uint8_t>(policy.kind))) {
    return Status::InvalidArgument(std::string(what) + ": not a generic policy kind");
  }
  const KindSpec& spec = SpecOf(policy.kind);
  if (policy.fields.size() != spec.fields.size()) {
    return Status::InvalidArgument(std::string(what) + ": " + std::to_string(policy.fields.size()) +
                                   " field values for " + std::to_string(spec.fields.size()) +
                                   " fields of " + std::string(spec.message_name));
  }
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& field = spec.fields[i];
    const FieldValue& value = policy.fields[i];
    switch (field.type) {
      case FieldType::kBool:
        if (value.number > 1) return FieldError(what, field, "a bool must be 0 or 1");
        break;
      case FieldType::kEnum:
        if (!FitsEnum(field.enum_spec, value.number)) {
          return FieldError(what, field, "not a value of " + std::string(field.enum_spec->name));
        }
        break;
      case FieldType::kEnumList:
        if (value.list.size() > kMaxKindListLength) return FieldError(what, field, "too long");
        for (std::uint32_t number : value.list) {
          if (!FitsEnum(field.enum_spec, number)) {
            return FieldError(what, field, "not a value of " + std::string(field.enum_spec->name));
          }
        }
        break;
      case FieldType::kString:
        if (value.text.size() > kMaxKindStringLength) return FieldError(what, field, "too long");
        break;
      case FieldType::kIdpLinks:
        POLICYD_RETURN_IF_ERROR(CheckLinks(what, policy.kind, field, value.links));
        break;
      case FieldType::kUint64:
      case FieldType::kDuration:
        break;
    }
  }
  if (policy.details.creation_date.nanos < 0 ||
      policy.details.creation_date.nanos >= 1'000'000'000 || policy.details.change_date.nanos < 0 ||
      policy.details.change_date.nanos >= 1'000'000'000) {
    return Status::InvalidArgument(std::string(what) + ".details: nanos out of range");
  }
  if (policy.details.resource_owner.size() > kMaxIdLength ||
      policy.stream.type.size() > kMaxIdLength || policy.stream.id.size() > kMaxIdLength) {
    return Status::InvalidArgument(std::string(what) + ": an id longer than " +
                                   std::to_string(kMaxIdLength) + " bytes");
  }
  return Status::Ok();
}

}  // namespace policyd
