// The fake upstream's other policy kinds (issue #14): setup defaults, GET shapes (golden strings
// written from ZITADEL's sources, /work/draft/kinds-facts.md), event payloads, fallback, org
// removal, label preview/activation and assets, login factors, and the ListEvents filter by
// aggregate type alone.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/policy_kinds.h"
#include "fake_upstream/protojson_text.h"
#include "fake_upstream/test_client.h"

namespace policyd::testing_support {
namespace {

using nlohmann::json;

constexpr std::string_view kInstance = "300000000000000001";
constexpr std::string_view kKinds[] = {
    "passwordComplexity", "passwordAge", "lockout", "login", "privacy", "notification", "label"};

FakeUpstreamOptions Frozen() {
  FakeUpstreamOptions options;
  options.base_time = {1'740'820'364, 0};  // 2025-03-01T09:12:44Z
  options.freeze_clock = true;
  return options;
}

// "2025-03-01T09:12:44Z" moved by `micros` (each push takes one microsecond more).
std::string At(int micros) {
  if (micros == 0) return "2025-03-01T09:12:44Z";
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06d", micros);
  return std::string("2025-03-01T09:12:44.") + buf + "Z";
}

std::string Details(int sequence, int created, int changed, std::string_view owner) {
  return R"("details":{"sequence":")" + std::to_string(sequence) + R"(","creationDate":")" +
         At(created) + R"(","changeDate":")" + At(changed) + R"(","resourceOwner":")" +
         std::string(owner) + "\"}";
}

std::string Path(std::string_view kind) { return std::string(FindKind(kind)->path); }

HttpResult Management(FakeUpstream& fake, std::string_view kind, const std::string& org) {
  return TestClient(fake).Get("/management/v1/policies/" + Path(kind), {{"x-zitadel-orgid", org}});
}

// The events of one aggregate, oldest first.
json EventsOf(FakeUpstream& fake, const std::string& aggregate_id) {
  return TestClient(fake).Events({{"asc", true}, {"aggregateId", aggregate_id}})["events"];
}

const std::vector<std::string> kDefaultBodies = {
    "{\"policy\":{" + Details(4, 0, 0, kInstance) +
        R"(,"minLength":"8","hasUppercase":true,"hasLowercase":true,"hasNumber":true,)"
        R"("hasSymbol":true,"isDefault":true}})",
    "{\"policy\":{" + Details(5, 0, 0, kInstance) + R"(,"isDefault":true}})",
    "{\"policy\":{" + Details(12, 0, 0, kInstance) + R"(,"isDefault":true}})",
    "{\"policy\":{" + Details(9, 0, 0, kInstance) +
        R"(,"allowUsernamePassword":true,"allowRegister":true,"allowExternalIdp":true,)"
        R"("passwordlessType":"PASSWORDLESS_TYPE_ALLOWED","isDefault":true,)"
        R"("passwordCheckLifetime":"864000s","externalLoginCheckLifetime":"864000s",)"
        R"("mfaInitSkipLifetime":"2592000s","secondFactorCheckLifetime":"64800s",)"
        R"("multiFactorCheckLifetime":"43200s",)"
        R"("secondFactors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"],)"
        R"("multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"allowDomainDiscovery":true}})",
    "{\"policy\":{" + Details(10, 0, 0, kInstance) +
        R"(,"isDefault":true,"docsLink":"https://zitadel.com/docs"}})",
    "{\"policy\":{" + Details(11, 0, 0, kInstance) + R"(,"isDefault":true,"passwordChange":true}})",
    "{\"policy\":{" + Details(14, 0, 0, kInstance) +
        R"(,"primaryColor":"#5469d4","isDefault":true,"warnColor":"#cd3d56",)"
        R"("backgroundColor":"#fafafa","fontColor":"#000000","primaryColorDark":"#2073c4",)"
        R"("backgroundColorDark":"#111827","warnColorDark":"#ff3b5b","fontColorDark":"#ffffff",)"
        R"("themeMode":"THEME_MODE_AUTO"}})",
};

TEST(FakeUpstreamKindsTest, SetupPushesZitadelV4DefaultsAfterTheDomainSetup) {
  FakeUpstream fake(Frozen());
  json events = EventsOf(fake, std::string(kInstance));
  ASSERT_EQ(events.size(), 14u);
  const std::vector<std::pair<std::string, json>> want = {
      {"instance.policy.password.complexity.added",
       {{"minLength", 8},
        {"hasLowercase", true},
        {"hasUppercase", true},
        {"hasNumber", true},
        {"hasSymbol", true}}},
      {"instance.policy.password.age.added", json::object()},
      {"instance.policy.login.added",
       {{"allowUsernamePassword", true},
        {"allowRegister", true},
        {"allowExternalIdp", true},
        {"allowDomainDiscovery", true},
        {"passwordlessType", 1},
        {"passwordCheckLifetime", 864000000000000},
        {"externalLoginCheckLifetime", 864000000000000},
        {"mfaInitSkipLifetime", 2592000000000000},
        {"secondFactorCheckLifetime", 64800000000000},
        {"multiFactorCheckLifetime", 43200000000000}}},
      {"instance.policy.login.secondfactor.added", {{"mfaType", 1}}},
      {"instance.policy.login.secondfactor.added", {{"mfaType", 2}}},
      {"instance.policy.login.multifactor.added", {{"mfaType", 1}}},
      {"instance.policy.privacy.added", {{"docsLink", "https://zitadel.com/docs"}}},
      {"instance.policy.notification.added", {{"passwordChange", true}}},
      {"instance.policy.lockout.added", {{"showLockOutFailures", true}}},
      {"instance.policy.label.added",
       {{"primaryColor", "#5469d4"},
        {"backgroundColor", "#fafafa"},
        {"warnColor", "#cd3d56"},
        {"fontColor", "#000000"},
        {"primaryColorDark", "#2073c4"},
        {"backgroundColorDark", "#111827"},
        {"warnColorDark", "#ff3b5b"},
        {"fontColorDark", "#ffffff"}}},
      {"instance.policy.label.activated", json::object()},
  };
  for (std::size_t i = 0; i < want.size(); ++i) {
    const json& e = events[3 + i];
    EXPECT_EQ(e["type"]["type"], want[i].first) << i;
    EXPECT_EQ(e["payload"], want[i].second) << i;
    EXPECT_EQ(e["sequence"], std::to_string(4 + i));
    EXPECT_EQ(e["creationDate"], At(0));  // one push with the domain setup
  }
  // Payload keys come sorted, numbers as integers (a Struct in protojson).
  const std::string raw = TestClient(fake)
                              .Post("/admin/v1/events/_search", R"({"limit":1,
      "eventTypes":["instance.policy.password.complexity.added"]})")
                              .body;
  EXPECT_NE(raw.find(R"("payload":{"hasLowercase":true,"hasNumber":true,"hasSymbol":true,)"
                     R"("hasUppercase":true,"minLength":8})"),
            std::string::npos)
      << raw;
}

TEST(FakeUpstreamKindsTest, AdminAndManagementGetsAreExactProtojson) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  TestClient client(fake);
  for (std::size_t i = 0; i < std::size(kKinds); ++i) {
    const std::string_view kind = kKinds[i];
    HttpResult admin = client.Get("/admin/v1/policies/" + Path(kind));
    ASSERT_EQ(admin.status, 200) << kind;
    EXPECT_EQ(admin.body, kDefaultBodies[i]);
    EXPECT_EQ(fake.DefaultKindPolicyBody(kind), admin.body);
    EXPECT_EQ(client.Get("/management/v1/policies/default/" + Path(kind)).body, admin.body);
    // An org without its own row gets the default; five responses repeat isDefault on top.
    const bool top = kind != "privacy" && kind != "notification";
    const std::string want =
        admin.body.substr(0, admin.body.size() - 1) + (top ? ",\"isDefault\":true}" : "}");
    HttpResult mgmt = Management(fake, kind, org);
    ASSERT_EQ(mgmt.status, 200) << kind;
    EXPECT_EQ(mgmt.body, want);
    EXPECT_EQ(fake.KindPolicyBody(kind, org), want);
  }
  EXPECT_EQ(fake.KindPolicyBody("domain", org), fake.EffectivePolicyBody(org));
  EXPECT_EQ(fake.DefaultKindPolicyBody("domain"), fake.DefaultPolicyBody());
}

TEST(FakeUpstreamKindsTest, UnknownOrgIs403AndOnlyGetIsServed) {
  FakeUpstream fake;
  HttpResult r = Management(fake, "login", "404404");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Json()["code"], 7);
  EXPECT_EQ(fake.KindPolicyBody("login", "404404"), "");
  // The management default reads check a named org too.
  EXPECT_EQ(TestClient(fake)
                .Get("/management/v1/policies/default/login", {{"x-zitadel-orgid", "404404"}})
                .status,
            403);
  EXPECT_EQ(
      TestClient(fake)
          .Get("/management/v1/policies/default/login", {{"x-zitadel-orgid", fake.AddOrg("known")}})
          .body,
      fake.DefaultKindPolicyBody("login"));
  EXPECT_EQ(TestClient(fake).Send("PUT", "/admin/v1/policies/login", "{}").status, 405);
  EXPECT_EQ(TestClient(fake).Get("/admin/v1/policies/password").status, 404);
  EXPECT_EQ(TestClient(fake, "").Get("/admin/v1/policies/login").status, 401);
  EXPECT_EQ(fake.AddOrgKindPolicy("bogus", fake.AddOrg("a"), "{}").code(), Code::kInvalidArgument);
  EXPECT_EQ(fake.DefaultKindPolicyBody("bogus"), "");
}

TEST(FakeUpstreamKindsTest, WithoutTheOptionTheKindsAreMissing) {
  FakeUpstreamOptions options;
  options.all_policy_kinds = false;
  FakeUpstream fake(options);
  EXPECT_EQ(fake.EventCount(), 3u);
  EXPECT_EQ(TestClient(fake).Get("/admin/v1/policies/lockout").status, 404);
  EXPECT_EQ(fake.DefaultKindPolicyBody("lockout"), "");
}

TEST(FakeUpstreamKindsTest, OrgPolicyAddChangeRemoveAndFallback) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");  // push 1, org sequences 1..4
  ASSERT_TRUE(fake.AddOrgKindPolicy("passwordComplexity", org,
                                    R"({"minLength":"12","hasUppercase":true,"hasSymbol":false})")
                  .ok());
  EXPECT_EQ(Management(fake, "passwordComplexity", org).body,
            "{\"policy\":{" + Details(5, 2, 2, org) + R"(,"minLength":"12","hasUppercase":true}})");
  EXPECT_EQ(fake.AddOrgKindPolicy("passwordComplexity", org, R"({"minLength":8})").code(),
            Code::kAlreadyExists);
  // A change replaces every field; the event carries only what changed (false included).
  ASSERT_TRUE(
      fake.ChangeOrgKindPolicy("passwordComplexity", org, R"({"minLength":12,"hasNumber":true})")
          .ok());
  EXPECT_EQ(
      fake.ChangeOrgKindPolicy("passwordComplexity", org, R"({"minLength":12,"hasNumber":true})")
          .code(),
      Code::kFailedPrecondition);
  EXPECT_EQ(fake.KindPolicyBody("passwordComplexity", org),
            "{\"policy\":{" + Details(6, 2, 3, org) + R"(,"minLength":"12","hasNumber":true}})");
  EXPECT_EQ(fake.OrgsWithOwnKindPolicy("passwordComplexity"), std::vector<std::string>{org});
  ASSERT_TRUE(fake.RemoveOrgKindPolicy("passwordComplexity", org).ok());
  EXPECT_EQ(fake.RemoveOrgKindPolicy("passwordComplexity", org).code(), Code::kNotFound);
  EXPECT_EQ(fake.KindPolicyBody("passwordComplexity", org),
            kDefaultBodies[0].substr(0, kDefaultBodies[0].size() - 1) + ",\"isDefault\":true}");
  json events = EventsOf(fake, org);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[4]["type"]["type"], "org.policy.password.complexity.added");
  EXPECT_EQ(events[4]["payload"], json({{"minLength", 12}, {"hasUppercase", true}}));
  EXPECT_EQ(events[5]["type"]["type"], "org.policy.password.complexity.changed");
  EXPECT_EQ(events[5]["payload"], json({{"hasUppercase", false}, {"hasNumber", true}}));
  EXPECT_EQ(events[6]["type"]["type"], "org.policy.password.complexity.removed");
  EXPECT_FALSE(events[6].contains("payload"));
  EXPECT_EQ(events[6]["aggregate"]["resourceOwner"], org);
  // Request checks of the upstream.
  EXPECT_EQ(fake.AddOrgKindPolicy("passwordComplexity", org, R"({"minLength":0})").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(fake.AddOrgKindPolicy("passwordComplexity", org, R"({"minLength":73})").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(fake.AddOrgKindPolicy("lockout", org, R"({"maxAttempts":1})").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(fake.AddOrgKindPolicy("lockout", org, R"({"maxOtpAttempts":true})").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(fake.AddOrgKindPolicy("lockout", "404", "{}").code(), Code::kNotFound);
}

TEST(FakeUpstreamKindsTest, DefaultChangesReachOrgsWithoutTheirOwn) {
  FakeUpstream fake(Frozen());
  const std::string a = fake.AddOrg("a");
  const std::string b = fake.AddOrg("b");
  ASSERT_TRUE(fake.AddOrgKindPolicy("lockout", b, R"({"maxPasswordAttempts":"3"})").ok());
  ASSERT_TRUE(fake.ChangeDefaultKindPolicy("lockout", R"({"maxOtpAttempts":"5"})").ok());
  EXPECT_EQ(fake.ChangeDefaultKindPolicy("lockout", R"({"maxOtpAttempts":"5"})").code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(Management(fake, "lockout", a).body,
            "{\"policy\":{" + Details(15, 0, 4, kInstance) +
                R"(,"maxOtpAttempts":"5","isDefault":true},"isDefault":true})");
  EXPECT_EQ(Management(fake, "lockout", b).body,
            "{\"policy\":{" + Details(5, 3, 3, b) + R"(,"maxPasswordAttempts":"3"}})");
  json e = TestClient(fake).Events({{"limit", 1}})["events"][0];
  EXPECT_EQ(e["type"]["type"], "instance.policy.lockout.changed");
  // showLockOutFailures is not in the request, so it is not in the change either.
  EXPECT_EQ(e["payload"], json({{"maxOTPAttempts", 5}}));
  ASSERT_TRUE(fake.ChangeDefaultKindPolicy("notification", "{}").ok());
  e = TestClient(fake).Events({{"limit", 1}})["events"][0];
  EXPECT_EQ(e["payload"], json({{"passwordChange", false}}));
  EXPECT_EQ(fake.KindPolicyBody("notification", a),
            "{\"policy\":{" + Details(16, 0, 5, kInstance) + R"(,"isDefault":true}})");
}

TEST(FakeUpstreamKindsTest, LoginPolicyDurationsEnumsAndFactors) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string body =
      R"({"allowUsernamePassword":true,"forceMfa":true,"passwordlessType":"PASSWORDLESS_TYPE_NOT_ALLOWED",)"
      R"("defaultRedirectUri":"https://acme.example/home","passwordCheckLifetime":"3600s",)"
      R"("externalLoginCheckLifetime":"1.5s","forceMfaLocalOnly":true,)"
      R"("secondFactors":["SECOND_FACTOR_TYPE_U2F"],"multiFactors":[]})";
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", org, body).ok());
  json events = EventsOf(fake, org);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[4]["type"]["type"], "org.policy.login.added");
  EXPECT_EQ(events[4]["payload"], json({{"allowUsernamePassword", true},
                                        {"forceMFA", true},
                                        {"forceMFALocalOnly", true},
                                        {"defaultRedirectURI", "https://acme.example/home"},
                                        {"passwordCheckLifetime", 3600000000000},
                                        {"externalLoginCheckLifetime", 1500000000}}));
  EXPECT_EQ(events[5]["type"]["type"], "org.policy.login.secondfactor.added");
  EXPECT_EQ(events[5]["payload"], json({{"mfaType", 2}}));
  EXPECT_EQ(events[5]["creationDate"], events[4]["creationDate"]);  // one push
  const std::string head =
      "{\"policy\":{" + Details(6, 2, 2, org) +
      R"(,"allowUsernamePassword":true,"forceMfa":true,)"
      R"("defaultRedirectUri":"https://acme.example/home",)"
      R"("passwordCheckLifetime":"3600s","externalLoginCheckLifetime":"1.500s",)"
      R"("mfaInitSkipLifetime":"0s","secondFactorCheckLifetime":"0s",)"
      R"("multiFactorCheckLifetime":"0s",)";
  EXPECT_EQ(Management(fake, "login", org).body,
            head + R"("secondFactors":["SECOND_FACTOR_TYPE_U2F"],"forceMfaLocalOnly":true}})");

  // Factors: appended in order, no duplicates, removed by value; the row's details follow.
  ASSERT_TRUE(fake.AddLoginFactor(org, LoginFactor::kSecond, "SECOND_FACTOR_TYPE_OTP_EMAIL").ok());
  EXPECT_EQ(fake.AddLoginFactor(org, LoginFactor::kSecond, "SECOND_FACTOR_TYPE_U2F").code(),
            Code::kAlreadyExists);
  ASSERT_TRUE(
      fake.AddLoginFactor(org, LoginFactor::kMulti, "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION")
          .ok());
  ASSERT_TRUE(fake.RemoveLoginFactor(org, LoginFactor::kSecond, "SECOND_FACTOR_TYPE_U2F").ok());
  EXPECT_EQ(fake.RemoveLoginFactor(org, LoginFactor::kSecond, "SECOND_FACTOR_TYPE_U2F").code(),
            Code::kNotFound);
  EXPECT_EQ(fake.AddLoginFactor(org, LoginFactor::kSecond, "SECOND_FACTOR_TYPE_X").code(),
            Code::kInvalidArgument);
  events = EventsOf(fake, org);
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events[6]["type"]["type"], "org.policy.login.secondfactor.added");
  EXPECT_EQ(events[6]["payload"], json({{"mfaType", 3}}));
  EXPECT_EQ(events[7]["type"]["type"], "org.policy.login.multifactor.added");
  EXPECT_EQ(events[8]["type"]["type"], "org.policy.login.secondfactor.removed");
  EXPECT_EQ(events[8]["payload"], json({{"mfaType", 2}}));
  std::string mid = head;
  mid.replace(mid.find(Details(6, 2, 2, org)), Details(6, 2, 2, org).size(), Details(9, 2, 5, org));
  EXPECT_EQ(
      fake.KindPolicyBody("login", org),
      mid +
          R"("secondFactors":["SECOND_FACTOR_TYPE_OTP_EMAIL"],)"
          R"("multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"forceMfaLocalOnly":true}})");

  // A change: only the changed keys, durations in nanoseconds; factors stay.
  std::string changed = body;
  changed.replace(changed.find("\"3600s\""), 7, "\"7200s\"");
  changed.replace(changed.find(",\"secondFactors\""), std::string::npos, "}");
  ASSERT_TRUE(fake.ChangeOrgKindPolicy("login", org, changed).ok());
  EXPECT_EQ(TestClient(fake).Events({{"limit", 1}})["events"][0]["payload"],
            json({{"passwordCheckLifetime", 7200000000000}}));
  EXPECT_EQ(fake.ChangeOrgKindPolicy("login", org, body).code(), Code::kInvalidArgument);

  // The default's factors and a fresh org without its own login policy.
  ASSERT_TRUE(fake.AddLoginFactor("", LoginFactor::kSecond, "SECOND_FACTOR_TYPE_OTP_SMS").ok());
  EXPECT_NE(fake.DefaultKindPolicyBody("login").find(
                R"("secondFactors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F",)"
                R"("SECOND_FACTOR_TYPE_OTP_SMS"])"),
            std::string::npos);
  EXPECT_EQ(TestClient(fake).Events({{"limit", 1}})["events"][0]["type"]["type"],
            "instance.policy.login.secondfactor.added");
  const std::string other = fake.AddOrg("other");
  EXPECT_EQ(
      fake.AddLoginFactor(other, LoginFactor::kMulti, "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION")
          .code(),
      Code::kNotFound);
}

TEST(FakeUpstreamKindsTest, LabelPreviewActivationAndAssets) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");  // push 1
  const std::string default_label = fake.KindPolicyBody("label", org);
  ASSERT_TRUE(fake.AddOrgKindPolicy("label", org,
                                    R"({"primaryColor":"#111111","themeMode":"THEME_MODE_DARK",)"
                                    R"("disableWatermark":true})")
                  .ok());  // push 2, sequence 5
  // Only a preview: the management GET still answers the active default.
  EXPECT_EQ(fake.KindPolicyBody("label", org), default_label);
  EXPECT_EQ(fake.OrgsWithOwnKindPolicy("label"), std::vector<std::string>{org});
  ASSERT_TRUE(fake.ActivateLabelPolicy(org).ok());  // push 3, sequence 6
  const std::string active = "{\"policy\":{" + Details(6, 2, 3, org) +
                             R"(,"primaryColor":"#111111","disableWatermark":true,)"
                             R"("themeMode":"THEME_MODE_DARK"}})";
  EXPECT_EQ(Management(fake, "label", org).body, active);
  // Changes and assets edit the preview only.
  ASSERT_TRUE(
      fake.ChangeOrgKindPolicy("label", org,
                               R"({"primaryColor":"#111111","themeMode":"THEME_MODE_DARK"})")
          .ok());                                          // push 4
  auto logo = fake.AddLabelAsset(org, LabelAsset::kLogo);  // push 5
  ASSERT_TRUE(logo.has_value());
  EXPECT_TRUE(logo->starts_with("policy/label/logo-")) << *logo;
  auto dark = fake.AddLabelAsset(org, LabelAsset::kIconDark);  // push 6
  ASSERT_TRUE(dark.has_value());
  EXPECT_TRUE(dark->starts_with("policy/label/icon-dark-")) << *dark;
  EXPECT_EQ(fake.KindPolicyBody("label", org), active);
  ASSERT_TRUE(fake.ActivateLabelPolicy(org).ok());  // push 7, sequence 10
  const std::string prefix = fake.AssetPrefix() + "/" + org + "/";
  EXPECT_EQ(fake.AssetPrefix(), fake.base_url() + "/assets/v1");
  EXPECT_EQ(Management(fake, "label", org).body,
            "{\"policy\":{" + Details(10, 2, 7, org) + R"(,"primaryColor":"#111111","logoUrl":")" +
                prefix + *logo + R"(","iconUrlDark":")" + prefix + *dark +
                R"(","themeMode":"THEME_MODE_DARK"}})");
  ASSERT_TRUE(fake.RemoveLabelAsset(org, LabelAsset::kLogo).ok());
  EXPECT_EQ(fake.RemoveLabelAsset(org, LabelAsset::kLogo).code(), Code::kNotFound);
  EXPECT_EQ(fake.RemoveLabelAsset(org, LabelAsset::kFont).code(), Code::kNotFound);

  json events = EventsOf(fake, org);
  ASSERT_EQ(events.size(), 11u);
  const std::vector<std::pair<std::string, json>> want = {
      {"org.policy.label.added",
       {{"primaryColor", "#111111"}, {"themeMode", 2}, {"disableMsgPopup", true}}},
      {"org.policy.label.activated", json::object()},
      {"org.policy.label.changed", {{"disableWatermark", false}}},
      {"org.policy.label.logo.added", {{"storeKey", *logo}}},
      {"org.policy.label.icon.dark.added", {{"storeKey", *dark}}},
      {"org.policy.label.activated", json::object()},
      {"org.policy.label.logo.removed", {{"storeKey", *logo}}},
  };
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(events[4 + i]["type"]["type"], want[i].first);
    EXPECT_EQ(events[4 + i]["payload"], want[i].second) << want[i].first;
  }
  ASSERT_TRUE(fake.RemoveOrgKindPolicy("label", org).ok());
  EXPECT_EQ(TestClient(fake).Events({{"limit", 1}})["events"][0]["payload"], json::object());
  EXPECT_EQ(fake.KindPolicyBody("label", org), default_label);
  EXPECT_EQ(fake.ActivateLabelPolicy(org).code(), Code::kNotFound);

  // The instance's label: a font, visible on the admin GET after activation.
  auto font = fake.AddLabelAsset("", LabelAsset::kFont);
  ASSERT_TRUE(font.has_value());
  EXPECT_EQ(fake.DefaultKindPolicyBody("label"), kDefaultBodies[6]);
  ASSERT_TRUE(fake.ActivateLabelPolicy("").ok());
  const std::string admin = TestClient(fake).Get("/admin/v1/policies/label").body;
  EXPECT_NE(admin.find(R"("fontUrl":")" + fake.AssetPrefix() + "/" + std::string(kInstance) + "/" +
                       *font + R"(","themeMode")"),
            std::string::npos)
      << admin;
}

TEST(FakeUpstreamKindsTest, DefaultLabelChangesWaitForTheirActivation) {
  FakeUpstream fake(Frozen());
  // A change replaces every field: the colors it leaves out become "".
  ASSERT_TRUE(fake.ChangeDefaultKindPolicy(
                      "label", R"({"primaryColor":"#222222","themeMode":"THEME_MODE_LIGHT"})")
                  .ok());
  json e = TestClient(fake).Events({{"limit", 1}})["events"][0];
  EXPECT_EQ(e["type"]["type"], "instance.policy.label.changed");
  EXPECT_EQ(e["payload"], json({{"primaryColor", "#222222"},
                                {"backgroundColor", ""},
                                {"warnColor", ""},
                                {"fontColor", ""},
                                {"primaryColorDark", ""},
                                {"backgroundColorDark", ""},
                                {"warnColorDark", ""},
                                {"fontColorDark", ""},
                                {"themeMode", 1}}));
  EXPECT_EQ(fake.DefaultKindPolicyBody("label"), kDefaultBodies[6]);
  // The preview GETs show the change already (PreviewLabelPolicyByOrg): the admin's, and an
  // org's without a preview of its own.
  const std::string preview =
      "{\"policy\":{" + Details(15, 0, 1, kInstance) +
      R"(,"primaryColor":"#222222","isDefault":true,"themeMode":"THEME_MODE_LIGHT"}})";
  EXPECT_EQ(TestClient(fake).Get("/admin/v1/policies/label/_preview").body, preview);
  const std::string org = fake.AddOrg("preview-org");
  EXPECT_EQ(TestClient(fake)
                .Get("/management/v1/policies/label/_preview", {{"x-zitadel-orgid", org}})
                .body,
            preview.substr(0, preview.size() - 1) + ",\"isDefault\":true}");
  ASSERT_TRUE(fake.AddOrgKindPolicy("label", org, R"({"primaryColor":"#333333"})").ok());
  const std::string own =
      TestClient(fake)
          .Get("/management/v1/policies/label/_preview", {{"x-zitadel-orgid", org}})
          .body;
  EXPECT_NE(own.find(R"("primaryColor":"#333333")"), std::string::npos) << own;
  EXPECT_EQ(own.find("isDefault"), std::string::npos) << own;
  // The active GET still falls back: the org's label is not activated.
  EXPECT_NE(Management(fake, "label", org).body.find("\"isDefault\":true"), std::string::npos);
  ASSERT_TRUE(fake.ActivateLabelPolicy("").ok());
  EXPECT_EQ(TestClient(fake).Get("/admin/v1/policies/label").body,
            "{\"policy\":{" + Details(16, 0, 4, kInstance) +  // 2 pushes for the org
                R"(,"primaryColor":"#222222","isDefault":true,"themeMode":"THEME_MODE_LIGHT"}})");
}

TEST(FakeUpstreamKindsTest, StringsAreEscapedLikeProtojson) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.AddOrgKindPolicy("privacy", org,
                                    R"({"tosLink":"https://t.example/?a=1&b=<2>",)"
                                    R"("customLinkText":"Tab\t\"quoted\" \u0001 é"})")
                  .ok());
  EXPECT_EQ(Management(fake, "privacy", org).body,
            "{\"policy\":{" + Details(5, 2, 2, org) +
                R"(,"tosLink":"https://t.example/?a=1&b=<2>",)"
                R"("customLinkText":"Tab\t\"quoted\" \u0001 é"}})");
  const std::string raw = TestClient(fake).Post("/admin/v1/events/_search", R"({"limit":1})").body;
  EXPECT_NE(raw.find(R"("payload":{"customLinkText":"Tab\t\"quoted\" \u0001 é",)"
                     R"("tosLink":"https://t.example/?a=1&b=<2>"})"),
            std::string::npos)
      << raw;
}

TEST(FakeUpstreamKindsTest, OrgRemovalRemovesEveryKindsRows) {
  FakeUpstream fake;
  const std::string org = fake.AddOrg("acme");
  const std::string keep = fake.AddOrg("keep");
  for (const std::string_view kind : kKinds) {
    const std::string body = kind == "passwordComplexity" ? R"({"minLength":9})" : "{}";
    ASSERT_TRUE(fake.AddOrgKindPolicy(kind, org, body).ok()) << kind;
    ASSERT_TRUE(fake.AddOrgKindPolicy(kind, keep, body).ok()) << kind;
  }
  ASSERT_TRUE(fake.ActivateLabelPolicy(org).ok());
  ASSERT_TRUE(fake.RemoveOrg(org).ok());
  for (const std::string_view kind : kKinds) {
    EXPECT_EQ(fake.OrgsWithOwnKindPolicy(kind), std::vector<std::string>{keep}) << kind;
    EXPECT_EQ(fake.KindPolicyBody(kind, org), "");
    EXPECT_EQ(Management(fake, kind, org).status, 403);
  }
  // A new org never inherits the removed one's rows.
  const std::string again = fake.AddOrg("acme");
  EXPECT_NE(fake.KindPolicyBody("lockout", again).find(R"("isDefault":true})"), std::string::npos);
}

TEST(FakeUpstreamKindsTest, EventSearchByAggregateTypeAloneReturnsEveryEventOfThoseTypes) {
  FakeUpstream fake;
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.AddOrgKindPolicy("notification", org, R"({"passwordChange":true})").ok());
  ASSERT_TRUE(
      fake.PushRawEvent({.type = "user.added", .aggregate_type = "user", .aggregate_id = "9"})
          .ok());
  TestClient client(fake);
  json instance = client.Events({{"asc", true}, {"aggregateTypes", {"instance"}}})["events"];
  EXPECT_EQ(instance.size(), 14u);
  for (const json& e : instance) EXPECT_EQ(e["aggregate"]["type"]["type"], "instance");
  json orgs = client.Events({{"asc", true}, {"aggregate_types", {"org", "user"}}})["events"];
  ASSERT_EQ(orgs.size(), 6u);
  EXPECT_EQ(orgs[4]["type"]["type"], "org.policy.notification.added");
  EXPECT_EQ(orgs[5]["type"]["type"], "user.added");
  EXPECT_EQ(client.Events({{"aggregateTypes", {"project"}}}), json::object());
}

TEST(PolicyKindsTest, DurationsAndTimestampsFollowProtojson) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(864000LL * 1'000'000'000), "864000s");
  EXPECT_EQ(FormatDuration(1'500'000'000), "1.500s");
  EXPECT_EQ(FormatDuration(1'000'001'000), "1.000001s");
  EXPECT_EQ(FormatDuration(1), "0.000000001s");
  EXPECT_EQ(FormatDuration(-1'500'000'000), "-1.500s");
  EXPECT_EQ(ParseDuration("864000s"), 864000LL * 1'000'000'000);
  EXPECT_EQ(ParseDuration("1.5s"), 1'500'000'000);
  EXPECT_EQ(ParseDuration("-0.000000001s"), -1);
  for (const char* bad : {"", "s", "1", "1.s", ".5s", "1.0000000001s", "+1s", "1h", "1.-5s"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(FormatKindTimestamp({1'740'820'364, 0}), "2025-03-01T09:12:44Z");
  EXPECT_EQ(FormatKindTimestamp({1'740'820'364, 120'000'000}), "2025-03-01T09:12:44.120Z");
  EXPECT_EQ(FormatKindTimestamp({0, 1}), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(FormatKindTimestamp({951'782'400, 0}), "2000-02-29T00:00:00Z");
}

}  // namespace
}  // namespace policyd::testing_support
