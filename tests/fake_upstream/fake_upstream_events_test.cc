// The fake upstream's event log as POST /admin/v1/events/_search shows it.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/test_client.h"
#include "json/timestamp.h"

namespace policyd::testing_support {
namespace {

using nlohmann::json;

// The domain-policy instance setup only (3 events), which the sequences below count on; the
// other kinds' setup is tested in fake_upstream_kinds_test.cc.
FakeUpstreamOptions FrozenOptions() {
  FakeUpstreamOptions options;
  options.base_time = {1'740'820'364, 0};  // 2025-03-01T09:12:44Z
  options.freeze_clock = true;
  options.all_policy_kinds = false;
  return options;
}

// The domain-policy setup only, with the wall clock.
FakeUpstreamOptions DomainOnly() {
  FakeUpstreamOptions options;
  options.all_policy_kinds = false;
  return options;
}

std::vector<std::string> Types(const json& response) {
  std::vector<std::string> types;
  for (const json& e : response.value("events", json::array())) types.push_back(e["type"]["type"]);
  return types;
}

TEST(FakeUpstreamEventsTest, EventJsonHasTheRealShape) {
  FakeUpstream fake(FrozenOptions());
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.AddOrgPolicy(org, {.user_login_must_be_domain = true}).ok());
  ASSERT_TRUE(fake.ChangeOrgPolicy(org, {.validate_org_domains = true}).ok());
  TestClient client(fake);
  HttpResult r = client.Post("/admin/v1/events/_search", R"({"asc":false,"limit":1})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"events":[{"editor":{"userId":"300000000000000002","displayName":"ZITADEL Admin",)"
            R"("service":"zitadel"},"aggregate":{"id":")" +
                org +
                R"(","type":{"type":"org","localized":{"key":"AggregateTypes.org",)"
                R"("localizedMessage":"Organization"}},"resourceOwner":")" +
                org +
                R"("},"sequence":"6","creationDate":"2025-03-01T09:12:44.000003Z",)"
                R"("payload":{"userLoginMustBeDomain":false,"validateOrgDomains":true},)"
                R"("type":{"type":"org.policy.domain.changed","localized":{"key":)"
                R"("EventTypes.org.policy.domain.changed","localizedMessage":)"
                R"("Domain policy changed"}}}]})");
}

TEST(FakeUpstreamEventsTest, PayloadsOmitFalseOnAddAndKeepOnlyChangedKeys) {
  FakeUpstream fake;
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.AddOrgPolicy(org, {}).ok());
  ASSERT_TRUE(fake.ChangeOrgPolicy(org, {true, false, true}).ok());
  ASSERT_TRUE(fake.ChangeOrgPolicy(org, {false, false, true}).ok());
  ASSERT_TRUE(fake.RemoveOrgPolicy(org).ok());
  ASSERT_TRUE(fake.DeactivateOrg(org).ok());
  json events = TestClient(fake).Events({{"asc", true}, {"aggregateId", org}})["events"];
  ASSERT_EQ(events.size(), 9u);
  EXPECT_EQ(events[0]["payload"], json({{"name", "acme"}}));
  EXPECT_EQ(events[4]["payload"], json::object());  // added with all false: "{}"
  EXPECT_EQ(events[5]["payload"], json({{"userLoginMustBeDomain", true},
                                        {"smtpSenderAddressMatchesInstanceDomain", true}}));
  EXPECT_EQ(events[6]["payload"], json({{"userLoginMustBeDomain", false}}));
  EXPECT_EQ(events[7]["type"]["type"], "org.policy.domain.removed");
  EXPECT_FALSE(events[7].contains("payload"));
  EXPECT_FALSE(events[8].contains("payload"));  // org.deactivated
}

TEST(FakeUpstreamEventsTest, EventsOfOnePushShareCreationDateAndSequencesArePerAggregate) {
  FakeUpstream fake(DomainOnly());
  const std::string a = fake.AddOrg("a");
  const std::string b = fake.AddOrg("b");
  ASSERT_TRUE(fake.AddOrgPolicy(a, {}).ok());
  ASSERT_TRUE(fake.ChangeDefaultPolicy({.user_login_must_be_domain = true}).ok());
  json events = TestClient(fake).Events({{"asc", true}})["events"];
  ASSERT_EQ(events.size(), 3u + 4u + 4u + 1u + 1u);
  EXPECT_EQ(Types(json{{"events", events}}),
            (std::vector<std::string>{
                "instance.added", "instance.policy.domain.added", "instance.domain.added",
                "org.added", "org.domain.added", "org.domain.verified", "org.domain.primary.set",
                "org.added", "org.domain.added", "org.domain.verified", "org.domain.primary.set",
                "org.policy.domain.added", "instance.policy.domain.changed"}));
  const std::vector<std::string> sequences = {"1", "2", "3", "1", "2", "3", "4",
                                              "1", "2", "3", "4", "5", "4"};
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["sequence"], sequences[i]);
  // One creationDate per push, strictly increasing across pushes.
  for (int push_start : {0, 3, 7}) {
    const int size = push_start == 0 ? 3 : 4;
    for (int i = 1; i < size; ++i) {
      EXPECT_EQ(events[push_start + i]["creationDate"], events[push_start]["creationDate"]);
    }
  }
  std::set<std::string> dates;
  for (const json& e : events) dates.insert(e["creationDate"]);
  EXPECT_EQ(dates.size(), 5u);
  EXPECT_LT(*ParseTimestamp(events[3]["creationDate"].get<std::string>()),
            *ParseTimestamp(events[7]["creationDate"].get<std::string>()));
  EXPECT_EQ(events[4]["aggregate"]["id"], a);
  EXPECT_EQ(events[8]["aggregate"]["id"], b);
  EXPECT_EQ(events[12]["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(events[12]["aggregate"]["resourceOwner"], fake.instance_id());
}

TEST(FakeUpstreamEventsTest, FromIsStrictAndFollowsTheDirection) {
  FakeUpstream fake(DomainOnly());
  const std::string a = fake.AddOrg("a");
  const std::string a_date = FormatTimestamp(fake.LastEventTime());
  ASSERT_TRUE(fake.AddOrgPolicy(a, {}).ok());
  TestClient client(fake);
  // asc: created_at > from, so the whole AddOrg push at `from` is skipped.
  EXPECT_EQ(Types(client.Events({{"asc", true}, {"from", a_date}})),
            std::vector<std::string>{"org.policy.domain.added"});
  // The deprecated creationDate is the same filter; snake_case works too.
  EXPECT_EQ(Types(client.Events({{"asc", true}, {"creation_date", a_date}})),
            std::vector<std::string>{"org.policy.domain.added"});
  // desc: created_at < from, newest first.
  EXPECT_EQ(Types(client.Events({{"from", a_date}})),
            (std::vector<std::string>{"instance.domain.added", "instance.policy.domain.added",
                                      "instance.added"}));
  // range: both ends strict.
  const std::string first = client.Events({{"asc", true}})["events"][0]["creationDate"];
  const std::string last = FormatTimestamp(fake.LastEventTime());
  EXPECT_EQ(client.Events({{"asc", true}, {"range", {{"since", first}, {"until", last}}}})["events"]
                .size(),
            4u);
  EXPECT_EQ(client
                .Post("/admin/v1/events/_search",
                      json({{"from", a_date}, {"range", {{"since", first}}}}).dump())
                .status,
            400);
}

TEST(FakeUpstreamEventsTest, FiltersByTypeAggregateAndResourceOwner) {
  FakeUpstream fake;
  const std::string a = fake.AddOrg("a");
  const std::string b = fake.AddOrg("b");
  ASSERT_TRUE(fake.AddOrgPolicy(b, {}).ok());
  ASSERT_TRUE(fake.PushRawEvent({.type = "user.added",
                                 .aggregate_type = "user",
                                 .aggregate_id = "42",
                                 .resource_owner = a})
                  .ok());
  TestClient client(fake);
  EXPECT_EQ(Types(client.Events(
                {{"asc", true}, {"eventTypes", {"org.policy.domain.added", "instance.added"}}})),
            (std::vector<std::string>{"instance.added", "org.policy.domain.added"}));
  EXPECT_EQ(client.Events({{"aggregateTypes", {"org"}}, {"aggregate_id", b}})["events"].size(), 5u);
  EXPECT_EQ(Types(client.Events({{"resourceOwner", a}, {"aggregateTypes", {"user"}}})),
            std::vector<std::string>{"user.added"});
  // Aggregate types derive from the event types' prefixes when not given.
  EXPECT_TRUE(
      Types(client.Events({{"eventTypes", {"user.added"}}, {"aggregateTypes", {"org"}}})).empty());
  EXPECT_EQ(Types(client.Events({{"asc", true}, {"aggregateId", b}, {"sequence", "4"}})),
            std::vector<std::string>{"org.policy.domain.added"});
  EXPECT_EQ(client
                .Post("/admin/v1/events/_search",
                      json({{"eventTypes", std::vector<std::string>(31, "x")}}).dump())
                .status,
            400);
  EXPECT_EQ(
      client.Post("/admin/v1/events/_search", R"({"eventTypes":["x"],"event_types":["y"]})").status,
      400);
  // Nothing matches: "events" is omitted.
  EXPECT_EQ(client.Post("/admin/v1/events/_search", R"({"eventTypes":["nope"]})").body, "{}");
  // An empty body is an empty request: newest first.
  EXPECT_EQ(client.Post("/admin/v1/events/_search", "").Json()["events"][0]["type"]["type"],
            "user.added");
}

TEST(FakeUpstreamEventsTest, PagesAreCappedAtOneThousandEvenInsideOneCreationDate) {
  FakeUpstream fake(DomainOnly());
  fake.BeginSharedTimestamp();
  for (int i = 0; i < 1200; ++i) {
    ASSERT_TRUE(fake.PushRawEvent({.type = "org.test", .aggregate_id = "7"}).ok());
  }
  fake.EndSharedTimestamp();
  TestClient client(fake);
  for (int limit : {0, 1001, 5000}) {
    json events = client.Events({{"asc", true}, {"limit", limit}})["events"];
    ASSERT_EQ(events.size(), 1000u) << "limit " << limit;
    EXPECT_EQ(events[999]["creationDate"], events[3]["creationDate"]);
  }
  EXPECT_EQ(client.Events({{"asc", true}, {"limit", "10"}})["events"].size(), 10u);
  json newest = client.Events({{"limit", 1}})["events"][0];
  EXPECT_EQ(newest["sequence"], "1200");
  // The classic trap: from = the page's last creationDate skips the rest of the group.
  const std::string last = client.Events({{"asc", true}})["events"][999]["creationDate"];
  EXPECT_FALSE(client.Events({{"asc", true}, {"from", last}}).contains("events"));
}

TEST(FakeUpstreamEventsTest, AuditLogRetentionHidesOldEvents) {
  FakeUpstream fake(DomainOnly());
  const std::string a = fake.AddOrg("a");
  fake.AdvanceClock(std::chrono::hours(2));
  ASSERT_TRUE(fake.AddOrgPolicy(a, {}).ok());
  TestClient client(fake);
  EXPECT_EQ(client.Events({{"asc", true}})["events"].size(), 8u);
  fake.SetAuditLogRetention(std::chrono::hours(1));
  EXPECT_EQ(Types(client.Events({{"asc", true}})),
            std::vector<std::string>{"org.policy.domain.added"});
  // The state itself is complete: a snapshot still sees the org.
  EXPECT_EQ(fake.OrgIds(), std::vector<std::string>{a});
  fake.SetAuditLogRetention(std::chrono::nanoseconds(0));
  EXPECT_EQ(client.Events({{"asc", true}})["events"].size(), 8u);
}

TEST(FakeUpstreamEventsTest, LegacyEventsHaveTheirOldNamesAndTheEffectOfTheNewOnes) {
  FakeUpstream fake;
  const std::string org = fake.AddOrg("acme");
  ASSERT_TRUE(fake.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgAdded, org, true).ok());
  EXPECT_TRUE(fake.EffectivePolicy(org).flags.user_login_must_be_domain);
  EXPECT_FALSE(fake.EffectivePolicy(org).is_default);
  ASSERT_TRUE(fake.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgChanged, org, false).ok());
  EXPECT_FALSE(fake.EffectivePolicy(org).flags.user_login_must_be_domain);
  ASSERT_TRUE(fake.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgRemoved, org, false).ok());
  EXPECT_TRUE(fake.EffectivePolicy(org).is_default);
  ASSERT_TRUE(fake.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "", true).ok());
  EXPECT_TRUE(fake.EffectivePolicy(org).flags.user_login_must_be_domain);
  // A raw event changes nothing.
  ASSERT_TRUE(fake.PushRawEvent({.type = "iam.policy.org.iam.added",
                                 .aggregate_type = "iam",
                                 .aggregate_id = "IAM",
                                 .payload = R"({"userLoginMustBeDomain": false})"})
                  .ok());
  EXPECT_TRUE(fake.EffectivePolicy(org).flags.user_login_must_be_domain);
  EXPECT_FALSE(fake.PushRawEvent({.type = "x", .payload = "[1]"}).ok());

  json events = TestClient(fake).Events({{"limit", 5}})["events"];
  EXPECT_EQ(Types(json{{"events", events}}),
            (std::vector<std::string>{"iam.policy.org.iam.added", "iam.policy.org.iam.changed",
                                      "org.iam.policy.removed", "org.iam.policy.changed",
                                      "org.iam.policy.added"}));
  EXPECT_EQ(events[0]["payload"], json({{"userLoginMustBeDomain", false}}));
  EXPECT_EQ(events[1]["payload"], json({{"userLoginMustBeDomain", true}}));
  EXPECT_FALSE(events[2].contains("payload"));
  EXPECT_EQ(events[4]["payload"], json({{"userLoginMustBeDomain", true}}));
  EXPECT_EQ(events[4]["type"]["localized"]["localizedMessage"], "EventTypes.org.iam.policy.added");
  // The v1 instance events are on their own stream, numbered from 1.
  EXPECT_EQ(events[1]["aggregate"]["type"]["type"], "iam");
  EXPECT_EQ(events[1]["aggregate"]["id"], "IAM");
  EXPECT_EQ(events[1]["aggregate"]["resourceOwner"], fake.instance_id());
  EXPECT_EQ(events[1]["sequence"], "1");
}

// The upstream derives aggregate types only from event types it still registers: legacy names
// match nothing unless the query names their aggregate types (facts §4).
TEST(FakeUpstreamEventsTest, LegacyTypesMatchOnlyWhenTheirAggregateTypesAreNamed) {
  FakeUpstream fake;
  ASSERT_TRUE(fake.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "", true).ok());
  TestClient client(fake);
  const json legacy = {"iam.policy.org.iam.added", "iam.policy.org.iam.changed"};
  EXPECT_TRUE(Types(client.Events({{"eventTypes", legacy}})).empty());
  EXPECT_EQ(Types(client.Events({{"eventTypes", legacy}, {"aggregateTypes", {"iam"}}})),
            std::vector<std::string>{"iam.policy.org.iam.changed"});
}

// Each stream numbers its events from 1: moving the instance's events to aggregate id "IAM" and
// back to the instance id gives three streams of the instance's policy history.
TEST(FakeUpstreamEventsTest, EachInstanceStreamNumbersItsEventsFromOne) {
  FakeUpstream fake;
  ASSERT_TRUE(fake.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "", true).ok());
  fake.SetInstanceAggregateId("IAM");
  ASSERT_TRUE(fake.ChangeDefaultPolicy({false, true, false}).ok());
  EXPECT_EQ(fake.EffectivePolicy("any").details.sequence, 1u);
  fake.SetInstanceAggregateId("");
  ASSERT_TRUE(fake.ChangeDefaultPolicy({true, true, false}).ok());
  // The setup push numbered 1..14 on the instance id's stream.
  EXPECT_EQ(fake.EffectivePolicy("any").details.sequence, 15u);
  json events = TestClient(fake).Events({{"limit", 3}})["events"];
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1]["aggregate"]["id"], "IAM");
  EXPECT_EQ(events[1]["aggregate"]["type"]["type"], "instance");
  EXPECT_EQ(events[1]["sequence"], "1");
  EXPECT_EQ(events[0]["aggregate"]["id"], fake.instance_id());
  EXPECT_EQ(events[0]["sequence"], "15");
}

}  // namespace
}  // namespace policyd::testing_support
