// The fake upstream's policy, org and routing endpoints, checked with a plain HTTP client.
#include "fake_upstream/fake_upstream.h"

#include <gtest/gtest.h>

#include <string>

#include "fake_upstream/test_client.h"
#include "json/timestamp.h"

namespace policyd::testing_support {
namespace {

using nlohmann::json;

constexpr char kTokenInvalid[] =
    R"json({"code":16,"message":"Errors.Token.Invalid (AUTH-7fs1e)","details":[{"@type":)json"
    R"json("type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-7fs1e",)json"
    R"json("message":"Errors.Token.Invalid"}]})json";

// The domain-policy instance setup only (3 events), which the sequences below count on; the
// other kinds' setup is tested in fake_upstream_kinds_test.cc.
FakeUpstreamOptions FrozenOptions() {
  FakeUpstreamOptions options;
  options.base_time = {1'740'820'364, 0};  // 2025-03-01T09:12:44Z
  options.freeze_clock = true;
  options.all_policy_kinds = false;
  return options;
}

TEST(FakeUpstreamTest, RejectsRequestsWithoutAValidBearerToken) {
  FakeUpstream fake;
  ASSERT_TRUE(fake.ok());
  HttpResult missing = TestClient(fake, "").Get("/admin/v1/policies/domain");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Json()["code"], 16);
  HttpResult wrong = TestClient(fake, "not-the-pat").Get("/admin/v1/policies/domain");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, kTokenInvalid);
  EXPECT_EQ(TestClient(fake).Get("/admin/v1/policies/domain").status, 200);
  fake.SetPat("");
  EXPECT_EQ(TestClient(fake).Get("/admin/v1/policies/domain").status, 401);
}

TEST(FakeUpstreamTest, DefaultPolicyBodyIsExactProtojsonWithFalseOmitted) {
  FakeUpstream fake(FrozenOptions());
  HttpResult r = TestClient(fake).Get("/admin/v1/policies/domain");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.find("Content-Type")->second, "application/json");
  // The setup push took the frozen clock's time; the row was added by its second event.
  EXPECT_EQ(r.body, R"({"policy":{"details":{"sequence":"2","creationDate":"2025-03-01T09:12:44Z",)"
                    R"("changeDate":"2025-03-01T09:12:44Z","resourceOwner":"300000000000000001"},)"
                    R"("isDefault":true}})");
  EXPECT_EQ(r.body, fake.DefaultPolicyBody());

  ASSERT_TRUE(fake.ChangeDefaultPolicy({.validate_org_domains = true}).ok());
  r = TestClient(fake).Get("/admin/v1/policies/domain");
  EXPECT_EQ(r.body,
            R"({"policy":{"details":{"sequence":"4","creationDate":"2025-03-01T09:12:44Z",)"
            R"("changeDate":"2025-03-01T09:12:44.000001Z","resourceOwner":"300000000000000001"},)"
            R"("isDefault":true,"validateOrgDomains":true}})");
}

TEST(FakeUpstreamTest, EffectivePolicyIsTheOrgsOwnRowElseTheDefault) {
  FakeUpstream fake(FrozenOptions());
  const std::string org = fake.AddOrg("ACME Corp");
  TestClient client(fake);
  const std::string path = "/admin/v1/orgs/" + org + "/policies/domain";

  HttpResult r = client.Get(path);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, fake.DefaultPolicyBody());
  EXPECT_EQ(r.Json()["policy"]["details"]["resourceOwner"], fake.instance_id());
  // The upstream does not validate the org id: an unknown org gets the default too.
  EXPECT_EQ(client.Get("/admin/v1/orgs/123/policies/domain").body, fake.DefaultPolicyBody());

  ASSERT_TRUE(fake.AddOrgPolicy(org, {.user_login_must_be_domain = true}).ok());
  r = client.Get(path);
  EXPECT_EQ(r.body, fake.EffectivePolicyBody(org));
  // org.added, domain added/verified/primary.set are 1..4 on the org aggregate.
  EXPECT_EQ(r.body, R"({"policy":{"details":{"sequence":"5","creationDate":)"
                    R"("2025-03-01T09:12:44.000002Z","changeDate":"2025-03-01T09:12:44.000002Z",)"
                    R"("resourceOwner":")" +
                        org + R"("},"userLoginMustBeDomain":true}})");

  ASSERT_TRUE(
      fake.ChangeOrgPolicy(org, {.smtp_sender_address_matches_instance_domain = true}).ok());
  json policy = client.Get(path).Json()["policy"];
  EXPECT_EQ(policy["details"]["sequence"], "6");
  EXPECT_EQ(policy["details"]["creationDate"], "2025-03-01T09:12:44.000002Z");
  EXPECT_EQ(policy["details"]["changeDate"], "2025-03-01T09:12:44.000003Z");
  EXPECT_FALSE(policy.contains("userLoginMustBeDomain"));
  EXPECT_FALSE(policy.contains("isDefault"));
  EXPECT_EQ(policy["smtpSenderAddressMatchesInstanceDomain"], true);

  ASSERT_TRUE(fake.RemoveOrgPolicy(org).ok());
  EXPECT_EQ(client.Get(path).body, fake.DefaultPolicyBody());
  EXPECT_EQ(client.Get("/admin/v1/orgs/" + std::string(201, '1') + "/policies/domain").status, 400);
}

TEST(FakeUpstreamTest, ManagementPolicyNeedsAnExistingOrg) {
  FakeUpstream fake;
  const std::string org = fake.AddOrg("acme");
  TestClient client(fake);
  HttpResult r = client.Get("/management/v1/policies/domain", {{"x-zitadel-orgid", "404"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Json()["code"], 7);
  EXPECT_EQ(r.Json()["message"], "Organisation doesn't exist (AUTH-Bs7Ds)");
  EXPECT_EQ(r.Json()["details"][0]["id"], "AUTH-Bs7Ds");
  // No header and no caller org configured.
  EXPECT_EQ(client.Get("/management/v1/policies/domain").status, 403);

  ASSERT_TRUE(fake.DeactivateOrg(org).ok());  // a deactivated org still exists
  r = client.Get("/management/v1/policies/domain", {{"x-zitadel-orgid", org}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, fake.EffectivePolicyBody(org));

  ASSERT_TRUE(fake.RemoveOrg(org).ok());
  EXPECT_EQ(client.Get("/management/v1/policies/domain", {{"x-zitadel-orgid", org}}).status, 403);
}

TEST(FakeUpstreamTest, SettingsV2UseV2FieldNames) {
  FakeUpstream fake(FrozenOptions());
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.AddOrgPolicy(org, {true, true, false}).ok());
  TestClient client(fake);
  EXPECT_EQ(client.Get("/v2/settings/domain?ctx.orgId=" + org).body,
            R"({"details":{"sequence":"5","changeDate":"2025-03-01T09:12:44.000002Z",)"
            R"("resourceOwner":")" +
                org +
                R"(","creationDate":"2025-03-01T09:12:44.000002Z"},"settings":{)"
                R"("loginNameIncludesDomain":true,"requireOrgDomainVerification":true,)"
                R"("resourceOwnerType":"RESOURCE_OWNER_TYPE_ORG"}})");
  json instance = client.Get("/v2/settings/domain?ctx.instance=true").Json();
  EXPECT_EQ(instance["settings"], json({{"resourceOwnerType", "RESOURCE_OWNER_TYPE_INSTANCE"}}));
  EXPECT_EQ(client.Get("/v2/settings/domain?ctx.org_id=999").Json()["settings"],
            instance["settings"]);
}

TEST(FakeUpstreamTest, ListOrgsSortsByNamePagesAndNeverShowsRemovedOrgs) {
  FakeUpstream fake;
  const std::string charlie = fake.AddOrg("charlie");
  const std::string alpha = fake.AddOrg("alpha");
  const std::string bravo = fake.AddOrg("bravo");
  const std::string delta = fake.AddOrg("delta");
  ASSERT_TRUE(fake.RemoveOrg(delta).ok());
  ASSERT_TRUE(fake.DeactivateOrg(bravo).ok());
  EXPECT_EQ(fake.OrgIds(), (std::vector<std::string>{alpha, bravo, charlie}));

  TestClient client(fake);
  const auto search = [&](const std::string& body) {
    HttpResult r = client.Post("/admin/v1/orgs/_search", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  };
  json page = search(
      R"({"query":{"offset":"1","limit":1,"asc":true},"sortingColumn":"ORG_FIELD_NAME_NAME"})");
  EXPECT_EQ(page["details"]["totalResult"], "3");
  EXPECT_EQ(page["sortingColumn"], "ORG_FIELD_NAME_NAME");
  ASSERT_EQ(page["result"].size(), 1u);
  const json& org = page["result"][0];
  EXPECT_EQ(org["id"], bravo);
  EXPECT_EQ(org["state"], "ORG_STATE_INACTIVE");
  EXPECT_EQ(org["name"], "bravo");
  EXPECT_EQ(org["primaryDomain"], "bravo.zitadel.example.com");
  EXPECT_EQ(org["details"]["sequence"], "5");  // 4 setup events + org.deactivated
  EXPECT_EQ(org["details"]["resourceOwner"], bravo);
  EXPECT_TRUE(page["details"].contains("processedSequence"));
  EXPECT_TRUE(page["details"].contains("viewTimestamp"));

  page =
      search(R"({"query":{"asc":true},"queries":[{"stateQuery":{"state":"ORG_STATE_ACTIVE"}}]})");
  ASSERT_EQ(page["result"].size(), 2u);
  EXPECT_EQ(page["result"][0]["id"], alpha);
  EXPECT_EQ(page["result"][1]["id"], charlie);
  EXPECT_FALSE(page.contains("sortingColumn"));
  page = search(R"({"query":{"offset":"10"}})");
  EXPECT_FALSE(page.contains("result"));  // protojson omits an empty repeated field
  EXPECT_EQ(page["details"]["totalResult"], "3");
  page = search(
      R"({"queries":[{"name_query":{"name":"ALP","method":"TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})");
  ASSERT_EQ(page["result"].size(), 1u);
  EXPECT_EQ(page["result"][0]["id"], alpha);
  EXPECT_EQ(client.Post("/admin/v1/orgs/_search", "{not json").status, 400);
}

TEST(FakeUpstreamTest, ListOrgsReturnsAtMostOneThousandPerPage) {
  FakeUpstream fake;
  for (int i = 0; i < 1001; ++i) ASSERT_FALSE(fake.AddOrg("org-" + std::to_string(i)).empty());
  TestClient client(fake);
  for (const char* limit : {"0", "5000"}) {
    json page =
        client.Post("/admin/v1/orgs/_search", std::string(R"({"query":{"limit":)") + limit + "}}")
            .Json();
    EXPECT_EQ(page["result"].size(), 1000u) << "limit " << limit;
    EXPECT_EQ(page["details"]["totalResult"], "1001");
  }
  json last =
      client.Post("/admin/v1/orgs/_search", R"({"query":{"offset":"1000","asc":true}})").Json();
  EXPECT_EQ(last["result"].size(), 1u);
}

// POST /management/v1/orgs/me/domains/_search: ListOrgDomains of the org in x-zitadel-orgid,
// with zitadel.org.v1.Domain's JSON names, paged and sorted by name.
TEST(FakeUpstreamTest, ListOrgDomainsServesTheOrgInTheHeaderWithItsFlags) {
  FakeUpstream fake(FrozenOptions());
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.AddOrgPolicy(org, {false, true, false}).ok());  // domains need verifying
  ASSERT_TRUE(fake.AddOrgDomain(org, "acme.com").ok());
  ASSERT_TRUE(fake.VerifyOrgDomain(org, "acme.com").ok());
  ASSERT_TRUE(fake.AddOrgDomain(org, "b-pending.com").ok());
  TestClient client(fake);
  constexpr char kPath[] = "/management/v1/orgs/me/domains/_search";
  const auto search = [&](const std::string& body, const std::string& org_id) {
    return client.Post(kPath, body, {{"x-zitadel-orgid", org_id}});
  };
  HttpResult r = search(R"({"query":{"offset":"0","limit":1000,"asc":true}})", org);
  ASSERT_EQ(r.status, 200) << r.body;
  const json page = r.Json();
  EXPECT_EQ(page["details"]["totalResult"], "3");
  EXPECT_TRUE(page["details"].contains("processedSequence"));
  EXPECT_FALSE(page.contains("sortingColumn"));
  ASSERT_EQ(page["result"].size(), 3u);
  EXPECT_EQ(
      page["result"][0],
      json::parse(R"({"orgId":")" + org +
                  R"(","details":{"sequence":"7","creationDate":"2025-03-01T09:12:44.000003Z",)"
                  R"("changeDate":"2025-03-01T09:12:44.000004Z","resourceOwner":")" +
                  org +
                  R"("},"domainName":"acme.com","isVerified":true,)"
                  R"("validationType":"DOMAIN_VALIDATION_TYPE_DNS"})"));
  EXPECT_EQ(page["result"][1]["domainName"], "acme.zitadel.example.com");
  EXPECT_EQ(page["result"][1]["isPrimary"], true);
  EXPECT_EQ(page["result"][1]["isVerified"], true);
  EXPECT_FALSE(page["result"][1].contains("validationType"));  // generated: UNSPECIFIED
  EXPECT_EQ(page["result"][2]["domainName"], "b-pending.com");
  EXPECT_FALSE(page["result"][2].contains("isVerified"));  // false is omitted

  // Paging and order; limit 0 or over 1000 is 1000.
  r = search(R"({"query":{"offset":"1","limit":1}})", org);  // descending by default
  ASSERT_EQ(r.Json()["result"].size(), 1u);
  EXPECT_EQ(r.Json()["result"][0]["domainName"], "acme.zitadel.example.com");
  EXPECT_EQ(search(R"({"query":{"limit":5000}})", org).Json()["result"].size(), 3u);
  EXPECT_FALSE(search(R"({"query":{"offset":"3"}})", org).Json().contains("result"));
  EXPECT_EQ(search(R"({"queries":[{"domainNameQuery":{"name":"x"}}]})", org).status, 400);

  // An unknown, removed or missing org is 403, as for every management call.
  r = search("{}", "404");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Json()["message"], "Organisation doesn't exist (AUTH-Bs7Ds)");
  EXPECT_EQ(client.Post(kPath, "{}").status, 403);
  EXPECT_EQ(TestClient(fake, "").Post(kPath, "{}").status, 401);
  ASSERT_TRUE(fake.RemoveOrg(org).ok());
  EXPECT_EQ(search("{}", org).status, 403);
}

// POST /admin/v1/domains/_search: ListInstanceDomains, zitadel.instance.v1.Domain's names
// ("domain", "primary", "generated").
TEST(FakeUpstreamTest, ListInstanceDomainsServesTheInstancesDomains) {
  FakeUpstream fake(FrozenOptions());
  ASSERT_TRUE(fake.AddInstanceDomain("login.example.com").ok());
  ASSERT_TRUE(fake.AddInstanceDomain("gone.example.com").ok());
  ASSERT_TRUE(fake.RemoveInstanceDomain("gone.example.com").ok());
  TestClient client(fake);
  constexpr char kPath[] = "/admin/v1/domains/_search";
  HttpResult r = client.Post(
      kPath,
      R"({"query":{"offset":"0","limit":1000,"asc":true},"sortingColumn":"DOMAIN_FIELD_NAME_DOMAIN"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json page = r.Json();
  EXPECT_EQ(page["details"]["totalResult"], "2");
  EXPECT_EQ(page["sortingColumn"], "DOMAIN_FIELD_NAME_DOMAIN");
  ASSERT_EQ(page["result"].size(), 2u);
  EXPECT_EQ(
      page["result"][0],
      json::parse(R"({"details":{"sequence":"4","creationDate":"2025-03-01T09:12:44.000001Z",)"
                  R"("changeDate":"2025-03-01T09:12:44.000001Z",)"
                  R"("resourceOwner":"300000000000000001"},"domain":"login.example.com"})"));
  EXPECT_EQ(page["result"][1]["domain"], "zitadel.example.com");
  EXPECT_EQ(page["result"][1]["primary"], true);
  EXPECT_EQ(page["result"][1]["generated"], true);
  EXPECT_EQ(page["result"][1]["details"]["sequence"], "3");

  r = client.Post(kPath, R"({"query":{"offset":"1","limit":1,"asc":true}})");
  ASSERT_EQ(r.Json()["result"].size(), 1u);
  EXPECT_EQ(r.Json()["result"][0]["domain"], "zitadel.example.com");
  EXPECT_EQ(client.Post(kPath, R"({"sortingColumn":99})").status, 400);
  EXPECT_EQ(client.Post(kPath, "{not json").status, 400);
  EXPECT_EQ(TestClient(fake, "").Post(kPath, "{}").status, 401);
  EXPECT_EQ(client.Get(kPath).status, 405);
}

TEST(FakeUpstreamTest, UnknownPathIs404AndWrongMethodIs405) {
  FakeUpstream fake;
  TestClient client(fake);
  HttpResult r = client.Get("/admin/v1/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"code":5,"message":"Not Found"})");
  r = client.Get("/admin/v1/events/_search");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, R"({"code":12,"message":"Method Not Allowed"})");
  EXPECT_EQ(client.Send("DELETE", "/management/v1/policies/domain", "").status, 405);
}

TEST(FakeUpstreamTest, WriteEndpointsPushEventsAndMapErrors) {
  FakeUpstream fake;
  const std::string org = fake.AddOrg("acme");
  TestClient client(fake);
  const std::string path = "/admin/v1/orgs/" + org + "/policies/domain";
  HttpResult r = client.Send("POST", path, R"({"userLoginMustBeDomain":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["details"]["sequence"], "5");
  EXPECT_TRUE(r.Json()["details"].contains("creationDate"));
  EXPECT_EQ(fake.EffectivePolicy(org).flags.user_login_must_be_domain, true);
  r = client.Send("POST", path, "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.Json()["code"], 6);
  r = client.Send("PUT", path, R"({"user_login_must_be_domain":true})");
  EXPECT_EQ(r.status, 400);  // not changed: FAILED_PRECONDITION
  EXPECT_EQ(r.Json()["code"], 9);
  EXPECT_EQ(client.Send("DELETE", path, "").status, 200);
  EXPECT_EQ(client.Send("DELETE", path, "").status, 404);
  r = client.Send("PUT", "/admin/v1/policies/domain", R"({"validateOrgDomains":true})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(fake.EffectivePolicy(org).flags.validate_org_domains);
  EXPECT_EQ(client.Send("PUT", "/admin/v1/policies/domain", R"({"validateOrgDomains":"x"})").status,
            400);
}

TEST(FakeUpstreamTest, StateViewsTrackMutations) {
  FakeUpstream fake;
  // The instance setup push: 3 events, and 11 for the other policy kinds.
  EXPECT_EQ(fake.EventCount(), 3u + 11u);
  const std::string a = fake.AddOrg("a");
  const std::string b = fake.AddOrg("b");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 18u);
  EXPECT_EQ(fake.AddOrgPolicy(b, {}).code(), Code::kOk);
  EXPECT_EQ(fake.AddOrgPolicy(b, {}).code(), Code::kAlreadyExists);
  EXPECT_EQ(fake.ChangeOrgPolicy(a, {}).code(), Code::kNotFound);
  EXPECT_EQ(fake.ChangeOrgPolicy(b, {}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(fake.ChangeDefaultPolicy({}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(fake.ReactivateOrg(a).code(), Code::kFailedPrecondition);
  EXPECT_EQ(fake.RemoveOrg("nope").code(), Code::kNotFound);
  EXPECT_EQ(fake.OrgsWithOwnPolicy(), std::vector<std::string>{b});
  ASSERT_TRUE(fake.RemoveOrg(b).ok());
  EXPECT_TRUE(fake.OrgsWithOwnPolicy().empty());
  EXPECT_EQ(fake.EffectivePolicyBody(b), fake.DefaultPolicyBody());
  ASSERT_TRUE(fake.ChangeOrg(a, "a renamed").ok());
  EXPECT_EQ(fake.SetPrimaryOrgDomain(a, "a.zitadel.example.com").code(), Code::kNotFound);
  ASSERT_TRUE(fake.AddOrgDomain(a, "a.example.org").ok());
  ASSERT_TRUE(fake.SetPrimaryOrgDomain(a, "a.example.org").ok());
  EXPECT_EQ(fake.RemoveOrgDomain(a, "a.example.org").code(), Code::kFailedPrecondition);
  ASSERT_TRUE(fake.RemoveOrgDomain(a, "a-renamed.zitadel.example.com").ok());
  EXPECT_EQ(fake.AddOrgDomain(fake.AddOrg("c"), "a.example.org").code(), Code::kAlreadyExists);
  ASSERT_TRUE(fake.AddInstanceDomain("login.example.org").ok());
}

TEST(FakeUpstreamTest, DomainViewsAndInstanceDomainRemoval) {
  FakeUpstream fake(FrozenOptions());
  const std::string org = fake.AddOrg("Acme");
  EXPECT_EQ(fake.OrgDomains(org),
            (std::vector<OrgDomain>{{"acme.zitadel.example.com", true, true}}));
  ASSERT_TRUE(fake.AddOrgPolicy(org, {false, true, false}).ok());  // validates domains
  ASSERT_TRUE(fake.AddOrgDomain(org, "acme.com").ok());
  EXPECT_EQ(fake.OrgDomains(org), (std::vector<OrgDomain>{{"acme.zitadel.example.com", true, true},
                                                          {"acme.com", false, false}}));
  ASSERT_TRUE(fake.VerifyOrgDomain(org, "acme.com").ok());
  ASSERT_TRUE(fake.SetPrimaryOrgDomain(org, "acme.com").ok());
  EXPECT_EQ(fake.OrgDomains(org), (std::vector<OrgDomain>{{"acme.zitadel.example.com", true, false},
                                                          {"acme.com", true, true}}));
  EXPECT_TRUE(fake.OrgDomains("unknown").empty());

  EXPECT_EQ(fake.InstanceDomains(), (std::vector<std::string>{"zitadel.example.com"}));
  ASSERT_TRUE(fake.AddInstanceDomain("login.example.org").ok());
  EXPECT_EQ(fake.RemoveInstanceDomain("nope.example.org").code(), Code::kNotFound);
  EXPECT_EQ(fake.RemoveInstanceDomain("zitadel.example.com").code(), Code::kFailedPrecondition);
  const std::size_t events = fake.EventCount();
  ASSERT_TRUE(fake.RemoveInstanceDomain("login.example.org").ok());
  EXPECT_EQ(fake.EventCount(), events + 1);
  EXPECT_EQ(fake.InstanceDomains(), (std::vector<std::string>{"zitadel.example.com"}));
  json last = TestClient(fake).Events({{"asc", false}, {"limit", 1}})["events"][0];
  EXPECT_EQ(last["type"]["type"], "instance.domain.removed");
  EXPECT_EQ(last["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(last["payload"], (json{{"domain", "login.example.org"}}));
}

TEST(FakeUpstreamTest, DeprecatedOrgIamReadsAndWritesFollowTheDomainPolicy) {
  FakeUpstream fake(FrozenOptions());
  const std::string org = fake.AddOrg("ACME Corp");
  TestClient client(fake);
  // Reads: OrgIAMPolicy {details, userLoginMustBeDomain, isDefault}, the same row as .../domain.
  const std::string default_details =
      R"("details":{"sequence":"2","creationDate":"2025-03-01T09:12:44Z",)"
      R"("changeDate":"2025-03-01T09:12:44Z","resourceOwner":"300000000000000001"})";
  const std::string default_body = "{\"policy\":{" + default_details + ",\"isDefault\":true}}";
  EXPECT_EQ(client.Get("/admin/v1/policies/orgiam").body, default_body);
  EXPECT_EQ(client.Get("/admin/v1/orgs/" + org + "/policies/orgiam").body, default_body);
  EXPECT_EQ(client.Get("/management/v1/policies/orgiam", {{"x-zitadel-orgid", org}}).body,
            default_body);
  EXPECT_EQ(client.Get("/management/v1/policies/orgiam", {{"x-zitadel-orgid", "1"}}).status, 403);
  HttpResult too_long = client.Get("/admin/v1/orgs/" + std::string(201, '1') + "/policies/orgiam");
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(too_long.Json()["message"],
            "invalid GetCustomOrgIAMPolicyRequest.OrgId: value length must be between 1 and 200 "
            "runes, inclusive");
  // 200 characters of two bytes each are within the limit: characters count, not bytes.
  std::string wide;
  for (int i = 0; i < 200; ++i) wide += "\xC3\xA9";
  EXPECT_EQ(client.Get("/admin/v1/orgs/" + wide + "/policies/domain").status, 200);

  // The legacy writes set the other two flags to true.
  HttpResult added = client.Send("POST", "/admin/v1/orgs/" + org + "/policies/orgiam",
                                 R"({"userLoginMustBeDomain":false})");
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(fake.EffectivePolicy(org).flags, (PolicyFlags{false, true, true}));
  // userLoginMustBeDomain false and not the default: both omitted.
  EXPECT_EQ(client.Get("/admin/v1/orgs/" + org + "/policies/orgiam").body,
            R"({"policy":{"details":{"sequence":"5","creationDate":"2025-03-01T09:12:44.000002Z",)"
            R"("changeDate":"2025-03-01T09:12:44.000002Z","resourceOwner":")" +
                org + R"("}}})");
  ASSERT_EQ(client
                .Send("PUT", "/admin/v1/orgs/" + org + "/policies/orgiam",
                      R"({"userLoginMustBeDomain":true})")
                .status,
            200);
  EXPECT_EQ(fake.EffectivePolicy(org).flags, (PolicyFlags{true, true, true}));
  ASSERT_EQ(client.Send("DELETE", "/admin/v1/orgs/" + org + "/policies/orgiam", "").status, 200);
  EXPECT_TRUE(fake.EffectivePolicy(org).is_default);
  ASSERT_EQ(
      client.Send("PUT", "/admin/v1/policies/orgiam", R"({"userLoginMustBeDomain":true})").status,
      200);
  EXPECT_EQ(fake.EffectivePolicy("").flags, (PolicyFlags{true, true, true}));
  EXPECT_EQ(client.Send("PATCH", "/admin/v1/policies/orgiam", "{}").status, 405);
  EXPECT_EQ(client.Send("POST", "/management/v1/policies/orgiam", "{}").status, 405);
}

}  // namespace
}  // namespace policyd::testing_support
