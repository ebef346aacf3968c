#include "bench_kinds.h"

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "bench_support.h"

namespace policyd::bench {
namespace {

// Concatenates with append only: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string at
// -O3.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

constexpr std::int64_t kHour = 3600LL * 1'000'000'000LL;  // nanoseconds

// Sets field `name` of `p` (which must be in its kind's spec).
FieldValue& Field(KindPolicy& p, std::string_view name) {
  const int index = FindKindField(SpecOf(p.kind), name);
  if (index < 0) Fail(Cat({"bench kinds: no field ", name}));
  return p.fields[static_cast<std::size_t>(index)];
}
void Number(KindPolicy& p, std::string_view name, std::uint64_t v) { Field(p, name).number = v; }
void Hours(KindPolicy& p, std::string_view name, std::int64_t h) {
  Field(p, name).number = static_cast<std::uint64_t>(h * kHour);
}
void Text(KindPolicy& p, std::string_view name, std::string v) {
  Field(p, name).text = std::move(v);
}

// The upstream's defaults (ZITADEL's defaults.yaml: the first instance's policies).
void Defaults(KindPolicy& p) {
  switch (p.kind) {
    case PolicyKind::kPasswordComplexity:
      Number(p, "minLength", 8);
      for (const char* f : {"hasUppercase", "hasLowercase", "hasNumber", "hasSymbol"})
        Number(p, f, 1);
      break;
    case PolicyKind::kLockout:
      break;  // no limits
    case PolicyKind::kLogin:
      for (const char* f :
           {"allowUsernamePassword", "allowRegister", "allowExternalIdp", "allowDomainDiscovery"})
        Number(p, f, 1);
      Number(p, "passwordlessType", 1);  // ALLOWED
      Hours(p, "passwordCheckLifetime", 240);
      Hours(p, "externalLoginCheckLifetime", 240);
      Hours(p, "mfaInitSkipLifetime", 720);
      Hours(p, "secondFactorCheckLifetime", 18);
      Hours(p, "multiFactorCheckLifetime", 12);
      Field(p, "secondFactors").list = {1, 2};  // OTP, U2F
      Field(p, "multiFactors").list = {1};      // U2F with verification
      break;
    case PolicyKind::kPrivacy:
      Text(p, "tosLink", "https://zitadel.com/docs/legal/terms-of-service");
      Text(p, "privacyLink", "https://zitadel.com/docs/legal/policies/privacy-policy");
      Text(p, "docsLink", "https://zitadel.com/docs");
      break;
    case PolicyKind::kNotification:
      Number(p, "passwordChange", 1);
      break;
    case PolicyKind::kLabel:
      Text(p, "primaryColor", "#5469d4");
      Text(p, "warnColor", "#cd3d56");
      Text(p, "backgroundColor", "#fafafa");
      Text(p, "fontColor", "#000000");
      Text(p, "primaryColorDark", "#2073c4");
      Text(p, "backgroundColorDark", "#111827");
      Text(p, "warnColorDark", "#ff3b5b");
      Text(p, "fontColorDark", "#ffffff");
      Number(p, "themeMode", 1);  // AUTO
      break;
    default:  // kPasswordAge: no expiry
      break;
  }
}

std::string Hex(std::uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int d = digits - 1; d >= 0; --d, v >>= 4) out[static_cast<std::size_t>(d)] = kDigits[v & 15];
  return out;
}

// An org's changes to the defaults.
void Customize(KindPolicy& p, int i, const std::string& org_id) {
  const auto n = static_cast<std::uint64_t>(i);
  switch (p.kind) {
    case PolicyKind::kPasswordComplexity:
      Number(p, "minLength", 10 + n % 7);
      Number(p, "hasSymbol", n % 2);
      break;
    case PolicyKind::kPasswordAge:
      Number(p, "maxAgeDays", 90 + n % 3 * 90);
      Number(p, "expireWarnDays", 7 + n % 8);
      break;
    case PolicyKind::kLockout:
      Number(p, "maxPasswordAttempts", 3 + n % 8);
      Number(p, "maxOtpAttempts", 3 + n % 3);
      break;
    case PolicyKind::kLogin:
      Number(p, "allowRegister", n % 2);
      Number(p, "forceMfa", 1);
      Hours(p, "passwordCheckLifetime", 24 + static_cast<std::int64_t>(n % 10) * 24);
      Hours(p, "secondFactorCheckLifetime", 8 + static_cast<std::int64_t>(n % 4));
      Field(p, "secondFactors").list = {1, 2, 3};  // OTP, U2F, OTP email
      Text(p, "defaultRedirectUri", Cat({"https://app.", org_id, ".example.com/callback"}));
      break;
    case PolicyKind::kPrivacy:
      Text(p, "tosLink", Cat({"https://www.", org_id, ".example.com/legal/terms"}));
      Text(p, "privacyLink", Cat({"https://www.", org_id, ".example.com/legal/privacy"}));
      Text(p, "helpLink", Cat({"https://help.", org_id, ".example.com"}));
      Text(p, "supportEmail", Cat({"support@", org_id, ".example.com"}));
      break;
    case PolicyKind::kNotification:
      Number(p, "passwordChange", 0);
      break;
    case PolicyKind::kLabel: {
      Text(p, "primaryColor", Cat({"#", Hex(n * 2654435761u, 6)}));
      Text(p, "backgroundColor", Cat({"#", Hex(n * 40503u, 6)}));
      Text(p, "primaryColorDark", Cat({"#", Hex(n * 97u + 17, 6)}));
      Number(p, "hideLoginNameSuffix", 1);
      Number(p, "disableWatermark", 1);
      // domain.AssetURL: "<origin>/assets/v1/<resource owner>/<store key>".
      const std::string prefix =
          Cat({"https://login.example.com/assets/v1/", org_id, "/policy/label/"});
      const std::string id = std::to_string(240000000000000000ULL + n);
      Text(p, "logoUrl", Cat({prefix, "logo-", id}));
      Text(p, "iconUrl", Cat({prefix, "icon-", id}));
      Text(p, "logoUrlDark", Cat({prefix, "logo-dark-", id}));
      Text(p, "iconUrlDark", Cat({prefix, "icon-dark-", id}));
      Text(p, "fontUrl", Cat({prefix, "font-", id}));
      break;
    }
    default:
      break;
  }
}

}  // namespace

bool HasOwnKind(int i, PolicyKind kind) { return i % 100 == static_cast<int>(kind); }

KindPolicy BenchKindDefault(PolicyKind kind, const std::string& instance_id) {
  KindPolicy p = EmptyKindPolicy(kind);
  Defaults(p);
  p.details = {3, Timestamp{1739260801, 500000000}, Timestamp{1739260801, 500000000}, instance_id};
  return p;
}

KindPolicy BenchKindPolicy(PolicyKind kind, int i, const std::string& org_id) {
  KindPolicy p = EmptyKindPolicy(kind);
  Defaults(p);
  Customize(p, i, org_id);
  p.details = {static_cast<std::uint64_t>(i % 50 + 2), Timestamp{1700000000 + i, 0},
               Timestamp{1700000900 + i, 250000000}, org_id};
  return p;
}

}  // namespace policyd::bench
