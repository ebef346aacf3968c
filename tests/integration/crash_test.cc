// Crash consistency: the real policyd syncs from the fake upstream while a writer thread changes
// the upstream heavily, and is killed with SIGKILL at random moments (during start-up and store
// recovery, during cold starts, in the middle of pages of events, during a graceful shutdown's
// final flush), then restarted. After every kill the store must open and be internally
// consistent, and must not have gone back in time; at checkpoints (and at the end) the writer
// pauses, policyd converges, and every org must resolve byte for byte as the upstream says.
//
// Why that proves "no event lost or applied twice": every answer carries the row's
// details.sequence and changeDate, i.e. the last event applied to it. A lost event leaves a row
// (or its flags: `changed` events carry only the keys they change) behind the upstream's; an
// event applied again after newer ones regresses a row's sequence, resurrects a removed policy
// (an old `added` after its `removed`), or resurrects a removed org (an old `org.added`), which
// the comparison of every row, of the own-policy and org counts, and of every removed org catch.
// (Re-applying an event in order is a no-op by design: the reducer skips events at or below a
// row's sequence, and the cursor skips events it has seen.)
//
// POLICYD_CRASH_KILLS=N (default 50) sets the number of kills, POLICYD_CRASH_SEED=S replays a
// run (the seed is printed). E.g.:
//   POLICYD_CRASH_KILLS=500 build/tests/integration/crash_test
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "base/clock.h"
#include "fake_upstream/fake_upstream.h"
#include "json/policy_json.h"
#include "resolve/resolve.h"
#include "store/store.h"
#include "support/daemon.h"
#include "support/upstream_checks.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;

// Drives the fake upstream from its own thread: policies added, changed (one key at a time, so a
// lost `changed` event leaves a wrong flag), removed; orgs added and removed; default changes;
// bursts of up to 300 changes sharing one creationDate; on request one burst of more than a page
// (1,100 default changes with one date), which policyd can only follow with a new cold start.
class UpstreamWriter {
 public:
  UpstreamWriter(FakeUpstream& upstream, std::uint64_t seed) : upstream_(upstream), rng_(seed) {}
  ~UpstreamWriter() { Stop(); }

  // Creates `orgs` orgs, every third with its own policy.
  void Populate(int orgs) {
    for (int i = 0; i < orgs; ++i) AddOrg();
    for (std::size_t i = 0; i < live_.size(); i += 3) AddPolicy(live_[i]);
  }
  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // Returns once the writer is between changes; it stays there until Resume().
  void Pause() {
    std::unique_lock lock(mu_);
    paused_ = true;
    cv_.wait(lock, [this] { return idle_; });
  }
  void Resume() {
    {
      std::lock_guard lock(mu_);
      paused_ = false;
    }
    cv_.notify_all();
  }
  void RequestBigBurst() { big_burst_ = true; }

  // Only while paused or stopped.
  const std::vector<std::string>& removed_orgs() const { return removed_; }
  std::uint64_t changes() const { return changes_; }

 private:
  void Loop() {
    for (;;) {
      {
        std::unique_lock lock(mu_);
        idle_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return stop_ || !paused_; });
        if (stop_) return;
        idle_ = false;
      }
      if (big_burst_.exchange(false)) {
        DefaultBurst(1100);
      } else if (Chance(0.04)) {
        Burst(std::uniform_int_distribution<int>(20, 300)(rng_));
      } else {
        OneChange();
      }
      std::this_thread::sleep_for(std::chrono::microseconds(
          std::uniform_int_distribution<int>(0, 1500)(rng_)));  // pacing, not waiting
    }
  }

  // More than a page of events in one push. Default changes: org events of such a push would
  // stay in the history and turn every later cold start into a per-org one.
  void DefaultBurst(int n) {
    upstream_.BeginSharedTimestamp();
    in_burst_ = true;
    for (int i = 0; i < n; ++i) ChangeDefault();
    in_burst_ = false;
    upstream_.EndSharedTimestamp();
  }

  void Burst(int n) {
    upstream_.BeginSharedTimestamp();
    in_burst_ = true;
    for (int i = 0; i < n; ++i) OneChange();
    in_burst_ = false;
    upstream_.EndSharedTimestamp();
  }

  void OneChange() {
    ++changes_;
    const double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (live_.size() < 50 || r < 0.10) return AddOrg();
    const std::string org =
        live_[std::uniform_int_distribution<std::size_t>(0, live_.size() - 1)(rng_)];
    if (r < 0.16) return RemoveOrg(org);
    if (r < 0.22) return ChangeDefault();
    if (r < 0.26) return AddDomain(org);
    auto own = own_.find(org);
    if (own == own_.end()) return AddPolicy(org);
    if (r < 0.32) return RemovePolicy(org);
    PolicyFlags flags = own->second;
    switch (std::uniform_int_distribution<int>(0, 2)(rng_)) {
      case 0:
        flags.user_login_must_be_domain = !flags.user_login_must_be_domain;
        break;
      case 1:
        flags.validate_org_domains = !flags.validate_org_domains;
        break;
      default:
        flags.smtp_sender_address_matches_instance_domain =
            !flags.smtp_sender_address_matches_instance_domain;
    }
    Expect(upstream_.ChangeOrgPolicy(org, flags), "change policy");
    own->second = flags;
  }

  void AddOrg() {
    std::string id = upstream_.AddOrg("crash org " + std::to_string(next_name_++));
    if (!id.empty()) live_.push_back(std::move(id));
  }
  void RemoveOrg(const std::string& org) {
    Expect(upstream_.RemoveOrg(org), "remove org");
    own_.erase(org);
    std::erase(live_, org);
    removed_.push_back(org);
  }
  void AddPolicy(const std::string& org) {
    const PolicyFlags flags{Chance(0.5), Chance(0.5), Chance(0.5)};
    Expect(upstream_.AddOrgPolicy(org, flags), "add policy");
    own_[org] = flags;
  }
  // org.domain.added (+ org.domain.verified unless the org's policy validates domains).
  void AddDomain(const std::string& org) {
    Expect(upstream_.AddOrgDomain(org, "c" + std::to_string(next_domain_++) + ".example.com"),
           "add domain");
  }
  void RemovePolicy(const std::string& org) {
    Expect(upstream_.RemoveOrgPolicy(org), "remove policy");
    own_.erase(org);
  }
  // The default changes under its current name or, now and then, its v1 name (on the "iam"/"IAM"
  // stream); outside bursts it sometimes moves to another stream of the instance, whose sequences
  // start again at 1 (not inside one: a push never spans two streams of one instance).
  void ChangeDefault() {
    if (!in_burst_ && Chance(0.05)) {
      instance_stream_by_id_ = !instance_stream_by_id_;
      upstream_.SetInstanceAggregateId(instance_stream_by_id_ ? "" : "IAM");
    }
    if (!in_burst_ && Chance(0.1)) {
      default_.user_login_must_be_domain = !default_.user_login_must_be_domain;
      Expect(upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "",
                                              default_.user_login_must_be_domain),
             "change default (v1 name)");
      return;
    }
    default_.validate_org_domains = !default_.validate_org_domains;
    if (Chance(0.5)) default_.user_login_must_be_domain = !default_.user_login_must_be_domain;
    Expect(upstream_.ChangeDefaultPolicy(default_), "change default");
  }

  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  static void Expect(const Status& s, const char* what) {
    if (!s.ok()) ADD_FAILURE() << "upstream writer: " << what << ": " << s.ToString();
  }

  FakeUpstream& upstream_;
  std::mt19937_64 rng_;
  bool in_burst_ = false;
  bool instance_stream_by_id_ = true;
  std::vector<std::string> live_;
  std::map<std::string, PolicyFlags> own_;
  std::vector<std::string> removed_;
  PolicyFlags default_;  // the fake's defaults at setup: all false
  int next_name_ = 0;
  int next_domain_ = 0;
  std::uint64_t changes_ = 0;
  std::atomic<bool> big_burst_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;    // guarded by mu_
  bool paused_ = false;  // guarded by mu_
  bool idle_ = true;     // guarded by mu_
};

// Opens the store read-only, as policyctl dump does (replaying the WAL the kill left), and checks
// that its bookkeeping matches its rows. Returns the meta, or fails.
Result<StoreMeta> CheckStore(const std::string& dir) {
  StoreOptions options;
  options.read_only = true;
  options.block_cache_bytes = 8u << 20;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(dir, options);
  if (!store) return Err(store.error());
  Result<StoreMeta> meta = (*store)->Meta();
  if (!meta) return meta;
  std::uint64_t orgs = 0, policies = 0;
  bool instance = false;
  Status walked = (*store)->ForEach([&](const InstanceRecord&) { instance = true; },
                                    [&](const OrgRecord& org) {
                                      ++orgs;
                                      if (org.policy) ++policies;
                                      return Status::Ok();
                                    });
  if (!walked.ok()) return Err(walked);
  if (orgs != meta->org_count || policies != meta->custom_policy_count ||
      instance != meta->has_instance) {
    return Err(Status::DataLoss("meta says " + std::to_string(meta->org_count) + " orgs / " +
                                std::to_string(meta->custom_policy_count) + " policies, rows " +
                                std::to_string(orgs) + " / " + std::to_string(policies)));
  }
  return meta;
}

// The org's and the instance's domains in the store equal the upstream's (in any order). A cold
// start that had to read the org list (a push of over a page of events) also makes the host
// policyd syncs from, 127.0.0.1, an instance domain.
::testing::AssertionResult DomainsMatch(const Store& store, const FakeUpstream& upstream,
                                        const std::string& id) {
  DomainSet got;
  if (Status s = store.ReadDomains(id, got); !s.ok()) {
    return ::testing::AssertionFailure() << s.ToString();
  }
  std::erase(got.instance, "127.0.0.1");
  DomainSet want{upstream.OrgDomains(id), upstream.InstanceDomains()};
  for (DomainSet* set : {&got, &want}) {
    std::sort(set->org.begin(), set->org.end(),
              [](const OrgDomain& a, const OrgDomain& b) { return a.name < b.name; });
    std::sort(set->instance.begin(), set->instance.end());
  }
  if (got == want) return ::testing::AssertionSuccess();
  auto text = [](const DomainSet& set) {
    std::string out;
    for (const OrgDomain& d : set.org) {
      out += d.name + (d.verified ? "+v" : "") + (d.primary ? "+p" : "") + " ";
    }
    return out + "| instance: " + std::to_string(set.instance.size());
  };
  return ::testing::AssertionFailure()
         << "store: domains of org " << id << "\n upstream: " << text(want)
         << "\n store:    " << text(got);
}

// The comparison of AnswersMatchUpstream on the store itself, read-only (policyd must not be
// running, or must have been killed): tells a wrong store from a wrong serving path.
::testing::AssertionResult StoreMatchesUpstream(const std::string& dir,
                                                const FakeUpstream& upstream) {
  StoreOptions options;
  options.read_only = true;
  options.block_cache_bytes = 8u << 20;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(dir, options);
  if (!store) return ::testing::AssertionFailure() << store.error().ToString();
  std::optional<InstanceRecord> instance;
  std::map<std::string, std::optional<PolicyRecord>> orgs;
  Status walked = (*store)->ForEach([&](const InstanceRecord& i) { instance = i; },
                                    [&](const OrgRecord& org) {
                                      orgs[org.id] = org.policy;
                                      return Status::Ok();
                                    });
  if (!walked.ok()) return ::testing::AssertionFailure() << walked.ToString();
  const std::vector<std::string> ids = upstream.OrgIds();
  for (const std::string& id : ids) {
    auto it = orgs.find(id);
    if (it == orgs.end()) return ::testing::AssertionFailure() << "store lacks org " << id;
    const OrgView view{true, it->second ? &*it->second : nullptr};
    Result<Resolution> r = ResolveOrgPolicy(id, view, instance ? &*instance : nullptr, true);
    const std::string got = r ? FormatGetPolicyResponse(r->policy) : r.error().ToString();
    if (got != upstream.EffectivePolicyBody(id)) {
      return ::testing::AssertionFailure()
             << "store: org " << id << "\n upstream: " << upstream.EffectivePolicyBody(id)
             << "\n store:    " << got;
    }
    if (::testing::AssertionResult d = DomainsMatch(**store, upstream, id); !d) return d;
    orgs.erase(it);
  }
  if (!orgs.empty()) {
    return ::testing::AssertionFailure()
           << "store keeps " << orgs.size() << " orgs the upstream removed, e.g. "
           << orgs.begin()->first;
  }
  return ::testing::AssertionSuccess();
}

bool Logged(const std::string& log, const std::string& text) {
  return log.find(text) != std::string::npos;
}

TEST(CrashTest, KillNineDuringHeavySyncNeverLosesNorDoublesAnEvent) {
  const std::uint64_t kills = EnvNumber("POLICYD_CRASH_KILLS", 50);
  const std::uint64_t seed = EnvNumber("POLICYD_CRASH_SEED", std::random_device{}());
  std::cout << "crash test: " << kills << " kills, seed " << seed
            << " (rerun: POLICYD_CRASH_SEED=" << seed << ")\n";
  std::mt19937_64 rng(seed);

  TempDir dir;
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.ok());
  const std::string token = dir.Join("token");
  std::ofstream(token) << "fake-pat-0123456789\n";
  chmod(token.c_str(), 0600);
  UpstreamWriter writer(upstream, seed ^ 0x5eed);
  writer.Populate(1500);
  writer.Start();
  const std::vector<std::string> args = {"--upstream",        upstream.base_url(),
                                         "--token-file",      token,
                                         "--poll-interval",   "100ms",
                                         "--request-timeout", "5s"};
  const std::string data = dir.Join("data");

  std::map<std::string, int> phases;  // what each kill interrupted
  StoreMeta last_meta;
  int event_pages = 0;
  int rebuilds = 0;  // runs that met a push of more than a page of events
  auto checkpoint = [&](Daemon& daemon, const std::string& when) {
    writer.Pause();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(daemon.WaitReady()) << when;
    ::testing::AssertionResult served = WaitUntilAnswersMatch(
        daemon.socket(), upstream, std::chrono::seconds(60), writer.removed_orgs());
    EXPECT_TRUE(served) << when << "\n" << daemon.process().Log();
    if (!served) {  // which side is wrong: the store, or what is served from it?
      daemon.process().Stop(SIGKILL);
      EXPECT_TRUE(StoreMatchesUpstream(data, upstream)) << when;
    }
    std::cout << when << ": " << upstream.OrgIds().size() << " orgs, "
              << upstream.OrgsWithOwnPolicy().size() << " own policies, " << upstream.EventCount()
              << " events upstream; converged in "
              << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)
                     .count()
              << " ms\n";
    writer.Resume();
  };

  for (std::uint64_t k = 0; k < kills && !::testing::Test::HasFailure(); ++k) {
    const bool synced_at_start = !last_meta.cursor.empty();
    if (k > 0 && k % 17 == 0) writer.RequestBigBurst();
    const int pages_before = upstream.RequestCount("/admin/v1/events/_search");
    Daemon daemon(dir, args);
    if (k > 0 && k % (kills / 4 + 1) == 0) checkpoint(daemon, "checkpoint " + std::to_string(k));
    // Where the kill lands: a quarter during start-up (exec, WAL recovery, first requests), half
    // while it catches up with what was written meanwhile, a quarter in steady polling.
    const double where = std::uniform_real_distribution<double>(0, 1)(rng);
    const int delay_ms = where < 0.25   ? std::uniform_int_distribution<int>(0, 100)(rng)
                         : where < 0.75 ? std::uniform_int_distribution<int>(100, 600)(rng)
                                        : std::uniform_int_distribution<int>(600, 1500)(rng);
    std::this_thread::sleep_for(milliseconds(delay_ms));  // the random moment, not a wait
    const bool graceful_first = std::bernoulli_distribution(0.15)(rng);
    if (graceful_first) {
      kill(daemon.process().pid(), SIGTERM);  // killed again during the shutdown's flush
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 30)(rng)));
    }
    const bool was_running = daemon.process().Running();
    if (was_running) kill(daemon.process().pid(), SIGKILL);
    const int code = daemon.process().Wait(std::chrono::seconds(10));
    const std::string log = daemon.process().Log();
    // A SIGTERM before main() has blocked it (the first milliseconds) ends the process by the
    // signal's default action: no policyd code runs, so that counts as a clean stop too.
    const bool stopped_by_sigterm = graceful_first && (code == 0 || code == -SIGTERM);
    if (!was_running && !stopped_by_sigterm) {
      ADD_FAILURE() << "policyd exited by itself (" << code << ") before kill " << k << ":\n"
                    << log;
    }
    event_pages += upstream.RequestCount("/admin/v1/events/_search") - pages_before;
    std::string phase =
        graceful_first && !was_running                        ? "after a clean SIGTERM exit"
        : graceful_first                                      ? "during SIGTERM shutdown"
        : !Logged(log, " serving ")                           ? "during start-up (store open)"
        : !synced_at_start && !Logged(log, "cold start from") ? "during a cold start"
        : !synced_at_start ? "after a cold start, while catching up"
        : Logged(log, "rebuilding with a cold start") && !Logged(log, "cold start from")
            ? "during a rebuild after a push of >1000 events"
            : "during incremental sync";
    ++phases[phase];
    if (Logged(log, "rebuilding with a cold start")) ++rebuilds;

    Result<StoreMeta> meta = CheckStore(data);
    if (!meta && meta.error().code() == Code::kFailedPrecondition && !Logged(log, " serving ")) {
      // Killed before the store was created at all: nothing to check yet.
      continue;
    }
    ASSERT_TRUE(meta) << "after kill " << k << " (" << phase << "): " << meta.error().ToString()
                      << "\n"
                      << log;
    // Every batch policyd reported written survives the kill: the store never goes back.
    EXPECT_GE(ToNanos(meta->last_sync), ToNanos(last_meta.last_sync)) << "after kill " << k;
    EXPECT_GE(ToNanos(meta->last_change), ToNanos(last_meta.last_change)) << "after kill " << k;
    last_meta = *meta;
  }

  writer.Stop();
  Daemon daemon(dir, args);
  checkpoint(daemon, "final");
  EXPECT_EQ(daemon.process().Stop(SIGTERM), 0) << daemon.process().Log();
  Result<StoreMeta> meta = CheckStore(data);
  EXPECT_TRUE(meta) << meta.error().ToString();
  EXPECT_TRUE(StoreMatchesUpstream(data, upstream));

  std::cout << "kills by phase:";
  for (const auto& [phase, n] : phases) std::cout << "\n  " << n << " " << phase;
  std::cout << "\nupstream: " << writer.changes() << " changes, " << upstream.EventCount()
            << " events, " << upstream.OrgIds().size() << " orgs (" << writer.removed_orgs().size()
            << " removed); policyd fetched " << event_pages << " event pages; " << rebuilds
            << " runs rebuilt after a push of >1000 events\n";
}

}  // namespace
}  // namespace policyd::testing_support
