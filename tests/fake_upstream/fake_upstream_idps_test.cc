// The fake upstream's identity providers and the login policy's links to them (issue #14, the
// login policy's idps): event types, aggregates and payloads of IdP templates and old-style
// configs, links and their refusals, the "idps" of the login GETs (names, the idpType mapping,
// fallback, order), cascades on removals, and the links' _search endpoints. Golden strings are
// written from ZITADEL's sources (/work/draft/idp-facts.md).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/policy_kinds.h"
#include "fake_upstream/test_client.h"

namespace policyd::testing_support {
namespace {

using nlohmann::json;

constexpr std::string_view kInstance = "300000000000000001";
constexpr std::string_view kAdminIdps = "/admin/v1/policies/login/idps/_search";
constexpr std::string_view kManagementIdps = "/management/v1/policies/login/idps/_search";

FakeUpstreamOptions Frozen() {
  FakeUpstreamOptions options;
  options.base_time = {1'740'820'364, 0};  // 2025-03-01T09:12:44Z
  options.freeze_clock = true;
  return options;
}

std::string Id(const Result<std::string>& id) {
  return id ? *id : "<" + id.error().ToString() + ">";
}

// The newest `n` events, oldest first.
json Newest(FakeUpstream& fake, int n) {
  json events = TestClient(fake).Events({{"limit", n}})["events"];
  std::reverse(events.begin(), events.end());
  return events;
}

json Last(FakeUpstream& fake) { return Newest(fake, 1)[0]; }

std::string Management(FakeUpstream& fake, const std::string& org) {
  return TestClient(fake).Get("/management/v1/policies/login", {{"x-zitadel-orgid", org}}).body;
}

// The "idps":[...] of a login GET body, "" when it has none.
std::string IdpsOf(const std::string& body) {
  const std::size_t at = body.find("\"idps\":[");
  if (at == std::string::npos) return "";
  return body.substr(at, body.find(']', at) + 1 - at);
}

TEST(FakeUpstreamIdpsTest, TemplatesAreAddedWithTheirKindsEventTypes) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  struct Case {
    IdpKind kind;
    std::string instance_type;
    std::string org_type;
  };
  const std::vector<Case> cases = {
      {IdpKind::kOidc, "instance.idp.oidc.added", "org.idp.oidc.added"},
      {IdpKind::kJwt, "instance.idp.jwt.added", "org.idp.jwt.added"},
      {IdpKind::kOAuth, "instance.idp.oauth.added", "org.idp.oauth.added"},
      {IdpKind::kLdap, "instance.idp.ldap.v2.added", "org.idp.ldap.added"},
      {IdpKind::kAzureAd, "instance.idp.azure.added", "org.idp.azure.added"},
      {IdpKind::kGitHub, "instance.idp.github.added", "org.idp.github.added"},
      {IdpKind::kGitHubEnterprise, "instance.idp.github_enterprise.added",
       "org.idp.github_enterprise.added"},
      {IdpKind::kGitLab, "instance.idp.gitlab.added", "org.idp.gitlab.added"},
      {IdpKind::kGitLabSelfHosted, "instance.idp.gitlab_self_hosted.added",
       "org.idp.gitlab_self_hosted.added"},
      {IdpKind::kGoogle, "instance.idp.google.added", "org.idp.google.added"},
      {IdpKind::kApple, "instance.idp.apple.added", "org.idp.apple.added"},
      {IdpKind::kSaml, "instance.idp.saml.added", "org.idp.saml.added"},
      {IdpKind::kZitadel, "instance.idp.zitadel.added", "org.idp.zitadel.added"},
  };
  std::int64_t type = 0;
  for (const Case& c : cases) {
    ++type;  // the domain IDPType follows the enum's order
    const std::string a = Id(fake.AddIdp("", c.kind, "Instance IdP"));
    json e = Last(fake);
    EXPECT_EQ(e["type"]["type"], c.instance_type);
    EXPECT_EQ(e["aggregate"]["type"]["type"], "instance");
    EXPECT_EQ(e["aggregate"]["id"], kInstance);
    EXPECT_EQ(e["payload"]["id"], a);
    EXPECT_EQ(e["payload"]["name"], "Instance IdP");
    EXPECT_GE(e["payload"].size(), 3u) << "a few keys policyd does not read: " << e["payload"];
    const std::string b = Id(fake.AddIdp(org, c.kind, "Org IdP"));
    e = Last(fake);
    EXPECT_EQ(e["type"]["type"], c.org_type);
    EXPECT_EQ(e["aggregate"]["type"]["type"], "org");
    EXPECT_EQ(e["aggregate"]["id"], org);
    EXPECT_EQ(e["aggregate"]["resourceOwner"], org);
    EXPECT_EQ(e["payload"]["id"], b);
    const std::vector<IdpInfo> idps = fake.Idps();
    ASSERT_GE(idps.size(), 2u);
    EXPECT_EQ(idps[idps.size() - 2].type, type) << c.org_type;
    EXPECT_EQ(idps.back().org_id, org);
    EXPECT_FALSE(idps.back().config);
  }
  // Only Google, GitHub, GitLab and Apple may go without a name: then the key is left out.
  const std::size_t before = fake.EventCount();
  EXPECT_EQ(fake.AddIdp("", IdpKind::kOidc, "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(fake.AddIdp(org, IdpKind::kSaml, "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(fake.AddIdp("404", IdpKind::kGoogle, "x").error().code(), Code::kNotFound);
  EXPECT_EQ(fake.EventCount(), before);
  for (const IdpKind kind :
       {IdpKind::kGoogle, IdpKind::kGitHub, IdpKind::kGitLab, IdpKind::kApple}) {
    ASSERT_TRUE(fake.AddIdp(org, kind, "").has_value());
    EXPECT_FALSE(Last(fake)["payload"].contains("name"));
  }
  // Payload keys come sorted, like every Struct ListEvents shows.
  const std::string google = Id(fake.AddIdp("", IdpKind::kGoogle, "G"));
  const std::string raw = TestClient(fake).Post("/admin/v1/events/_search", R"({"limit":1})").body;
  EXPECT_NE(raw.find(R"("payload":{"clientId":"google-client","id":")" + google +
                     R"(","isCreationAllowed":true,"isLinkingAllowed":true,"name":"G",)"
                     R"("scopes":["openid","profile"]})"),
            std::string::npos)
      << raw;
}

TEST(FakeUpstreamIdpsTest, ConfigsPushTheConfigEventsOnTheInstanceAggregate) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string oidc = Id(fake.AddIdpConfig("", IdpConfigKind::kOidc, "Old OIDC"));
  json events = Newest(fake, 2);
  EXPECT_EQ(events[0]["type"]["type"], "iam.idp.config.added");
  EXPECT_EQ(events[0]["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(events[0]["aggregate"]["id"], kInstance);
  EXPECT_EQ(events[0]["payload"],
            json({{"idpConfigId", oidc}, {"name", "Old OIDC"}, {"stylingType", 1}}));
  EXPECT_EQ(events[1]["type"]["type"], "iam.idp.oidc.config.added");
  EXPECT_EQ(events[1]["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(events[1]["payload"]["idpConfigId"], oidc);
  EXPECT_EQ(events[1]["creationDate"], events[0]["creationDate"]);  // one push
  const std::string jwt = Id(fake.AddIdpConfig(org, IdpConfigKind::kJwt, "Old JWT"));
  events = Newest(fake, 2);
  EXPECT_EQ(events[0]["type"]["type"], "org.idp.config.added");
  EXPECT_EQ(events[0]["aggregate"]["id"], org);
  EXPECT_EQ(events[0]["payload"],
            json({{"idpConfigId", jwt}, {"name", "Old JWT"}, {"idpType", 2}, {"stylingType", 1}}));
  EXPECT_EQ(events[1]["type"]["type"], "org.idp.jwt.config.added");
  EXPECT_EQ(events[1]["payload"]["idpConfigId"], jwt);
  const std::string saml = Id(fake.AddIdpConfig("", IdpConfigKind::kNone, "Old SAML"));
  EXPECT_EQ(Last(fake)["type"]["type"], "iam.idp.config.added");
  EXPECT_EQ(Last(fake)["payload"]["idpType"], 1);
  EXPECT_EQ(fake.AddIdpConfig("", IdpConfigKind::kOidc, "").error().code(), Code::kInvalidArgument);
  const std::vector<IdpInfo> idps = fake.Idps();
  ASSERT_EQ(idps.size(), 3u);
  EXPECT_EQ(idps[0].type, 1);
  EXPECT_EQ(idps[1].type, 2);
  EXPECT_EQ(idps[2].type, 0);  // the templates projection ignores the old idpType
  EXPECT_TRUE(idps[2].config);
  EXPECT_EQ(idps[2].id, saml);
  // ListEvents with event types alone finds them: "iam.idp.*" is registered on "instance".
  json found = TestClient(fake).Events({{"eventTypes", {"iam.idp.config.added"}}})["events"];
  EXPECT_EQ(found.size(), 2u);
}

TEST(FakeUpstreamIdpsTest, LoginGetsShowTheLinksWithNamesAndTheTwoTypes) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string own = fake.AddOrg("own");
  const std::string oidc = Id(fake.AddIdp("", IdpKind::kOidc, "Corp SSO"));
  const std::string jwt = Id(fake.AddIdpConfig("", IdpConfigKind::kJwt, "Legacy \"JWT\""));
  const std::string google = Id(fake.AddIdp("", IdpKind::kGoogle, ""));
  const std::string azure = Id(fake.AddIdp("", IdpKind::kAzureAd, "Entra"));
  const std::string saml = Id(fake.AddIdpConfig("", IdpConfigKind::kNone, "SAML v1"));
  const std::string before = fake.DefaultKindPolicyBody("login");
  for (const std::string& id : {azure, oidc, google, jwt, saml}) {
    ASSERT_TRUE(fake.AddIdpToLoginPolicy("", id).ok()) << id;
  }
  // In link order, at the field's place (after multiFactors); the row's details stay.
  const std::string idps = R"("idps":[{"idpId":")" + azure + R"(","idpName":"Entra"},)" +
                           R"({"idpId":")" + oidc +
                           R"(","idpName":"Corp SSO","idpType":"IDP_TYPE_OIDC"},)" +
                           R"({"idpId":")" + google + R"("},)" + R"({"idpId":")" + jwt +
                           R"(","idpName":"Legacy \"JWT\"","idpType":"IDP_TYPE_JWT"},)" +
                           R"({"idpId":")" + saml + R"(","idpName":"SAML v1"}])";
  std::string want = before;
  want.insert(want.find("\"allowDomainDiscovery\""), idps + ",");
  EXPECT_EQ(fake.DefaultKindPolicyBody("login"), want);
  TestClient client(fake);
  EXPECT_EQ(client.Get("/admin/v1/policies/login").body, want);
  EXPECT_EQ(client.Get("/management/v1/policies/default/login").body, want);
  // An org without its own login policy shows the instance's links.
  EXPECT_EQ(Management(fake, org), want.substr(0, want.size() - 1) + ",\"isDefault\":true}");
  // An org with its own has its own list, empty at first (no key at all).
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", own, R"({"allowRegister":true})").ok());
  const std::string own_before = Management(fake, own);
  EXPECT_EQ(IdpsOf(own_before), "");
  const std::string own_idp = Id(fake.AddIdp(own, IdpKind::kOidc, "Own"));
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(own, own_idp).ok());
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(own, jwt).ok());
  std::string own_want = own_before;
  own_want.insert(own_want.size() - 2,
                  R"(,"idps":[{"idpId":")" + own_idp +
                      R"(","idpName":"Own","idpType":"IDP_TYPE_OIDC"},)" + R"({"idpId":")" + jwt +
                      R"(","idpName":"Legacy \"JWT\"","idpType":"IDP_TYPE_JWT"}])");
  EXPECT_EQ(Management(fake, own), own_want);
  EXPECT_EQ(fake.KindPolicyBody("login", own), own_want);
  EXPECT_EQ(fake.LoginPolicyIdpLinks(own), (std::vector<std::string>{own_idp, jwt}));
  EXPECT_EQ(fake.LoginPolicyIdpLinks(org), std::vector<std::string>{});
  EXPECT_EQ(fake.LoginPolicyIdpLinks("").size(), 5u);
  // Unlinking everything leaves the org its own empty list: no fallback per list.
  ASSERT_TRUE(fake.RemoveIdpFromLoginPolicy(own, own_idp).ok());
  ASSERT_TRUE(fake.RemoveIdpFromLoginPolicy(own, jwt).ok());
  EXPECT_EQ(Management(fake, own), own_before);
}

TEST(FakeUpstreamIdpsTest, LinkEventsCarryTheIdAndTheOrgProviderType) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", org, "{}").ok());
  const std::string inst = Id(fake.AddIdp("", IdpKind::kGitHub, "GitHub"));
  const std::string mine = Id(fake.AddIdp(org, IdpKind::kJwt, "Mine"));
  const std::string login_before = fake.KindPolicyBody("login", org);
  ASSERT_TRUE(fake.AddIdpToLoginPolicy("", inst).ok());
  json e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "instance.policy.login.idpprovider.added");
  EXPECT_EQ(e["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(e["payload"], json({{"idpConfigId", inst}}));
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, inst).ok());
  e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "org.policy.login.idpprovider.added");
  EXPECT_EQ(e["aggregate"]["id"], org);
  EXPECT_EQ(e["payload"], json({{"idpConfigId", inst}}));  // System (0) is left out
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, mine).ok());
  EXPECT_EQ(Last(fake)["payload"], json({{"idpConfigId", mine}, {"idpProviderType", 1}}));
  ASSERT_TRUE(fake.RemoveIdpFromLoginPolicy(org, inst).ok());
  e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "org.policy.login.idpprovider.removed");
  EXPECT_EQ(e["payload"], json({{"idpConfigId", inst}}));
  ASSERT_TRUE(fake.RemoveIdpFromLoginPolicy("", inst).ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "instance.policy.login.idpprovider.removed");
  // The login policy projection does not reduce link events: details unchanged.
  std::string want = login_before;
  want.insert(want.size() - 2,
              R"(,"idps":[{"idpId":")" + mine + R"(","idpName":"Mine","idpType":"IDP_TYPE_JWT"}])");
  EXPECT_EQ(fake.KindPolicyBody("login", org), want);
}

TEST(FakeUpstreamIdpsTest, RefusedLinksPushNothing) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string other = fake.AddOrg("other");
  const std::string bare = fake.AddOrg("bare");
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", org, "{}").ok());
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", other, "{}").ok());
  const std::string inst = Id(fake.AddIdp("", IdpKind::kOidc, "I"));
  const std::string theirs = Id(fake.AddIdp(other, IdpKind::kOidc, "T"));
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, inst).ok());
  const std::size_t events = fake.EventCount();
  EXPECT_EQ(fake.AddIdpToLoginPolicy(bare, inst).code(), Code::kNotFound);  // no own policy
  EXPECT_EQ(fake.AddIdpToLoginPolicy("404", inst).code(), Code::kNotFound);
  EXPECT_EQ(fake.AddIdpToLoginPolicy(org, "310999").code(), Code::kNotFound);
  EXPECT_EQ(fake.AddIdpToLoginPolicy(org, inst).code(), Code::kAlreadyExists);
  EXPECT_EQ(fake.AddIdpToLoginPolicy(org, theirs).code(), Code::kNotFound);
  EXPECT_EQ(fake.AddIdpToLoginPolicy("", theirs).code(), Code::kNotFound);
  EXPECT_EQ(fake.RemoveIdpFromLoginPolicy(org, theirs).code(), Code::kNotFound);
  EXPECT_EQ(fake.RemoveIdpFromLoginPolicy("", inst).code(), Code::kNotFound);
  EXPECT_EQ(fake.RemoveIdpFromLoginPolicy(bare, inst).code(), Code::kNotFound);
  EXPECT_EQ(fake.ChangeIdp("310999", "x").code(), Code::kNotFound);
  EXPECT_EQ(fake.ChangeIdp(inst, "I").code(), Code::kFailedPrecondition);
  EXPECT_EQ(fake.ChangeIdp(inst, "").code(), Code::kInvalidArgument);
  EXPECT_EQ(fake.MigrateIdp(inst, IdpKind::kGitHub, "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(fake.MigrateIdp(inst, IdpKind::kAzureAd, "").code(), Code::kInvalidArgument);
  EXPECT_EQ(fake.RemoveIdp("310999").code(), Code::kNotFound);
  EXPECT_EQ(fake.EventCount(), events);
}

TEST(FakeUpstreamIdpsTest, ChangesRenameAndMigrationsChangeTheType) {
  FakeUpstream fake(Frozen());
  const std::string oidc = Id(fake.AddIdp("", IdpKind::kOidc, "Before"));
  const std::string other = Id(fake.AddIdp("", IdpKind::kOidc, "Other"));
  const std::string config = Id(fake.AddIdpConfig("", IdpConfigKind::kOidc, "Config"));
  const std::string gitlab = Id(fake.AddIdp("", IdpKind::kGitLab, "GitLab"));
  for (const std::string& id : {oidc, other, config, gitlab}) {
    ASSERT_TRUE(fake.AddIdpToLoginPolicy("", id).ok());
  }
  ASSERT_TRUE(fake.ChangeIdp(oidc, "After").ok());
  json e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "instance.idp.oidc.changed");
  EXPECT_EQ(e["payload"], json({{"id", oidc}, {"name", "After"}}));
  // A change of another field: no name key, the name stays.
  ASSERT_TRUE(fake.ChangeIdp(oidc, std::nullopt).ok());
  e = Last(fake);
  EXPECT_EQ(e["payload"]["id"], oidc);
  EXPECT_FALSE(e["payload"].contains("name"));
  EXPECT_EQ(e["payload"].size(), 2u);
  ASSERT_TRUE(fake.ChangeIdp(config, "Config 2").ok());
  e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "iam.idp.config.changed");
  EXPECT_EQ(e["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(e["payload"], json({{"idpConfigId", config}, {"name", "Config 2"}}));
  ASSERT_TRUE(fake.ChangeIdp(config, std::nullopt).ok());
  EXPECT_FALSE(Last(fake)["payload"].contains("name"));
  // GitLab may lose its name: "name":"" is in the event, idpName leaves the answer.
  ASSERT_TRUE(fake.ChangeIdp(gitlab, "").ok());
  EXPECT_EQ(Last(fake)["payload"], json({{"id", gitlab}, {"name", ""}}));
  // Migrations: the whole added payload of the new kind; name and type change.
  ASSERT_TRUE(fake.MigrateIdp(oidc, IdpKind::kAzureAd, "Entra ID").ok());
  e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "instance.idp.oidc.migrated.azure");
  EXPECT_EQ(e["payload"]["id"], oidc);
  EXPECT_EQ(e["payload"]["name"], "Entra ID");
  EXPECT_EQ(e["payload"]["tenant"], "common");
  ASSERT_TRUE(fake.MigrateIdp(other, IdpKind::kGoogle, "").ok());
  e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "instance.idp.oidc.migrated.google");
  EXPECT_FALSE(e["payload"].contains("name"));
  EXPECT_EQ(fake.MigrateIdp(oidc, IdpKind::kGoogle, "again").code(), Code::kFailedPrecondition);
  EXPECT_EQ(fake.MigrateIdp(config, IdpKind::kGoogle, "cfg").code(), Code::kFailedPrecondition);
  EXPECT_EQ(IdpsOf(fake.DefaultKindPolicyBody("login")),
            R"("idps":[{"idpId":")" + oidc + R"(","idpName":"Entra ID"},{"idpId":")" + other +
                R"("},{"idpId":")" + config +
                R"(","idpName":"Config 2","idpType":"IDP_TYPE_OIDC"},{"idpId":")" + gitlab +
                R"("}])");
}

TEST(FakeUpstreamIdpsTest, ADeactivatedConfigStaysLinked) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string cfg = Id(fake.AddIdpConfig(org, IdpConfigKind::kOidc, "C"));
  const std::string tmpl = Id(fake.AddIdp("", IdpKind::kOidc, "T"));
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", org, "{}").ok());
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, cfg).ok());
  const std::string before = Management(fake, org);
  ASSERT_TRUE(fake.SetIdpConfigActive(cfg, false).ok());
  json e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "org.idp.config.deactivated");
  EXPECT_EQ(e["payload"], json({{"idpConfigId", cfg}}));
  EXPECT_FALSE(fake.Idps()[0].active);
  EXPECT_EQ(Management(fake, org), before);
  EXPECT_EQ(fake.SetIdpConfigActive(cfg, false).code(), Code::kFailedPrecondition);
  EXPECT_EQ(fake.SetIdpConfigActive(tmpl, false).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(fake.SetIdpConfigActive(cfg, true).ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "org.idp.config.reactivated");
  const std::string inst = Id(fake.AddIdpConfig("", IdpConfigKind::kJwt, "I"));
  ASSERT_TRUE(fake.SetIdpConfigActive(inst, false).ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "iam.idp.config.deactivated");
  EXPECT_EQ(Last(fake)["aggregate"]["type"]["type"], "instance");
}

TEST(FakeUpstreamIdpsTest, OrgMigrationAndChangeUseTheOrgAggregate) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string ldap = Id(fake.AddIdp(org, IdpKind::kLdap, "Directory"));
  ASSERT_TRUE(fake.ChangeIdp(ldap, "Dir").ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "org.idp.ldap.changed");
  EXPECT_EQ(Last(fake)["aggregate"]["id"], org);
  const std::string inst_ldap = Id(fake.AddIdp("", IdpKind::kLdap, "Directory"));
  ASSERT_TRUE(fake.ChangeIdp(inst_ldap, std::nullopt).ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "instance.idp.ldap.v2.changed");
  const std::string oidc = Id(fake.AddIdp(org, IdpKind::kOidc, "O"));
  ASSERT_TRUE(fake.MigrateIdp(oidc, IdpKind::kGoogle, "Google").ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "org.idp.oidc.migrated.google");
  EXPECT_EQ(Last(fake)["aggregate"]["id"], org);
  const std::string config = Id(fake.AddIdpConfig(org, IdpConfigKind::kOidc, "C"));
  ASSERT_TRUE(fake.ChangeIdp(config, "C2").ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "org.idp.config.changed");
}

TEST(FakeUpstreamIdpsTest, RemovingAnIdpRemovesItsLinks) {
  FakeUpstream fake(Frozen());
  const std::string a = fake.AddOrg("a");
  const std::string b = fake.AddOrg("b");
  for (const std::string& org : {a, b}) ASSERT_TRUE(fake.AddOrgKindPolicy("login", org, "{}").ok());
  const std::string tmpl = Id(fake.AddIdp("", IdpKind::kOidc, "T"));
  const std::string cfg = Id(fake.AddIdpConfig("", IdpConfigKind::kOidc, "C"));
  const std::string own_tmpl = Id(fake.AddIdp(a, IdpKind::kJwt, "AT"));
  const std::string own_cfg = Id(fake.AddIdpConfig(a, IdpConfigKind::kJwt, "AC"));
  for (const std::string& org : {std::string(), a, b}) {
    ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, tmpl).ok());
    ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, cfg).ok());
  }
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(a, own_tmpl).ok());
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(a, own_cfg).ok());

  // An instance template: instance.idp.removed alone; gone from the instance and every org.
  ASSERT_TRUE(fake.RemoveIdp(tmpl).ok());
  json e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "instance.idp.removed");
  EXPECT_EQ(e["payload"], json({{"id", tmpl}}));
  EXPECT_EQ(fake.LoginPolicyIdpLinks(""), std::vector<std::string>{cfg});
  EXPECT_EQ(fake.LoginPolicyIdpLinks(a), (std::vector<std::string>{cfg, own_tmpl, own_cfg}));
  EXPECT_EQ(fake.LoginPolicyIdpLinks(b), std::vector<std::string>{cfg});

  // An instance config: the config's removal and both "cascade" events in one push.
  ASSERT_TRUE(fake.RemoveIdp(cfg).ok());
  json events = Newest(fake, 3);
  EXPECT_EQ(events[0]["type"]["type"], "iam.idp.config.removed");
  EXPECT_EQ(events[0]["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(events[1]["type"]["type"], "instance.policy.login.idpprovider.cascade.removed");
  EXPECT_EQ(events[1]["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(events[2]["type"]["type"], "org.policy.login.idpprovider.removed");
  EXPECT_EQ(events[2]["aggregate"]["type"]["type"], "org");
  EXPECT_EQ(events[2]["aggregate"]["id"], kInstance);
  EXPECT_EQ(events[2]["aggregate"]["resourceOwner"], kInstance);
  for (const json& x : events) {
    EXPECT_EQ(x["payload"], json({{"idpConfigId", cfg}}));
    EXPECT_EQ(x["creationDate"], events[0]["creationDate"]);
  }
  EXPECT_EQ(fake.LoginPolicyIdpLinks(""), std::vector<std::string>{});
  EXPECT_EQ(fake.LoginPolicyIdpLinks(a), (std::vector<std::string>{own_tmpl, own_cfg}));
  EXPECT_EQ(fake.LoginPolicyIdpLinks(b), std::vector<std::string>{});
  EXPECT_EQ(IdpsOf(fake.DefaultKindPolicyBody("login")), "");

  // An org template: org.idp.removed alone.
  ASSERT_TRUE(fake.RemoveIdp(own_tmpl).ok());
  e = Last(fake);
  EXPECT_EQ(e["type"]["type"], "org.idp.removed");
  EXPECT_EQ(e["aggregate"]["id"], a);
  EXPECT_EQ(e["payload"], json({{"id", own_tmpl}}));
  // An org config: org.idp.config.removed and the org's cascade under the plain removed name.
  ASSERT_TRUE(fake.RemoveIdp(own_cfg).ok());
  events = Newest(fake, 2);
  EXPECT_EQ(events[0]["type"]["type"], "org.idp.config.removed");
  EXPECT_EQ(events[1]["type"]["type"], "org.policy.login.idpprovider.removed");
  for (const json& x : events) {
    EXPECT_EQ(x["aggregate"]["id"], a);
    EXPECT_EQ(x["payload"], json({{"idpConfigId", own_cfg}}));
  }
  EXPECT_EQ(fake.LoginPolicyIdpLinks(a), std::vector<std::string>{});
  EXPECT_TRUE(fake.Idps().empty());
}

TEST(FakeUpstreamIdpsTest, LoginPolicyAndOrgRemovalDropTheLinks) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string inst = Id(fake.AddIdp("", IdpKind::kOidc, "Inst"));
  ASSERT_TRUE(fake.AddIdpToLoginPolicy("", inst).ok());
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", org, "{}").ok());
  const std::string mine = Id(fake.AddIdp(org, IdpKind::kGoogle, "Mine"));
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, mine).ok());
  EXPECT_EQ(IdpsOf(Management(fake, org)),
            R"("idps":[{"idpId":")" + mine + R"(","idpName":"Mine"}])");
  // Without its own policy the org shows the instance's links.
  ASSERT_TRUE(fake.RemoveOrgKindPolicy("login", org).ok());
  EXPECT_EQ(Last(fake)["type"]["type"], "org.policy.login.removed");
  const std::string inst_idps =
      R"("idps":[{"idpId":")" + inst + R"(","idpName":"Inst","idpType":"IDP_TYPE_OIDC"}])";
  EXPECT_EQ(IdpsOf(Management(fake, org)), inst_idps);
  // A new policy starts empty: the links went with the old one.
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", org, "{}").ok());
  EXPECT_EQ(IdpsOf(Management(fake, org)), "");
  EXPECT_EQ(fake.LoginPolicyIdpLinks(org), std::vector<std::string>{});
  // The org's removal takes its IdPs; the instance's stay.
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(org, mine).ok());
  ASSERT_TRUE(fake.RemoveOrg(org).ok());
  ASSERT_EQ(fake.Idps().size(), 1u);
  EXPECT_EQ(fake.Idps()[0].id, inst);
  EXPECT_EQ(IdpsOf(fake.DefaultKindPolicyBody("login")), inst_idps);
}

TEST(FakeUpstreamIdpsTest, CustomLoginPolicyLinksFollowInOnePush) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string inst = Id(fake.AddIdp("", IdpKind::kJwt, "Inst"));
  const std::string mine = Id(fake.AddIdp(org, IdpKind::kApple, ""));
  const std::string theirs = Id(fake.AddIdp("", IdpKind::kOidc, "Other"));
  // Refusals push nothing: an unknown IdP, the wrong owner type, the same IdP twice.
  const std::size_t before = fake.EventCount();
  EXPECT_EQ(fake.AddOrgKindPolicy("login", org, R"({"idps":[{"idpId":"310999"}]})").code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(fake.AddOrgKindPolicy(
                    "login", org,
                    R"({"idps":[{"idpId":")" + mine + R"(","ownerType":"IDP_OWNER_TYPE_SYSTEM"}]})")
                .code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(fake.AddOrgKindPolicy(
                    "login", org,
                    R"({"idps":[{"idpId":")" + inst + R"(","ownerType":"IDP_OWNER_TYPE_ORG"}]})")
                .code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(
      fake.AddOrgKindPolicy("login", org,
                            R"({"idps":[{"idpId":")" + inst + R"("},{"idpId":")" + inst + R"("}]})")
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(fake.AddOrgKindPolicy("login", org, R"({"idps":[{"ownerType":"IDP_OWNER_TYPE_ORG"}]})")
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(fake.AddOrgKindPolicy("privacy", org, R"({"idps":[]})").code(), Code::kInvalidArgument);
  EXPECT_EQ(fake.EventCount(), before);
  ASSERT_TRUE(
      fake.AddOrgKindPolicy("login", org,
                            R"({"allowRegister":true,"secondFactors":["SECOND_FACTOR_TYPE_OTP"],)"
                            R"("idps":[{"idpId":")" +
                                mine + R"(","ownerType":"IDP_OWNER_TYPE_ORG"},{"idpId":")" + inst +
                                R"("}]})")
          .ok());
  json events = Newest(fake, 4);
  EXPECT_EQ(events[0]["type"]["type"], "org.policy.login.added");
  EXPECT_EQ(events[1]["type"]["type"], "org.policy.login.secondfactor.added");
  EXPECT_EQ(events[2]["type"]["type"], "org.policy.login.idpprovider.added");
  EXPECT_EQ(events[2]["payload"], json({{"idpConfigId", mine}, {"idpProviderType", 1}}));
  EXPECT_EQ(events[3]["type"]["type"], "org.policy.login.idpprovider.added");
  EXPECT_EQ(events[3]["payload"], json({{"idpConfigId", inst}}));
  for (const json& e : events) EXPECT_EQ(e["creationDate"], events[0]["creationDate"]);
  // The row's details are the factor event's (sequence 7, after the org's 4 and its IdP's),
  // not the last link's.
  const std::string body = Management(fake, org);
  EXPECT_NE(body.find(R"("details":{"sequence":"7",)"), std::string::npos) << body;
  EXPECT_EQ(IdpsOf(body), R"("idps":[{"idpId":")" + mine + R"("},{"idpId":")" + inst +
                              R"(","idpName":"Inst","idpType":"IDP_TYPE_JWT"}])");
  EXPECT_EQ(fake.LoginPolicyIdpLinks(org), (std::vector<std::string>{mine, inst}));
  // Changes of the policy leave the links alone and cannot carry idps.
  ASSERT_TRUE(fake.ChangeOrgKindPolicy("login", org, "{}").ok());
  EXPECT_EQ(fake.LoginPolicyIdpLinks(org), (std::vector<std::string>{mine, inst}));
  EXPECT_EQ(
      fake.ChangeOrgKindPolicy("login", org, R"({"idps":[{"idpId":")" + theirs + R"("}]})").code(),
      Code::kInvalidArgument);
}

TEST(FakeUpstreamIdpsTest, SearchEndpointsPageTheEffectiveLinks) {
  FakeUpstream fake(Frozen());
  const std::string org = fake.AddOrg("acme");
  const std::string own = fake.AddOrg("own");
  TestClient client(fake);
  const std::string view = R"("viewTimestamp":"2025-03-01T09:12:44.000002Z")";
  // No links: totalResult 0 and the result are left out.
  HttpResult r = client.Post(std::string(kAdminIdps), "{}");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"details\":{" + view + "}}");
  std::vector<std::string> ids;
  for (const char* name : {"one", "two", "three"}) {
    ids.push_back(Id(fake.AddIdp("", IdpKind::kOidc, name)));
    ASSERT_TRUE(fake.AddIdpToLoginPolicy("", ids.back()).ok());
  }
  const auto link = [&](int i, const char* name) {
    return R"({"idpId":")" + ids[i] + R"(","idpName":")" + name + R"(","idpType":"IDP_TYPE_OIDC"})";
  };
  const std::string details = R"({"details":{"totalResult":"3","viewTimestamp":")";
  r = client.Post(std::string(kAdminIdps), R"({"query":{"offset":"1","limit":1,"asc":true}})");
  const std::string now = "2025-03-01T09:12:44.000008Z";
  EXPECT_EQ(r.body, details + now + R"("},"result":[)" + link(1, "two") + "]}");
  // asc changes nothing (no ORDER BY); the whole list by default.
  const std::string all = details + now + R"("},"result":[)" + link(0, "one") + "," +
                          link(1, "two") + "," + link(2, "three") + "]}";
  EXPECT_EQ(client.Post(std::string(kAdminIdps), R"({"query":{"asc":false}})").body, all);
  EXPECT_EQ(client.Post(std::string(kAdminIdps), R"({"query":{"offset":"3"}})").body,
            details + now + "\"}}");
  // Management: the org's own links, else the instance's; unknown org 403.
  EXPECT_EQ(client.Post(std::string(kManagementIdps), "{}", {{"x-zitadel-orgid", org}}).body, all);
  ASSERT_TRUE(fake.AddOrgKindPolicy("login", own, "{}").ok());
  ASSERT_TRUE(fake.AddIdpToLoginPolicy(own, ids[2]).ok());
  EXPECT_EQ(client.Post(std::string(kManagementIdps), "{}", {{"x-zitadel-orgid", own}}).body,
            R"({"details":{"totalResult":"1","viewTimestamp":"2025-03-01T09:12:44.000010Z"},)"
            R"("result":[)" +
                link(2, "three") + "]}");
  EXPECT_EQ(client.Post(std::string(kManagementIdps), "{}", {{"x-zitadel-orgid", "404"}}).status,
            403);
  EXPECT_EQ(client.Post(std::string(kAdminIdps), R"({"query":{"limit":"x"}})").status, 400);
  EXPECT_EQ(client.Get(std::string(kAdminIdps)).status, 405);
  EXPECT_EQ(TestClient(fake, "").Post(std::string(kAdminIdps), "{}").status, 401);
}

TEST(PolicyKindsTest, IdpLinksShowOnlyOidcAndJwtTypes) {
  for (std::int64_t type = 0; type <= 13; ++type) {
    const std::string want = type == 1 ? R"({"idpId":"7","idpName":"n","idpType":"IDP_TYPE_OIDC"})"
                             : type == 2 ? R"({"idpId":"7","idpName":"n","idpType":"IDP_TYPE_JWT"})"
                                         : R"({"idpId":"7","idpName":"n"})";
    EXPECT_EQ(RenderIdpLink({"7", "n", type}), want) << type;
  }
  EXPECT_EQ(RenderIdpLink({"7", "", 0}), R"({"idpId":"7"})");
  EXPECT_EQ(RenderIdpLink({"7", "Tab\t\"q\" é", 2}),
            R"({"idpId":"7","idpName":"Tab\t\"q\" é","idpType":"IDP_TYPE_JWT"})");
}

}  // namespace
}  // namespace policyd::testing_support
