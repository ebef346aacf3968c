// Sync against the fake upstream, in process: the real RocksDB store, the real HTTP client and
// the real Syncer, driven one round at a time so every step can be checked.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "fake_upstream/fake_upstream.h"
#include "json/policy_json.h"
#include "json/snapshot_json.h"
#include "resolve/resolve.h"
#include "store/store.h"
#include "support/process.h"
#include "sync/syncer.h"
#include "upstream/upstream.h"

namespace policyd::testing_support {
namespace {

std::string WriteSecret(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.Join(name);
  std::ofstream(path) << text << "\n";
  chmod(path.c_str(), 0600);
  return path;
}

class SyncTest : public ::testing::Test {
 protected:
  explicit SyncTest(FakeUpstreamOptions options = {}) : upstream_(options) {}

  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    token_file_ = WriteSecret(dir_, "token", "fake-pat-0123456789");
    OpenAll();
  }

  void OpenAll(std::string key_file = "") {
    auto store = OpenRocksStore(dir_.Join("data"), StoreOptions{});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    UpstreamOptions options;
    options.base_url = upstream_.base_url();
    if (key_file.empty()) {
      options.token_file = token_file_;
    } else {
      options.key_file = key_file;
    }
    options.total_timeout = std::chrono::seconds(2);
    auto client = MakeHttpUpstream(options, SystemClock());
    ASSERT_TRUE(client.has_value()) << client.error().ToString();
    client_ = std::move(*client);
    state_ = std::make_unique<ServingState>(FreshnessOptions{upstream_.base_url()});
    SyncOptions sync;
    sync.source = upstream_.base_url();
    syncer_ = std::make_unique<Syncer>(*store_, *client_, *state_, SystemClock(), sync);
  }

  void CloseAll() {
    syncer_.reset();
    client_.reset();
    store_.reset();
  }

  ::testing::AssertionResult Sync() {
    Status s = syncer_->SyncOnce();
    if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
    return ::testing::AssertionSuccess();
  }

  // What policyd answers for `org`, as the upstream's JSON body.
  std::string Answer(const std::string& org) {
    LookupBatch batch;
    batch.Add(org);
    EXPECT_TRUE(store_->Read(batch).ok());
    Result<Resolution> r = ResolveOrgPolicy(org, batch.org(0), batch.instance(), false);
    return r ? FormatGetPolicyResponse(r->policy) : r.error().ToString();
  }

  // An org's or the instance's domains as comparable text, in name order (the order domains
  // were added is kept too, but after a cold start from the org list it can differ).
  static std::string DomainsText(std::vector<OrgDomain> org, std::vector<std::string> instance) {
    std::sort(org.begin(), org.end(),
              [](const OrgDomain& a, const OrgDomain& b) { return a.name < b.name; });
    std::sort(instance.begin(), instance.end());
    std::string out = "org:";
    for (const OrgDomain& d : org) {
      out += " " + d.name + (d.verified ? "+verified" : "") + (d.primary ? "+primary" : "");
    }
    out += " instance:";
    for (const std::string& d : instance) out += " " + d;
    return out;
  }

  // Every org (and a few unknown ids) answers exactly as the upstream does, has the upstream's
  // domains (the instance's too), and the store knows exactly the upstream's orgs.
  ::testing::AssertionResult Converged() {
    std::vector<std::string> ids = upstream_.OrgIds();
    for (const char* unknown : {"999", "no-such-org"}) ids.push_back(unknown);
    for (const std::string& id : ids) {
      const std::string want = upstream_.EffectivePolicyBody(id);
      const std::string got = Answer(id);
      if (want != got) {
        return ::testing::AssertionFailure()
               << "org " << id << "\n upstream: " << want << "\n policyd:  " << got;
      }
      DomainSet domains;
      if (Status s = store_->ReadDomains(id, domains); !s.ok()) {
        return ::testing::AssertionFailure() << s.ToString();
      }
      const std::string want_domains =
          DomainsText(upstream_.OrgDomains(id), upstream_.InstanceDomains());
      const std::string got_domains = DomainsText(domains.org, domains.instance);
      if (want_domains != got_domains) {
        return ::testing::AssertionFailure()
               << "domains of org " << id << "\n upstream: " << want_domains
               << "\n policyd:  " << got_domains;
      }
    }
    Result<StoreMeta> meta = store_->Meta();
    if (!meta) return ::testing::AssertionFailure() << meta.error().ToString();
    if (meta->org_count != upstream_.OrgIds().size() ||
        meta->custom_policy_count != upstream_.OrgsWithOwnPolicy().size()) {
      return ::testing::AssertionFailure()
             << "store has " << meta->org_count << " orgs / " << meta->custom_policy_count
             << " own policies; upstream " << upstream_.OrgIds().size() << " / "
             << upstream_.OrgsWithOwnPolicy().size();
    }
    return ::testing::AssertionSuccess();
  }

  // The whole stored state as snapshot text.
  std::string Dump() {
    std::string out;
    bool first = true;
    Status s = store_->ForEach([&](const InstanceRecord& i) { AppendSnapshotBegin(out, i); },
                               [&](const OrgRecord& o) {
                                 AppendSnapshotOrg(out, o, first);
                                 first = false;
                                 return Status::Ok();
                               });
    EXPECT_TRUE(s.ok());
    return out;
  }

  TempDir dir_;
  FakeUpstream upstream_;
  std::string token_file_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Upstream> client_;
  std::unique_ptr<ServingState> state_;
  std::unique_ptr<Syncer> syncer_;
};

TEST_F(SyncTest, ColdStartBuildsTheCompleteState) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 20; ++i) orgs.push_back(upstream_.AddOrg("org " + std::to_string(i)));
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[3], {true, false, true}).ok());
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[7], {false, true, false}).ok());
  ASSERT_TRUE(upstream_.ChangeOrgPolicy(orgs[7], {true, true, false}).ok());
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[9], {true, true, true}).ok());
  ASSERT_TRUE(upstream_.RemoveOrgPolicy(orgs[9]).ok());
  ASSERT_TRUE(upstream_.RemoveOrg(orgs[11]).ok());
  ASSERT_TRUE(upstream_.ChangeDefaultPolicy({false, true, true}).ok());
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 1u);
  EXPECT_TRUE(Converged());
}

TEST_F(SyncTest, EveryKindOfChangeConvergesIncrementally) {
  const std::string a = upstream_.AddOrg("alpha"), b = upstream_.AddOrg("beta");
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(Converged());
  // Only a cold start reads the instance default.
  const int default_reads = upstream_.RequestCount("/admin/v1/policies/domain");
  std::vector<std::function<Status()>> changes = {
      [&] {
        return upstream_.AddOrgPolicy(a, {true, false, false});
      },
      [&] {
        return upstream_.ChangeOrgPolicy(a, {true, true, false});
      },
      [&] {
        return upstream_.ChangeOrgPolicy(a, {false, true, false});
      },
      [&] {
        return upstream_.ChangeDefaultPolicy({true, false, true});
      },
      [&] { return upstream_.RemoveOrgPolicy(a); },
      [&] {
        return upstream_.AddOrgPolicy(b, {false, false, true});
      },
      [&] { return upstream_.DeactivateOrg(b); },
      [&] { return upstream_.ReactivateOrg(b); },
      [&] { return upstream_.ChangeOrg(b, "beta two"); },
      [&] { return upstream_.AddOrgDomain(a, "alpha.example.org"); },
      [&] { return upstream_.RemoveOrg(b); },
      [&] { return upstream_.AddOrg("gamma").empty() ? Status::Internal("add") : Status::Ok(); },
      [&] { return upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgAdded, a, true); },
      [&] { return upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgChanged, a, false); },
      [&] { return upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgRemoved, a, false); },
      [&] {
        return upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "", false);
      },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    ASSERT_TRUE(changes[i]().ok()) << "change " << i;
    ASSERT_TRUE(Sync()) << "change " << i;
    ASSERT_TRUE(Converged()) << "after change " << i;
  }
  EXPECT_EQ(upstream_.RequestCount("/admin/v1/policies/domain"), default_reads)
      << "incremental sync must not list orgs again";
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 1u);
}

TEST_F(SyncTest, AChangedDefaultReachesEveryOrgWithoutItsOwnPolicyAtOnce) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 50; ++i) orgs.push_back(upstream_.AddOrg("o" + std::to_string(i)));
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[0], {false, false, false}).ok());
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(upstream_.ChangeDefaultPolicy({true, true, true}).ok());
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
  EXPECT_NE(Answer(orgs[1]).find("\"userLoginMustBeDomain\":true"), std::string::npos);
  EXPECT_EQ(Answer(orgs[0]).find("userLoginMustBeDomain"), std::string::npos);
}

TEST_F(SyncTest, NothingIsAppliedTwiceAcrossOverlappingPolls) {
  const std::string a = upstream_.AddOrg("a");
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(upstream_.AddOrgPolicy(a, {true, false, false}).ok());
  ASSERT_TRUE(Sync());
  const std::uint64_t applied = syncer_->counters().events_applied.load();
  EXPECT_EQ(applied, 1u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Sync());  // the overlap window returns it again
  EXPECT_EQ(syncer_->counters().events_applied.load(), applied);
  EXPECT_TRUE(Converged());
}

TEST_F(SyncTest, RestartResumesFromTheCursorWithoutAColdStart) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 10; ++i) orgs.push_back(upstream_.AddOrg("r" + std::to_string(i)));
  ASSERT_TRUE(Sync());
  CloseAll();
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[2], {true, true, false}).ok());
  ASSERT_TRUE(upstream_.RemoveOrg(orgs[5]).ok());
  // Only a cold start reads the instance default.
  const int default_reads = upstream_.RequestCount("/admin/v1/policies/domain");
  OpenAll();
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 0u);
  EXPECT_EQ(upstream_.RequestCount("/admin/v1/policies/domain"), default_reads);
  EXPECT_EQ(syncer_->counters().events_applied.load(), 2u);  // exactly the two new events
  EXPECT_TRUE(Converged());
}

TEST_F(SyncTest, ManyPagesOfEventsConverge) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 300; ++i) orgs.push_back(upstream_.AddOrg("p" + std::to_string(i)));
  ASSERT_TRUE(Sync());
  for (int round = 0; round < 8; ++round) {
    for (std::size_t i = 0; i < orgs.size(); ++i) {
      const bool on = (round + i) % 2 == 0;
      if (round == 0) {
        ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[i], {on, !on, on}).ok());
      } else {
        ASSERT_TRUE(upstream_.ChangeOrgPolicy(orgs[i], {on, !on, on}).ok());
      }
    }
  }
  ASSERT_TRUE(Sync());  // 2,400 events: three pages
  EXPECT_GE(syncer_->counters().pages.load(), 3u);
  EXPECT_TRUE(Converged());
}

// ---- Domains (issue 7): org and instance domains follow the same stream ----

TEST_F(SyncTest, DomainsFollowEveryDomainEventIncrementally) {
  const std::string a = upstream_.AddOrg("alpha"), b = upstream_.AddOrg("beta");
  // beta validates its domains: a domain added to it stays unverified until verified.
  ASSERT_TRUE(upstream_.AddOrgPolicy(b, {false, true, false}).ok());
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(Converged());
  const std::string a_generated = upstream_.OrgDomains(a).at(0).name;
  std::vector<std::function<Status()>> changes = {
      [&] { return upstream_.AddOrgDomain(a, "alpha.com"); },  // added + verified in one push
      [&] { return upstream_.AddOrgDomain(b, "beta.com"); },   // added only
      [&] { return upstream_.VerifyOrgDomain(b, "beta.com"); },
      [&] { return upstream_.SetPrimaryOrgDomain(b, "beta.com"); },
      [&] { return upstream_.SetPrimaryOrgDomain(a, "alpha.com"); },
      [&] { return upstream_.RemoveOrgDomain(a, a_generated); },
      [&] { return upstream_.AddOrgDomain(b, "beta.org"); },
      [&] { return upstream_.RemoveOrgDomain(b, "beta.org"); },
      [&] { return upstream_.AddInstanceDomain("login.example.com"); },
      [&] { return upstream_.RemoveInstanceDomain("login.example.com"); },
      [&] { return upstream_.AddInstanceDomain("mail.example.com"); },
      [&] { return upstream_.ChangeOrg(b, "beta two"); },  // the primary is not the generated one
      [&] { return upstream_.RemoveOrg(a); },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    ASSERT_TRUE(changes[i]().ok()) << "change " << i;
    ASSERT_TRUE(Sync()) << "change " << i;
    ASSERT_TRUE(Converged()) << "after change " << i;
  }
  DomainSet removed;
  ASSERT_TRUE(store_->ReadDomains(a, removed).ok());
  EXPECT_TRUE(removed.org.empty());  // a removed org's domains go with it
  EXPECT_EQ(removed.instance,
            (std::vector<std::string>{"zitadel.example.com", "mail.example.com"}));
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 1u);
}

TEST_F(SyncTest, ColdStartReplaysDomainEventsAndTheOverlapAppliesNothingTwice) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 12; ++i) orgs.push_back(upstream_.AddOrg("d" + std::to_string(i)));
  ASSERT_TRUE(upstream_.AddOrgDomain(orgs[3], "three.com").ok());
  ASSERT_TRUE(upstream_.RemoveOrg(orgs[3]).ok());
  // A removed org's events replayed in the overlap window bring it back until its org.removed
  // (in the same batch); keep them out of the window, which this test is not about.
  upstream_.AdvanceClock(std::chrono::minutes(1));
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[1], {true, true, false}).ok());  // validates domains
  ASSERT_TRUE(upstream_.AddOrgDomain(orgs[0], "zero.com").ok());
  ASSERT_TRUE(upstream_.SetPrimaryOrgDomain(orgs[0], "zero.com").ok());
  ASSERT_TRUE(upstream_.AddOrgDomain(orgs[1], "one.com").ok());  // stays unverified
  ASSERT_TRUE(upstream_.AddOrgDomain(orgs[2], "two.com").ok());
  ASSERT_TRUE(upstream_.RemoveOrgDomain(orgs[2], "two.com").ok());
  ASSERT_TRUE(upstream_.AddInstanceDomain("old.example.com").ok());
  ASSERT_TRUE(upstream_.AddInstanceDomain("login.example.com").ok());
  ASSERT_TRUE(upstream_.RemoveInstanceDomain("old.example.com").ok());
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 1u);
  EXPECT_TRUE(Converged());
  // The next polls ask again from 2 s before the newest event, which returns all of these
  // events: each list's sequence recognises them.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().events_applied.load(), 0u);
  EXPECT_TRUE(Converged());
}

TEST_F(SyncTest, DomainChangesMadeWhilePolicydIsDownArriveAfterARestart) {
  const std::string a = upstream_.AddOrg("restart");
  ASSERT_TRUE(Sync());
  CloseAll();
  ASSERT_TRUE(upstream_.AddOrgDomain(a, "restart.com").ok());
  ASSERT_TRUE(upstream_.SetPrimaryOrgDomain(a, "restart.com").ok());
  ASSERT_TRUE(upstream_.AddInstanceDomain("i2.example.com").ok());
  OpenAll();
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 0u);
  EXPECT_TRUE(Converged());
}

// A store written by the previous version holds no domains and a "v1" cursor: the first sync
// with this version does one cold start, which fetches them.
TEST_F(SyncTest, AStoreWithoutDomainsGetsThemFromOneColdStart) {
  const std::string a = upstream_.AddOrg("upgrade");
  ASSERT_TRUE(upstream_.AddOrgDomain(a, "upgrade.com").ok());
  ASSERT_TRUE(Sync());
  Result<StoreMeta> meta = store_->Meta();
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(meta->cursor.starts_with("v5 "));
  StoreChange old;
  old.put_org_domains = {OrgDomains{a, {}, 0}};  // deletes the row
  old.instance_domains = InstanceDomains{};
  old.cursor = "v1" + meta->cursor.substr(2);
  ASSERT_TRUE(store_->Apply(old, Timestamp{1, 0}).ok());
  DomainSet none;
  ASSERT_TRUE(store_->ReadDomains(a, none).ok());
  ASSERT_EQ(none, DomainSet{});

  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 2u);
  EXPECT_TRUE(Converged());
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 2u);
}

class SyncFrozenClockTest : public SyncTest {
 protected:
  SyncFrozenClockTest() : SyncTest(Frozen()) {}
  static FakeUpstreamOptions Frozen() {
    FakeUpstreamOptions options;
    options.freeze_clock = true;  // every push 1 µs after the last: all within the overlap
    return options;
  }
};

// Regression (found by crash_test.cc): the catch-up after a cold start re-reads the 2 s before
// the newest event. When that took more than one page, the second page started at the cold
// start's newest event and skipped the rest of the overlap, so the removal of an org and of a
// policy, re-added by the first page, were never read again: both came back.
TEST_F(SyncFrozenClockTest, CatchingUpAfterAColdStartReplaysTheWholeOverlapInOrder) {
  const std::string gone = upstream_.AddOrg("added, then removed");
  const std::string reset = upstream_.AddOrg("policy added, then removed");
  ASSERT_TRUE(upstream_.AddOrgPolicy(reset, {true, true, true}).ok());
  for (int i = 0; i < 1100; ++i) upstream_.AddOrg("filler " + std::to_string(i));
  ASSERT_TRUE(upstream_.RemoveOrgPolicy(reset).ok());
  ASSERT_TRUE(upstream_.RemoveOrg(gone).ok());
  upstream_.AddOrg("newest");
  ASSERT_TRUE(Sync());  // cold start
  ASSERT_TRUE(Sync());  // the overlap again: 1,106 events, two pages
  EXPECT_GE(syncer_->counters().pages.load(), 2u);
  EXPECT_TRUE(Converged());
}

struct FaultCase {
  const char* name;
  Fault fault;
  Code code;
};

class SyncFaultTest : public SyncTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(SyncFaultTest, AFaultChangesNothingAndSyncRecoversWhenItEnds) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 5; ++i) orgs.push_back(upstream_.AddOrg("f" + std::to_string(i)));
  ASSERT_TRUE(Sync());
  const std::string before = Dump();
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[1], {true, true, true}).ok());
  Fault fault = GetParam().fault;
  fault.times = Fault::kForever;
  upstream_.InjectFault(fault);
  Status s = syncer_->SyncOnce();
  EXPECT_EQ(s.code(), GetParam().code) << s.ToString();
  EXPECT_EQ(s.message().find("fake-pat"), std::string::npos) << "secret in: " << s.message();
  EXPECT_EQ(Dump(), before);  // the served state is intact
  upstream_.ClearFaults();
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SyncFaultTest,
    ::testing::Values(
        FaultCase{"InternalError", Fault{FaultKind::kInternalError}, Code::kUnavailable},
        FaultCase{"Unavailable", Fault{FaultKind::kUnavailable}, Code::kUnavailable},
        FaultCase{"TooManyRequests", Fault{FaultKind::kTooManyRequests}, Code::kResourceExhausted},
        FaultCase{"TruncatedBody", Fault{FaultKind::kTruncatedBody}, Code::kUnavailable},
        FaultCase{"ConnectionReset", Fault{FaultKind::kConnectionReset}, Code::kUnavailable},
        FaultCase{"MalformedJson", Fault{FaultKind::kMalformedJson}, Code::kInternal},
        FaultCase{"WrongToken", Fault{FaultKind::kWrongToken}, Code::kUnauthenticated},
        FaultCase{"Slow", Fault{FaultKind::kSlow, 1, "", std::chrono::milliseconds(8000)},
                  Code::kDeadlineExceeded}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(SyncTest, APushOfMoreThanAPageOfEventsIsRebuiltByAColdStart) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 1100; ++i) orgs.push_back(upstream_.AddOrg("g" + std::to_string(i)));
  ASSERT_TRUE(Sync());
  upstream_.BeginSharedTimestamp();  // one huge push: 1,100 events with one creationDate
  for (const std::string& org : orgs)
    ASSERT_TRUE(upstream_.AddOrgPolicy(org, {true, false, true}).ok());
  upstream_.EndSharedTimestamp();
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 2u);
  // The history cannot be paged past the push, so the cold start read the org list and the
  // domain lists: the same state.
  EXPECT_TRUE(Converged());
  const std::string later = upstream_.AddOrg("after the big push");
  ASSERT_TRUE(upstream_.AddOrgPolicy(later, {false, true, false}).ok());
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 2u) << "incremental sync resumed";
  EXPECT_TRUE(Converged());
}

TEST_F(SyncTest, TooManyRequestsReportsRetryAfter) {
  (void)upstream_.AddOrg("x");
  upstream_.InjectFault(Fault{FaultKind::kTooManyRequests, 1, "", {}, std::chrono::seconds(7)});
  EXPECT_EQ(syncer_->SyncOnce().code(), Code::kResourceExhausted);
  ASSERT_TRUE(client_->retry_after().has_value());
  EXPECT_EQ(*client_->retry_after(), std::chrono::seconds(7));
}

// Syncer::Nudge (the webhook's wake-up): a burst of nudges makes a round or two, rounds never
// overlap, and a nudge never shortens the backoff after a failure (here a 429 asking for 30 s),
// which Wake (SIGHUP) does.
TEST_F(SyncTest, NudgesCoalesceAndNeverShortenABackoff) {
  const std::string org = upstream_.AddOrg("nudged");
  SyncOptions options;
  options.source = upstream_.base_url();
  options.poll_interval = std::chrono::seconds(60);
  options.nudge_gap = std::chrono::milliseconds(50);
  syncer_ = std::make_unique<Syncer>(*store_, *client_, *state_, SystemClock(), options);
  const SyncCounters& c = syncer_->counters();
  syncer_->Start();
  ASSERT_TRUE(WaitFor([&] { return c.successes.load() == 1; }, std::chrono::seconds(10),
                      "the first round"));
  // Rounds are over when none has begun for a while (nudged rounds start within 50 ms).
  auto quiet_after = [&](std::chrono::milliseconds quiet) {
    const auto since = std::chrono::steady_clock::now();
    return WaitFor(
        [&] {
          return std::chrono::steady_clock::now() - since > quiet &&
                 c.successes.load() + c.failures.load() == c.rounds.load();
        },
        std::chrono::seconds(10), "the rounds to end");
  };

  ASSERT_TRUE(upstream_.AddOrgPolicy(org, {true, false, true}).ok());
  std::uint64_t before = c.rounds.load();
  for (int i = 0; i < 20; ++i) syncer_->Nudge();
  ASSERT_TRUE(WaitFor([&] { return bool(Converged()); }, std::chrono::seconds(5), "the change"));
  ASSERT_TRUE(quiet_after(std::chrono::milliseconds(500)));
  EXPECT_GE(c.rounds.load() - before, 1u);
  EXPECT_LE(c.rounds.load() - before, 2u);

  upstream_.InjectFault(
      Fault{FaultKind::kTooManyRequests, Fault::kForever, "", {}, std::chrono::seconds(30)});
  syncer_->Nudge();
  ASSERT_TRUE(WaitFor([&] { return c.failures.load() == 1; }, std::chrono::seconds(5),
                      "a rate-limited round"));
  upstream_.ClearFaults();
  ASSERT_TRUE(upstream_.ChangeOrgPolicy(org, {false, true, false}).ok());
  before = c.rounds.load();
  for (int i = 0; i < 5; ++i) syncer_->Nudge();
  ASSERT_TRUE(quiet_after(std::chrono::milliseconds(700)));
  EXPECT_EQ(c.rounds.load(), before) << "a nudge cut the Retry-After short";
  EXPECT_FALSE(Converged());
  syncer_->Wake();
  ASSERT_TRUE(WaitFor([&] { return bool(Converged()); }, std::chrono::seconds(5), "the change"));
  syncer_->Stop();
}

TEST_F(SyncTest, RandomChangesAlwaysConvergeToWhatTheUpstreamAnswers) {
  std::mt19937 rng(20261124);
  std::vector<std::string> orgs;
  for (int i = 0; i < 12; ++i) orgs.push_back(upstream_.AddOrg("rand" + std::to_string(i)));
  auto flags = [&rng] { return PolicyFlags{rng() % 2 == 0, rng() % 2 == 0, rng() % 2 == 0}; };
  int next_name = 100;
  for (int step = 0; step < 400; ++step) {
    std::vector<std::string> live = upstream_.OrgIds();
    const std::string org = live.empty() ? "" : live[rng() % live.size()];
    switch (rng() % 11) {
      case 0:
        (void)upstream_.AddOrg("rand" + std::to_string(next_name++));
        break;
      case 1:
        if (rng() % 3 == 0) (void)upstream_.RemoveOrg(org);
        break;
      case 2:
      case 3:
        (void)upstream_.AddOrgPolicy(org, flags());
        break;
      case 4:
      case 5:
        (void)upstream_.ChangeOrgPolicy(org, flags());
        break;
      case 6:
        (void)upstream_.RemoveOrgPolicy(org);
        break;
      case 7:
        (void)upstream_.ChangeDefaultPolicy(flags());
        break;
      case 8:
        (void)upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgChanged, org, rng() % 2);
        break;
      case 9:
        (void)upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "", rng() % 2);
        break;
      case 10:  // the instance's events move to another stream (sequences start again at 1)
        upstream_.SetInstanceAggregateId(rng() % 2 == 0 ? "IAM" : "");
        break;
    }
    if (rng() % 10 == 0) {
      ASSERT_TRUE(Sync()) << "step " << step;
    }
    if (rng() % 50 == 0) {  // restart now and then
      CloseAll();
      OpenAll();
    }
  }
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
}

// Regression: the upstream numbers events per stream (aggregate type, aggregate id), and an
// instance's history moves from the v1 stream ("iam", "IAM") to ("instance", "IAM") and then to
// ("instance", <instance id>), each new stream starting at 1. policyd compared the new stream's
// sequences with the row's and ignored every further change of the default, for good.
TEST_F(SyncTest, AnInstanceWhoseEventsMoveToNewStreamsKeepsFollowingItsDefault) {
  const std::string a = upstream_.AddOrg("streams-a"), b = upstream_.AddOrg("streams-b");
  ASSERT_TRUE(upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgAdded, a, true).ok());
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(Converged());
  bool on = false;
  // Three changes of the default (legacy names or current ones), each followed by one poll.
  auto three_changes = [&](bool legacy) -> ::testing::AssertionResult {
    for (int i = 0; i < 3; ++i) {
      on = !on;
      Status s = legacy
                     ? upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "", on)
                     : upstream_.ChangeDefaultPolicy({on, !on, on});
      if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
      if (auto synced = Sync(); !synced) return synced;
      if (auto converged = Converged(); !converged) return converged << " (change " << i << ")";
    }
    return ::testing::AssertionSuccess();
  };
  ASSERT_TRUE(three_changes(/*legacy=*/true));  // ("iam", "IAM") 1..3
  ASSERT_TRUE(upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgChanged, a, false).ok());
  ASSERT_TRUE(upstream_.AddOrgPolicy(b, {true, true, true}).ok());
  CloseAll();
  OpenAll();
  upstream_.SetInstanceAggregateId("IAM");
  ASSERT_TRUE(upstream_.AddInstanceDomain("renamed.example.com").ok());
  ASSERT_TRUE(three_changes(/*legacy=*/false));  // ("instance", "IAM") 2..4
  CloseAll();
  OpenAll();
  upstream_.SetInstanceAggregateId("");
  ASSERT_TRUE(three_changes(/*legacy=*/false));  // ("instance", <id>) 4..6
  ASSERT_TRUE(upstream_.RemoveInstanceDomain("renamed.example.com").ok());
  ASSERT_TRUE(upstream_.ChangeOrgPolicy(a, {false, false, true}).ok());
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(Converged());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 0u);  // none since the last restart

  // A cold start reads the default from the upstream's API, which does not say which stream its
  // sequence counts in; the events after it still apply, whichever stream they are on.
  CloseAll();
  std::filesystem::remove_all(dir_.Join("data"));
  OpenAll();
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(Converged());
  upstream_.SetInstanceAggregateId("IAM");  // continues at 5, below the default's 6
  ASSERT_TRUE(three_changes(/*legacy=*/false));
  ASSERT_TRUE(three_changes(/*legacy=*/true));
}

// The same after a cold start under audit-log retention, where every row comes from the
// upstream's API and the replayed window is empty.
TEST_F(SyncTest, EventsOfANewStreamApplyAfterAColdStartFromTheApi) {
  const std::string a = upstream_.AddOrg("api-a");
  ASSERT_TRUE(upstream_.AddOrgPolicy(a, {true, false, false}).ok());
  for (bool on : {true, false, true}) ASSERT_TRUE(upstream_.ChangeDefaultPolicy({on, on, on}).ok());
  upstream_.AdvanceClock(std::chrono::hours(48));
  upstream_.SetAuditLogRetention(std::chrono::hours(24));
  ASSERT_TRUE(Sync());
  auto answers_match = [&]() -> ::testing::AssertionResult {
    for (const std::string& id : {a, std::string("999")}) {
      if (Answer(id) != upstream_.EffectivePolicyBody(id)) {
        return ::testing::AssertionFailure()
               << id << ": " << Answer(id) << " vs " << upstream_.EffectivePolicyBody(id);
      }
    }
    return ::testing::AssertionSuccess();
  };
  ASSERT_TRUE(answers_match());
  upstream_.SetInstanceAggregateId("IAM");  // sequence 1, below the default's
  ASSERT_TRUE(upstream_.ChangeDefaultPolicy({false, true, false}).ok());
  ASSERT_TRUE(upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kOrgChanged, a, false).ok());
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(answers_match());
  ASSERT_TRUE(upstream_.ApplyLegacyPolicyEvent(LegacyPolicyEvent::kInstanceChanged, "", true).ok());
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(answers_match());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 1u);
}

TEST_F(SyncTest, JwtProfileAuthenticatesAndReusesItsToken) {
  Result<ServiceAccountKey> key =
      GenerateServiceAccountKey(dir_.path(), "300000000000000099", "key-1");
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  chmod(key->key_file_path.c_str(), 0600);
  ASSERT_TRUE(
      upstream_.RegisterServiceAccount(key->user_id, key->key_id, key->public_key_pem).ok());
  upstream_.SetPat("");  // only the JWT profile works now
  CloseAll();
  OpenAll(key->key_file_path);
  (void)upstream_.AddOrg("jwt org");
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(Sync());
  EXPECT_EQ(upstream_.IssuedTokens(), 1);
  EXPECT_TRUE(Converged());
  upstream_.ExpireIssuedTokens();  // the next call gets 401 and must fetch a new token
  (void)upstream_.AddOrg("jwt org 2");
  ASSERT_TRUE(Sync());
  EXPECT_EQ(upstream_.IssuedTokens(), 2);
  EXPECT_TRUE(Converged());
}

TEST_F(SyncTest, ColdStartOfTenThousandOrgsDoesNotAskPerOrg) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 10'000; ++i) orgs.push_back(upstream_.AddOrg("t" + std::to_string(i)));
  for (int i = 0; i < 10'000; i += 100) {
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[i], {true, i % 200 == 0, false}).ok());
  }
  const int before = upstream_.TotalRequests();
  ASSERT_TRUE(Sync());
  const int requests = upstream_.TotalRequests() - before;
  std::cout << "cold start of 10,000 orgs (100 with their own policy): " << requests
            << " requests\n";
  RecordProperty("cold_start_requests", requests);
  // newest event + default + history probe + 41 pages of org events (10,000 org.added, the 30,000
  // org.domain.added/verified/primary.set of the orgs' generated domains, 100
  // org.policy.domain.added and the instance.domain.added of the instance's domain).
  EXPECT_EQ(requests, 44);
  EXPECT_EQ(upstream_.RequestCount("/admin/v1/orgs/" + orgs[0] + "/policies/domain"), 0);
  EXPECT_TRUE(Converged());
}

TEST_F(SyncTest, ReportsHowManyEventsItAppliesPerSecond) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 1000; ++i) orgs.push_back(upstream_.AddOrg("s" + std::to_string(i)));
  ASSERT_TRUE(Sync());
  for (int round = 0; round < 20; ++round) {
    for (std::size_t i = 0; i < orgs.size(); ++i) {
      const PolicyFlags flags{(round + i) % 2 == 0, round % 3 == 0, i % 2 == 0};
      ASSERT_TRUE((round == 0 ? upstream_.AddOrgPolicy(orgs[i], flags)
                              : upstream_.ChangeOrgPolicy(orgs[i], flags))
                      .ok());
    }
  }
  const std::uint64_t applied_before = syncer_->counters().events_applied.load();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Sync());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t applied = syncer_->counters().events_applied.load() - applied_before;
  EXPECT_EQ(applied, 20'000u);
  std::cout << "applied " << applied << " events in " << seconds
            << " s: " << static_cast<std::uint64_t>(static_cast<double>(applied) / seconds)
            << " events/s (pages of 1000, fake upstream over loopback HTTP)\n";
  EXPECT_TRUE(Converged());
}

using SyncRetentionTest = SyncTest;

TEST_F(SyncRetentionTest, ColdStartIsCorrectWhenOldEventsAreHidden) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 40; ++i) orgs.push_back(upstream_.AddOrg("h" + std::to_string(i)));
  for (int i = 0; i < 40; i += 8)
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[i], {true, true, false}).ok());
  upstream_.AdvanceClock(std::chrono::hours(48));
  upstream_.SetAuditLogRetention(std::chrono::hours(24));  // every event so far is hidden
  const int before = upstream_.TotalRequests();
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
  // Reading each org's policies (the domain policy, the 7 other kinds and the label policy's
  // preview) and its domain list is the only correct way when history is hidden. Besides: the
  // newest event, the default, the history probe, one org page, the newest org.added/org.removed
  // event before and after it (no org came or went while the list was read), the instance's
  // domain list and the other kinds' 8 defaults: docs/sync.md's 14 + ceil(N/1000) + 10N.
  EXPECT_EQ(upstream_.TotalRequests() - before, 14 + 1 + 10 * 40);
  EXPECT_EQ(upstream_.RequestCount("/management/v1/policies/login"), 40);
  EXPECT_EQ(upstream_.RequestCount("/management/v1/policies/label/_preview"), 40);
  EXPECT_EQ(upstream_.RequestCount("/management/v1/orgs/me/domains/_search"), 40);
  EXPECT_EQ(upstream_.RequestCount("/admin/v1/domains/_search"), 1);
  ASSERT_TRUE(upstream_.ChangeOrgPolicy(orgs[8], {false, true, false}).ok());
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
}

// Issue 12 §3: under retention the cold start reads every org's domain list and the instance's,
// so domains whose events lie before the window are known, verified or not, primary or not.
TEST_F(SyncRetentionTest, ColdStartKnowsEveryDomainWhoseEventsAreHidden) {
  const std::string a = upstream_.AddOrg("ra"), b = upstream_.AddOrg("rb");
  ASSERT_TRUE(upstream_.AddOrgPolicy(b, {true, true, false}).ok());  // b validates its domains
  ASSERT_TRUE(upstream_.AddOrgDomain(a, "a-custom.com").ok());
  ASSERT_TRUE(upstream_.SetPrimaryOrgDomain(a, "a-custom.com").ok());
  ASSERT_TRUE(upstream_.AddOrgDomain(a, "a-login.com").ok());  // verified, not primary
  ASSERT_TRUE(upstream_.AddOrgDomain(b, "b-verified.com").ok());
  ASSERT_TRUE(upstream_.VerifyOrgDomain(b, "b-verified.com").ok());
  ASSERT_TRUE(upstream_.AddOrgDomain(b, "b-pending.com").ok());  // stays unverified
  ASSERT_TRUE(upstream_.AddOrgDomain(b, "b-gone.com").ok());
  ASSERT_TRUE(upstream_.RemoveOrgDomain(b, "b-gone.com").ok());
  ASSERT_TRUE(upstream_.AddInstanceDomain("old.example.com").ok());
  ASSERT_TRUE(upstream_.AddInstanceDomain("mail.example.com").ok());
  ASSERT_TRUE(upstream_.RemoveInstanceDomain("old.example.com").ok());
  upstream_.AdvanceClock(std::chrono::hours(48));
  upstream_.SetAuditLogRetention(std::chrono::hours(24));
  ASSERT_TRUE(upstream_.AddOrgDomain(b, "b-new.com").ok());  // within the window
  ASSERT_TRUE(Sync());
  EXPECT_EQ(syncer_->counters().cold_starts.load(), 1u);
  EXPECT_TRUE(Converged());  // exactly the upstream's domains, the instance's included

  DomainSet got;
  ASSERT_TRUE(store_->ReadDomains(a, got).ok());
  EXPECT_EQ(DomainsText(got.org, got.instance),
            "org: a-custom.com+verified+primary a-login.com+verified "
            "ra.zitadel.example.com+verified instance: mail.example.com zitadel.example.com");
  ASSERT_TRUE(store_->ReadDomains(b, got).ok());
  EXPECT_EQ(DomainsText(got.org, {}),
            "org: b-new.com b-pending.com b-verified.com+verified "
            "rb.zitadel.example.com+verified+primary instance:");

  // The first polls replay the overlap window (b-new.com's events) on top of the lists: nothing
  // changes. Then every event is seen.
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
  ASSERT_TRUE(upstream_.VerifyOrgDomain(b, "b-pending.com").ok());
  ASSERT_TRUE(upstream_.RemoveOrgDomain(a, "a-login.com").ok());
  ASSERT_TRUE(upstream_.RemoveInstanceDomain("mail.example.com").ok());
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
  ASSERT_TRUE(upstream_.RemoveOrg(b).ok());
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(store_->ReadDomains(b, got).ok());
  EXPECT_TRUE(got.org.empty());
  EXPECT_TRUE(Converged());
}

// Domain changes made while the cold start reads the lists are not lost: the incremental sync
// replays them on top of what was read, whichever of them the lists already showed.
TEST_F(SyncRetentionTest, DomainChangesDuringTheListReadsAreReplayedOnTopOfThem) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 6; ++i) orgs.push_back(upstream_.AddOrg("c" + std::to_string(i)));
  ASSERT_TRUE(upstream_.AddOrgDomain(orgs[0], "zero.com").ok());
  upstream_.AdvanceClock(std::chrono::hours(48));
  upstream_.SetAuditLogRetention(std::chrono::hours(24));
  // Changes land between the reads: while org 2's domains are read, org 1's (already read) and
  // org 4's (not yet read) change, and the instance gets a domain.
  std::atomic<bool> changed{false}, cold_start_done{false}, during{false};
  std::thread mutator([&] {
    if (!upstream_.WaitForRequests("/management/v1/orgs/me/domains/_search", 3,
                                   std::chrono::seconds(10))) {
      return;
    }
    const bool ok = upstream_.AddOrgDomain(orgs[1], "one.com").ok() &&
                    upstream_.AddOrgDomain(orgs[4], "four.com").ok() &&
                    upstream_.SetPrimaryOrgDomain(orgs[4], "four.com").ok() &&
                    upstream_.RemoveOrgDomain(orgs[0], "zero.com").ok() &&
                    upstream_.AddInstanceDomain("late.example.com").ok();
    during = !cold_start_done.load();
    changed = ok;
  });
  upstream_.InjectFault({FaultKind::kSlow, Fault::kForever, "/management/v1/orgs/me/domains",
                         std::chrono::milliseconds(200)});
  const Status cold = syncer_->SyncOnce();
  cold_start_done = true;
  mutator.join();
  upstream_.ClearFaults();
  ASSERT_TRUE(cold.ok()) << cold.ToString();
  ASSERT_TRUE(changed.load());
  EXPECT_TRUE(during.load()) << "the changes came after the cold start's reads";
  ASSERT_TRUE(Sync());  // replays the changes from the overlap window
  EXPECT_TRUE(Converged());
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
}

// A fault on either domain list fails the cold start cleanly: the store keeps its state, and the
// next round succeeds once the fault ends.
TEST_F(SyncRetentionTest, AFaultOnTheDomainListsFailsTheColdStartAndItIsRetried) {
  const std::string a = upstream_.AddOrg("kept");
  ASSERT_TRUE(upstream_.AddOrgDomain(a, "kept.com").ok());
  ASSERT_TRUE(Sync());  // complete history: no list reads
  EXPECT_EQ(upstream_.RequestCount("/management/v1/orgs/me/domains/_search"), 0);
  const std::string before = Dump();
  DomainSet domains_before;
  ASSERT_TRUE(store_->ReadDomains(a, domains_before).ok());
  const std::string b = upstream_.AddOrg("later");
  ASSERT_TRUE(upstream_.AddOrgDomain(b, "later.com").ok());
  upstream_.AdvanceClock(std::chrono::hours(48));
  upstream_.SetAuditLogRetention(std::chrono::hours(24));
  struct Case {
    FaultKind kind;
    const char* path;
    Code code;
  };
  const Case kCases[] = {
      {FaultKind::kInternalError, "/management/v1/orgs/me/domains/_search", Code::kUnavailable},
      {FaultKind::kTooManyRequests, "/admin/v1/domains/_search", Code::kResourceExhausted},
      {FaultKind::kTruncatedBody, "/management/v1/orgs/me/domains/_search", Code::kUnavailable},
      {FaultKind::kConnectionReset, "/admin/v1/domains/_search", Code::kUnavailable},
      {FaultKind::kMalformedJson, "/management/v1/orgs/me/domains/_search", Code::kInternal},
  };
  // A cursor that does not decode makes the next round a cold start, which now reads the lists.
  StoreChange forget;
  forget.cursor = "v1 forget";
  ASSERT_TRUE(store_->Apply(forget, Timestamp{1, 0}).ok());
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.path);
    upstream_.InjectFault({c.kind, Fault::kForever, c.path});
    const Status s = syncer_->SyncOnce();
    upstream_.ClearFaults();
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    EXPECT_NE(s.message().find("cold start"), std::string::npos) << s.ToString();
    EXPECT_EQ(Dump(), before);
    DomainSet domains;
    ASSERT_TRUE(store_->ReadDomains(a, domains).ok());
    EXPECT_EQ(domains, domains_before);
  }
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
}

// An org removed after the org list was read answers its domain list with 403 (the upstream's
// answer for an unknown x-zitadel-orgid): the round fails as UNAVAILABLE, not as a missing role,
// and the next one succeeds.
TEST_F(SyncRetentionTest, AnOrgRemovedDuringTheColdStartIsRetriedNotAPermissionError) {
  std::vector<std::string> orgs;
  for (int i = 0; i < 4; ++i) orgs.push_back(upstream_.AddOrg("r" + std::to_string(i)));
  upstream_.AdvanceClock(std::chrono::hours(48));
  upstream_.SetAuditLogRetention(std::chrono::hours(24));
  std::thread remover([&] {
    if (upstream_.WaitForRequests("/management/v1/orgs/me/domains/_search", 1,
                                  std::chrono::seconds(10))) {
      EXPECT_TRUE(upstream_.RemoveOrg(orgs[3]).ok());
    }
  });
  upstream_.InjectFault(
      {FaultKind::kSlow, 1, "/management/v1/orgs/me/domains", std::chrono::milliseconds(1000)});
  const Status s = syncer_->SyncOnce();
  remover.join();
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("was removed while the cold start read it"), std::string::npos)
      << s.ToString();
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
}

}  // namespace
}  // namespace policyd::testing_support
