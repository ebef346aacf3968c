#include "follow/cold_load.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "support/fleet_raw.h"

namespace policyd::follow {
namespace {

using fleet::FleetKey;
using fleet::FleetValue;
using fleet::KeyKind;

SourceVersion V(std::int64_t s, const std::string& id = "") { return {{s, 0}, {"org", id}, 1}; }

fleet::OrgEntry OrgEntryOf(const std::string& id, bool policy, std::vector<OrgDomain> domains) {
  std::optional<PolicyRecord> p;
  if (policy) {
    p = PolicyRecord{};
    p->flags.validate_org_domains = true;
    p->details.resource_owner = id;
  }
  return {{id, p}, {id, std::move(domains), domains.empty() ? 0u : 4u, {"org", id}}};
}

// Encoded messages, kept alive for the Message views.
class Bucket {
 public:
  Message Put(const std::string& key, const FleetValue& value) {
    const FleetKey k = fleet::ParseKey(key).value();
    return Raw(key, fleet::EncodeValue(k, value).value());
  }
  Message Raw(const std::string& key, std::string bytes, MessageOp op = MessageOp::kPut) {
    keys_.push_back(key);
    values_.push_back(std::move(bytes));
    return {keys_.back(), values_.back(), ++revision_, op};
  }
  Message Delete(const std::string& key) { return Raw(key, "", MessageOp::kDelete); }

 private:
  std::uint64_t revision_ = 0;
  std::deque<std::string> keys_;
  std::deque<std::string> values_;
};

const fleet::InstanceEntry kInstance{{"300000000000000001", {}}, {{"inst.example"}, 2, {}}};

TEST(ColdLoadTest, BuildsTheSnapshotWithVersionsFromTheWatch) {
  Bucket b;
  ColdLoad load;
  EXPECT_FALSE(load.Add(b.Put("domain.org.2", {V(20, "2"), OrgEntryOf("2", false, {})})));
  EXPECT_FALSE(load.Add(b.Put("domain.instance", {V(5), kInstance})));
  EXPECT_FALSE(load.Add(
      b.Put("domain.org.1", {V(10, "1"), OrgEntryOf("1", true, {{"one.example", true, true}})})));
  EXPECT_FALSE(load.Add(
      b.Put("heartbeat.p1", {{{700, 0}, {}, 0}, fleet::Heartbeat{"p1", {700, 0}, "iam", "1"}})));
  EXPECT_FALSE(load.Add(
      b.Put("heartbeat.p2", {{{900, 0}, {}, 0}, fleet::Heartbeat{"p2", {900, 0}, "iam", "1"}})));
  EXPECT_EQ(load.highest_revision(), 5u);
  EXPECT_EQ(load.publishers().newest_sync(), (Timestamp{900, 0}));
  EXPECT_EQ(load.publishers().size(), 2u);

  Result<Snapshot> s = load.Build(std::nullopt, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->instance, kInstance.instance);
  EXPECT_EQ(s->instance_domains, kInstance.domains);
  EXPECT_EQ(s->instance_version, V(5));
  ASSERT_EQ(s->orgs.size(), 2u);
  ASSERT_EQ(s->org_domains.size(), 2u);
  ASSERT_EQ(s->org_versions.size(), 2u);
  EXPECT_EQ(s->orgs[0], OrgEntryOf("1", true, {}).org);
  EXPECT_EQ(s->org_domains[0].org_id, "1");
  EXPECT_EQ(s->org_domains[0].domains.size(), 1u);
  EXPECT_EQ(s->org_versions[0], V(10, "1"));
  EXPECT_EQ(s->orgs[1].id, "2");
  EXPECT_FALSE(s->orgs[1].policy.has_value());
  EXPECT_EQ(s->org_versions[1], V(20, "2"));
}

TEST(ColdLoadTest, DeleteMarkersLeaveOrgsOut) {
  Bucket b;
  ColdLoad load;
  EXPECT_FALSE(load.Add(b.Put("domain.instance", {V(5), kInstance})));
  EXPECT_FALSE(load.Add(b.Put("domain.org.1", {V(1, "1"), OrgEntryOf("1", false, {})})));
  EXPECT_FALSE(load.Add(b.Delete("domain.org.1")));
  EXPECT_FALSE(load.Add(b.Delete("domain.org.9")));
  Result<Snapshot> s = load.Build(std::nullopt, {});
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->orgs.empty());
  EXPECT_EQ(load.highest_revision(), 4u);
}

TEST(ColdLoadTest, ARefusedValueKeepsTheLocalEntry) {
  Bucket b;
  ColdLoad load;
  EXPECT_FALSE(load.Add(b.Put("domain.instance", {V(5), kInstance})));
  std::optional<Refusal> r = load.Add(b.Raw("domain.org.7", "garbage"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, RefusalReason::kValue);
  r = load.Add(b.Raw("domain.org.8", testing_support::RawOrgValue("8", 2)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, RefusalReason::kSchema);
  r = load.Add(b.Raw("domain.org.a.b", "x"));  // no org to keep
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, RefusalReason::kKey);
  r = load.Add(b.Raw("domain.instance", "", MessageOp::kDelete));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, RefusalReason::kMarker);
  EXPECT_EQ(load.kept_orgs(), (std::set<std::string>{"7", "8"}));
  EXPECT_FALSE(load.keeps_instance());
  EXPECT_EQ(load.highest_revision(), 5u);

  // The store has 7 and 5 (5 is not in the bucket: dropped), not 8.
  const LocalOrg seven{{"7", std::nullopt}, {"7", {{"seven.example", true, false}}, 3, {}}, V(3)};
  const LocalOrg five{{"5", std::nullopt}, {"5", {}, 0, {}}, V(2)};
  Result<Snapshot> s = load.Build(std::nullopt, {seven, five});
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_EQ(s->orgs.size(), 1u);
  EXPECT_EQ(s->orgs[0].id, "7");
  EXPECT_EQ(s->org_domains[0], seven.domains);
  EXPECT_EQ(s->org_versions[0], V(3));
}

TEST(ColdLoadTest, AGoodValueWinsOverARefusedOne) {
  Bucket b;
  ColdLoad load;
  EXPECT_FALSE(load.Add(b.Put("domain.instance", {V(5), kInstance})));
  EXPECT_FALSE(load.Add(b.Put("domain.org.7", {V(1, "7"), OrgEntryOf("7", true, {})})));
  EXPECT_TRUE(load.Add(b.Raw("domain.org.7", "garbage")));
  EXPECT_TRUE(load.kept_orgs().empty());
  Result<Snapshot> s = load.Build(std::nullopt, {});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->orgs.size(), 1u);
  EXPECT_TRUE(s->orgs[0].policy.has_value());
}

TEST(ColdLoadTest, NeedsAnInstance) {
  Bucket b;
  ColdLoad empty;
  Result<Snapshot> s = empty.Build(std::nullopt, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kFailedPrecondition);

  ColdLoad refused;
  EXPECT_TRUE(refused.Add(b.Raw("domain.instance", "garbage")));
  EXPECT_TRUE(refused.keeps_instance());
  s = refused.Build(std::nullopt, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kFailedPrecondition);
  const LocalInstance local{{"300000000000000009", {}}, {{"local.example"}, 1, {}}, V(4)};
  s = refused.Build(local, {});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->instance.id, "300000000000000009");
  EXPECT_EQ(s->instance_domains, local.domains);
  EXPECT_EQ(s->instance_version, V(4));
}

}  // namespace
}  // namespace policyd::follow
