#include "support/kind_history.h"

#include <nlohmann/json.hpp>

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
  if (op == 2) return KindStep(AnyKind(), rng_() % 6);  // another kind changes meanwhile
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
                upstream_.AddOrgKindPolicy(name, org, Fields(kind, true)));
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

std::string RandomKindHistory::Fields(const KindSpec& kind, bool add) {
  nlohmann::json body = nlohmann::json::object();
  for (const FieldSpec& f : kind.fields) {
    const std::string key(f.json);
    // minLength 0 is refused by the upstream; every other field may be absent (zero).
    if (f.hidden || (key != "minLength" && OneIn(4))) continue;
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
      default:
        break;
    }
  }
  return body.dump();
}

}  // namespace policyd::testing_support
