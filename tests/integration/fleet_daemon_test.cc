// Fleet mode end to end (issue #13): real policyd processes, a real nats-server and the fake
// upstream. Two publishers sync the same upstream and write the bucket at once; three followers
// hold no IAM credential and read only the bucket. After every round of random upstream changes
// (orgs added and removed, own policies added, changed and removed, the default changed under its
// current and its v1 name, the instance's events moving to another stream, org and instance
// domains added, verified, made primary and removed, some rounds in one push), every follower
// answers every org byte for byte as the upstream's GET does, knows no removed org, and holds the
// upstream's domains. A follower restarted mid-history (SIGTERM, and SIGKILL) resumes from its
// cursor (no cold start, only newer values received); a publisher stopped for a while (or
// killed) and restarted with an older store undoes nothing. `--follow` with a source of its own
// is refused (exit 78, one line). POLICYD_FLEET_SEED=N replays another random history.
//
// Needs the fleet wiring in policyd (--publish-to, --follow, --publisher-id) and
// /usr/sbin/nats-server (scripts/install-deps.sh). ctest labels: nats, fleet_e2e.
#include "support/fleet_daemon.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include "fake_upstream/fake_upstream.h"
#include "json/kind_json.h"
#include "nats/connection.h"
#include "nats/kv_bucket.h"
#include "store/store.h"
#include "support/daemon.h"
#include "support/nats_server.h"
#include "support/upstream_checks.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fm = fleet_metrics;

// An org id the upstream never hands out: its effective policy is the default.
constexpr std::string_view kNoOrg = "999999999999999999";

// Random upstream histories: every change is a valid mutation (checked), chosen from the
// upstream's current state.
class RandomChanges {
 public:
  RandomChanges(FakeUpstream& upstream, std::uint32_t seed) : upstream_(upstream), rng_(seed) {}

  void Apply(int n) {
    for (int i = 0; i < n; ++i) One();
  }
  // `n` changes in one push (one creation date), none of which moves the instance's stream.
  void Burst(int n) {
    upstream_.BeginSharedTimestamp();
    in_burst_ = true;
    Apply(n);
    in_burst_ = false;
    upstream_.EndSharedTimestamp();
  }
  const std::vector<std::string>& gone() const { return gone_; }
  int changes() const { return changes_; }

 private:
  void One() {
    const std::vector<std::string> live = upstream_.OrgIds();
    const double r = Uniform();
    if (live.size() < 10 || r < 0.08) return AddOrg();
    const std::string org = live[Index(live.size())];
    ++changes_;
    if (r < 0.13) {
      Expect(upstream_.RemoveOrg(org), "remove org");
      gone_.push_back(org);
      return;
    }
    if (r < 0.22) return ChangeDefault();
    if (r < 0.40) return ChangeDomains(org);
    if (r < 0.45) return ChangeInstanceDomains();
    if (r < 0.62) return ChangeKind(org);
    const std::vector<std::string> own = upstream_.OrgsWithOwnPolicy();
    if (!std::binary_search(own.begin(), own.end(), org)) {
      return Expect(upstream_.AddOrgPolicy(org, Flags()), "add policy");
    }
    if (r < 0.55) return Expect(upstream_.RemoveOrgPolicy(org), "remove policy");
    if (r < 0.60) {
      return Expect(upstream_.ApplyLegacyPolicyEvent(
                        LegacyPolicyEvent::kOrgChanged, org,
                        !upstream_.EffectivePolicy(org).flags.user_login_must_be_domain),
                    "change policy (v1 name)");
    }
    PolicyFlags flags = upstream_.EffectivePolicy(org).flags;
    flags.validate_org_domains = !flags.validate_org_domains;
    if (Uniform() < 0.5) flags.user_login_must_be_domain = !flags.user_login_must_be_domain;
    Expect(upstream_.ChangeOrgPolicy(org, flags), "change policy");
  }

  // A generic kind (issue #14): an org's own row added, changed or removed (falling back), the
  // default changed, the label policy's preview activated.
  void ChangeKind(const std::string& org) {
    static constexpr const char* kKinds[] = {
        "passwordComplexity", "passwordAge", "lockout", "login", "privacy", "label"};
    const std::string kind = kKinds[Index(std::size(kKinds))];
    const std::string body = KindBody(kind);
    if (Uniform() < 0.15) {
      Expect(upstream_.ChangeDefaultKindPolicy(kind, body), "change a kind's default");
    } else {
      const std::vector<std::string> own = upstream_.OrgsWithOwnKindPolicy(kind);
      if (!std::binary_search(own.begin(), own.end(), org)) {
        Expect(upstream_.AddOrgKindPolicy(kind, org, body), "add a kind's row");
      } else if (Uniform() < 0.35) {
        return Expect(upstream_.RemoveOrgKindPolicy(kind, org), "remove a kind's row");
      } else {
        Expect(upstream_.ChangeOrgKindPolicy(kind, org, body), "change a kind's row");
      }
    }
    // The label policy's edits reach its answers only once activated.
    if (kind == "label" && Uniform() < 0.7) {
      const std::vector<std::string> own = upstream_.OrgsWithOwnKindPolicy(kind);
      const bool has_own = std::binary_search(own.begin(), own.end(), org);
      Expect(upstream_.ActivateLabelPolicy(has_own ? org : ""), "activate a label policy");
    }
  }
  // A body with values no earlier change used (a change must change something).
  std::string KindBody(const std::string& kind) {
    const std::string n = std::to_string(++kind_values_);
    if (kind == "passwordComplexity") {
      return R"({"minLength":)" + n + R"(,"hasUppercase":)" + (Uniform() < 0.5 ? "true" : "false") +
             "}";
    }
    if (kind == "passwordAge") return R"({"maxAgeDays":)" + n + R"(,"expireWarnDays":3})";
    if (kind == "lockout") return R"({"maxPasswordAttempts":)" + n + "}";
    if (kind == "login") {
      return R"({"allowRegister":true,"passwordCheckLifetime":")" + n + R"(s"})";
    }
    if (kind == "privacy") return R"({"tosLink":"https://tos.example/)" + n + R"("})";
    return R"({"primaryColor":"#)" + std::to_string(100000 + kind_values_) + R"("})";
  }

  void AddOrg() {
    ++changes_;
    if (upstream_.AddOrg("fleet org " + std::to_string(next_name_++)).empty()) {
      ADD_FAILURE() << "upstream writer: add org";
    }
  }

  // The default under its current name, or its v1 name; outside bursts the instance's events now
  // and then move to another stream, whose sequences start again at 1.
  void ChangeDefault() {
    if (!in_burst_ && Uniform() < 0.15) {
      by_id_ = !by_id_;
      upstream_.SetInstanceAggregateId(by_id_ ? "" : "IAM");
    }
    PolicyFlags flags = upstream_.EffectivePolicy(kNoOrg).flags;
    if (!in_burst_ && Uniform() < 0.2) {
      return Expect(upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "",
                                                     !flags.user_login_must_be_domain),
                    "change default (v1 name)");
    }
    flags.smtp_sender_address_matches_instance_domain =
        !flags.smtp_sender_address_matches_instance_domain;
    if (Uniform() < 0.5) flags.validate_org_domains = !flags.validate_org_domains;
    Expect(upstream_.ChangeDefaultPolicy(flags), "change default");
  }

  // Adds a domain (verified at once unless the org's policy validates domains), or verifies an
  // unverified one, makes a verified one primary, or removes a non-primary one.
  void ChangeDomains(const std::string& org) {
    const std::vector<OrgDomain> domains = upstream_.OrgDomains(org);
    std::vector<const OrgDomain*> unverified, secondary, verified_secondary;
    for (const OrgDomain& d : domains) {
      if (!d.verified) unverified.push_back(&d);
      if (!d.primary) secondary.push_back(&d);
      if (d.verified && !d.primary) verified_secondary.push_back(&d);
    }
    const double r = Uniform();
    if (r < 0.4 || secondary.empty()) {
      return Expect(upstream_.AddOrgDomain(org, "d" + std::to_string(next_domain_++) + ".test"),
                    "add domain");
    }
    if (r < 0.6 && !unverified.empty()) {
      return Expect(upstream_.VerifyOrgDomain(org, unverified[Index(unverified.size())]->name),
                    "verify domain");
    }
    if (r < 0.7 && !verified_secondary.empty()) {
      return Expect(upstream_.SetPrimaryOrgDomain(
                        org, verified_secondary[Index(verified_secondary.size())]->name),
                    "set primary domain");
    }
    Expect(upstream_.RemoveOrgDomain(org, secondary[Index(secondary.size())]->name),
           "remove domain");
  }

  void ChangeInstanceDomains() {
    const std::vector<std::string> domains = upstream_.InstanceDomains();
    if (domains.size() < 3 || Uniform() < 0.5) {
      return Expect(upstream_.AddInstanceDomain("i" + std::to_string(next_domain_++) + ".test"),
                    "add instance domain");
    }
    // Never the first (generated) one.
    Expect(upstream_.RemoveInstanceDomain(domains[1 + Index(domains.size() - 1)]),
           "remove instance domain");
  }

  PolicyFlags Flags() { return {Uniform() < 0.5, Uniform() < 0.5, Uniform() < 0.5}; }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  std::size_t Index(std::size_t size) {
    return std::uniform_int_distribution<std::size_t>(0, size - 1)(rng_);
  }
  static void Expect(const Status& s, const char* what) {
    if (!s.ok()) ADD_FAILURE() << "upstream writer: " << what << ": " << s.ToString();
  }

  FakeUpstream& upstream_;
  std::mt19937 rng_;
  bool in_burst_ = false;
  bool by_id_ = true;
  std::vector<std::string> gone_;
  int next_name_ = 0;
  int next_domain_ = 0;
  int changes_ = 0;
  int kind_values_ = 0;
};

// The follower's store (opened read-only while it runs, as `policyctl dump` does) holds exactly
// the upstream's domains for every org, in any order, and the instance's. A cold start that read
// the org list also makes the host the publisher syncs from, 127.0.0.1, an instance domain.
::testing::AssertionResult DomainsMatchUpstream(const std::string& data_dir,
                                                const FakeUpstream& upstream) {
  StoreOptions options;
  options.read_only = true;
  options.block_cache_bytes = 8u << 20;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(data_dir, options);
  if (!store) return ::testing::AssertionFailure() << store.error().ToString();
  auto sorted = [](DomainSet set) {
    std::erase(set.instance, "127.0.0.1");
    std::sort(set.org.begin(), set.org.end(),
              [](const OrgDomain& a, const OrgDomain& b) { return a.name < b.name; });
    std::sort(set.instance.begin(), set.instance.end());
    return set;
  };
  for (const std::string& id : upstream.OrgIds()) {
    DomainSet got;
    if (Status s = (*store)->ReadDomains(id, got); !s.ok()) {
      return ::testing::AssertionFailure() << s.ToString();
    }
    got = sorted(std::move(got));
    const DomainSet want = sorted({upstream.OrgDomains(id), upstream.InstanceDomains()});
    if (got.org != want.org) {
      return ::testing::AssertionFailure() << "domains of org " << id << ": " << got.org.size()
                                           << " held, upstream " << want.org.size();
    }
    if (got.instance != want.instance) {
      return ::testing::AssertionFailure() << "instance domains: " << got.instance.size()
                                           << " held, upstream " << want.instance.size();
    }
  }
  return ::testing::AssertionSuccess();
}

// Every generic kind's answers from a store (opened read-only, as `policyctl dump` does), as
// the daemon builds them (json/kind_json.h): for each org the management GET of each kind (its
// own row, else the default with isDefault), and each default's admin GET. Keyed "kind org".
Result<std::map<std::string, std::string>> KindAnswersOf(const std::string& data_dir,
                                                         const std::vector<std::string>& ids) {
  StoreOptions options;
  options.read_only = true;
  options.block_cache_bytes = 8u << 20;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(data_dir, options);
  if (!store) return Err(store.error());
  LookupBatch batch;
  batch.set_kinds(KindSet::All());
  for (const std::string& id : ids) batch.Add(id);
  if (Status s = (*store)->Read(batch); !s.ok()) return Err(s);
  std::map<std::string, std::string> out;
  for (PolicyKind kind : kGenericKinds) {
    const std::string name(SpecOf(kind).cli_name);
    const KindPolicy* def = batch.kind_default(kind);
    if (def == nullptr) continue;
    out[name + " default"] = FormatKindGetResponse(*def, true, false);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const KindPolicy* own = batch.kind_policy(i, kind);
      out[name + " " + ids[i]] = FormatKindGetResponse(own ? *own : *def, own == nullptr, true);
    }
  }
  return out;
}

// The follower answers every generic kind (issue #14 item 8) exactly as a publisher, a
// direct-sync daemon, does from its store: `reference` is a running publisher's data dir.
// (Compared with a publisher rather than the upstream's bodies: the label policy's themeMode
// AUTO, an "added" event without the key, is synced as UNSPECIFIED by the sync reducer today, a
// direct-sync daemon's answer too; see the report of branch fleet-kinds.)
::testing::AssertionResult KindsMatchPublisher(const std::string& data_dir,
                                               const std::string& reference,
                                               const FakeUpstream& upstream) {
  const std::vector<std::string> ids = upstream.OrgIds();
  auto mine = KindAnswersOf(data_dir, ids);
  if (!mine) return ::testing::AssertionFailure() << mine.error().ToString();
  auto theirs = KindAnswersOf(reference, ids);
  if (!theirs) return ::testing::AssertionFailure() << theirs.error().ToString();
  if (theirs->size() != (kGenericKinds.size()) * (ids.size() + 1)) {
    return ::testing::AssertionFailure() << "the publisher lacks a kind's default";
  }
  for (const auto& [what, body] : *theirs) {
    auto it = mine->find(what);
    if (it == mine->end()) return ::testing::AssertionFailure() << what << ": no answer";
    if (it->second != body) {
      return ::testing::AssertionFailure() << what << ": " << it->second << " publisher " << body;
    }
  }
  return ::testing::AssertionSuccess();
}

class FleetDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    ASSERT_TRUE(nats_.Start());
    // Enough orgs that a reload of the whole bucket cannot pass for a resume (see the restart).
    for (int i = 0; i < 150; ++i) {
      ASSERT_FALSE(upstream_.AddOrg("seed org " + std::to_string(i)).empty());
    }
    for (int i = 0; i < 150; i += 7) {
      const std::string org = upstream_.OrgIds()[static_cast<std::size_t>(i)];
      ASSERT_TRUE(upstream_.AddOrgPolicy(org, {i % 2 == 0, i % 3 == 0, true}).ok());
    }
    for (const char* id : {"pub-a", "pub-b"}) {
      publishers_.push_back(std::make_unique<FleetDaemon>(
          FleetDaemon::Publisher(nats_.Urls(), upstream_.base_url(), id)));
    }
    for (int i = 0; i < 3; ++i) {
      followers_.push_back(std::make_unique<FleetDaemon>(FleetDaemon::Follower(nats_.Urls())));
    }
  }

  std::vector<FleetDaemon*> Followers() {
    std::vector<FleetDaemon*> out;
    for (auto& f : followers_) out.push_back(f.get());
    return out;
  }

  // Every follower answers as the upstream (policies, unknown removed orgs, counts), then holds
  // its domains.
  ::testing::AssertionResult EveryFollowerMatches(const std::vector<std::string>& gone,
                                                  milliseconds timeout = seconds(15)) {
    for (std::size_t i = 0; i < followers_.size(); ++i) {
      FleetDaemon& f = *followers_[i];
      ::testing::AssertionResult r = WaitUntilAnswersMatch(f.socket(), upstream_, timeout, gone);
      if (r) {
        r = WaitFor([&] { return bool(DomainsMatchUpstream(f.data_dir(), upstream_)); }, seconds(5),
                    "the follower's domains");
        if (!r) r << ": " << DomainsMatchUpstream(f.data_dir(), upstream_).message();
      }
      if (r) {
        // A running publisher that has synced up to the upstream's latest change.
        FleetDaemon* reference = nullptr;
        for (auto& p : publishers_) {
          if (reference == nullptr && p->Running()) reference = p.get();
        }
        if (reference == nullptr) return ::testing::AssertionFailure() << "no publisher runs";
        const std::string dir = reference->data_dir();
        r = WaitFor([&] { return bool(KindsMatchPublisher(f.data_dir(), dir, upstream_)); },
                    seconds(10), "the follower's policy kinds");
        if (!r) r << ": " << KindsMatchPublisher(f.data_dir(), dir, upstream_).message();
      }
      if (!r) return r << " (follower " << i << ")\n" << f.Log();
    }
    return ::testing::AssertionSuccess();
  }

  // The bucket as the server reports it, read over a connection of the test's own.
  Result<nats::BucketInfo> Bucket() {
    nats::ConnectOptions o;
    o.urls = nats_.Urls();
    o.request_timeout = milliseconds(2000);
    auto conn = nats::NatsConnection::Connect(o);
    if (!conn) return Err(conn.error());
    if (!WaitFor([&] { return (*conn)->state() == nats::ConnState::kConnected; }, seconds(5),
                 "connected")) {
      return Err(Status::Unavailable("not connected to nats-server"));
    }
    auto bucket = nats::KvBucket::Bind(**conn, "policyd");
    if (!bucket) return Err(bucket.error());
    return (*bucket)->Info();
  }

  // A follower restarted on its store resumed from its cursor: no cold start, and it received
  // only values written after the cursor it had (`cursor_before`), far fewer than the bucket's
  // keys, which a reload of the whole bucket would have delivered.
  void ExpectResumed(const FleetDaemon& f, double cursor_before) {
    const double received = Received(f);
    Result<nats::BucketInfo> bucket = Bucket();
    ASSERT_TRUE(bucket.has_value()) << bucket.error().ToString();
    EXPECT_EQ(f.Metric(fm::kColdStarts).value_or(-1), 0);
    EXPECT_GE(f.Metric(fm::kCursor).value_or(-1), cursor_before);
    EXPECT_LE(received, static_cast<double>(bucket->last_seq) - cursor_before);
    EXPECT_LT(received, static_cast<double>(bucket->messages) / 2)
        << "a follower that reloads the bucket receives every key (" << bucket->messages << ")";
    std::cout << "restarted follower received " << received << " values after revision "
              << cursor_before << "; the bucket holds " << bucket->messages << " keys\n";
  }

  // Values a follower received since it started: applied, skipped as older, refused.
  static double Received(const FleetDaemon& f) {
    const Scrape s = f.Metrics();
    return s.Get(fm::kValuesApplied) + s.Get(fm::kValuesSkipped) + s.Get(fm::kValuesRefused);
  }

  FakeUpstream upstream_;
  NatsCluster nats_;
  std::vector<std::unique_ptr<FleetDaemon>> publishers_;
  std::vector<std::unique_ptr<FleetDaemon>> followers_;
};

TEST_F(FleetDaemonTest, RandomHistoriesReachEveryFollowerExactly) {
  const auto start = std::chrono::steady_clock::now();
  for (auto& p : publishers_) ASSERT_TRUE(p->Start());
  // Followers retry a missing bucket with a growing backoff: start them once it exists.
  ASSERT_TRUE(WaitFor([&] { return Bucket().has_value(); }, seconds(20), "the bucket"))
      << publishers_[0]->Log();
  for (auto& f : followers_) ASSERT_TRUE(f->Start());
  ASSERT_TRUE(EveryFollowerMatches({}, seconds(30)));
  for (auto& f : followers_) {
    EXPECT_EQ(f->Metric(fm::kColdStarts).value_or(-1), 1) << "a new follower loads the bucket";
    // policyctl status names the follower's source: a line "source:   nats".
    const std::string status = f->Ctl({"status"}).out;
    std::istringstream lines(status);
    bool nats_source = false;
    for (std::string line; std::getline(lines, line);) {
      nats_source = nats_source || (line.starts_with("source:") && line.ends_with(" nats"));
    }
    EXPECT_TRUE(nats_source) << status;
  }

  // POLICYD_FLEET_SEED replays another history.
  const char* seed_env = std::getenv("POLICYD_FLEET_SEED");
  const auto seed =
      static_cast<std::uint32_t>(seed_env ? std::strtoul(seed_env, nullptr, 10) : 20261206);
  std::cout << "seed " << seed << "\n";
  RandomChanges changes(upstream_, seed);
  for (int round = 0; round < 18; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // A follower stops (SIGTERM at round 3, SIGKILL at round 11) while the history goes on, and
    // comes back at the end of the round.
    FleetDaemon* restarted = round == 3    ? followers_[0].get()
                             : round == 11 ? followers_[1].get()
                                           : nullptr;
    double cursor_before = 0;
    if (restarted != nullptr) {
      cursor_before = restarted->Metric(fm::kCursor).value_or(-1);
      ASSERT_GT(cursor_before, 0);
      ASSERT_EQ(restarted->Stop(round == 3 ? SIGTERM : SIGKILL), round == 3 ? 0 : -SIGKILL)
          << restarted->Log();
    }
    // Publisher A stops at round 5 (the other carries on alone) and comes back at round 8 with
    // its older store; publisher B is killed at round 13 and comes back at round 15.
    if (round == 5) {
      ASSERT_EQ(publishers_[0]->Stop(), 0) << publishers_[0]->Log();
    }
    if (round == 13) {
      ASSERT_EQ(publishers_[1]->Stop(SIGKILL), -SIGKILL);
    }
    if (round % 4 == 2) {
      changes.Burst(15);
    } else {
      changes.Apply(restarted != nullptr ? 4 : 12);
    }
    if (round == 8) {
      ASSERT_TRUE(publishers_[0]->Start());
    }
    if (round == 15) {
      ASSERT_TRUE(publishers_[1]->Start());
    }
    if (restarted != nullptr) {
      ASSERT_TRUE(restarted->Start());
    }
    ASSERT_TRUE(EveryFollowerMatches(changes.gone()));
    if (restarted != nullptr) ExpectResumed(*restarted, cursor_before);
  }
  // The publishers that lagged have caught up and undone nothing: one more round, both running.
  changes.Apply(10);
  ASSERT_TRUE(EveryFollowerMatches(changes.gone()));
  for (auto& f : followers_) {
    EXPECT_EQ(f->Metric(fm::kValuesRefused).value_or(-1), 0);
    EXPECT_EQ(f->Metric(fm::kCaughtUp).value_or(-1), 1);
  }
  // Each publisher took part since its last start: it wrote, or found the other's equal value
  // (a publisher restarted late may find every key already written: writes 0).
  for (auto& p : publishers_) {
    const Scrape scrape = p->Metrics();
    EXPECT_GT(scrape.Get(fm::kWrites) + scrape.Get(fm::kValuesSkipped), 0) << p->Log();
  }
  EXPECT_GT(publishers_[0]->Metric(fm::kWrites).value_or(0) +
                publishers_[1]->Metric(fm::kWrites).value_or(0),
            0);
  std::cout
      << changes.changes() << " upstream changes, " << changes.gone().size() << " orgs removed, in "
      << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count()
      << " ms\n";
  for (auto& f : followers_) {
    EXPECT_EQ(f->Stop(), 0) << f->Log();
  }
  for (auto& p : publishers_) {
    EXPECT_EQ(p->Stop(), 0) << p->Log();
  }
}

TEST_F(FleetDaemonTest, FollowWithASourceOfItsOwnExits78WithOneLine) {
  // --follow alone is a valid configuration (so a refusal below is not an unknown flag's), and
  // each source is valid on its own: only the combination with --follow is refused.
  ASSERT_TRUE(followers_[0]->Start());
  EXPECT_EQ(followers_[0]->Stop(), 0) << followers_[0]->Log();
  const std::string snapshot = followers_[0]->dir().Join("snapshot.json");
  WriteSnapshot(MakeSnapshot(3), snapshot);
  const std::vector<std::vector<std::string>> sources = {
      {"--upstream", upstream_.base_url(), "--token-file", followers_[0]->dir().Join("token")},
      {"--snapshot", snapshot},
      {"--publish-to", nats_.Url(0)},
  };
  for (const auto& source : sources) {
    std::vector<std::string> argv = followers_[0]->Argv();
    argv.insert(argv.end(), source.begin(), source.end());
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 78) << source[0] << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << source[0] << "\n" << r.err;
    EXPECT_NE(r.err.find("follow"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace policyd::testing_support
