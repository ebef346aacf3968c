#include "publish/change_feed.h"

#include <gtest/gtest.h>

#include <atomic>

#include "../store/store_test_util.h"

namespace policyd::publish {
namespace {

SourceVersion V(std::int64_t seconds) { return SourceVersion{Timestamp{seconds, 0}, {}, 0}; }

class ChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_.Sub("store"));
    ASSERT_NE(store_, nullptr);
    feed_ = std::make_unique<ChangeFeed>(*store_, 3);
  }
  TempDir dir_;
  std::unique_ptr<RocksStore> store_;
  std::unique_ptr<ChangeFeed> feed_;
};

TEST_F(ChangeFeedTest, RecordsTheOrgsAndTheInstanceAChangeNames) {
  StoreChange base;
  base.put_orgs = {Org("b"), Org("c")};
  ASSERT_TRUE(feed_->Apply(base, At(1)).ok());
  feed_->Take();

  StoreChange change;
  change.put_orgs = {Org("a", 3)};
  change.removed_orgs = {"b"};
  change.put_org_domains = {OrgDomains{"c", {OrgDomain{"c.example.com", true, true}}, 2, {}}};
  change.org_versions = {{"a", V(5)}};
  ASSERT_TRUE(feed_->Apply(change, At(2)).ok());
  EXPECT_TRUE(feed_->HasPending());
  FeedChanges got = feed_->Take();
  EXPECT_EQ(got.orgs, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(got.instance);
  EXPECT_FALSE(got.everything);
  EXPECT_FALSE(got.synced);
  EXPECT_FALSE(feed_->HasPending());
  EXPECT_TRUE(feed_->Take().empty());

  for (int kind = 0; kind < 3; ++kind) {
    StoreChange instance;
    if (kind == 0) instance.instance = Instance(2);
    if (kind == 1) instance.instance_domains = InstanceDomains{{"i.example.com"}, 1, {}};
    if (kind == 2) {
      instance.instance = Instance(3);
      instance.instance_version = V(7);
    }
    ASSERT_TRUE(feed_->Apply(instance, At(3)).ok());
    got = feed_->Take();
    EXPECT_TRUE(got.instance) << kind;
    EXPECT_TRUE(got.orgs.empty());
  }
}

TEST_F(ChangeFeedTest, ASyncRoundIsRecordedEvenWhenItChangedNothing) {
  StoreChange round;
  round.synced_at = At(10);
  round.cursor = "whatever";
  ASSERT_TRUE(feed_->Apply(round, At(10)).ok());
  FeedChanges got = feed_->Take();
  EXPECT_TRUE(got.synced);
  EXPECT_TRUE(got.orgs.empty());
  EXPECT_EQ(store_->Meta()->last_sync, At(10));
}

TEST_F(ChangeFeedTest, AFailedWriteRecordsNothing) {
  StoreChange bad;
  bad.put_org_domains = {OrgDomains{"nobody", {OrgDomain{"x.example.com", false, false}}, 1, {}}};
  bad.synced_at = At(4);
  EXPECT_FALSE(feed_->Apply(bad, At(4)).ok());
  EXPECT_FALSE(feed_->HasPending());
}

TEST_F(ChangeFeedTest, ReplaceMeansEverything) {
  Snapshot snapshot;
  snapshot.instance = Instance();
  snapshot.orgs = {Org("x")};
  ASSERT_TRUE(feed_->Replace(snapshot, "", "snapshot:test", At(5)).ok());
  FeedChanges got = feed_->Take();
  EXPECT_TRUE(got.everything);
  EXPECT_TRUE(got.synced);
  EXPECT_TRUE(got.orgs.empty());
}

TEST_F(ChangeFeedTest, TooManyPendingOrgsCollapseIntoEverything) {
  StoreChange change;
  change.put_orgs = {Org("a"), Org("b"), Org("c")};
  ASSERT_TRUE(feed_->Apply(change, At(1)).ok());
  ASSERT_TRUE(feed_->Apply(change, At(2)).ok());  // the same three: still within the limit
  StoreChange more;
  more.put_orgs = {Org("d")};
  ASSERT_TRUE(feed_->Apply(more, At(3)).ok());
  ASSERT_TRUE(feed_->Apply(change, At(4)).ok());
  FeedChanges got = feed_->Take();
  EXPECT_TRUE(got.everything);
  EXPECT_TRUE(got.orgs.empty());
  EXPECT_TRUE(feed_->Take().empty());
}

// Kind rows are recorded as (kind, org id) pairs, defaults with an empty id; a failed write
// records none, and past the limit they collapse into "everything" like orgs.
TEST_F(ChangeFeedTest, RecordsTheKindRowsAChangeNames) {
  StoreChange base;
  base.put_orgs = {Org("a"), Org("b")};
  ASSERT_TRUE(feed_->Apply(base, At(1)).ok());
  feed_->Take();
  auto row = [](PolicyKind kind, std::string org) {
    KindPolicy policy = EmptyKindPolicy(kind);
    policy.details.resource_owner = org.empty() ? "inst-1" : org;
    return KindRowChange{kind, std::move(org), policy, std::nullopt};
  };
  StoreChange change;
  change.put_kind_rows = {row(PolicyKind::kLogin, "b"), row(PolicyKind::kLockout, ""),
                          row(PolicyKind::kLockout, "a")};
  ASSERT_TRUE(feed_->Apply(change, At(2)).ok());
  EXPECT_TRUE(feed_->HasPending());
  FeedChanges got = feed_->Take();
  EXPECT_TRUE(got.orgs.empty());
  EXPECT_FALSE(got.instance);
  EXPECT_EQ(
      got.kind_rows,
      (std::vector<std::pair<PolicyKind, std::string>>{
          {PolicyKind::kLockout, ""}, {PolicyKind::kLockout, "a"}, {PolicyKind::kLogin, "b"}}));
  StoreChange bad;
  bad.put_kind_rows = {row(PolicyKind::kLogin, "nobody")};
  EXPECT_FALSE(feed_->Apply(bad, At(3)).ok());
  EXPECT_TRUE(feed_->Take().empty());
  StoreChange many;
  many.put_kind_rows = {row(PolicyKind::kLogin, "a"), row(PolicyKind::kLabel, "a"),
                        row(PolicyKind::kPrivacy, "a"), row(PolicyKind::kNotification, "a")};
  ASSERT_TRUE(feed_->Apply(many, At(4)).ok());
  got = feed_->Take();
  EXPECT_TRUE(got.everything);
  EXPECT_TRUE(got.kind_rows.empty());
}

TEST_F(ChangeFeedTest, TheListenerRunsAfterEachRecordedWriteUntilCleared) {
  std::atomic<int> calls{0};
  bool saw_pending = false;
  feed_->SetListener([&] {
    ++calls;
    saw_pending = feed_->HasPending();
  });
  StoreChange change;
  change.put_orgs = {Org("a")};
  ASSERT_TRUE(feed_->Apply(change, At(1)).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(saw_pending);  // recorded before the listener runs
  StoreChange bad;
  bad.removed_orgs = {""};
  EXPECT_FALSE(feed_->Apply(bad, At(2)).ok());
  EXPECT_EQ(calls, 1);
  feed_->SetListener({});
  ASSERT_TRUE(feed_->Apply(change, At(3)).ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(ChangeFeedTest, ReadsGoToTheWrappedStore) {
  StoreChange change;
  change.instance = Instance();
  change.put_orgs = {Org("a", 4)};
  change.put_org_domains = {OrgDomains{"a", {OrgDomain{"a.example.com", true, true}}, 2, {}}};
  change.org_versions = {{"a", V(9)}};
  ASSERT_TRUE(feed_->Apply(change, At(1)).ok());
  EXPECT_EQ(DumpStore(*feed_), DumpStore(*store_));
  EXPECT_EQ(feed_->Meta().value(), store_->Meta().value());
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.set_with_versions(true);
  batch.Add("a");
  ASSERT_TRUE(feed_->Read(batch).ok());
  EXPECT_TRUE(batch.org(0).known);
  EXPECT_EQ(batch.version(0), V(9));
  DomainSet domains;
  ASSERT_TRUE(feed_->ReadDomains("a", domains).ok());
  EXPECT_EQ(domains.org.size(), 1u);
  int entries = 0;
  ASSERT_TRUE(feed_
                  ->ForEachEntry(
                      [&](const InstanceRecord&, const InstanceDomains&, const SourceVersion&) {
                        ++entries;
                        return Status::Ok();
                      },
                      [&](const OrgRecord& o, const OrgDomains& d, const SourceVersion& v) {
                        ++entries;
                        EXPECT_EQ(o.id, "a");
                        EXPECT_EQ(d.org_id, "a");
                        EXPECT_EQ(v, V(9));
                        return Status::Ok();
                      })
                  .ok());
  EXPECT_EQ(entries, 2);
  EXPECT_TRUE(feed_->Flush().ok());
}

}  // namespace
}  // namespace policyd::publish
