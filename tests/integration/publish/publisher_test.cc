// The fleet publisher (src/publish) against real nats-server processes: a RocksDB store in a temp
// dir, written through a ChangeFeed, published into a bucket that the test reads back.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#include "publish_test_util.h"

namespace policyd::publish::testing {
namespace {

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start());
    conn_ = MustConnect(nats::testing::Options(cluster_.Urls()));
    ASSERT_NE(conn_, nullptr);
    bucket_ = nats::testing::MustCreate(*conn_, "policyd");
    ASSERT_NE(bucket_, nullptr);
  }

  std::string Key(const std::string& org) {
    return fleet::FormatKey({fleet::KeyKind::kOrg, org}).value();
  }
  // Writes a value for org `id` at `version` straight into the bucket (another writer).
  std::uint64_t WriteOrg(const std::string& id, const SourceVersion& version,
                         bool must_be_domain = true) {
    const fleet::FleetKey fk{fleet::KeyKind::kOrg, id};
    OrgRecord org{id, PolicyAt(version.sequence, id, must_be_domain)};
    OrgDomains domains{id, {}, 0, {}};
    return nats::testing::MustPut(*bucket_, Key(id),
                                  Encoded(fk, {version, fleet::OrgEntry{org, domains}}))
        .revision;
  }
  std::optional<nats::KvEntry> Get(const std::string& key) {
    Result<std::optional<nats::KvEntry>> e = bucket_->Get(key);
    EXPECT_TRUE(e.has_value()) << e.error().ToString();
    return e ? *e : std::nullopt;
  }
  Result<fleet::FleetValue> Decoded(const std::string& org) {
    std::optional<nats::KvEntry> e = Get(Key(org));
    if (!e || e->op != nats::KvOp::kPut) return Err(Status::NotFound("no value"));
    return fleet::DecodeValue({fleet::KeyKind::kOrg, org}, e->value);
  }

  NatsCluster cluster_;
  std::unique_ptr<nats::NatsConnection> conn_;
  std::unique_ptr<nats::KvBucket> bucket_;
};

TEST_F(PublisherTest, FillsAnEmptyBucketWithTheStore) {
  PublisherNode a;
  a.Apply(Fill(40, 1000));
  ASSERT_TRUE(a.Start(Options(cluster_.Urls(), "pub-a")));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *a.store); }, 10s));
  ASSERT_TRUE(WaitFor([&] { return a.publisher->Status().resync_passes >= 1; }, 5s, "a pass"));
  const FleetStatus s = a.publisher->Status();
  EXPECT_EQ(s.role, FleetRole::kPublisher);
  EXPECT_EQ(s.bucket, "policyd");
  EXPECT_EQ(s.connection, FleetConnection::kConnected);
  EXPECT_EQ(s.servers, cluster_.Url(0));
  EXPECT_GE(s.writes, 41u);  // instance + 40 orgs (+ the heartbeat)
  EXPECT_EQ(s.write_errors, 0u);
  EXPECT_GT(s.cursor, 0u);
}

TEST_F(PublisherTest, PublishesWhatTheFeedReportsAndNothingElse) {
  PublisherNode a;
  a.Apply(Fill(20, 1000));
  ASSERT_TRUE(a.Start(Options(cluster_.Urls(), "pub-a")));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *a.store); }, 10s));
  const std::uint64_t untouched = Get(Key(OrgId(5)))->revision;

  StoreChange change;
  PutOrg(change, OrgId(3), OrgVersion(1010, OrgId(3), 2), /*must_be_domain=*/true);
  PutOrg(change, OrgId(99), OrgVersion(1010, OrgId(99), 1));
  change.removed_orgs.push_back(OrgId(7));
  change.cursor = CursorAt(1010);
  change.synced_at = T(1010);
  a.Apply(change);

  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *a.store); }, 10s));
  EXPECT_EQ(Decoded(OrgId(3))->version, OrgVersion(1010, OrgId(3), 2));
  EXPECT_EQ(Decoded(OrgId(99))->version, OrgVersion(1010, OrgId(99), 1));
  std::optional<nats::KvEntry> removed = Get(Key(OrgId(7)));
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->op, nats::KvOp::kDelete);         // a marker, not a purge
  EXPECT_EQ(Get(Key(OrgId(5)))->revision, untouched);  // unchanged keys are not rewritten
}

TEST_F(PublisherTest, AnOlderPublisherNeverUndoesANewerOne) {
  PublisherNode fast;
  fast.Apply(Fill(10, 1000));
  StoreChange newer;
  PutOrg(newer, OrgId(1), OrgVersion(1200, OrgId(1), 5), true);  // changed after 1000
  PutOrg(newer, OrgId(50), OrgVersion(1190, OrgId(50)));         // created after 1000
  newer.cursor = CursorAt(1200);
  fast.Apply(newer);
  StoreChange removal;
  removal.removed_orgs.push_back(OrgId(2));  // removed after 1000
  removal.cursor = CursorAt(1200);
  fast.Apply(removal);
  ASSERT_TRUE(fast.Start(Options(cluster_.Urls(), "fast")));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *fast.store); }, 10s));
  ASSERT_TRUE(WaitFor([&] { return fast.publisher->Status().resync_passes >= 1; }, 5s, "pass"));
  fast.publisher->Stop();
  const std::map<std::string, nats::KvEntry> before = ReadBucket(*bucket_).value();

  // The lagging publisher's store is at 1000: org 1 older, org 50 unknown (newer than its
  // horizon), org 2 still present.
  PublisherNode slow;
  slow.Apply(Fill(10, 1000));
  ASSERT_TRUE(slow.Start(Options(cluster_.Urls(), "slow")));
  ASSERT_TRUE(WaitFor([&] { return slow.publisher->Status().resync_passes >= 1; }, 10s, "pass"));
  slow.publisher->Resync();  // and an anti-entropy pass on demand
  ASSERT_TRUE(WaitFor([&] { return slow.publisher->Status().resync_passes >= 2; }, 10s, "pass"));
  std::map<std::string, nats::KvEntry> after = ReadBucket(*bucket_).value();
  after.erase("heartbeat.slow");
  std::map<std::string, nats::KvEntry> expected = before;
  EXPECT_EQ(after.size(), expected.size());
  for (const auto& [key, entry] : expected) {
    ASSERT_TRUE(after.contains(key)) << key;
    EXPECT_EQ(after[key].revision, entry.revision) << key << " was rewritten";
  }
  EXPECT_TRUE(BucketEqualsStore(*bucket_, *fast.store));
  EXPECT_EQ(slow.publisher->Status().writes, 1u);  // its heartbeat only
  EXPECT_GT(slow.publisher->Status().values_skipped, 0u);
}

TEST_F(PublisherTest, TwoPublishersWritingAtOnceConverge) {
  PublisherNode a, b;
  a.Apply(Fill(30, 1000));
  b.Apply(Fill(30, 1000));
  ASSERT_TRUE(a.Start(Options(cluster_.Urls(), "pub-a")));
  ASSERT_TRUE(b.Start(Options(cluster_.Urls(), "pub-b")));
  // Both apply the same changes, in different order and at different times.
  std::thread writer_b([&] {
    for (int k = 30; k >= 1; --k) {
      StoreChange c;
      PutOrg(c, OrgId(k % 30), OrgVersion(1000 + k, OrgId(k % 30), 1 + k), k % 2 == 0);
      c.cursor = CursorAt(1000 + k);
      b.Apply(c);
    }
  });
  for (int k = 1; k <= 30; ++k) {
    StoreChange c;
    PutOrg(c, OrgId(k % 30), OrgVersion(1000 + k, OrgId(k % 30), 1 + k), k % 2 == 0);
    c.cursor = CursorAt(1000 + k);
    a.Apply(c);
  }
  writer_b.join();
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *a.store); }, 15s));
  EXPECT_TRUE(BucketEqualsStore(*bucket_, *b.store));
  const FleetStatus sa = a.publisher->Status(), sb = b.publisher->Status();
  std::cerr << "[ info ] a: writes " << sa.writes << " skipped " << sa.values_skipped
            << " conflicts " << sa.write_conflicts << "; b: writes " << sb.writes << " skipped "
            << sb.values_skipped << " conflicts " << sb.write_conflicts << "\n";
}

TEST_F(PublisherTest, ALostCompareAndSetIsReadAgainAndDecidedAgain) {
  PublisherNode a;
  a.Apply(Fill(100, 1000));  // enough keys for the initial fill to write on several threads
  // Just before the publisher's first write of org 1, another writer puts an older value, and
  // before its first write of org 2 a newer one: both guards go stale.
  std::atomic<bool> older_injected{false}, newer_injected{false};
  PublisherOptions options = Options(cluster_.Urls(), "pub-a");
  options.before_write = [&](const nats::WriteRequest& r) {  // runs on a publisher thread
    if (r.key == Key(OrgId(1)) && !older_injected.exchange(true)) {
      WriteOrg(OrgId(1), OrgVersion(900, OrgId(1)));
    } else if (r.key == Key(OrgId(2)) && !newer_injected.exchange(true)) {
      WriteOrg(OrgId(2), OrgVersion(1100, OrgId(2)));
    }
  };
  ASSERT_TRUE(a.Start(std::move(options)));
  ASSERT_TRUE(WaitFor([&] { return a.publisher->Status().resync_passes >= 1; }, 10s, "pass"));
  EXPECT_TRUE(older_injected);
  EXPECT_TRUE(newer_injected);
  EXPECT_GE(a.publisher->Status().write_conflicts, 2u);
  EXPECT_EQ(Decoded(OrgId(1))->version, OrgVersion(1000, OrgId(1)));  // written again: newer
  EXPECT_EQ(Decoded(OrgId(2))->version, OrgVersion(1100, OrgId(2)));  // the other's: newer
  EXPECT_EQ(Decoded(OrgId(3))->version, OrgVersion(1000, OrgId(3)));
  EXPECT_TRUE(BucketEqualsStore(*bucket_, *a.store, {}, {Key(OrgId(2))}));
}

TEST_F(PublisherTest, AntiEntropyRepairsKeysAlteredBehindItsBack) {
  PublisherNode a;
  a.Apply(Fill(10, 1000));
  ASSERT_TRUE(a.Start(Options(cluster_.Urls(), "pub-a")));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *a.store); }, 10s));

  WriteOrg(OrgId(2), OrgVersion(900, OrgId(2)));         // older: rewritten
  WriteOrg(OrgId(3), OrgVersion(1000, OrgId(3)), true);  // equal version, other bytes: rewritten
  nats::testing::MustPut(*bucket_, Key(OrgId(4)), "garbage");  // unreadable: rewritten
  WriteOrg("7777", OrgVersion(1500, "7777"));          // unknown org newer than the horizon: kept
  nats::testing::MustPut(*bucket_, "other.key", "x");  // not a fleet key: left alone
  // A newer publisher's schema: neither overwritten (org 5 is in the store) nor deleted.
  const std::uint64_t newer_rev =
      nats::testing::MustPut(*bucket_, Key(OrgId(5)), NewerSchemaValue(OrgId(5))).revision;
  const std::uint64_t newer_absent_rev =
      nats::testing::MustPut(*bucket_, Key("6666"), NewerSchemaValue("6666")).revision;
  // Another publisher's heartbeat, even an old one: never touched.
  const fleet::FleetValue hb{SourceVersion{T(1), {}, 0}, fleet::Heartbeat{"other", T(1), "x", "0"}};
  const std::uint64_t hb_rev =
      nats::testing::MustPut(*bucket_, "heartbeat.other",
                             Encoded({fleet::KeyKind::kHeartbeat, "other"}, hb))
          .revision;
  WriteOrg("5555", OrgVersion(900, "5555"));  // unknown org, old: deleted (written last)

  ASSERT_TRUE(Eventually(
      [&] {
        a.publisher->Resync();
        return BucketEqualsStore(*bucket_, *a.store, {Key("7777"), Key("6666")}, {Key(OrgId(5))});
      },
      10s))
      << "no pass repaired the bucket";
  EXPECT_EQ(Decoded("7777")->version, OrgVersion(1500, "7777"));
  EXPECT_EQ(Get("other.key")->value, "x");
  EXPECT_EQ(Get(Key("5555"))->op, nats::KvOp::kDelete);
  EXPECT_EQ(Get(Key(OrgId(5)))->revision, newer_rev);
  EXPECT_EQ(Get(Key("6666"))->revision, newer_absent_rev);
  EXPECT_EQ(Get("heartbeat.other")->revision, hb_rev);
}

TEST_F(PublisherTest, AnEmptyStoreDeletesOldOrgKeysButNeverTheInstanceOrHeartbeats) {
  PublisherNode full;
  full.Apply(Fill(5, 1000));
  ASSERT_TRUE(full.Start(Options(cluster_.Urls(), "full")));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *full.store); }, 10s));
  full.publisher->Stop();
  const std::uint64_t instance_rev = Get("domain.instance")->revision;
  const std::uint64_t hb_rev = Get("heartbeat.full")->revision;

  // A store without instance or orgs whose sync is far ahead: every org is gone.
  PublisherNode empty;
  StoreChange c;
  c.cursor = CursorAt(5000);
  c.synced_at = T(5000);
  empty.Apply(c);
  ASSERT_TRUE(empty.Start(Options(cluster_.Urls(), "empty")));
  ASSERT_TRUE(Eventually(
      [&]() -> ::testing::AssertionResult {
        for (int i = 0; i < 5; ++i) {
          std::optional<nats::KvEntry> e = Get(Key(OrgId(i)));
          if (!e || e->op != nats::KvOp::kDelete) {
            return ::testing::AssertionFailure() << OrgId(i) << " not deleted";
          }
        }
        return ::testing::AssertionSuccess();
      },
      10s));
  EXPECT_EQ(Get("domain.instance")->revision, instance_rev);
  EXPECT_EQ(Get("heartbeat.full")->revision, hb_rev);
}

TEST_F(PublisherTest, HeartbeatCarriesTheStoresLastSync) {
  PublisherNode a;
  a.Apply(Fill(3, 1000));
  ASSERT_TRUE(a.Start(Options(cluster_.Urls(), "pub-a")));
  const fleet::FleetKey hk{fleet::KeyKind::kHeartbeat, "pub-a"};
  auto heartbeat = [&]() -> Result<fleet::Heartbeat> {
    std::optional<nats::KvEntry> e = Get("heartbeat.pub-a");
    if (!e) return Err(Status::NotFound("no heartbeat"));
    Result<fleet::FleetValue> v = fleet::DecodeValue(hk, e->value);
    if (!v) return Err(v.error());
    return std::get<fleet::Heartbeat>(v->entry);
  };
  ASSERT_TRUE(WaitFor([&] { return heartbeat().has_value(); }, 10s, "heartbeat"));
  EXPECT_EQ(*heartbeat(), (fleet::Heartbeat{"pub-a", T(1000), "iam.test", "test"}));

  StoreChange c;  // a sync round that changed nothing
  c.synced_at = T(1005);
  a.Apply(c);
  ASSERT_TRUE(WaitFor([&] { return heartbeat() && heartbeat()->last_sync == T(1005); }, 10s,
                      "heartbeat update"));
  const FleetStatus s = a.publisher->Status();
  ASSERT_EQ(s.publishers.size(), 1u);
  EXPECT_EQ(s.publishers[0], (FleetPublisher{"pub-a", T(1005), "iam.test"}));
}

TEST_F(PublisherTest, ASnapshotsHeartbeatIsRefreshedWithTheClock) {
  PublisherNode a;
  a.Apply(Fill(3, 1000));
  FakeClock clock(T(2000));
  PublisherOptions options = Options(cluster_.Urls(), "snap");
  options.static_source = true;
  options.heartbeat_interval = 100ms;
  ASSERT_TRUE(a.Start(std::move(options), clock));
  auto last_sync = [&] {
    std::optional<nats::KvEntry> e = Get("heartbeat.snap");
    if (!e) return Timestamp{};
    Result<fleet::FleetValue> v =
        fleet::DecodeValue({fleet::KeyKind::kHeartbeat, "snap"}, e->value);
    return v ? std::get<fleet::Heartbeat>(v->entry).last_sync : Timestamp{};
  };
  ASSERT_TRUE(WaitFor([&] { return last_sync() == T(2000); }, 10s, "first heartbeat"));
  clock.Set(T(2010));
  ASSERT_TRUE(WaitFor([&] { return last_sync() == T(2010); }, 10s, "refreshed heartbeat"));
}

TEST_F(PublisherTest, ABucketDeletedOrRecreatedByAnOperatorIsFilledAgain) {
  PublisherNode a;
  a.Apply(Fill(10, 1000));
  ASSERT_TRUE(a.Start(Options(cluster_.Urls(), "pub-a")));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *a.store); }, 10s));

  // Recreated (empty): noticed by the next full pass.
  ASSERT_TRUE(bucket_->DeleteBucket().ok());
  bucket_ = nats::testing::MustCreate(*conn_, "policyd");
  ASSERT_NE(bucket_, nullptr);
  a.publisher->Resync();
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket_, *a.store); }, 15s));

  // Deleted: noticed when writes keep failing; the publisher creates it again.
  ASSERT_TRUE(bucket_->DeleteBucket().ok());
  StoreChange c;
  PutOrg(c, OrgId(4), OrgVersion(1001, OrgId(4), 2), true);
  a.Apply(c);
  std::unique_ptr<nats::KvBucket> again;
  ASSERT_TRUE(WaitFor(
      [&] {
        Result<std::unique_ptr<nats::KvBucket>> b = nats::KvBucket::Bind(*conn_, "policyd");
        if (b) again = std::move(*b);
        return again != nullptr;
      },
      15s, "the publisher creates the bucket again"));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*again, *a.store); }, 15s));
}

TEST(PublisherConfigTest, StartRefusesABadConfigurationAtOnce) {
  PublisherNode a;
  struct Case {
    const char* name;
    std::function<void(PublisherOptions&)> edit;
  };
  const std::vector<Case> cases = {
      {"empty publisher id", [](PublisherOptions& o) { o.publisher_id = ""; }},
      {"publisher id with a control character",
       [](PublisherOptions& o) { o.publisher_id = "a\nb"; }},
      {"bucket name", [](PublisherOptions& o) { o.bucket = "a.b"; }},
      {"no URL", [](PublisherOptions& o) { o.connect.urls.clear(); }},
      {"creds file", [](PublisherOptions& o) { o.connect.creds_file = "/nonexistent/creds"; }},
  };
  for (const Case& c : cases) {
    PublisherOptions options = Options({"nats://127.0.0.1:1"}, "pub");
    c.edit(options);
    Publisher publisher(*a.feed, *a.feed, SystemClock(), options);
    ::policyd::Status s = publisher.Start();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << c.name << ": " << s.ToString();
  }
  Publisher twice(*a.feed, *a.feed, SystemClock(), Options({"nats://127.0.0.1:1"}, "pub"));
  ASSERT_TRUE(twice.Start().ok());
  EXPECT_EQ(twice.Start().code(), Code::kFailedPrecondition);
  EXPECT_EQ(twice.Status().connection, FleetConnection::kConnecting);
  twice.Stop();
  twice.Stop();
  EXPECT_EQ(twice.Status().connection, FleetConnection::kClosed);
}

TEST(PublisherNatsDownTest, StartsWhileNatsIsDownAndConvergesWhenItComesUp) {
  NatsCluster cluster;  // not started yet
  PublisherNode a;
  a.Apply(Fill(10, 1000));
  ASSERT_TRUE(a.Start(Options(cluster.Urls(), "pub-a")));
  EXPECT_EQ(a.publisher->Status().connection, FleetConnection::kConnecting);
  // Store writes never wait for NATS.
  StoreChange c;
  PutOrg(c, OrgId(20), OrgVersion(1001, OrgId(20)));
  c.removed_orgs.push_back(OrgId(1));
  c.cursor = CursorAt(1001);
  a.Apply(c);

  ASSERT_TRUE(cluster.Start());
  auto conn = MustConnect(nats::testing::Options(cluster.Urls()));
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<nats::KvBucket> bucket;
  ASSERT_TRUE(WaitFor(
      [&] {
        Result<std::unique_ptr<nats::KvBucket>> b = nats::KvBucket::Bind(*conn, "policyd");
        if (b) bucket = std::move(*b);
        return bucket != nullptr;
      },
      15s, "the publisher creates the bucket"));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket, *a.store); }, 15s));

  EXPECT_EQ(a.publisher->Status().connection, FleetConnection::kConnected);
  // Down again: changes meanwhile arrive after the restart.
  cluster.Stop(0);
  EXPECT_TRUE(
      WaitFor([&] { return a.publisher->Status().connection == FleetConnection::kReconnecting; },
              10s, "reconnecting"));
  StoreChange later;
  PutOrg(later, OrgId(2), OrgVersion(1002, OrgId(2), 2), true);
  later.cursor = CursorAt(1002);
  a.Apply(later);
  ASSERT_TRUE(cluster.Restart(0));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket, *a.store); }, 20s));
}

TEST(PublisherClusterTest, BucketEndsEqualToTheStoreWhenTheStreamLeaderIsKilled) {
  NatsCluster cluster(NatsClusterOptions{3, "", {}});
  ASSERT_TRUE(cluster.Start());
  PublisherNode a;
  a.Apply(Fill(20, 1000));
  PublisherOptions options = Options(cluster.Urls(), "pub-a");
  options.replicas = 3;
  ASSERT_TRUE(a.Start(std::move(options)));
  auto conn = MustConnect(nats::testing::Options(cluster.Urls()));
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<nats::KvBucket> bucket;
  ASSERT_TRUE(WaitFor(
      [&] {
        Result<std::unique_ptr<nats::KvBucket>> b = nats::KvBucket::Bind(*conn, "policyd");
        if (b) bucket = std::move(*b);
        return bucket != nullptr;
      },
      15s, "bucket"));
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket, *a.store); }, 15s));
  Result<nats::BucketInfo> info = bucket->Info();
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->replicas, 3);
  const int leader = cluster.IndexOf(info->leader);
  ASSERT_GE(leader, 0) << info->leader;

  for (int k = 1; k <= 30; ++k) {
    if (k == 10) cluster.Kill(leader);  // mid-publishing
    StoreChange c;
    PutOrg(c, OrgId(k % 20), OrgVersion(1000 + k, OrgId(k % 20), 1 + k), k % 2 == 0);
    if (k % 7 == 0) c.removed_orgs.push_back(OrgId(100 + k));  // never published: a marker
    c.cursor = CursorAt(1000 + k);
    a.Apply(c);
  }
  ASSERT_TRUE(Eventually([&] { return BucketEqualsStore(*bucket, *a.store); }, 30s));
  const FleetStatus s = a.publisher->Status();
  std::cerr << "[ info ] after the leader was killed: writes " << s.writes << ", write errors "
            << s.write_errors << ", conflicts " << s.write_conflicts << "\n";
}

// Figures for docs/fleet.md: the initial fill of N orgs, a full pass that finds nothing to do,
// and one change from the store's write to the bucket. N = 2,000, or $POLICYD_MEASURE_PUBLISH_ORGS;
// one server, or with $POLICYD_MEASURE_PUBLISH_R3 three and a bucket of 3 replicas.
TEST(PublisherMeasurementTest, FillPassAndChangeLatency) {
  const char* env = std::getenv("POLICYD_MEASURE_PUBLISH_ORGS");
  const int n = env != nullptr ? std::atoi(env) : 2000;
  // POLICYD_MEASURE_PUBLISH_R3=1: a 3-node cluster and a bucket with 3 replicas.
  const bool r3 = std::getenv("POLICYD_MEASURE_PUBLISH_R3") != nullptr;
  NatsCluster cluster(NatsClusterOptions{r3 ? 3 : 1, "", {}});
  ASSERT_TRUE(cluster.Start());
  PublisherNode a;
  StoreChange fill = Fill(0, 1000);
  a.Apply(fill);
  for (int begin = 0; begin < n; begin += 1000) {
    StoreChange c;
    for (int i = begin; i < std::min(n, begin + 1000); ++i) {
      PutOrg(c, OrgId(i), OrgVersion(1000, OrgId(i)));
    }
    a.Apply(c);
  }
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  const auto start = Clock::now();
  PublisherOptions options = Options(cluster.Urls(), "pub-a");
  options.replicas = r3 ? 3 : 1;
  ASSERT_TRUE(a.Start(std::move(options)));
  ASSERT_TRUE(WaitFor([&] { return a.publisher->Status().resync_passes >= 1; }, 600s, "fill"));
  const auto filled = Clock::now();
  const std::uint64_t fill_writes = a.publisher->Status().writes;
  ASSERT_GE(fill_writes, static_cast<std::uint64_t>(n));
  a.publisher->Resync();
  ASSERT_TRUE(WaitFor([&] { return a.publisher->Status().resync_passes >= 2; }, 600s, "pass"));
  const auto passed = Clock::now();
  const std::uint64_t pass_writes = a.publisher->Status().writes - fill_writes;

  auto conn = MustConnect(nats::testing::Options(cluster.Urls()));
  ASSERT_NE(conn, nullptr);
  auto bucket = nats::KvBucket::Bind(*conn, "policyd");
  ASSERT_TRUE(bucket.has_value());
  const std::string key = fleet::FormatKey({fleet::KeyKind::kOrg, OrgId(0)}).value();
  std::vector<std::int64_t> latencies;
  for (int k = 1; k <= 20; ++k) {
    StoreChange c;
    PutOrg(c, OrgId(0), OrgVersion(1000 + k, OrgId(0), 1 + k));
    const auto t0 = Clock::now();
    a.Apply(c);
    ASSERT_TRUE(WaitFor(
        [&] {
          auto e = (*bucket)->Get(key);
          if (!e || !*e) return false;
          auto v = fleet::DecodeValue({fleet::KeyKind::kOrg, OrgId(0)}, (**e).value);
          return v && v->version.sequence == static_cast<std::uint64_t>(1 + k);
        },
        10s, "change"));
    latencies.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
  }
  std::sort(latencies.begin(), latencies.end());
  std::cerr << "[ info ] " << (r3 ? "R3, " : "") << n << " orgs: fill " << ms(filled - start)
            << " ms (" << (ms(filled - start) * 1000 / std::max(n, 1))
            << " us a key), a pass with nothing "
            << "to write " << ms(passed - filled) << " ms (" << pass_writes
            << " writes), one change store->bucket p50 " << latencies[latencies.size() / 2]
            << " us, max " << latencies.back() << " us\n";
  EXPECT_EQ(a.publisher->Status().write_errors, 0u);
}
}  // namespace
}  // namespace policyd::publish::testing
