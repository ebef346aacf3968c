// The fleet follower (src/follow) against a real nats-server: the test writes the bucket itself
// with nats::KvBucket and fleet::EncodeValue (no publisher), and reads the follower's RocksStore.
// Cold and warm starts, live updates, a recreated bucket, NATS down, hostile contents.
#include "follower_test_util.h"
#include "support/fleet_raw.h"

namespace policyd::follow::test {
namespace {

class NatsLibraryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    Status s = nats::ShutdownLibrary(5s);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NatsLibraryEnvironment);

TEST_F(FollowerTest, ColdStartLoadsTheWholeBucketAndDropsLocalOrgsNotInIt) {
  SeedDirectSyncStore({"local-1", "10"});
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {"zitadel.example.com", "login.example.com"});
  w.Org("10", 1700000200, true, {{"acme.com", true, true}, {"acme.org", false, false}});
  w.Org("11", 1700000300, false);
  w.Org("12", 1700000400, true);
  w.Delete("domain.org.12");
  const Timestamp beat{Now().seconds, 0};
  const std::uint64_t last = w.Heartbeat("pub-1", beat);

  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, last));

  EXPECT_FALSE(ReadOrg("local-1").known);  // not in the bucket: dropped
  EXPECT_FALSE(ReadOrg("12").known);       // removed (delete marker)
  const OrgState ten = ReadOrg("10");
  ASSERT_TRUE(ten.known);
  EXPECT_EQ(ten.policy, Policy(1700000200, "10", true));
  EXPECT_EQ(ten.domains.domains,
            (std::vector<OrgDomain>{{"acme.com", true, true}, {"acme.org", false, false}}));
  EXPECT_EQ(ten.domains.sequence, 1700000200u);
  EXPECT_EQ(ten.domains.stream, (EventStream{"org", "10"}));
  EXPECT_EQ(ten.version, Version(1700000200, "10"));
  const OrgState eleven = ReadOrg("11");
  ASSERT_TRUE(eleven.known);
  EXPECT_FALSE(eleven.policy.has_value());
  EXPECT_TRUE(eleven.domains.domains.empty());

  LookupBatch batch;
  batch.set_with_domains(true);
  batch.set_with_versions(true);
  ASSERT_TRUE(store_->Read(batch).ok());
  ASSERT_NE(batch.instance(), nullptr);
  EXPECT_EQ(batch.instance()->id, kInstanceId);
  EXPECT_EQ(batch.instance()->policy.details.change_date, (Timestamp{1700000100, 0}));
  EXPECT_EQ(batch.instance_domains().names,
            (std::vector<std::string>{"zitadel.example.com", "login.example.com"}));
  EXPECT_EQ(batch.instance_version(), Version(1700000100, kInstanceId));

  DomainSet domains;
  ASSERT_TRUE(store_->ReadDomains("10", domains).ok());
  EXPECT_EQ(domains.org.size(), 2u);
  EXPECT_EQ(domains.instance.size(), 2u);

  const StoreMeta meta = Meta();
  Result<FleetCursor> cursor = FleetCursor::Decode(meta.cursor);
  ASSERT_TRUE(cursor) << meta.cursor;
  EXPECT_EQ(cursor->bucket, "policyd");
  EXPECT_EQ(cursor->revision, last);
  EXPECT_EQ(cursor->created_ns, w.bucket().Info()->created_ns);
  EXPECT_EQ(meta.org_count, 2u);
  EXPECT_EQ(meta.source, f->source());
  EXPECT_EQ(meta.last_sync, beat);  // the publisher's sync, not the follower's clock
  EXPECT_EQ(state_.last_sync(), beat);
  EXPECT_FALSE(state_.IsStale(Now()));

  const FleetStatus st = f->Status();
  EXPECT_EQ(st.role, FleetRole::kFollower);
  EXPECT_EQ(st.bucket, "policyd");
  EXPECT_EQ(st.servers, server_.Url(0));
  EXPECT_EQ(st.connection, FleetConnection::kConnected);
  EXPECT_EQ(st.cold_starts, 1u);
  EXPECT_EQ(st.values_refused, 0u);
  ASSERT_EQ(st.publishers.size(), 1u);
  EXPECT_EQ(st.publishers[0], (FleetPublisher{"pub-1", beat, "iam.example.com"}));
}

TEST_F(FollowerTest, AppliesLiveUpdatesAndSkipsOlderVersions) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {"zitadel.example.com"});
  w.Org("10", 1700000200, false);
  w.Org("11", 1700000200, true);
  w.Org("12", 1700000200, true);
  std::uint64_t rev = w.Heartbeat("pub-1", {Now().seconds - 1, 0});
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev));
  ASSERT_TRUE(ReadOrg("12").known);

  // A new org, a changed policy, a domain change, the instance, an org's removal (each key
  // written once: history 1 may skip a value overwritten before it is read).
  w.Org("13", 1700000300, true, {{"thirteen.example", true, true}});
  w.Org("10", 1700000400, true);
  w.Org("11", 1700000500, true, {{"eleven.example", false, false}});
  w.Instance(1700000600, {"zitadel.example.com", "new.example.com"}, true);
  rev = w.Delete("domain.org.12");
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_FALSE(ReadOrg("12").known);
  const OrgState thirteen = ReadOrg("13");
  EXPECT_TRUE(thirteen.known);
  EXPECT_EQ(thirteen.domains.domains, (std::vector<OrgDomain>{{"thirteen.example", true, true}}));
  EXPECT_EQ(ReadOrg("10").policy, Policy(1700000400, "10", true));
  EXPECT_EQ(ReadOrg("10").version, Version(1700000400, "10"));
  const OrgState eleven = ReadOrg("11");
  EXPECT_EQ(eleven.domains.domains, (std::vector<OrgDomain>{{"eleven.example", false, false}}));
  EXPECT_EQ(eleven.domains.sequence, 1700000500u);
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.set_with_versions(true);
  ASSERT_TRUE(store_->Read(batch).ok());
  ASSERT_NE(batch.instance(), nullptr);
  EXPECT_TRUE(batch.instance()->policy.flags.user_login_must_be_domain);
  EXPECT_EQ(batch.instance_domains().names.size(), 2u);
  EXPECT_EQ(batch.instance_version(), Version(1700000600, kInstanceId));
  EXPECT_EQ(f->Status().values_applied, 1 + 3 + 5u);  // instance + 3 orgs at cold start, 5 live

  // An older version is skipped (a lagging publisher); the cursor still moves.
  rev = w.Org("10", 1700000300, false);
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_EQ(f->Status().values_skipped, 1u);
  EXPECT_EQ(ReadOrg("10").policy, Policy(1700000400, "10", true));
  EXPECT_EQ(FleetCursor::Decode(Meta().cursor)->revision, rev);
  // An equal version is applied (the later revision wins: anti-entropy rewrites).
  rev = w.Org("10", 1700000400, true, {{"ten.example", true, false}});
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_EQ(ReadOrg("10").domains.domains.size(), 1u);
  EXPECT_EQ(f->Status().values_skipped, 1u);

  // A newer heartbeat moves the data's age, in memory and in the store.
  const Timestamp beat{Now().seconds + 5, 0};
  rev = w.Heartbeat("pub-2", beat);
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_EQ(state_.last_sync(), beat);
  EXPECT_EQ(Meta().last_sync, beat);
  EXPECT_EQ(f->Status().publishers.size(), 2u);
}

TEST_F(FollowerTest, WarmRestartReadsOnlyWhatCameAfterItsCursor) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {});
  const Timestamp beat{Now().seconds, 0};
  std::uint64_t rev = w.Heartbeat("pub-1", beat);
  for (int i = 0; i < 30; ++i) rev = w.Org("org-" + std::to_string(i), 1700000200 + i, i % 2);
  {
    std::unique_ptr<Follower> f = StartFollower();
    ASSERT_TRUE(WaitCursor(*f, rev));
    EXPECT_EQ(f->counters().messages_read.load(), 32u);
    f->Stop();
  }
  w.Org("org-new", 1700000900, true);
  w.Org("org-3", 1700000901, false);  // org-3 had a policy
  rev = w.Delete("domain.org.org-4");

  // A new daemon: its serving state starts from the stored age (the heartbeat's), not "never".
  ServingState state(FreshnessOptions{"nats", 60s, false});
  Follower f(*store_, state, SystemClock(), Opts());
  f.Start();
  EXPECT_EQ(state.last_sync(), beat);
  ASSERT_TRUE(WaitCursor(f, rev));
  EXPECT_EQ(f.counters().messages_read.load(), 3u);  // only the new ones: no reload
  EXPECT_EQ(f.Status().cold_starts, 0u);
  EXPECT_EQ(state.last_sync(), beat);  // no newer heartbeat came
  EXPECT_TRUE(ReadOrg("org-new").known);
  EXPECT_FALSE(ReadOrg("org-3").policy.has_value());
  EXPECT_FALSE(ReadOrg("org-4").known);
  EXPECT_TRUE(ReadOrg("org-29").known);
  EXPECT_EQ(Meta().org_count, 30u);
  f.Stop();
}

TEST_F(FollowerTest, ARecreatedBucketMeansAColdStart) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {});
  w.Org("old-1", 1700000200, true);
  std::uint64_t rev = w.Org("old-2", 1700000200, true);
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev));
  const std::int64_t first_created = w.bucket().Info()->created_ns;

  // Recreated while the follower runs: seen by its periodic bucket check.
  w.Recreate();
  w.Instance(1700000300, {});
  rev = w.Org("new-1", 1700000300, false);
  ASSERT_TRUE(WaitFor([&] { return f->Status().cold_starts == 2; }, 15s, "second cold start"));
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_FALSE(ReadOrg("old-1").known);
  EXPECT_TRUE(ReadOrg("new-1").known);
  Result<FleetCursor> cursor = FleetCursor::Decode(Meta().cursor);
  ASSERT_TRUE(cursor);
  EXPECT_NE(cursor->created_ns, first_created);
  EXPECT_EQ(cursor->revision, rev);

  // Recreated while it is stopped, and refilled past the old cursor: cold start at restart.
  f->Stop();
  f.reset();
  w.Recreate();
  w.Instance(1700000400, {});
  for (int i = 0; i < 4; ++i) rev = w.Org("newer-" + std::to_string(i), 1700000400, false);
  f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_EQ(f->Status().cold_starts, 1u);
  EXPECT_FALSE(ReadOrg("new-1").known);
  EXPECT_TRUE(ReadOrg("newer-3").known);
}

TEST_F(FollowerTest, AColdStartKeepsTheStoresEntryForARefusedValue) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {"zitadel.example.com"}, true);
  w.Org("10", 1700000200, true, {{"ten.example", true, true}});
  w.Org("11", 1700000200, false, {{"eleven.example", true, false}});
  std::uint64_t rev = w.Org("gone", 1700000200, false);
  {
    std::unique_ptr<Follower> f = StartFollower();
    ASSERT_TRUE(WaitCursor(*f, rev));
  }
  const OrgState ten = ReadOrg("10"), eleven = ReadOrg("11");
  ASSERT_TRUE(ten.known && eleven.known);

  // A new incarnation of the bucket whose values for the instance, 10 and 11 cannot be read.
  w.Recreate();
  w.Raw("domain.instance", "garbage");
  w.Raw("domain.org.10", testing_support::RawOrgValue("10", 2));  // a newer schema
  w.Raw("domain.org.11", "garbage");
  rev = w.Org("12", 1700000300, false);
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_EQ(f->Status().cold_starts, 1u);
  EXPECT_EQ(f->Status().values_refused, 3u);
  for (const auto& [id, before] : {std::pair{"10", ten}, std::pair{"11", eleven}}) {
    const OrgState after = ReadOrg(id);
    EXPECT_TRUE(after.known) << id;
    EXPECT_EQ(after.policy, before.policy) << id;
    EXPECT_EQ(after.domains, before.domains) << id;
    EXPECT_EQ(after.version, before.version) << id;
  }
  EXPECT_TRUE(ReadOrg("12").known);
  EXPECT_FALSE(ReadOrg("gone").known);  // not in the new bucket
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.set_with_versions(true);
  ASSERT_TRUE(store_->Read(batch).ok());
  ASSERT_NE(batch.instance(), nullptr);  // the store's own instance, kept
  EXPECT_TRUE(batch.instance()->policy.flags.user_login_must_be_domain);
  EXPECT_EQ(batch.instance_domains().names, std::vector<std::string>{"zitadel.example.com"});
  EXPECT_EQ(batch.instance_version(), Version(1700000100, kInstanceId));
}

TEST_F(FollowerTest, StartsWithoutNatsOrBucketThenConverges) {
  SeedDirectSyncStore({"local-1"});
  NatsCluster later;  // ports chosen, not running
  FollowerOptions o = Opts();
  o.urls = later.Urls();
  Follower f(*store_, state_, SystemClock(), o);
  const auto before = std::chrono::steady_clock::now();
  f.Start();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);  // never waits for NATS
  EXPECT_TRUE(ReadOrg("local-1").known);                     // the store keeps serving
  EXPECT_NE(f.Status().connection, FleetConnection::kConnected);

  ASSERT_TRUE(later.Start());
  // Connected, but no bucket yet: a follower never creates it.
  ASSERT_TRUE(WaitFor([&] { return f.Status().connection == FleetConnection::kConnected; }, 10s,
                      "connected"));
  ASSERT_TRUE(WaitFor([&] { return f.counters().failures.load() >= 2; }, 10s, "bind retried"));
  EXPECT_TRUE(ReadOrg("local-1").known);

  BucketWriter w(later.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {});
  const std::uint64_t rev = w.Org("bucket-1", 1700000200, false);
  ASSERT_TRUE(WaitCursor(f, rev));
  EXPECT_TRUE(ReadOrg("bucket-1").known);
  EXPECT_FALSE(ReadOrg("local-1").known);
  // No heartbeat in the bucket: nothing vouches for the data's age.
  EXPECT_TRUE(Meta().last_sync.IsZero());
  EXPECT_TRUE(state_.IsStale(Now()));
  f.Stop();
}

TEST_F(FollowerTest, GoesStaleWhileNatsIsDownKeepsServingAndConvergesWhenBack) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {});
  w.Org("10", 1700000200, true);
  std::uint64_t rev = w.Heartbeat("pub-1", Now());
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev));
  EXPECT_FALSE(state_.IsStale(Now()));

  server_.Stop(0);
  ASSERT_TRUE(WaitFor([&] { return state_.IsStale(Now()); }, 10s, "stale"));
  EXPECT_NE(f->Status().connection, FleetConnection::kConnected);
  EXPECT_FALSE(f->Status().caught_up);
  EXPECT_TRUE(ReadOrg("10").known);  // still served

  ASSERT_TRUE(server_.Restart(0));
  ASSERT_TRUE(WaitFor([&] { return w.bucket().Info().has_value(); }, 10s, "bucket back"));
  w.Org("11", 1700000300, false);
  rev = w.Heartbeat("pub-1", Now());
  ASSERT_TRUE(WaitCursor(*f, rev, 20s));
  EXPECT_TRUE(ReadOrg("11").known);
  EXPECT_FALSE(state_.IsStale(Now()));
  EXPECT_EQ(f->Status().cold_starts, 1u);
}

TEST_F(FollowerTest, RefusesHostileContentsAndKeepsGoing) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {"zitadel.example.com"});
  // Each hostile value goes to a key of its own: with history 1, a value overwritten before the
  // follower's consumer reads it is never delivered at all.
  const std::vector<std::string> targets = {"10", "11", "12"};
  std::uint64_t rev = 0;
  for (const std::string& id : targets)
    rev = w.Org(id, 1700000200, true, {{"acme.com", true, true}});
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev));
  std::vector<OrgState> before;
  for (const std::string& id : targets) before.push_back(ReadOrg(id));
  const StoreMeta meta_before = Meta();

  InstanceRecord instance{kInstanceId, Policy(1700000900, kInstanceId, true)};
  const std::string instance_bytes =
      fleet::EncodeValue({KeyKind::kInstance, ""},
                         {Version(1700000900, kInstanceId), fleet::InstanceEntry{instance, {}}})
          .value();
  w.Raw("domain.org.10", std::string("\x00\x01garbage\xff", 11));  // value
  w.Raw("domain.org.11", testing_support::RawOrgValue("11", 2));   // schema
  w.Raw("domain.org.12", instance_bytes);                          // value (another kind)
  w.Raw("domain.org.a.b", "x");                                    // key
  w.Raw("policy.x", "x");                                          // key
  w.Delete("domain.instance");                                     // marker
  rev = w.Org("14", 1700000300, false);
  ASSERT_TRUE(WaitCursor(*f, rev));

  const FleetStatus st = f->Status();
  EXPECT_EQ(st.values_refused, 6u);
  const FollowerCounters& c = f->counters();
  EXPECT_EQ(c.refused_by_reason[static_cast<int>(RefusalReason::kKey)].load(), 2u);
  EXPECT_EQ(c.refused_by_reason[static_cast<int>(RefusalReason::kValue)].load(), 2u);
  EXPECT_EQ(c.refused_by_reason[static_cast<int>(RefusalReason::kSchema)].load(), 1u);
  EXPECT_EQ(c.refused_by_reason[static_cast<int>(RefusalReason::kMarker)].load(), 1u);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const OrgState after = ReadOrg(targets[i]);
    EXPECT_TRUE(after.known) << targets[i];
    EXPECT_EQ(after.policy, before[i].policy) << targets[i];
    EXPECT_EQ(after.domains, before[i].domains) << targets[i];
    EXPECT_EQ(after.version, before[i].version) << targets[i];
  }
  LookupBatch batch;
  ASSERT_TRUE(store_->Read(batch).ok());
  ASSERT_NE(batch.instance(), nullptr);  // the marker on domain.instance removed nothing
  EXPECT_FALSE(batch.instance()->policy.flags.user_login_must_be_domain);
  EXPECT_TRUE(ReadOrg("14").known);  // later good values still applied
  EXPECT_EQ(Meta().org_count, meta_before.org_count + 1);
  EXPECT_EQ(FleetCursor::Decode(Meta().cursor)->revision, rev);
}

}  // namespace
}  // namespace policyd::follow::test
