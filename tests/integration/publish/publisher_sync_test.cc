// The publisher behind the real Syncer: a fake upstream, the real HTTP client and reducer, a
// RocksDB store written through the ChangeFeed, a real nats-server. The store's versions come
// from the reducer (cold start: the cursor's from(); events: their positions), as in the daemon.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "fake_upstream/fake_upstream.h"
#include "publish_test_util.h"
#include "server/serving_state.h"
#include "sync/syncer.h"
#include "upstream/upstream.h"

namespace policyd::publish::testing {
namespace {

// One publisher host: store, feed, Syncer against the fake upstream, Publisher.
class SyncingPublisher {
 public:
  SyncingPublisher(const testing_support::FakeUpstream& upstream, const std::string& token_file) {
    UpstreamOptions options;
    options.base_url = upstream.base_url();
    options.token_file = token_file;
    options.total_timeout = std::chrono::seconds(2);
    auto client = MakeHttpUpstream(options, SystemClock());
    EXPECT_TRUE(client.has_value()) << client.error().ToString();
    if (client) client_ = std::move(*client);
    state_ = std::make_unique<ServingState>(FreshnessOptions{upstream.base_url()});
    SyncOptions sync;
    sync.source = upstream.base_url();
    syncer_ = std::make_unique<Syncer>(*node_.feed, *client_, *state_, SystemClock(), sync);
  }
  ~SyncingPublisher() {
    if (node_.publisher) node_.publisher->Stop();
  }

  ::testing::AssertionResult Sync() {
    Status s = syncer_->SyncOnce();
    if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult StartPublishing(const NatsCluster& cluster, const std::string& id,
                                             const std::string& upstream_url) {
    PublisherOptions options = Options(cluster.Urls(), id);
    options.source = HeartbeatSource(upstream_url);
    return node_.Start(std::move(options));
  }
  const Store& store() const { return *node_.store; }
  Publisher& publisher() { return *node_.publisher; }

 private:
  PublisherNode node_;
  std::unique_ptr<Upstream> client_;
  std::unique_ptr<ServingState> state_;
  std::unique_ptr<Syncer> syncer_;
};

TEST(PublisherSyncTest, TheBucketFollowsTheSyncedStoreAndALaggingPublisherUndoesNothing) {
  NatsCluster cluster;
  ASSERT_TRUE(cluster.Start());
  testing_support::FakeUpstream upstream;
  ASSERT_TRUE(upstream.ok());
  testing_support::TempDir dir;
  const std::string token_file = dir.Join("token");
  std::ofstream(token_file) << "fake-pat-0123456789\n";
  chmod(token_file.c_str(), 0600);
  std::vector<std::string> orgs;
  for (int i = 0; i < 8; ++i) orgs.push_back(upstream.AddOrg("org " + std::to_string(i)));
  ASSERT_TRUE(upstream.AddOrgPolicy(orgs[1], {true, false, true}).ok());
  ASSERT_TRUE(upstream.AddOrgPolicy(orgs[5], {false, true, false}).ok());
  upstream.AdvanceClock(std::chrono::seconds(10));

  SyncingPublisher fast(upstream, token_file), slow(upstream, token_file);
  ASSERT_TRUE(fast.Sync());  // cold starts, the same state
  ASSERT_TRUE(slow.Sync());
  ASSERT_TRUE(fast.StartPublishing(cluster, "fast", upstream.base_url()));
  auto conn = MustConnect(nats::testing::Options(cluster.Urls()));
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<nats::KvBucket> bucket;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto b = nats::KvBucket::Bind(*conn, "policyd");
        if (b) bucket = std::move(*b);
        return bucket != nullptr;
      },
      10s, "bucket"));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket, fast.store()); }, 10s));

  // Changes the fast publisher syncs and the slow one does not (yet).
  upstream.AdvanceClock(std::chrono::seconds(10));
  ASSERT_TRUE(upstream.ChangeOrgPolicy(orgs[1], {false, false, true}).ok());
  ASSERT_TRUE(upstream.AddOrgDomain(orgs[2], "two.example.org").ok());
  ASSERT_TRUE(upstream.RemoveOrg(orgs[3]).ok());
  ASSERT_TRUE(upstream.RemoveOrgPolicy(orgs[5]).ok());
  ASSERT_TRUE(upstream.ChangeDefaultPolicy({false, true, true}).ok());
  const std::string added = upstream.AddOrg("added later");
  ASSERT_TRUE(fast.Sync());
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket, fast.store()); }, 10s));
  std::optional<nats::KvEntry> removed =
      bucket->Get(fleet::FormatKey({fleet::KeyKind::kOrg, orgs[3]}).value()).value();
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->op, nats::KvOp::kDelete);

  // The lagging publisher starts: its passes write nothing of the fast one's.
  Result<std::map<std::string, nats::KvEntry>> before = ReadBucket(*bucket);
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  ASSERT_TRUE(slow.StartPublishing(cluster, "slow", upstream.base_url()));
  ASSERT_TRUE(WaitFor([&] { return slow.publisher().Status().resync_passes >= 1; }, 10s, "pass"));
  slow.publisher().Resync();
  ASSERT_TRUE(WaitFor([&] { return slow.publisher().Status().resync_passes >= 2; }, 10s, "pass"));
  EXPECT_TRUE(BucketEqualsStore(*bucket, fast.store()));
  Result<std::map<std::string, nats::KvEntry>> after = ReadBucket(*bucket);
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  for (const auto& [key, entry] : *before) {
    // The fast publisher's own heartbeat may land meanwhile (it is written at most once per
    // heartbeat_min_gap, so the one after its last sync can come late); the entries may not move.
    if (key.starts_with("heartbeat.")) continue;
    EXPECT_EQ((*after)[key].revision, entry.revision) << key << " was rewritten";
  }

  // Once it has synced too, both stores publish the same bucket.
  ASSERT_TRUE(slow.Sync());
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket, slow.store()); }, 10s));
  EXPECT_TRUE(BucketEqualsStore(*bucket, fast.store()));

  // Heartbeats: each publisher's last sync (written at most once per heartbeat_min_gap), its
  // upstream's host only.
  const Timestamp last_sync = fast.store().Meta()->last_sync;
  ASSERT_TRUE(WaitFor(
      [&] {
        const FleetStatus s = fast.publisher().Status();
        return s.publishers.size() == 1 && s.publishers[0].last_sync == last_sync;
      },
      10s, "the fast publisher's heartbeat"));
  EXPECT_EQ(fast.publisher().Status().publishers[0].source, "127.0.0.1");
  EXPECT_FALSE(added.empty());
}

}  // namespace
}  // namespace policyd::publish::testing
