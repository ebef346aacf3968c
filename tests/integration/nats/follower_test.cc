// The fleet follower (src/follow) against a real nats-server: the test writes the bucket itself
// with nats::KvBucket and fleet::EncodeValue (no publisher), and reads the follower's RocksStore.
#include "follow/follower.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "fleet/keys.h"
#include "fleet/values.h"
#include "follow/cursor.h"
#include "nats_test_util.h"
#include "support/fleet_raw.h"
#include "sync/cursor.h"

namespace policyd {
// Readable failures for versions (ADL finds it next to SourceVersion).
void PrintTo(const SourceVersion& v, std::ostream* os) {
  *os << "{" << v.date.seconds << "." << v.date.nanos << ", " << v.stream.type << "/" << v.stream.id
      << ", " << v.sequence << "}";
}
}  // namespace policyd

namespace policyd::follow {
namespace {

using namespace std::chrono_literals;
using fleet::FleetKey;
using fleet::FleetValue;
using fleet::KeyKind;
using nats::testing::MustConnect;
using nats::testing::Options;
using testing_support::NatsCluster;
using testing_support::TempDir;
using testing_support::WaitFor;

class NatsLibraryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    Status s = nats::ShutdownLibrary(5s);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NatsLibraryEnvironment);

constexpr char kInstanceId[] = "300000000000000001";

SourceVersion Version(std::int64_t seconds, const std::string& id) {
  return {{seconds, 0}, {"org", id}, static_cast<std::uint64_t>(seconds)};
}

PolicyRecord Policy(std::int64_t seconds, const std::string& owner, bool must_be_domain) {
  PolicyRecord p;
  p.flags.user_login_must_be_domain = must_be_domain;
  p.flags.validate_org_domains = true;
  p.details = {static_cast<std::uint64_t>(seconds), {1700000000, 0}, {seconds, 0}, owner};
  p.stream = {"org", owner};
  return p;
}

// Writes the bucket as a publisher would (but without one), on its own connection.
class BucketWriter {
 public:
  explicit BucketWriter(const std::vector<std::string>& urls) {
    conn_ = MustConnect(Options(urls));
    if (conn_ != nullptr) bucket_ = nats::testing::MustCreate(*conn_, "policyd");
  }
  bool ok() const { return bucket_ != nullptr; }
  nats::KvBucket& bucket() { return *bucket_; }
  void Recreate() {
    ASSERT_TRUE(bucket_->DeleteBucket().ok());
    bucket_ = nats::testing::MustCreate(*conn_, "policyd");
  }

  std::uint64_t Org(const std::string& id, std::int64_t version, bool policy,
                    std::vector<OrgDomain> domains = {}) {
    std::optional<PolicyRecord> p;
    if (policy) p = Policy(version, id, true);
    const std::uint64_t sequence = domains.empty() ? 0 : static_cast<std::uint64_t>(version);
    fleet::OrgEntry entry{{id, p}, {id, std::move(domains), sequence, {"org", id}}};
    return Put({KeyKind::kOrg, id}, {Version(version, id), entry});
  }
  std::uint64_t Instance(std::int64_t version, std::vector<std::string> domains,
                         bool must_be_domain = false) {
    InstanceRecord instance{kInstanceId, Policy(version, kInstanceId, must_be_domain)};
    instance.policy.stream = {"instance", kInstanceId};
    fleet::InstanceEntry entry{instance, {std::move(domains), 3, {"instance", kInstanceId}}};
    return Put({KeyKind::kInstance, ""}, {Version(version, kInstanceId), entry});
  }
  std::uint64_t Heartbeat(const std::string& id, Timestamp last_sync) {
    return Put({KeyKind::kHeartbeat, id},
               {{last_sync, {}, 0}, fleet::Heartbeat{id, last_sync, "iam.example.com", "test"}});
  }
  std::uint64_t Put(const FleetKey& key, const FleetValue& value) {
    Result<std::string> bytes = fleet::EncodeValue(key, value);
    EXPECT_TRUE(bytes) << bytes.error().ToString();
    return Raw(fleet::FormatKey(key).value(), bytes.value_or(""));
  }
  std::uint64_t Raw(const std::string& key, const std::string& bytes) {
    return nats::testing::MustPut(*bucket_, key, bytes).revision;
  }
  std::uint64_t Delete(const std::string& key) {
    Result<nats::WriteAck> ack = bucket_->Write(nats::testing::Del(key));
    EXPECT_TRUE(ack) << ack.error().ToString();
    return ack ? ack->revision : 0;
  }

 private:
  std::unique_ptr<nats::NatsConnection> conn_;
  std::unique_ptr<nats::KvBucket> bucket_;
};

struct OrgState {
  bool known = false;
  std::optional<PolicyRecord> policy;
  OrgDomains domains;
  SourceVersion version;
};

Timestamp Now() { return SystemClock().Now(); }

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    OpenStore();
  }
  void OpenStore() {
    Result<std::unique_ptr<Store>> store = OpenRocksStore(dir_.Join("store"), StoreOptions{});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  FollowerOptions Opts() const {
    FollowerOptions o;
    o.urls = server_.Urls();
    o.backoff_initial = 100ms;
    o.backoff_max = 1s;
    o.consumer_heartbeat = 1s;
    o.bucket_check_interval = 300ms;
    o.connect_timeout = 1s;
    o.reconnect_wait = 100ms;
    o.request_timeout = 2s;
    return o;
  }
  std::unique_ptr<Follower> StartFollower() {
    auto f = std::make_unique<Follower>(*store_, state_, SystemClock(), Opts());
    f->Start();
    return f;
  }
  ::testing::AssertionResult WaitCursor(const Follower& f, std::uint64_t revision,
                                        std::chrono::milliseconds timeout = 15s) {
    return WaitFor([&] { return f.Status().cursor >= revision && f.Status().caught_up; }, timeout,
                   "follower at revision " + std::to_string(revision));
  }

  OrgState ReadOrg(const std::string& id) {
    LookupBatch batch;
    batch.set_with_domains(true);
    batch.set_with_versions(true);
    batch.Add(id);
    Status s = store_->Read(batch);
    EXPECT_TRUE(s.ok()) << s.ToString();
    OrgState out;
    if (!s.ok()) return out;
    out.known = batch.org(0).known;
    if (batch.org(0).own_policy != nullptr) out.policy = *batch.org(0).own_policy;
    out.domains = batch.domains(0);
    out.version = batch.version(0);
    return out;
  }
  StoreMeta Meta() {
    Result<StoreMeta> meta = store_->Meta();
    EXPECT_TRUE(meta) << meta.error().ToString();
    return meta.value_or(StoreMeta{});
  }
  // A store as direct sync leaves it: its own orgs, a "v3 ..." cursor.
  void SeedDirectSyncStore(const std::vector<std::string>& org_ids) {
    Snapshot s;
    s.instance = {kInstanceId, Policy(1600000000, kInstanceId, false)};
    for (const std::string& id : org_ids) s.orgs.push_back({id, Policy(1600000000, id, false)});
    const std::string cursor = SyncCursor::StartingAt(Timestamp{1600000000, 0}, 0).Encode();
    Status r = store_->Replace(s, cursor, "https://iam.example.com", Now());
    ASSERT_TRUE(r.ok()) << r.ToString();
  }

  NatsCluster server_;
  TempDir dir_;
  std::unique_ptr<Store> store_;
  ServingState state_{FreshnessOptions{"nats", 2s, false}};
};

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

// Everything a lookup or check reads, in one comparable text: every entry (row, domains,
// version), the counts, and who claims each domain.
std::string Dump(const Store& store, const std::vector<std::string>& claim_domains) {
  std::string out;
  auto version = [](const SourceVersion& v) {
    return std::to_string(v.date.seconds) + "." + std::to_string(v.date.nanos) + "/" +
           v.stream.type + "/" + v.stream.id + "/" + std::to_string(v.sequence);
  };
  auto policy = [](const PolicyRecord& p) {
    return std::to_string(p.flags.user_login_must_be_domain) +
           std::to_string(p.flags.validate_org_domains) +
           std::to_string(p.flags.smtp_sender_address_matches_instance_domain) + " " +
           std::to_string(p.details.sequence) + " " +
           std::to_string(p.details.change_date.seconds) + " " + p.details.resource_owner + " " +
           p.stream.type + "/" + p.stream.id;
  };
  Status s = store.ForEachEntry(
      [&](const InstanceRecord& i, const InstanceDomains& d, const SourceVersion& v) {
        out += "instance " + i.id + " " + policy(i.policy) + " v=" + version(v) + " domains=";
        for (const std::string& n : d.names) out += n + ",";
        out += " seq=" + std::to_string(d.sequence) + " " + d.stream.type + "\n";
        return Status::Ok();
      },
      [&](const OrgRecord& o, const OrgDomains& d, const SourceVersion& v) {
        out += "org " + o.id + " " + (o.policy ? policy(*o.policy) : "-") + " v=" + version(v) +
               " domains=";
        for (const OrgDomain& n : d.domains) {
          out += n.name + (n.verified ? "+v" : "") + (n.primary ? "+p" : "") + ",";
        }
        out += " seq=" + std::to_string(d.sequence) + " " + d.stream.type + "\n";
        return Status::Ok();
      });
  EXPECT_TRUE(s.ok()) << s.ToString();
  Result<StoreMeta> meta = store.Meta();
  EXPECT_TRUE(meta);
  if (meta) {
    out += "orgs=" + std::to_string(meta->org_count) +
           " custom=" + std::to_string(meta->custom_policy_count) + "\n";
  }
  LookupBatch batch;
  for (const std::string& d : claim_domains) batch.AddClaimQuery(d, "nobody");
  EXPECT_TRUE(store.Read(batch).ok());
  for (std::size_t j = 0; j < claim_domains.size(); ++j) {
    out += "claims " + claim_domains[j] + ":";
    for (const DomainClaim& c : batch.claims(j)) out += " " + c.org_id + "=" + c.domain;
    out += "\n";
  }
  return out;
}

TEST_F(FollowerTest, TheFollowersStoreAnswersLikeThePublishersStore) {
  // A publisher's store (as direct sync leaves it), written to the bucket entry by entry the way
  // a publisher does; the follower's store must then hold the same entries, versions included.
  TempDir publisher_dir;
  Result<std::unique_ptr<Store>> publisher =
      OpenRocksStore(publisher_dir.Join("store"), StoreOptions{});
  ASSERT_TRUE(publisher) << publisher.error().ToString();
  Snapshot snap;
  snap.instance = {kInstanceId, Policy(1700000100, kInstanceId, true)};
  snap.instance_domains = {{"zitadel.example.com", "Login.Example.com"}, 7, {"instance", "1"}};
  snap.instance_version = Version(1700000100, kInstanceId);
  for (int i = 0; i < 20; ++i) {
    const std::string id = "3000000000000000" + std::to_string(10 + i);
    std::optional<PolicyRecord> p;
    if (i % 3 != 0) p = Policy(1700000200 + i, id, i % 2 == 0);
    snap.orgs.push_back({id, p});
    std::vector<OrgDomain> domains;
    if (i % 4 != 3) domains.push_back({"org" + std::to_string(i) + ".example", true, true});
    if (i % 5 == 0) domains.push_back({"Shared.Example", true, false});  // claimed by several
    if (i % 2 == 1) domains.push_back({"pending" + std::to_string(i) + ".example", false, false});
    snap.org_domains.push_back({id, domains, static_cast<std::uint64_t>(i + 1), {"org", id}});
    snap.org_versions.push_back(Version(1700000200 + i, id));
  }
  ASSERT_TRUE((*publisher)->Replace(snap, "", "https://iam.example.com", Now()).ok());

  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  std::uint64_t rev = 0;
  Status s =
      (*publisher)
          ->ForEachEntry(
              [&](const InstanceRecord& i, const InstanceDomains& d, const SourceVersion& v) {
                rev = w.Put({KeyKind::kInstance, ""}, {v, fleet::InstanceEntry{i, d}});
                return Status::Ok();
              },
              [&](const OrgRecord& o, const OrgDomains& d, const SourceVersion& v) {
                rev = w.Put({KeyKind::kOrg, o.id}, {v, fleet::OrgEntry{o, d}});
                return Status::Ok();
              });
  ASSERT_TRUE(s.ok()) << s.ToString();

  SeedDirectSyncStore({"local-1"});
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev));
  const std::vector<std::string> claims = {"shared.example", "ORG1.example", "pending1.example",
                                           "nobody.example"};
  const std::string expected = Dump(**publisher, claims);
  EXPECT_NE(expected.find("claims shared.example: 300000000000000010=Shared.Example"),
            std::string::npos)
      << expected;
  EXPECT_EQ(Dump(*store_, claims), expected);

  // Live: the publisher's store changes (a policy, a domain list, an org removed, a new org) and
  // the changed entries are written again; the follower applies them one batch each.
  StoreChange change;
  const std::string changed = "300000000000000011", removed = "300000000000000015",
                    added = "300000000000000099";
  change.put_orgs = {{changed, Policy(1700000500, changed, true)}, {added, std::nullopt}};
  change.put_org_domains = {{changed, {{"shared.example", true, true}}, 20, {"org", changed}},
                            {added, {{"added.example", true, true}}, 1, {"org", added}}};
  change.org_versions = {{changed, Version(1700000500, changed)},
                         {added, Version(1700000501, added)}};
  change.removed_orgs = {removed};
  ASSERT_TRUE((*publisher)->Apply(change, Now()).ok());
  for (const std::string& id : {changed, added}) {
    LookupBatch b;
    b.set_with_domains(true);
    b.set_with_versions(true);
    b.Add(id);
    ASSERT_TRUE((*publisher)->Read(b).ok());
    OrgDomains d = b.domains(0);
    d.org_id = id;
    std::optional<PolicyRecord> p;
    if (b.org(0).own_policy != nullptr) p = *b.org(0).own_policy;
    w.Put({KeyKind::kOrg, id}, {b.version(0), fleet::OrgEntry{{id, p}, d}});
  }
  rev = w.Delete("domain.org." + removed);
  ASSERT_TRUE(WaitCursor(*f, rev));
  const std::string expected_live = Dump(**publisher, claims);
  EXPECT_NE(expected_live, expected);
  EXPECT_EQ(Dump(*store_, claims), expected_live);
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

// Retries a put while the cluster elects a new stream leader (UNAVAILABLE, DEADLINE_EXCEEDED),
// with one message id so a retry of a write that was stored lands once.
std::uint64_t PutWithRetry(nats::KvBucket& bucket, const std::string& key, const std::string& value,
                           const std::string& msg_id) {
  Result<nats::WriteAck> ack = Err(Status::Internal("not tried"));
  EXPECT_TRUE(WaitFor(
      [&] {
        ack = bucket.Write(nats::testing::Put(key, value, std::nullopt, msg_id));
        return ack.has_value() || (ack.error().code() != Code::kUnavailable &&
                                   ack.error().code() != Code::kDeadlineExceeded);
      },
      30s, "write " + key));
  EXPECT_TRUE(ack) << ack.error().ToString();
  return ack ? ack->revision : 0;
}

TEST(FollowerClusterTest, ConvergesWhenTheStreamLeaderIsKilledMidStream) {
  testing_support::NatsClusterOptions three;
  three.nodes = 3;
  NatsCluster cluster(three);
  ASSERT_TRUE(cluster.Start());
  std::unique_ptr<nats::NatsConnection> conn = MustConnect(Options(cluster.Urls()));
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<nats::KvBucket> bucket = nats::testing::MustCreate(*conn, "policyd", 3);
  ASSERT_NE(bucket, nullptr);
  auto encode = [](const FleetKey& key, const FleetValue& value) {
    return fleet::EncodeValue(key, value).value();
  };
  auto org = [&](const std::string& id, std::int64_t version) {
    return encode({KeyKind::kOrg, id},
                  {Version(version, id),
                   fleet::OrgEntry{{id, Policy(version, id, true)}, {id, {}, 0, {"org", id}}}});
  };
  PutWithRetry(
      *bucket, "domain.instance",
      encode({KeyKind::kInstance, ""},
             {Version(1700000100, kInstanceId),
              fleet::InstanceEntry{{kInstanceId, Policy(1700000100, kInstanceId, false)}, {}}}),
      "i");
  std::uint64_t rev = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "before-" + std::to_string(i);
    rev = PutWithRetry(*bucket, "domain.org." + id, org(id, 1700000200), id);
  }

  TempDir dir;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(dir.Join("store"), StoreOptions{});
  ASSERT_TRUE(store) << store.error().ToString();
  ServingState state(FreshnessOptions{"nats", 60s, false});
  FollowerOptions o;
  o.urls = cluster.Urls();
  o.backoff_initial = 100ms;
  o.backoff_max = 1s;
  o.consumer_heartbeat = 1s;
  o.bucket_check_interval = 500ms;
  o.reconnect_wait = 100ms;
  o.request_timeout = 2s;
  auto caught_up_at = [](const Follower& f, std::uint64_t r) {
    return [&f, r] { return f.Status().cursor >= r && f.Status().caught_up; };
  };
  {
    Follower cold(**store, state, SystemClock(), o);  // a cold start, then stopped
    cold.Start();
    ASSERT_TRUE(WaitFor(caught_up_at(cold, rev), 20s, "cold start"));
  }
  Follower f(**store, state, SystemClock(), o);  // warm: an ordered consumer, 1 s heartbeat
  f.Start();
  ASSERT_TRUE(WaitFor(caught_up_at(f, rev), 20s, "warm start"));

  Result<nats::BucketInfo> info = bucket->Info();
  ASSERT_TRUE(info) << info.error().ToString();
  const int leader = cluster.IndexOf(info->leader);
  ASSERT_GE(leader, 0) << info->leader;
  for (int i = 0; i < 20; ++i) {
    if (i == 5) cluster.Kill(leader);  // mid-stream
    const std::string id = "during-" + std::to_string(i);
    rev = std::max(rev, PutWithRetry(*bucket, "domain.org." + id, org(id, 1700000300), id));
  }
  ASSERT_TRUE(WaitFor(caught_up_at(f, rev), 40s, "converged after the leader died"));
  Result<StoreMeta> meta = (*store)->Meta();
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->org_count, 30u);
  LookupBatch batch;
  for (int i = 0; i < 20; ++i) batch.Add("during-" + std::to_string(i));
  ASSERT_TRUE((*store)->Read(batch).ok());
  for (std::size_t i = 0; i < batch.size(); ++i) EXPECT_TRUE(batch.org(i).known) << batch.id(i);
  EXPECT_EQ(f.Status().values_refused, 0u);
  f.Stop();
}

// The shipped least-privilege users (examples/nats/policyd-users.conf): the follower user can do
// all a follower does (bind, info, watch, resume), with its own inbox prefix and a password that
// never shows in the status.
TEST(FollowerPermissionsTest, WorksAsTheExamplesReadOnlyFollowerUser) {
  testing_support::NatsClusterOptions users;
  users.extra_config = "include \"policyd-users.conf\"";
  users.copy_files = {testing_support::SourceDir() + "/examples/nats/policyd-users.conf"};
  NatsCluster server(users);
  ASSERT_TRUE(server.Start());
  const std::string hostport = server.Url(0).substr(7);
  nats::ConnectOptions pub =
      Options({"nats://policyd-publisher:publisher-secret-change-me@" + hostport});
  pub.inbox_prefix = "_INBOX_policyd_publisher";
  std::unique_ptr<nats::NatsConnection> conn = MustConnect(pub);
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<nats::KvBucket> bucket = nats::testing::MustCreate(*conn, "policyd");
  ASSERT_NE(bucket, nullptr);
  auto put = [&](const FleetKey& key, const FleetValue& value) {
    return nats::testing::MustPut(*bucket, fleet::FormatKey(key).value(),
                                  fleet::EncodeValue(key, value).value())
        .revision;
  };
  put({KeyKind::kInstance, ""},
      {Version(1700000100, kInstanceId),
       fleet::InstanceEntry{{kInstanceId, Policy(1700000100, kInstanceId, false)}, {}}});
  std::uint64_t rev = put({KeyKind::kOrg, "1"},
                          {Version(1700000200, "1"), fleet::OrgEntry{{"1", {}}, {"1", {}, 0, {}}}});

  TempDir dir;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(dir.Join("store"), StoreOptions{});
  ASSERT_TRUE(store) << store.error().ToString();
  ServingState state(FreshnessOptions{"nats", 60s, false});
  FollowerOptions o;
  o.urls = {"nats://policyd-follower:follower-secret-change-me@" + hostport};
  o.inbox_prefix = "_INBOX_policyd_follower";
  o.backoff_initial = 100ms;
  o.consumer_heartbeat = 1s;
  o.request_timeout = 2s;
  auto at = [](const Follower& f, std::uint64_t r) {
    return [&f, r] { return f.Status().cursor >= r && f.Status().caught_up; };
  };
  {
    Follower cold(**store, state, SystemClock(), o);
    cold.Start();
    ASSERT_TRUE(WaitFor(at(cold, rev), 15s, "cold start as the follower user"));
    rev = put({KeyKind::kOrg, "2"},
              {Version(1700000300, "2"), fleet::OrgEntry{{"2", {}}, {"2", {}, 0, {}}}});
    ASSERT_TRUE(WaitFor(at(cold, rev), 15s, "live update as the follower user"));
    EXPECT_EQ(cold.Status().servers, server.Url(0));  // no user, no password
  }
  rev = put({KeyKind::kOrg, "3"},
            {Version(1700000400, "3"), fleet::OrgEntry{{"3", {}}, {"3", {}, 0, {}}}});
  Follower warm(**store, state, SystemClock(), o);
  warm.Start();
  ASSERT_TRUE(WaitFor(at(warm, rev), 15s, "warm start as the follower user"));
  EXPECT_EQ(warm.Status().cold_starts, 0u);
  EXPECT_EQ(warm.counters().failures.load(), 0u);
  Result<StoreMeta> meta = (*store)->Meta();
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->org_count, 3u);
  EXPECT_EQ(meta->source.find("secret"), std::string::npos) << meta->source;
  warm.Stop();
}

// Not a check, a figure for docs/fleet.md: POLICYD_MEASURE_FOLLOWER=<orgs> times a cold start
// over a bucket of that many orgs (each with 2 domains, half with their own policy) and a warm
// restart after 100 more writes.
TEST_F(FollowerTest, Measurement) {
  const char* env = std::getenv("POLICYD_MEASURE_FOLLOWER");
  if (env == nullptr) GTEST_SKIP() << "set POLICYD_MEASURE_FOLLOWER=<orgs>";
  const int orgs = std::atoi(env);
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {"zitadel.example.com"});
  std::uint64_t rev = 0;
  const auto write_start = std::chrono::steady_clock::now();
  for (int i = 0; i < orgs; ++i) {
    const std::string id = std::to_string(300000000000000000 + i);
    rev = w.Org(id, 1700000200, i % 2 == 0,
                {{id + ".example.com", true, true}, {id + ".example.org", false, false}});
  }
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::printf("wrote %d orgs in %lld ms\n", orgs,
              static_cast<long long>(ms(std::chrono::steady_clock::now() - write_start)));
  auto start = std::chrono::steady_clock::now();
  {
    std::unique_ptr<Follower> f = StartFollower();
    ASSERT_TRUE(WaitCursor(*f, rev, 300s));
    std::printf("cold start: %lld ms for %d orgs\n",
                static_cast<long long>(ms(std::chrono::steady_clock::now() - start)), orgs);
  }
  for (int i = 0; i < 100; ++i) rev = w.Org("new-" + std::to_string(i), 1700000300, true);
  start = std::chrono::steady_clock::now();
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, rev, 60s));
  std::printf("warm restart: %lld ms for 100 new values (%llu read)\n",
              static_cast<long long>(ms(std::chrono::steady_clock::now() - start)),
              static_cast<unsigned long long>(f->counters().messages_read.load()));
}

}  // namespace
}  // namespace policyd::follow
