// The fleet follower against a real nats-server, continued: its store compared with a
// publisher's, a 3-node cluster whose stream leader dies, the example's least-privilege user,
// and a measurement for docs/fleet.md.
#include <cstdio>
#include <cstdlib>

#include "follower_test_util.h"

namespace policyd::follow::test {
namespace {

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
}  // namespace policyd::follow::test
