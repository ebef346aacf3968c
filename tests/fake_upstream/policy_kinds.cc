#include "fake_upstream/policy_kinds.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "fake_upstream/protojson_text.h"

namespace policyd::testing_support {
namespace {

using FT = FieldType;

FieldSpec Bool(std::string_view json, std::string_view key) { return {json, FT::kBool, key, key}; }
FieldSpec Uint(std::string_view json, std::string_view key) {
  return {json, FT::kUint64, key, key};
}
FieldSpec Str(std::string_view json, std::string_view key) { return {json, FT::kString, key, key}; }
FieldSpec Dur(std::string_view json) { return {json, FT::kDuration, json, json}; }
FieldSpec Asset(std::string_view json) { return {json, FT::kAsset}; }
// A value the events carry but the message does not show (and requests cannot set).
FieldSpec Hidden(std::string_view key) { return {key, FT::kBool, key, key, {}, true}; }
const FieldSpec kDetails{"details", FT::kDetails};
const FieldSpec kIsDefault{"isDefault", FT::kIsDefault};

std::vector<KindSpec> MakeKinds() {
  std::vector<KindSpec> kinds;
  kinds.push_back({KindId::kPasswordComplexity,
                   "passwordComplexity",
                   "password/complexity",
                   "policy.password.complexity",
                   true,
                   {kDetails, Uint("minLength", "minLength"), Bool("hasUppercase", "hasUppercase"),
                    Bool("hasLowercase", "hasLowercase"), Bool("hasNumber", "hasNumber"),
                    Bool("hasSymbol", "hasSymbol"), kIsDefault}});
  kinds.push_back({KindId::kPasswordAge,
                   "passwordAge",
                   "password/age",
                   "policy.password.age",
                   true,
                   {kDetails, Uint("maxAgeDays", "maxAgeDays"),
                    Uint("expireWarnDays", "expireWarnDays"), kIsDefault}});
  kinds.push_back(
      {KindId::kLockout,
       "lockout",
       "lockout",
       "policy.lockout",
       true,
       {kDetails, Uint("maxPasswordAttempts", "maxPasswordAttempts"),
        Uint("maxOtpAttempts", "maxOTPAttempts"), kIsDefault, Hidden("showLockOutFailures")}});
  kinds.push_back(
      {KindId::kLogin,
       "login",
       "login",
       "policy.login",
       true,
       {kDetails,
        Bool("allowUsernamePassword", "allowUsernamePassword"),
        Bool("allowRegister", "allowRegister"),
        Bool("allowExternalIdp", "allowExternalIdp"),
        Bool("forceMfa", "forceMFA"),
        {"passwordlessType", FT::kEnum, "passwordlessType", "passwordlessType", "PasswordlessType"},
        kIsDefault,
        Bool("hidePasswordReset", "hidePasswordReset"),
        Bool("ignoreUnknownUsernames", "ignoreUnknownUsernames"),
        Str("defaultRedirectUri", "defaultRedirectURI"),
        Dur("passwordCheckLifetime"),
        Dur("externalLoginCheckLifetime"),
        Dur("mfaInitSkipLifetime"),
        Dur("secondFactorCheckLifetime"),
        Dur("multiFactorCheckLifetime"),
        {"secondFactors", FT::kSecondFactors},
        {"multiFactors", FT::kMultiFactors},
        {"idps", FT::kIdps},
        Bool("allowDomainDiscovery", "allowDomainDiscovery"),
        Bool("disableLoginWithEmail", "disableLoginWithEmail"),
        Bool("disableLoginWithPhone", "disableLoginWithPhone"),
        Bool("forceMfaLocalOnly", "forceMFALocalOnly")}});
  kinds.push_back({KindId::kPrivacy,
                   "privacy",
                   "privacy",
                   "policy.privacy",
                   false,
                   {kDetails, Str("tosLink", "tosLink"), Str("privacyLink", "privacyLink"),
                    kIsDefault, Str("helpLink", "helpLink"), Str("supportEmail", "supportEmail"),
                    Str("docsLink", "docsLink"), Str("customLink", "customLink"),
                    Str("customLinkText", "customLinkText")}});
  kinds.push_back({KindId::kNotification,
                   "notification",
                   "notification",
                   "policy.notification",
                   false,
                   {kDetails, kIsDefault, Bool("passwordChange", "passwordChange")}});
  kinds.push_back({KindId::kLabel,
                   "label",
                   "label",
                   "policy.label",
                   true,
                   {kDetails,
                    Str("primaryColor", "primaryColor"),
                    kIsDefault,
                    Bool("hideLoginNameSuffix", "hideLoginNameSuffix"),
                    Str("warnColor", "warnColor"),
                    Str("backgroundColor", "backgroundColor"),
                    Str("fontColor", "fontColor"),
                    Str("primaryColorDark", "primaryColorDark"),
                    Str("backgroundColorDark", "backgroundColorDark"),
                    Str("warnColorDark", "warnColorDark"),
                    Str("fontColorDark", "fontColorDark"),
                    {"disableWatermark", FT::kBool, "disableMsgPopup", "disableWatermark"},
                    Asset("logoUrl"),
                    Asset("iconUrl"),
                    Asset("logoUrlDark"),
                    Asset("iconUrlDark"),
                    Asset("fontUrl"),
                    {"themeMode", FT::kEnum, "themeMode", "themeMode", "ThemeMode"},
                    Hidden("errorMsgPopup")}});
  return kinds;
}

struct EnumName {
  std::int64_t domain;
  std::string_view name;
};
// Request names -> domain integers (the first entry of a domain value is its GET name).
const std::vector<EnumName> kPasswordless = {{1, "PASSWORDLESS_TYPE_ALLOWED"},
                                             {0, "PASSWORDLESS_TYPE_NOT_ALLOWED"}};
const std::vector<EnumName> kThemeModes = {{0, "THEME_MODE_AUTO"},
                                           {1, "THEME_MODE_LIGHT"},
                                           {2, "THEME_MODE_DARK"},
                                           {0, "THEME_MODE_UNSPECIFIED"}};
const std::vector<EnumName> kSecondFactors = {{1, "SECOND_FACTOR_TYPE_OTP"},
                                              {2, "SECOND_FACTOR_TYPE_U2F"},
                                              {3, "SECOND_FACTOR_TYPE_OTP_EMAIL"},
                                              {4, "SECOND_FACTOR_TYPE_OTP_SMS"},
                                              {0, "SECOND_FACTOR_TYPE_UNSPECIFIED"}};
const std::vector<EnumName> kMultiFactors = {{1, "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"},
                                             {0, "MULTI_FACTOR_TYPE_UNSPECIFIED"}};

const std::vector<EnumName>& EnumTable(std::string_view enum_name) {
  return enum_name == "ThemeMode" ? kThemeModes : kPasswordless;
}

std::optional<std::int64_t> FromName(const std::vector<EnumName>& table, std::string_view name) {
  for (const EnumName& e : table) {
    if (e.name == name) return e.domain;
  }
  return std::nullopt;
}

std::string_view ToName(const std::vector<EnumName>& table, std::int64_t domain) {
  for (const EnumName& e : table) {
    if (e.domain == domain) return e.name;
  }
  return {};
}

Status BadField(std::string_view kind, std::string_view field, std::string_view why) {
  return Status::InvalidArgument("invalid " + std::string(kind) + " policy field " +
                                 std::string(field) + ": " + std::string(why));
}

// One request value into `out`; an error text, or "" when fine.
std::string ParseValue(const FieldSpec& f, const nlohmann::json& v, FieldValue& out) {
  switch (f.type) {
    case FT::kBool:
      if (!v.is_boolean()) return "expected a bool";
      out.number = v.get<bool>() ? 1 : 0;
      return "";
    case FT::kUint64: {
      if (v.is_number_unsigned()) {
        out.number = static_cast<std::int64_t>(v.get<std::uint64_t>());
        return out.number < 0 ? "out of range" : "";
      }
      if (!v.is_string()) return "expected an unsigned integer";
      const std::string s = v.get<std::string>();
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out.number);
      return ec == std::errc() && end == s.data() + s.size() && out.number >= 0 ? "" : "bad uint64";
    }
    case FT::kString:
      if (!v.is_string()) return "expected a string";
      out.text = v.get<std::string>();
      return "";
    case FT::kDuration: {
      if (!v.is_string()) return "expected a duration string";
      const auto nanos = ParseDuration(v.get<std::string>());
      if (!nanos) return "bad duration";
      out.number = *nanos;
      return "";
    }
    case FT::kEnum: {
      if (!v.is_string()) return "expected an enum name";
      const auto d = FromName(EnumTable(f.enum_name), v.get<std::string>());
      if (!d) return "unknown enum value";
      out.number = *d;
      return "";
    }
    default:
      return "not settable";
  }
}

Result<std::vector<std::int64_t>> ParseFactors(const nlohmann::json& v,
                                               const std::vector<EnumName>& table) {
  if (!v.is_array()) return Err(Status::InvalidArgument("factors: expected an array"));
  std::vector<std::int64_t> out;
  for (const auto& item : v) {
    const auto d = item.is_string() ? FromName(table, item.get<std::string>()) : std::nullopt;
    if (!d || *d == 0) return Err(Status::InvalidArgument("factors: unknown factor"));
    if (std::find(out.begin(), out.end(), *d) == out.end()) out.push_back(*d);
  }
  return out;
}

// AddCustomLoginPolicyRequest.idps: [{"idpId":"…","ownerType":"IDP_OWNER_TYPE_…"}].
Result<std::vector<RequestedIdpLink>> ParseIdpLinks(const nlohmann::json& v) {
  const auto bad = [](std::string_view why) {
    return Err(Status::InvalidArgument("idps: " + std::string(why)));
  };
  if (!v.is_array()) return bad("expected an array");
  std::vector<RequestedIdpLink> out;
  for (const auto& item : v) {
    if (!item.is_object()) return bad("expected objects");
    RequestedIdpLink link;
    for (const auto& [key, value] : item.items()) {
      if (!value.is_string()) return bad(key + ": expected a string");
      if (key == "idpId" || key == "idp_id") {
        link.idp_id = value.get<std::string>();
      } else if (key == "ownerType" || key == "owner_type") {
        link.owner_type = value.get<std::string>();
        if (link.owner_type != "IDP_OWNER_TYPE_SYSTEM" && link.owner_type != "IDP_OWNER_TYPE_ORG" &&
            link.owner_type != "IDP_OWNER_TYPE_UNSPECIFIED") {
          return bad("unknown ownerType");
        }
      } else {
        return bad("unknown field " + key);
      }
    }
    if (link.idp_id.empty()) return bad("idpId missing");
    out.push_back(std::move(link));
  }
  return out;
}

// A value as the event payload's JSON (Go's encoding of the event struct's field).
std::string PayloadValue(const FieldSpec& f, const FieldValue& v) {
  if (f.type == FT::kBool) return v.number != 0 ? "true" : "false";
  if (f.type == FT::kString) {
    std::string out;
    AppendQuoted(out, v.text);
    return out;
  }
  return std::to_string(v.number);
}

bool IsZero(const FieldSpec& f, const FieldValue& v) {
  return f.type == FT::kString ? v.text.empty() : v.number == 0;
}

const FieldValue& ValueOf(const std::map<std::string, FieldValue, std::less<>>& values,
                          std::string_view key) {
  static const FieldValue kZero;
  const auto it = values.find(key);
  return it == values.end() ? kZero : it->second;
}

void Key(std::string& out, std::string_view key) {
  if (out.back() != '{') out += ',';
  AppendQuoted(out, key);
  out += ':';
}

void AppendDetailsObject(std::string& out, const Details& d) {
  Key(out, "details");
  out += '{';
  if (d.sequence != 0) {
    Key(out, "sequence");
    AppendQuoted(out, std::to_string(d.sequence));
  }
  if (!d.creation_date.IsZero()) {
    Key(out, "creationDate");
    AppendQuoted(out, FormatKindTimestamp(d.creation_date));
  }
  if (!d.change_date.IsZero()) {
    Key(out, "changeDate");
    AppendQuoted(out, FormatKindTimestamp(d.change_date));
  }
  if (!d.resource_owner.empty()) {
    Key(out, "resourceOwner");
    AppendQuoted(out, d.resource_owner);
  }
  out += '}';
}

void AppendFactorList(std::string& out, std::string_view key, const std::vector<std::int64_t>& list,
                      const std::vector<EnumName>& table, std::string_view unspecified) {
  if (list.empty()) return;
  Key(out, key);
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    const std::string_view name = list[i] == 0 ? unspecified : ToName(table, list[i]);
    AppendQuoted(out, name.empty() ? unspecified : name);
  }
  out += ']';
}

// The GET name of an enum field's domain value; "" when protojson omits it (value 0).
std::string_view EnumOutName(const FieldSpec& f, std::int64_t domain) {
  if (f.enum_name == "ThemeMode") {
    const std::string_view name = ToName(kThemeModes, domain);
    return name.empty() ? "THEME_MODE_AUTO" : name;  // themeModeToPb's default branch
  }
  return domain == 1 ? "PASSWORDLESS_TYPE_ALLOWED" : "";
}

void AppendIdps(std::string& out, std::string_view key, const std::vector<IdpLinkView>& idps) {
  if (idps.empty()) return;
  Key(out, key);
  out += '[';
  for (std::size_t i = 0; i < idps.size(); ++i) {
    if (i > 0) out += ',';
    out += RenderIdpLink(idps[i]);
  }
  out += ']';
}

void AppendField(std::string& out, const FieldSpec& f, const KindRow& row,
                 std::string_view asset_prefix, const std::vector<IdpLinkView>& idps) {
  const FieldValue& v = ValueOf(row.values, f.json);
  switch (f.type) {
    case FT::kDetails:
      return AppendDetailsObject(out, row.details);
    case FT::kIsDefault:
    case FT::kBool:
      if (f.type == FT::kIsDefault ? row.is_default : v.number != 0) {
        Key(out, f.json);
        out += "true";
      }
      return;
    case FT::kUint64:
      if (v.number != 0) {
        Key(out, f.json);
        AppendQuoted(out, std::to_string(v.number));
      }
      return;
    case FT::kString:
      if (!v.text.empty()) {
        Key(out, f.json);
        AppendQuoted(out, v.text);
      }
      return;
    case FT::kDuration:
      Key(out, f.json);
      return AppendQuoted(out, FormatDuration(v.number));
    case FT::kEnum:
      if (const std::string_view name = EnumOutName(f, v.number); !name.empty()) {
        Key(out, f.json);
        AppendQuoted(out, name);
      }
      return;
    case FT::kAsset:
      if (!v.text.empty() && !asset_prefix.empty() && !row.details.resource_owner.empty()) {
        Key(out, f.json);
        AppendQuoted(out,
                     std::string(asset_prefix) + "/" + row.details.resource_owner + "/" + v.text);
      }
      return;
    case FT::kSecondFactors:
      return AppendFactorList(out, f.json, row.second_factors, kSecondFactors,
                              "SECOND_FACTOR_TYPE_UNSPECIFIED");
    case FT::kMultiFactors:
      return AppendFactorList(out, f.json, row.multi_factors, kMultiFactors,
                              "MULTI_FACTOR_TYPE_UNSPECIFIED");
    case FT::kIdps:
      return AppendIdps(out, f.json, idps);
  }
}

}  // namespace

const std::vector<KindSpec>& AllKinds() {
  static const std::vector<KindSpec> kinds = MakeKinds();
  return kinds;
}

const KindSpec* FindKind(std::string_view name) {
  for (const KindSpec& k : AllKinds()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const KindSpec* FindKindByPath(std::string_view path) {
  for (const KindSpec& k : AllKinds()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

Result<KindFields> ParseKindFields(const KindSpec& kind, std::string_view body) {
  const auto json =
      nlohmann::json::parse(body.empty() ? std::string_view("{}") : body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Err(Status::InvalidArgument("policy fields: expected a JSON object"));
  }
  KindFields fields;
  for (const auto& [key, value] : json.items()) {
    if (kind.id == KindId::kLogin && key == "idps") {
      auto links = ParseIdpLinks(value);
      if (!links) return Err(links.error());
      fields.idps = std::move(*links);
      continue;
    }
    if (kind.id == KindId::kLogin && (key == "secondFactors" || key == "multiFactors")) {
      auto list = ParseFactors(value, key == "secondFactors" ? kSecondFactors : kMultiFactors);
      if (!list) return Err(list.error());
      (key == "secondFactors" ? fields.second_factors : fields.multi_factors) = std::move(*list);
      continue;
    }
    const auto spec = std::find_if(kind.fields.begin(), kind.fields.end(),
                                   [&](const FieldSpec& f) { return f.json == key && !f.hidden; });
    if (spec == kind.fields.end()) return Err(BadField(kind.name, key, "unknown field"));
    FieldValue v;
    if (const std::string why = ParseValue(*spec, value, v); !why.empty()) {
      return Err(BadField(kind.name, key, why));
    }
    if (!IsZero(*spec, v)) fields.values[key] = std::move(v);
  }
  if (kind.id == KindId::kPasswordComplexity) {
    const std::int64_t min = ValueOf(fields.values, "minLength").number;
    if (min == 0 || min > 72) {
      return Err(Status::InvalidArgument(
          "Errors.User.PasswordComplexityPolicy.MinLengthNotAllowed (MODEL-Lsp0e)"));
    }
  }
  return fields;
}

std::string AddedKindPayload(const KindSpec& kind,
                             const std::map<std::string, FieldValue, std::less<>>& values) {
  std::map<std::string, std::string> entries;
  for (const FieldSpec& f : kind.fields) {
    const FieldValue& v = ValueOf(values, f.json);
    if (f.added_key.empty() || IsZero(f, v)) continue;
    entries[std::string(f.added_key)] = PayloadValue(f, v);
  }
  return SortedJsonObject(entries);
}

std::optional<std::string> ChangedKindPayload(
    const KindSpec& kind, const std::map<std::string, FieldValue, std::less<>>& before,
    const std::map<std::string, FieldValue, std::less<>>& after) {
  std::map<std::string, std::string> entries;
  for (const FieldSpec& f : kind.fields) {
    const FieldValue& now = ValueOf(after, f.json);
    if (f.changed_key.empty() || ValueOf(before, f.json) == now) continue;
    entries[std::string(f.changed_key)] = PayloadValue(f, now);
  }
  if (entries.empty()) return std::nullopt;
  return SortedJsonObject(entries);
}

std::optional<std::int64_t> SecondFactorFromName(std::string_view name) {
  const auto d = FromName(kSecondFactors, name);
  return d && *d != 0 ? d : std::nullopt;
}

std::optional<std::int64_t> MultiFactorFromName(std::string_view name) {
  const auto d = FromName(kMultiFactors, name);
  return d && *d != 0 ? d : std::nullopt;
}

std::string RenderIdpLink(const IdpLinkView& link) {
  std::string out = "{";
  Key(out, "idpId");
  AppendQuoted(out, link.id);
  if (!link.name.empty()) {
    Key(out, "idpName");
    AppendQuoted(out, link.name);
  }
  // IDPTypeToPb: domain OIDC (1) -> IDP_TYPE_OIDC (1), JWT (2) -> IDP_TYPE_JWT (3), else 0.
  if (link.type == 1 || link.type == 2) {
    Key(out, "idpType");
    AppendQuoted(out, link.type == 1 ? "IDP_TYPE_OIDC" : "IDP_TYPE_JWT");
  }
  return out + "}";
}

std::string RenderKindPolicy(const KindSpec& kind, const KindRow& row,
                             std::string_view asset_prefix, const std::vector<IdpLinkView>& idps) {
  std::string out = "{";
  for (const FieldSpec& f : kind.fields) {
    if (!f.hidden) AppendField(out, f, row, asset_prefix, idps);
  }
  return out + "}";
}

}  // namespace policyd::testing_support
