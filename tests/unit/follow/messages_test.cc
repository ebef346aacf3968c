#include "follow/messages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fleet_raw.h"

namespace policyd::follow {
namespace {

using fleet::FleetKey;
using fleet::FleetValue;
using fleet::KeyKind;

const SourceVersion kV1{{1740820364, 0}, {"org", "42"}, 5};
const SourceVersion kV2{{1740820365, 0}, {"org", "42"}, 6};

FleetValue OrgValue(const std::string& id, const SourceVersion& v = kV1) {
  PolicyRecord p;
  p.flags.user_login_must_be_domain = true;
  p.details = {5, {1740820000, 0}, {1740820364, 0}, id};
  p.stream = {"org", id};
  return {v, fleet::OrgEntry{{id, p}, {id, {{"acme.com", true, true}}, 3, {"org", id}}}};
}
FleetValue InstanceValue() {
  return {kV1, fleet::InstanceEntry{{"300000000000000001", {}},
                                    {{"zitadel.example"}, 2, {"instance", "1"}}}};
}
FleetValue HeartbeatValue(const std::string& id, Timestamp at) {
  return {{at, {}, 0}, fleet::Heartbeat{id, at, "iam.example", "1.0"}};
}
std::string Bytes(const FleetKey& key, const FleetValue& value) {
  return fleet::EncodeValue(key, value).value();
}

TEST(DecodeMessageTest, DecodesEveryKind) {
  const std::string org = Bytes({KeyKind::kOrg, "42"}, OrgValue("42"));
  tl::expected<Decoded, Refusal> d = DecodeMessage({"domain.org.42", org, 7, MessageOp::kPut});
  ASSERT_TRUE(d) << d.error().status.ToString();
  EXPECT_EQ(d->key, (FleetKey{KeyKind::kOrg, "42"}));
  EXPECT_EQ(*d->value, OrgValue("42"));

  const std::string inst = Bytes({KeyKind::kInstance, ""}, InstanceValue());
  d = DecodeMessage({"domain.instance", inst, 8, MessageOp::kPut});
  ASSERT_TRUE(d);
  EXPECT_EQ(*d->value, InstanceValue());

  const std::string hb = Bytes({KeyKind::kHeartbeat, "p1"}, HeartbeatValue("p1", {5, 0}));
  d = DecodeMessage({"heartbeat.p1", hb, 9, MessageOp::kPut});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key.kind, KeyKind::kHeartbeat);
}

TEST(DecodeMessageTest, AnOrgsDeleteOrPurgeMarkerIsItsRemoval) {
  for (MessageOp op : {MessageOp::kDelete, MessageOp::kPurge}) {
    tl::expected<Decoded, Refusal> d = DecodeMessage({"domain.org.42", "", 7, op});
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->value.has_value());
    const StoreChange c = ChangeFor(*d);
    EXPECT_EQ(c.removed_orgs, std::vector<std::string>{"42"});
    EXPECT_TRUE(c.put_orgs.empty());
    EXPECT_FALSE(c.cursor.has_value());
  }
}

TEST(DecodeMessageTest, RefusesHostileMessagesByReason) {
  const std::string org = Bytes({KeyKind::kOrg, "42"}, OrgValue("42"));
  const std::string inst = Bytes({KeyKind::kInstance, ""}, InstanceValue());
  struct Case {
    const char* name;
    Message message;
    RefusalReason reason;
  };
  const std::string major2 = testing_support::RawOrgValue("42", 2);
  const std::string major1 = testing_support::RawOrgValue("42", 1);
  const std::vector<Case> cases = {
      {"two id tokens", {"domain.org.a.b", org, 3, MessageOp::kPut}, RefusalReason::kKey},
      {"unknown kind", {"policy.x", org, 3, MessageOp::kPut}, RefusalReason::kKey},
      {"no id", {"domain.org", org, 3, MessageOp::kPut}, RefusalReason::kKey},
      {"bad escape", {"domain.org.=zz", org, 3, MessageOp::kPut}, RefusalReason::kKey},
      {"garbage bytes",
       {"domain.org.42", "\x01\x02garbage", 3, MessageOp::kPut},
       RefusalReason::kValue},
      {"empty value", {"domain.org.42", "", 3, MessageOp::kPut}, RefusalReason::kValue},
      {"instance value under an org key",
       {"domain.org.42", inst, 3, MessageOp::kPut},
       RefusalReason::kValue},
      {"another org's value", {"domain.org.43", org, 3, MessageOp::kPut}, RefusalReason::kValue},
      {"unknown schema major",
       {"domain.org.42", major2, 3, MessageOp::kPut},
       RefusalReason::kSchema},
      {"marker on the instance",
       {"domain.instance", "", 3, MessageOp::kDelete},
       RefusalReason::kMarker},
      {"marker on a heartbeat", {"heartbeat.p1", "", 3, MessageOp::kPurge}, RefusalReason::kMarker},
  };
  ASSERT_TRUE(DecodeMessage({"domain.org.42", major1, 3, MessageOp::kPut}));
  for (const Case& c : cases) {
    tl::expected<Decoded, Refusal> d = DecodeMessage(c.message);
    ASSERT_FALSE(d) << c.name;
    EXPECT_EQ(d.error().reason, c.reason) << c.name << ": " << d.error().status.ToString();
    EXPECT_NE(d.error().status.message().find("bucket revision 3"), std::string::npos)
        << d.error().status.ToString();
    EXPECT_NE(d.error().status.message().find("bucket key"), std::string::npos)
        << d.error().status.ToString();
  }
}

TEST(DecodeMessageTest, RefusalReasonsHaveMetricNames) {
  EXPECT_EQ(RefusalReasonName(RefusalReason::kKey), "key");
  EXPECT_EQ(RefusalReasonName(RefusalReason::kValue), "value");
  EXPECT_EQ(RefusalReasonName(RefusalReason::kSchema), "schema");
  EXPECT_EQ(RefusalReasonName(RefusalReason::kMarker), "marker");
}

TEST(ShouldApplyTest, AppliesUnlessStrictlyOlder) {
  Decoded org{{KeyKind::kOrg, "42"}, OrgValue("42", kV1)};
  EXPECT_TRUE(ShouldApply(org, SourceVersion{}));  // nothing held
  EXPECT_TRUE(ShouldApply(org, kV1));              // equal: the later revision wins
  EXPECT_FALSE(ShouldApply(org, kV2));             // the store holds newer
  Decoded removal{{KeyKind::kOrg, "42"}, std::nullopt};
  EXPECT_TRUE(ShouldApply(removal, kV2));  // markers have no version: always
  Decoded heartbeat{{KeyKind::kHeartbeat, "p"}, HeartbeatValue("p", {1, 0})};
  EXPECT_FALSE(ShouldApply(heartbeat, SourceVersion{}));  // not data
}

TEST(ChangeForTest, CarriesTheEntryWithItsVersion) {
  const StoreChange org = ChangeFor({{KeyKind::kOrg, "42"}, OrgValue("42", kV2)});
  ASSERT_EQ(org.put_orgs.size(), 1u);
  EXPECT_EQ(org.put_orgs[0], std::get<fleet::OrgEntry>(OrgValue("42").entry).org);
  ASSERT_EQ(org.put_org_domains.size(), 1u);
  EXPECT_EQ(org.put_org_domains[0].org_id, "42");
  EXPECT_EQ(org.put_org_domains[0].sequence, 3u);
  ASSERT_EQ(org.org_versions.size(), 1u);
  EXPECT_EQ(org.org_versions[0], std::make_pair(std::string("42"), kV2));
  EXPECT_FALSE(org.instance.has_value());

  const StoreChange inst = ChangeFor({{KeyKind::kInstance, ""}, InstanceValue()});
  ASSERT_TRUE(inst.instance.has_value());
  EXPECT_EQ(inst.instance->id, "300000000000000001");
  ASSERT_TRUE(inst.instance_domains.has_value());
  EXPECT_EQ(inst.instance_domains->names, std::vector<std::string>{"zitadel.example"});
  EXPECT_EQ(inst.instance_version, kV1);
  EXPECT_TRUE(inst.put_orgs.empty());

  const StoreChange hb = ChangeFor({{KeyKind::kHeartbeat, "p"}, HeartbeatValue("p", {1, 0})});
  EXPECT_TRUE(hb.put_orgs.empty());
  EXPECT_FALSE(hb.instance.has_value());
  EXPECT_TRUE(hb.removed_orgs.empty());
}

TEST(PublisherTableTest, KeepsTheNewestHeartbeatOfEachPublisher) {
  PublisherTable table;
  EXPECT_TRUE(table.newest_sync().IsZero());
  const auto hb = [](const std::string& id, std::int64_t s) {
    return fleet::Heartbeat{id, {s, 0}, "iam-" + id, "1.0"};
  };
  const auto v = [](std::int64_t s) { return SourceVersion{{s, 0}, {}, 0}; };
  EXPECT_TRUE(table.Record(hb("b", 100), v(100)));
  EXPECT_TRUE(table.Record(hb("a", 50), v(50)));
  EXPECT_FALSE(table.Record(hb("b", 90), v(90)));   // older: ignored
  EXPECT_TRUE(table.Record(hb("b", 100), v(100)));  // equal: recorded
  EXPECT_EQ(table.newest_sync(), (Timestamp{100, 0}));
  EXPECT_TRUE(table.Record(hb("a", 120), v(120)));
  EXPECT_EQ(table.newest_sync(), (Timestamp{120, 0}));
  const std::vector<FleetPublisher> list = table.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], (FleetPublisher{"a", {120, 0}, "iam-a"}));
  EXPECT_EQ(list[1], (FleetPublisher{"b", {100, 0}, "iam-b"}));
}

}  // namespace
}  // namespace policyd::follow
