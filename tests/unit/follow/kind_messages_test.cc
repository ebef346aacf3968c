// A follower's handling of the generic kinds' keys (issue #14): messages, held rows, cold load.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "follow/cold_load.h"
#include "follow/messages.h"
#include "support/kind_samples.h"

namespace policyd::follow {
namespace {

using fleet::FleetKey;
using fleet::FleetValue;
using fleet::KeyKind;
using test::SampleKindPolicy;

SourceVersion V(std::int64_t s, const std::string& id = "") { return {{s, 0}, {"org", id}, 1}; }

FleetValue KindValue(PolicyKind kind, const std::string& org, std::int64_t at,
                     bool tombstone = false, std::uint32_t salt = 0) {
  fleet::KindEntry e{kind, org, std::nullopt};
  if (!tombstone) e.policy = SampleKindPolicy(kind, salt, org.empty() ? "1" : org);
  return {V(at, org), e};
}

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

fleet::OrgEntry OrgEntryOf(const std::string& id) { return {{id, std::nullopt}, {id, {}, 0, {}}}; }

TEST(FollowKindMessagesTest, AKindRowBecomesOnePutKindRowsChange) {
  Bucket b;
  auto decoded = DecodeMessage(b.Put("login.org.42", KindValue(PolicyKind::kLogin, "42", 10)));
  ASSERT_TRUE(decoded) << decoded.error().status.ToString();
  EXPECT_TRUE(ShouldApply(*decoded, {}));
  EXPECT_TRUE(ShouldApply(*decoded, V(10, "42")));  // equal: a rewrite reaches followers
  EXPECT_FALSE(ShouldApply(*decoded, V(11, "42")));
  const StoreChange change = ChangeFor(*decoded);
  ASSERT_EQ(change.put_kind_rows.size(), 1u);
  EXPECT_EQ(change.put_kind_rows[0].kind, PolicyKind::kLogin);
  EXPECT_EQ(change.put_kind_rows[0].org_id, "42");
  EXPECT_EQ(change.put_kind_rows[0].policy, SampleKindPolicy(PolicyKind::kLogin, 0, "42"));
  EXPECT_EQ(change.put_kind_rows[0].version, V(10, "42"));
  EXPECT_TRUE(change.put_orgs.empty());

  // A tombstone: the own row removed, the version kept.
  decoded = DecodeMessage(
      b.Put("label-preview.org.42", KindValue(PolicyKind::kLabelPreview, "42", 12, true)));
  ASSERT_TRUE(decoded);
  const StoreChange removed = ChangeFor(*decoded);
  ASSERT_EQ(removed.put_kind_rows.size(), 1u);
  EXPECT_FALSE(removed.put_kind_rows[0].policy);
  EXPECT_EQ(removed.put_kind_rows[0].version, V(12, "42"));

  // A default.
  decoded = DecodeMessage(b.Put("privacy.instance", KindValue(PolicyKind::kPrivacy, "", 3)));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(ChangeFor(*decoded).put_kind_rows.at(0).org_id, "");
}

TEST(FollowKindMessagesTest, KindMarkersAreAcceptedButApplyNothing) {
  Bucket b;
  auto decoded = DecodeMessage(b.Delete("lockout.org.42"));
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(ShouldApply(*decoded, {}));
  const StoreChange change = ChangeFor(*decoded);
  EXPECT_TRUE(change.removed_orgs.empty());
  EXPECT_TRUE(change.put_kind_rows.empty());
  // A marker on a kind's default is refused like one on the instance key.
  auto refused = DecodeMessage(b.Delete("lockout.instance"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, RefusalReason::kMarker);
}

TEST(FollowKindMessagesTest, HostileKindValuesAreRefusedByReason) {
  Bucket b;
  // A login row under a label key, garbage, an unknown kind name.
  const std::string login = fleet::EncodeValue(fleet::ParseKey("login.org.42").value(),
                                               KindValue(PolicyKind::kLogin, "42", 10))
                                .value();
  auto refused = DecodeMessage(b.Raw("label.org.42", login));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, RefusalReason::kValue);
  refused = DecodeMessage(b.Raw("login.org.42", "garbage"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, RefusalReason::kValue);
  refused = DecodeMessage(b.Raw("password-strength.org.42", login));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, RefusalReason::kKey);
}

TEST(PendingKindRowsTest, HoldsTheNewestRowPerKindUntilTheOrgArrives) {
  PendingKindRows pending(3);
  auto entry = [](PolicyKind kind, const std::string& org, std::uint32_t salt) {
    return fleet::KindEntry{kind, org, SampleKindPolicy(kind, salt, org)};
  };
  EXPECT_TRUE(pending.Hold(entry(PolicyKind::kLogin, "42", 1), V(10, "42")));
  EXPECT_TRUE(pending.Hold(entry(PolicyKind::kLogin, "42", 2), V(9, "42")));  // older: ignored
  EXPECT_TRUE(pending.Hold(entry(PolicyKind::kLabel, "42", 3), V(11, "42")));
  EXPECT_TRUE(pending.Hold(entry(PolicyKind::kLabel, "43", 3), V(11, "43")));
  EXPECT_FALSE(pending.Hold(entry(PolicyKind::kLockout, "44", 3), V(11, "44")));  // full
  EXPECT_EQ(pending.size(), 3u);
  std::vector<KindRowChange> rows = pending.Take("42");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].kind, PolicyKind::kLogin);
  EXPECT_EQ(rows[0].policy, SampleKindPolicy(PolicyKind::kLogin, 1, "42"));
  EXPECT_EQ(rows[1].kind, PolicyKind::kLabel);
  EXPECT_TRUE(pending.Take("42").empty());
  pending.Restore(rows);
  EXPECT_EQ(pending.size(), 3u);
  pending.DropOrg("42");
  pending.DropOrg("43");
  EXPECT_EQ(pending.size(), 0u);
  // "4" is a prefix of "42": Take is exact.
  EXPECT_TRUE(pending.Hold(entry(PolicyKind::kLogin, "42", 1), V(10, "42")));
  EXPECT_TRUE(pending.Take("4").empty());
}

TEST(ColdLoadKindsTest, CarriesDefaultsAndOwnRowsOfTheSnapshotsOrgsOnly) {
  Bucket b;
  ColdLoad load;
  EXPECT_FALSE(load.Add(b.Put("login.org.2", KindValue(PolicyKind::kLogin, "2", 21))));
  EXPECT_FALSE(load.Add(b.Put("domain.instance", {V(5), kInstance})));
  EXPECT_FALSE(load.Add(b.Put("domain.org.1", {V(10, "1"), OrgEntryOf("1")})));
  EXPECT_FALSE(load.Add(b.Put("domain.org.2", {V(20, "2"), OrgEntryOf("2")})));
  EXPECT_FALSE(load.Add(b.Put("login.instance", KindValue(PolicyKind::kLogin, "", 4))));
  EXPECT_FALSE(load.Add(b.Put("label.org.1", KindValue(PolicyKind::kLabel, "1", 11, true))));
  EXPECT_FALSE(load.Add(b.Put("lockout.org.9", KindValue(PolicyKind::kLockout, "9", 30))));
  EXPECT_FALSE(load.Add(b.Put("privacy.org.8", KindValue(PolicyKind::kPrivacy, "8", 30))));
  EXPECT_FALSE(load.Add(b.Delete("privacy.org.8")));
  Result<Snapshot> snapshot = load.Build(std::nullopt, {});
  ASSERT_TRUE(snapshot) << snapshot.error().ToString();
  // The default and org 2's login row; org 1's tombstone is not carried; org 9 is not held.
  ASSERT_EQ(snapshot->kind_rows.size(), 2u);
  EXPECT_EQ(snapshot->kind_rows[0].org_id, "");
  EXPECT_EQ(snapshot->kind_rows[0].version, V(4));
  EXPECT_EQ(snapshot->kind_rows[1].org_id, "2");
  EXPECT_EQ(snapshot->kind_rows[1].policy, SampleKindPolicy(PolicyKind::kLogin, 0, "2"));
  EXPECT_EQ(snapshot->kind_rows[1].version, V(21, "2"));
  auto orphans = load.OrphanKindRows(*snapshot);
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].first.org_id, "9");
  EXPECT_EQ(orphans[0].first.kind, PolicyKind::kLockout);
}

TEST(ColdLoadKindsTest, ARefusedKindValueKeepsTheLocalRow) {
  Bucket b;
  ColdLoad load;
  EXPECT_FALSE(load.Add(b.Put("domain.instance", {V(5), kInstance})));
  EXPECT_FALSE(load.Add(b.Put("domain.org.1", {V(10, "1"), OrgEntryOf("1")})));
  EXPECT_TRUE(load.Add(b.Raw("login.org.1", "garbage")));
  EXPECT_TRUE(load.Add(b.Raw("login.instance", "garbage")));
  EXPECT_TRUE(load.Add(b.Raw("label.org.1", "garbage")));
  EXPECT_FALSE(load.Add(b.Put("label.org.1", KindValue(PolicyKind::kLabel, "1", 12))));
  ASSERT_EQ(load.kept_kind_rows().size(), 2u);  // label's good value came later
  const std::vector<KindRow> local = {
      {"", SampleKindPolicy(PolicyKind::kLogin, 5, "1"), V(3)},
      {"1", SampleKindPolicy(PolicyKind::kLogin, 6, "1"), V(9, "1")},
      {"1", SampleKindPolicy(PolicyKind::kLabel, 7, "1"), V(9, "1")}};  // not kept: ignored
  Result<Snapshot> snapshot = load.Build(std::nullopt, {}, local);
  ASSERT_TRUE(snapshot);
  ASSERT_EQ(snapshot->kind_rows.size(), 3u);
  EXPECT_EQ(snapshot->kind_rows[0].policy.kind, PolicyKind::kLabel);
  EXPECT_EQ(snapshot->kind_rows[0].version, V(12, "1"));
  EXPECT_EQ(snapshot->kind_rows[1], local[0]);
  EXPECT_EQ(snapshot->kind_rows[2], local[1]);
}

}  // namespace
}  // namespace policyd::follow
