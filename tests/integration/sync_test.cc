// Sync against the fake upstream, in process: the real RocksDB store, the real HTTP client and
// the real Syncer, driven one round at a time so every step can be checked.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <random>

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

  // Every org (and a few unknown ids) answers exactly as the upstream does, and the store knows
  // exactly the upstream's orgs.
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

TEST_F(SyncTest, RandomChangesAlwaysConvergeToWhatTheUpstreamAnswers) {
  std::mt19937 rng(20261124);
  std::vector<std::string> orgs;
  for (int i = 0; i < 12; ++i) orgs.push_back(upstream_.AddOrg("rand" + std::to_string(i)));
  auto flags = [&rng] { return PolicyFlags{rng() % 2 == 0, rng() % 2 == 0, rng() % 2 == 0}; };
  int next_name = 100;
  for (int step = 0; step < 400; ++step) {
    std::vector<std::string> live = upstream_.OrgIds();
    const std::string org = live.empty() ? "" : live[rng() % live.size()];
    switch (rng() % 9) {
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
  // newest event + default + history probe + 11 pages of org events (10,000 org.added and 100
  // org.policy.domain.added).
  EXPECT_EQ(requests, 14);
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

class SyncRetentionTest : public SyncTest {};

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
  // One policy read per org is the only correct way when history is hidden. Besides: the newest
  // event, the default, the history probe, one org page and the newest org.added/org.removed
  // event before and after it (no org came or went while the list was read).
  EXPECT_EQ(upstream_.TotalRequests() - before, 6 + 40);
  ASSERT_TRUE(upstream_.ChangeOrgPolicy(orgs[8], {false, true, false}).ok());
  ASSERT_TRUE(Sync());
  EXPECT_TRUE(Converged());
}

}  // namespace
}  // namespace policyd::testing_support
