#include "support/kind_history.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

namespace policyd::testing_support {
namespace {

// Values the upstream accepts. Free text and links include what JSON must escape (quotes,
// backslashes, control characters) and multi-byte UTF-8; the label's colors are hex colors.
const std::vector<std::string> kLinks = {
    "", "https://example.com/tos", "https://example.com/privacy?lang=de&v=2#top",
    "https://例え.jp/プライバシー", "https://example.com/<script>&amp;"};
const std::vector<std::string> kEmails = {"", "help@example.com", "support+login@例え.jp"};
const std::vector<std::string> kTexts = {"", "Help", "Hilfe & Kontakt ✓",
                                         "say \"hi\" \\ or\ttab\nline", "\x01\x1f control"};
const std::vector<std::string> kColors = {"", "#5469d4", "#fff", "#CD3D56", "#000000", "#1a2b3c"};
const std::vector<std::string> kDurations = {"0s",       "1s",           "1.5s",         "60s",
                                             "3600s",    "43200s",       "64800s",       "864000s",
                                             "2592000s", "0.000000001s", "12.345678901s"};
const std::vector<std::uint64_t> kCounts = {0, 1, 3, 5, 10, 30, 90, 365, 100000, 4294967296};
const std::vector<std::string> kThemeModes = {"THEME_MODE_AUTO", "THEME_MODE_LIGHT",
                                              "THEME_MODE_DARK", "THEME_MODE_UNSPECIFIED"};
const std::vector<std::string> kPasswordless = {"PASSWORDLESS_TYPE_ALLOWED",
                                                "PASSWORDLESS_TYPE_NOT_ALLOWED"};
const std::vector<std::string> kSecondFactors = {"SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F",
                                                 "SECOND_FACTOR_TYPE_OTP_EMAIL",
                                                 "SECOND_FACTOR_TYPE_OTP_SMS"};
const std::vector<std::string> kMultiFactors = {"MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"};
const std::vector<LabelAsset> kAssets = {LabelAsset::kLogo, LabelAsset::kIcon,
                                         LabelAsset::kLogoDark, LabelAsset::kIconDark,
                                         LabelAsset::kFont};

const std::vector<IdpKind> kIdpKinds = {IdpKind::kOidc,
                                        IdpKind::kJwt,
                                        IdpKind::kOAuth,
                                        IdpKind::kLdap,
                                        IdpKind::kAzureAd,
                                        IdpKind::kGitHub,
                                        IdpKind::kGitHubEnterprise,
                                        IdpKind::kGitLab,
                                        IdpKind::kGitLabSelfHosted,
                                        IdpKind::kGoogle,
                                        IdpKind::kApple,
                                        IdpKind::kSaml,
                                        IdpKind::kZitadel};
const std::vector<IdpConfigKind> kIdpConfigKinds = {IdpConfigKind::kOidc, IdpConfigKind::kJwt,
                                                    IdpConfigKind::kNone};
const std::vector<std::string> kIdpNames = {"Google",          "Corp SSO",    "Entra ID",
                                            "say \"hi\" \\ ✓", "Ünïcödé IdP", "x"};
// Kinds whose name may be empty (Google, GitHub, GitLab, Apple).
bool NameOptional(IdpKind kind) {
  return kind == IdpKind::kGoogle || kind == IdpKind::kGitHub || kind == IdpKind::kGitLab ||
         kind == IdpKind::kApple;
}
constexpr std::size_t kMaxIdps = 12;

const std::vector<std::string>& StringsFor(const KindSpec& kind, std::string_view field) {
  if (kind.id == KindId::kLabel) return kColors;
  if (field == "supportEmail") return kEmails;
  if (field == "customLinkText") return kTexts;
  return kLinks;
}

std::string Short(std::string_view org) { return org.empty() ? "instance" : std::string(org); }

}  // namespace

std::string RandomKindHistory::AddOrg() {
  const std::string id = upstream_.AddOrg("k" + std::to_string(next_name_++));
  if (!id.empty()) ++applied_;
  return id;
}

std::string RandomKindHistory::AnyOrg() {
  const std::vector<std::string> orgs = upstream_.OrgIds();
  return orgs.empty() ? "" : Pick(orgs);
}

const KindSpec& RandomKindHistory::AnyKind() { return Pick(AllKinds()); }

std::string RandomKindHistory::Do(const std::string& what, const Status& status) {
  if (status.ok()) ++applied_;
  return what + ": " + status.ToString();
}

std::string RandomKindHistory::Owner(const KindSpec& kind) {
  const std::vector<std::string> owners = upstream_.OrgsWithOwnKindPolicy(kind.name);
  return owners.empty() || OneIn(5) ? AnyOrg() : Pick(owners);
}

std::string RandomKindHistory::Step(const KindSpec& kind) {
  const unsigned op = rng_() % 16;
  if (op == 14) {
    // The instance's events move to another stream (ZITADEL's rename: aggregate id "IAM", then
    // the instance id), whose sequences start again at 1; then the default of `kind` changes.
    upstream_.SetInstanceAggregateId(OneIn(2) ? "IAM" : "");
    return "new instance stream, " + KindStep(kind, 5);
  }
  if (op == 15) {
    // A burst: several changes in one poll, half the time all with one creationDate.
    const bool shared = OneIn(2);
    if (shared) upstream_.BeginSharedTimestamp();
    std::string did = shared ? "burst with one date:" : "burst:";
    for (unsigned n = 2 + rng_() % 4; n > 0; --n) did += " [" + Step(kind) + "]";
    if (shared) upstream_.EndSharedTimestamp();
    return did;
  }
  if (op == 0) {
    if (upstream_.OrgIds().size() < 12) return "AddOrg " + AddOrg();
    return Step(kind);
  }
  if (op == 1) {
    if (upstream_.OrgIds().size() < 5) return "AddOrg " + AddOrg();  // keep a few orgs
    const std::string org = AnyOrg();
    Status s = upstream_.RemoveOrg(org);
    if (s.ok()) gone_.push_back(org);
    return Do("RemoveOrg " + org, s);
  }
  if (op == 2) {
    if (OneIn(5)) return IdpStep();          // the login policies' IdPs change meanwhile
    return KindStep(AnyKind(), rng_() % 6);  // another kind changes meanwhile
  }
  if (kind.id == KindId::kLogin && op >= 5 && op <= 9) return IdpStep();
  if (kind.id == KindId::kLogin && op >= 10) return LoginFactorStep();
  if (kind.id == KindId::kLabel && op >= 10) return LabelStep();
  return KindStep(kind, op % 6);
}

std::string RandomKindHistory::KindStep(const KindSpec& kind, unsigned op) {
  const std::string name(kind.name);
  switch (op) {
    case 0:
    case 1: {
      const std::string org = AnyOrg();
      return Do("AddOrgKindPolicy " + name + " " + org,
                upstream_.AddOrgKindPolicy(name, org, Fields(kind, true, org)));
    }
    case 2:
    case 3: {
      const std::string org = Owner(kind);
      return Do("ChangeOrgKindPolicy " + name + " " + org,
                upstream_.ChangeOrgKindPolicy(name, org, Fields(kind, false)));
    }
    case 4: {
      const std::string org = Owner(kind);
      return Do("RemoveOrgKindPolicy " + name + " " + org,
                upstream_.RemoveOrgKindPolicy(name, org));
    }
    default:
      return Do("ChangeDefaultKindPolicy " + name,
                upstream_.ChangeDefaultKindPolicy(name, Fields(kind, false)));
  }
}

std::string RandomKindHistory::LoginFactorStep() {
  const std::string org = OneIn(3) ? "" : Owner(*FindKind("login"));
  const LoginFactor list = OneIn(3) ? LoginFactor::kMulti : LoginFactor::kSecond;
  const std::string factor = Pick(list == LoginFactor::kMulti ? kMultiFactors : kSecondFactors);
  const bool add = OneIn(2);
  return Do(std::string(add ? "AddLoginFactor " : "RemoveLoginFactor ") + Short(org) + " " + factor,
            add ? upstream_.AddLoginFactor(org, list, factor)
                : upstream_.RemoveLoginFactor(org, list, factor));
}

std::string RandomKindHistory::LabelStep() {
  const std::string org = OneIn(3) ? "" : Owner(*FindKind("label"));
  if (OneIn(2)) return Do("ActivateLabelPolicy " + Short(org), upstream_.ActivateLabelPolicy(org));
  const LabelAsset asset = Pick(kAssets);
  const std::string which = std::to_string(static_cast<int>(asset));
  if (OneIn(2)) {
    Result<std::string> key = upstream_.AddLabelAsset(org, asset);
    return Do("AddLabelAsset " + Short(org) + " " + which, key ? Status::Ok() : key.error());
  }
  return Do("RemoveLabelAsset " + Short(org) + " " + which, upstream_.RemoveLabelAsset(org, asset));
}

std::vector<IdpInfo> RandomKindHistory::LinkableIdps(std::string_view org_id) {
  std::vector<IdpInfo> out;
  for (IdpInfo& idp : upstream_.Idps()) {
    if (idp.org_id.empty() || idp.org_id == org_id) out.push_back(std::move(idp));
  }
  return out;
}

std::string RandomKindHistory::IdpStep() {
  const std::vector<IdpInfo> idps = upstream_.Idps();
  const unsigned op = rng_() % 12;
  if (op <= 2 || idps.empty()) return AddIdpStep();
  const IdpInfo& idp = Pick(idps);
  switch (op) {
    case 3: {
      if (idp.config && OneIn(3)) {
        // Deactivation leaves the links as they are.
        return Do(std::string(idp.active ? "Deactivate" : "Reactivate") + "IdpConfig " + idp.id,
                  upstream_.SetIdpConfigActive(idp.id, !idp.active));
      }
      // A rename (to "" now and then, which only some kinds take), or a change of another key.
      std::optional<std::string> name;
      if (!OneIn(3)) name = OneIn(4) ? "" : Pick(kIdpNames);
      return Do("ChangeIdp " + idp.id + (name ? " to \"" + *name + "\"" : " (no name)"),
                upstream_.ChangeIdp(idp.id, name));
    }
    case 4: {
      // Mostly an OIDC IdP (the only kind that migrates); others are refused.
      const IdpInfo* from = &idp;
      for (const IdpInfo& i : idps) {
        if (i.type == 1 && !i.config && !OneIn(3)) from = &i;
      }
      const IdpKind to = OneIn(2) ? IdpKind::kAzureAd : IdpKind::kGoogle;
      const std::string name = to == IdpKind::kGoogle && OneIn(3) ? "" : Pick(kIdpNames);
      return Do("MigrateIdp " + from->id + (to == IdpKind::kGoogle ? " to Google" : " to Azure"),
                upstream_.MigrateIdp(from->id, to, name));
    }
    case 5:
      return Do("RemoveIdp " + idp.id, upstream_.RemoveIdp(idp.id));
    case 6:
    case 7:
    case 8:
      return LinkStep(true);
    case 9:
      return LinkStep(false);
    default:
      return LoginPolicyWithLinksStep(op == 10);
  }
}

std::string RandomKindHistory::AddIdpStep() {
  if (upstream_.Idps().size() >= kMaxIdps) {
    const IdpInfo idp = Pick(upstream_.Idps());
    return Do("RemoveIdp " + idp.id + " (enough)", upstream_.RemoveIdp(idp.id));
  }
  const std::string org = OneIn(2) ? "" : AnyOrg();
  std::string name = Pick(kIdpNames);
  if (OneIn(4)) {
    const IdpConfigKind kind = Pick(kIdpConfigKinds);
    Result<std::string> id = upstream_.AddIdpConfig(org, kind, name);
    return Do("AddIdpConfig " + Short(org) + " " + std::to_string(static_cast<int>(kind)) + " " +
                  (id ? *id : ""),
              id ? Status::Ok() : id.error());
  }
  const IdpKind kind = Pick(kIdpKinds);
  if (NameOptional(kind) && OneIn(2)) name.clear();
  Result<std::string> id = upstream_.AddIdp(org, kind, name);
  return Do(
      "AddIdp " + Short(org) + " " + std::to_string(static_cast<int>(kind)) + " " + (id ? *id : ""),
      id ? Status::Ok() : id.error());
}

std::string RandomKindHistory::LinkStep(bool add) {
  // Mostly a login policy that exists: the instance's or an org's own (now and then any org's).
  const std::vector<std::string> owners = upstream_.OrgsWithOwnKindPolicy("login");
  const std::string org = OneIn(8) ? AnyOrg() : OneIn(3) || owners.empty() ? "" : Pick(owners);
  const std::vector<std::string> links = upstream_.LoginPolicyIdpLinks(org);
  if (!add && !links.empty()) {
    const std::string id = Pick(links);
    return Do("RemoveIdpFromLoginPolicy " + Short(org) + " " + id,
              upstream_.RemoveIdpFromLoginPolicy(org, id));
  }
  // Now and then an IdP the owner may not link (another org's): refused.
  const std::vector<IdpInfo> linkable = OneIn(6) ? upstream_.Idps() : LinkableIdps(org);
  if (linkable.empty()) return AddIdpStep();
  const std::string id = Pick(linkable).id;
  return Do("AddIdpToLoginPolicy " + Short(org) + " " + id, upstream_.AddIdpToLoginPolicy(org, id));
}

std::string RandomKindHistory::LoginPolicyWithLinksStep(bool add) {
  const KindSpec& login = *FindKind("login");
  const std::vector<std::string> owners = upstream_.OrgsWithOwnKindPolicy("login");
  if (add) {
    std::vector<std::string> without;
    for (const std::string& org : upstream_.OrgIds()) {
      if (std::find(owners.begin(), owners.end(), org) == owners.end()) without.push_back(org);
    }
    const std::string org = without.empty() ? AnyOrg() : Pick(without);
    return Do("AddOrgKindPolicy login with idps " + org,
              upstream_.AddOrgKindPolicy("login", org, Fields(login, true, org, true)));
  }
  std::vector<std::string> linked;
  for (const std::string& org : owners) {
    if (!upstream_.LoginPolicyIdpLinks(org).empty()) linked.push_back(org);
  }
  const std::string org = !linked.empty() ? Pick(linked) : Owner(login);
  return Do("RemoveOrgKindPolicy login (links: " +
                std::to_string(upstream_.LoginPolicyIdpLinks(org).size()) + ") " + org,
            upstream_.RemoveOrgKindPolicy("login", org));
}

std::string RandomKindHistory::Fields(const KindSpec& kind, bool add, std::string_view org_id,
                                      bool with_idps) {
  nlohmann::json body = nlohmann::json::object();
  for (const FieldSpec& f : kind.fields) {
    const std::string key(f.json);
    // minLength 0 is refused by the upstream, idps are there when asked for; every other field
    // may be absent (zero).
    const bool forced = key == "minLength" || (with_idps && f.type == FieldType::kIdps);
    if (f.hidden || (!forced && OneIn(4))) continue;
    switch (f.type) {
      case FieldType::kBool:
        body[key] = OneIn(2);
        break;
      case FieldType::kUint64:
        body[key] = key == "minLength" ? 1 + rng_() % 72 : Pick(kCounts);
        break;
      case FieldType::kString:
        body[key] = Pick(StringsFor(kind, key));
        break;
      case FieldType::kDuration:
        body[key] = Pick(kDurations);
        break;
      case FieldType::kEnum:
        body[key] = Pick(f.enum_name == "ThemeMode" ? kThemeModes : kPasswordless);
        break;
      case FieldType::kSecondFactors:
      case FieldType::kMultiFactors: {
        if (!add || OneIn(2)) break;
        const auto& names = f.type == FieldType::kMultiFactors ? kMultiFactors : kSecondFactors;
        nlohmann::json list = nlohmann::json::array();
        for (const std::string& n : names) {
          if (OneIn(2)) list.push_back(n);
        }
        body[key] = list;
        break;
      }
      case FieldType::kIdps: {
        if (!add || org_id.empty() || !(with_idps || OneIn(3))) break;
        nlohmann::json list = nlohmann::json::array();
        for (const IdpInfo& idp : LinkableIdps(org_id)) {
          if (!OneIn(2)) continue;
          nlohmann::json link = {{"idpId", idp.id}};
          if (OneIn(2))
            link["ownerType"] = idp.org_id.empty() ? "IDP_OWNER_TYPE_SYSTEM" : "IDP_OWNER_TYPE_ORG";
          list.push_back(std::move(link));
        }
        body[key] = std::move(list);
        break;
      }
      default:
        break;
    }
  }
  return body.dump();
}

}  // namespace policyd::testing_support
