// RocksStore: Apply and Replace semantics, counts, cursor and times, atomicity of failures.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "store/codec.h"
#include "store/rocks_store.h"
#include "store_test_util.h"

namespace policyd {
namespace {

using OrgModel = std::map<std::string, std::optional<PolicyRecord>>;

class RocksStoreApplyTest : public testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(tmp_.path());
    ASSERT_NE(store_, nullptr);
  }

  StoreMeta Meta() {
    Result<StoreMeta> meta = store_->Meta();
    EXPECT_TRUE(meta) << meta.error().ToString();
    return meta.value_or(StoreMeta{});
  }

  // Checks the whole stored state and the counts against `model`.
  testing::AssertionResult Matches(const std::optional<InstanceRecord>& instance,
                                   const OrgModel& model) {
    const Dump dump = DumpStore(*store_);
    if (!(dump == DumpOf(instance, model))) {
      return testing::AssertionFailure() << "stored orgs differ: " << dump.orgs.size()
                                         << " stored, " << model.size() << " expected";
    }
    std::uint64_t custom = 0;
    for (const auto& [id, policy] : model) custom += policy ? 1 : 0;
    const StoreMeta meta = Meta();
    if (meta.org_count != model.size() || meta.custom_policy_count != custom ||
        meta.has_instance != instance.has_value()) {
      return testing::AssertionFailure()
             << "counts " << meta.org_count << "/" << meta.custom_policy_count << "/"
             << meta.has_instance << ", expected " << model.size() << "/" << custom << "/"
             << instance.has_value();
    }
    return testing::AssertionSuccess();
  }

  TempDir tmp_;
  std::unique_ptr<RocksStore> store_;
};

TEST_F(RocksStoreApplyTest, PutsReplacesAndRemovesOrgs) {
  StoreChange change;
  change.instance = Instance(1);
  change.put_orgs = {Org("a", 1), Org("b"), Org("c", 3)};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  EXPECT_TRUE(
      Matches(Instance(1), {{"a", Policy(1, "a")}, {"b", std::nullopt}, {"c", Policy(3, "c")}}));

  change = StoreChange{};
  change.put_orgs = {Org("a"), Org("b", 2)};  // a loses its policy, b gains one
  change.removed_orgs = {"c"};
  ASSERT_TRUE(store_->Apply(change, At(20)).ok());
  EXPECT_TRUE(Matches(Instance(1), {{"a", std::nullopt}, {"b", Policy(2, "b")}}));
}

TEST_F(RocksStoreApplyTest, RemovingAnUnknownOrgIsIgnored) {
  StoreChange change;
  change.instance = Instance();
  change.put_orgs = {Org("a", 1)};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());

  change = StoreChange{};
  change.removed_orgs = {"never-seen", "never-seen"};
  ASSERT_TRUE(store_->Apply(change, At(20)).ok());
  EXPECT_TRUE(Matches(Instance(), {{"a", Policy(1, "a")}}));
  EXPECT_EQ(Meta().last_change, At(10));  // nothing changed
}

TEST_F(RocksStoreApplyTest, RemoveThenReAddInOneChange) {
  StoreChange change;
  change.put_orgs = {Org("a", 1), Org("b")};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());

  change = StoreChange{};
  change.removed_orgs = {"a", "b", "new"};
  change.put_orgs = {Org("a"), Org("new", 4)};  // removals first, then puts
  ASSERT_TRUE(store_->Apply(change, At(20)).ok());
  EXPECT_TRUE(Matches(std::nullopt, {{"a", std::nullopt}, {"new", Policy(4, "new")}}));
}

TEST_F(RocksStoreApplyTest, CursorAndTimesFollowTheChange) {
  StoreChange change;
  change.instance = Instance();
  change.cursor = "c1";
  change.synced_at = At(11);
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  StoreMeta meta = Meta();
  EXPECT_EQ(meta.cursor, "c1");
  EXPECT_EQ(meta.last_change, At(10));
  EXPECT_EQ(meta.last_sync, At(11));

  // Only a newer cursor and sync time: the state did not change.
  change = StoreChange{};
  change.cursor = "c2";
  change.synced_at = At(21);
  ASSERT_TRUE(store_->Apply(change, At(20)).ok());
  meta = Meta();
  EXPECT_EQ(meta.cursor, "c2");
  EXPECT_EQ(meta.last_change, At(10));
  EXPECT_EQ(meta.last_sync, At(21));

  // A change without cursor or sync time keeps both.
  change = StoreChange{};
  change.put_orgs = {Org("a")};
  ASSERT_TRUE(store_->Apply(change, At(30)).ok());
  meta = Meta();
  EXPECT_EQ(meta.cursor, "c2");
  EXPECT_EQ(meta.last_change, At(30));
  EXPECT_EQ(meta.last_sync, At(21));

  // Putting exactly what is stored is not a change.
  change.instance = Instance();
  ASSERT_TRUE(store_->Apply(change, At(40)).ok());
  EXPECT_EQ(Meta().last_change, At(30));

  // An empty cursor is a value, not "unset".
  change = StoreChange{};
  change.cursor = "";
  ASSERT_TRUE(store_->Apply(change, At(50)).ok());
  EXPECT_EQ(Meta().cursor, "");
}

TEST_F(RocksStoreApplyTest, CountsStayExactThroughManyChanges) {
  std::mt19937 rng(42);
  OrgModel model;
  std::optional<InstanceRecord> instance;
  auto id = [&] { return "org-" + std::to_string(rng() % 60); };
  for (int round = 0; round < 400; ++round) {
    StoreChange change;
    if (rng() % 10 == 0) change.instance = Instance(rng() % 5);
    std::set<std::string> put_ids;
    for (int k = static_cast<int>(rng() % 6); k > 0; --k) change.removed_orgs.push_back(id());
    for (int k = static_cast<int>(rng() % 6); k > 0; --k) {
      std::string org_id = id();
      if (!put_ids.insert(org_id).second) continue;
      change.put_orgs.push_back(rng() % 2 ? Org(org_id, rng() % 3) : Org(org_id));
    }
    change.cursor = std::to_string(round);
    ASSERT_TRUE(store_->Apply(change, At(round)).ok()) << round;
    if (change.instance) instance = change.instance;
    for (const std::string& r : change.removed_orgs) model.erase(r);
    for (const OrgRecord& o : change.put_orgs) model[o.id] = o.policy;
    if (round % 97 == 96) {  // a full resync now and then, then more changes on top of it
      Snapshot snapshot{Instance(9), {}};
      for (const auto& [org_id, policy] : model) {
        if (rng() % 4 != 0) snapshot.orgs.push_back(OrgRecord{org_id, policy});
      }
      ASSERT_TRUE(store_->Replace(snapshot, "r", "resync", At(round)).ok());
      instance = snapshot.instance;
      model.clear();
      for (const OrgRecord& o : snapshot.orgs) model[o.id] = o.policy;
    }
    if (round % 150 == 149) {
      ASSERT_TRUE(store_->Flush().ok());
    }
    ASSERT_TRUE(Matches(instance, model)) << "after round " << round;
  }
  EXPECT_EQ(Meta().cursor, "399");
}

TEST_F(RocksStoreApplyTest, FailedBatchLeavesOldState) {
  StoreChange setup;
  setup.instance = Instance(1);
  for (int i = 0; i < 100; ++i) setup.put_orgs.push_back(Org("old-" + std::to_string(i), i));
  setup.cursor = "before";
  setup.synced_at = At(5);
  ASSERT_TRUE(store_->Apply(setup, At(5)).ok());
  const Dump before = DumpStore(*store_);
  const StoreMeta meta_before = Meta();

  const std::vector<std::string> bad_ids = {"", std::string(kMaxIdLength + 1, 'x'), "a\nb",
                                            std::string("nul\0", 4)};
  for (const std::string& bad : bad_ids) {
    StoreChange change;
    change.instance = Instance(2);
    change.removed_orgs = {"old-1", "old-2"};
    for (int i = 0; i < 600; ++i) change.put_orgs.push_back(Org("new-" + std::to_string(i), i));
    change.put_orgs[499].id = bad;  // the 500th entry
    change.cursor = "after";
    change.synced_at = At(9);
    Status s = store_->Apply(change, At(9));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find("put_orgs[499]"), std::string::npos) << s.ToString();
    EXPECT_EQ(DumpStore(*store_), before);
    EXPECT_EQ(Meta(), meta_before);
  }
}

TEST_F(RocksStoreApplyTest, RejectsInvalidChangesWithNothingWritten) {
  StoreChange setup;
  setup.instance = Instance(1);
  setup.put_orgs = {Org("a", 1)};
  ASSERT_TRUE(store_->Apply(setup, At(5)).ok());
  const Dump before = DumpStore(*store_);
  const StoreMeta meta_before = Meta();

  std::vector<std::pair<std::string, StoreChange>> cases;
  StoreChange c;
  c.put_orgs = {Org("x", 1), Org("y"), Org("x")};
  cases.emplace_back("org put twice", c);
  c = StoreChange{};
  c.put_orgs = {Org("x")};
  c.removed_orgs = {"ok", ""};
  cases.emplace_back("empty removed id", c);
  c = StoreChange{};
  c.instance = InstanceRecord{"", Policy(1, "")};
  cases.emplace_back("empty instance id", c);
  c = StoreChange{};
  c.put_orgs = {Org("x", 1)};
  c.put_orgs[0].policy->details.change_date.nanos = 1'000'000'000;
  cases.emplace_back("nanos out of range", c);
  c = StoreChange{};
  c.put_orgs = {Org("x", 1)};
  c.put_orgs[0].policy->details.resource_owner = std::string(kMaxIdLength + 1, 'o');
  cases.emplace_back("resource owner too long", c);
  c = StoreChange{};
  c.put_orgs = {Org("x")};
  c.cursor = std::string(kMaxMetaStringLength + 1, 'c');
  cases.emplace_back("cursor too long", c);

  for (const auto& [name, change] : cases) {
    SCOPED_TRACE(name);
    Status s = store_->Apply(change, At(9));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(DumpStore(*store_), before);
    EXPECT_EQ(Meta(), meta_before);
  }
}

TEST_F(RocksStoreApplyTest, ReplaceDropsOrgsNotInTheSnapshot) {
  StoreChange setup;
  setup.instance = Instance(1);
  for (int i = 0; i < 50; ++i) setup.put_orgs.push_back(Org("org-" + std::to_string(i), i));
  setup.cursor = "old";
  ASSERT_TRUE(store_->Apply(setup, At(5)).ok());

  Snapshot snapshot{Instance(2), {Org("org-7"), Org("org-8", 80), Org("fresh", 1)}};
  ASSERT_TRUE(store_->Replace(snapshot, "new-cursor", "file:/snap.json", At(20)).ok());
  EXPECT_TRUE(Matches(
      Instance(2),
      {{"fresh", Policy(1, "fresh")}, {"org-7", std::nullopt}, {"org-8", Policy(80, "org-8")}}));
  EXPECT_EQ(Meta(), (StoreMeta{3, 2, true, "new-cursor", "file:/snap.json", At(20), At(20)}));

  LookupBatch batch;
  batch.Add("org-1");
  batch.Add("org-8");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_FALSE(batch.org(0).known);
  ASSERT_NE(batch.org(1).own_policy, nullptr);
  EXPECT_EQ(batch.org(1).own_policy->details.sequence, 80u);

  // Source survives later changes until the next Replace.
  StoreChange change;
  change.removed_orgs = {"fresh"};
  ASSERT_TRUE(store_->Apply(change, At(30)).ok());
  EXPECT_EQ(Meta(), (StoreMeta{2, 1, true, "new-cursor", "file:/snap.json", At(30), At(20)}));
}

TEST_F(RocksStoreApplyTest, ReplaceWithAnEmptySnapshotLeavesOnlyTheInstance) {
  StoreChange setup;
  setup.put_orgs = {Org("a", 1), Org("b")};
  ASSERT_TRUE(store_->Apply(setup, At(5)).ok());
  ASSERT_TRUE(store_->Replace(Snapshot{Instance(3), {}}, "", "", At(6)).ok());
  EXPECT_TRUE(Matches(Instance(3), {}));
}

TEST_F(RocksStoreApplyTest, InvalidReplaceLeavesOldState) {
  ASSERT_TRUE(store_->Replace(Snapshot{Instance(1), {Org("a", 1)}}, "c", "s", At(5)).ok());
  const Dump before = DumpStore(*store_);
  const StoreMeta meta_before = Meta();
  const std::vector<Snapshot> bad = {
      Snapshot{Instance(2), {Org("x"), Org("y"), Org("x", 1)}},
      Snapshot{InstanceRecord{"", Policy(1, "")}, {Org("x")}},
      Snapshot{Instance(2), {Org("x"), Org("bad\x01id")}},
  };
  for (const Snapshot& snapshot : bad) {
    Status s = store_->Replace(snapshot, "c2", "s2", At(9));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(DumpStore(*store_), before);
    EXPECT_EQ(Meta(), meta_before);
  }
  EXPECT_EQ(store_
                ->Replace(Snapshot{Instance(2), {}}, std::string(kMaxMetaStringLength + 1, 'c'), "",
                          At(9))
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(DumpStore(*store_), before);
}

}  // namespace
}  // namespace policyd
