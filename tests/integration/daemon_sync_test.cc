// The real policyd binary syncing from the fake upstream: convergence time, outages, staleness,
// fail-closed mode, restarts and configuration errors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>

#include "fake_upstream/fake_upstream.h"
#include "json/policy_json.h"
#include "support/daemon.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;

class DaemonSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    token_file_ = dir_.Join("token");
    std::ofstream(token_file_) << "fake-pat-0123456789\n";
    chmod(token_file_.c_str(), 0600);
    for (int i = 0; i < 20; ++i) orgs_.push_back(upstream_.AddOrg("org " + std::to_string(i)));
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[0], {true, false, false}).ok());
  }

  std::unique_ptr<Daemon> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--upstream",        upstream_.base_url(),
                                     "--token-file",      token_file_,
                                     "--poll-interval",   "300ms",
                                     "--request-timeout", "2s"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto d = std::make_unique<Daemon>(dir_, args);
    EXPECT_TRUE(d->WaitReady());
    return d;
  }

  std::string Answer(Daemon& d, const std::string& org) {
    auto client = Client::Connect(d.socket());
    if (!client) return client.error().ToString();
    auto a = client->GetOrgPolicy(org);
    return a ? FormatGetPolicyResponse(a->policy) : a.error().ToString();
  }

  ::testing::AssertionResult Converges(Daemon& d, milliseconds timeout) {
    return WaitFor(
        [&] {
          for (const std::string& org : upstream_.OrgIds()) {
            if (Answer(d, org) != upstream_.EffectivePolicyBody(org)) return false;
          }
          return true;
        },
        timeout, "policyd to converge");
  }

  Result<ServerStatus> Status(Daemon& d) {
    auto client = Client::Connect(d.socket());
    if (!client) return Err(client.error());
    return client->GetStatus();
  }

  TempDir dir_;
  FakeUpstream upstream_;
  std::string token_file_;
  std::vector<std::string> orgs_;
};

TEST_F(DaemonSyncTest, ConvergesWithinOnePollIntervalPlusOneSecond) {
  auto daemon = Start();
  ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
  std::vector<std::function<void()>> changes = {
      [&] {
        ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[1], {true, true, true}).ok());
      },
      [&] {
        ASSERT_TRUE(upstream_.ChangeDefaultPolicy({false, true, false}).ok());
      },
      [&] { ASSERT_TRUE(upstream_.RemoveOrgPolicy(orgs_[0]).ok()); },
      [&] { ASSERT_TRUE(upstream_.RemoveOrg(orgs_[2]).ok()); },
  };
  for (auto& change : changes) {
    change();
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
    const auto took =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    std::cout << "converged in " << took.count() << " ms\n";
    // One poll interval (300 ms, +20% jitter) plus one second.
    EXPECT_LT(took, milliseconds(360 + 1000));
  }
}

TEST_F(DaemonSyncTest, ServesTheLastGoodStateThroughAnOutageAndReportsStaleness) {
  auto daemon = Start({"--max-staleness", "1s"});
  ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
  upstream_.InjectFault(Fault{FaultKind::kInternalError, Fault::kForever});
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Status(*daemon);
        return s && s->consecutive_failures >= 2 && s->stale;
      },
      std::chrono::seconds(10), "failures and staleness to show"));
  Result<ServerStatus> status = Status(*daemon);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->health, Health::kStale);
  EXPECT_EQ(status->upstream, upstream_.base_url());
  EXPECT_NE(status->last_error.find("500"), std::string::npos) << status->last_error;
  // Stale means older than 1 s; the age is reported in whole milliseconds (1000.4 ms is 1000).
  EXPECT_GE(status->data_age_ms, 1000);
  auto client = daemon->Connect();
  auto answer = client.GetOrgPolicy(orgs_[0]);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->stale);
  EXPECT_EQ(FormatGetPolicyResponse(answer->policy), upstream_.EffectivePolicyBody(orgs_[0]));
  CommandResult text = daemon->Ctl({"status"});
  EXPECT_NE(text.out.find("STALE"), std::string::npos) << text.out;

  upstream_.ClearFaults();
  ASSERT_TRUE(upstream_.ChangeOrgPolicy(orgs_[0], {false, false, true}).ok());
  ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(70)));  // within the backoff ceiling
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Status(*daemon);
        return s && !s->stale;
      },
      std::chrono::seconds(10), "fresh data"));
  EXPECT_EQ(Status(*daemon)->consecutive_failures, 0u);
}

TEST_F(DaemonSyncTest, RefusesStaleLookupsWhenConfiguredToFailClosed) {
  auto daemon = Start({"--max-staleness", "1s", "--refuse-when-stale"});
  ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
  upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
  ASSERT_TRUE(WaitFor(
      [&] {
        auto client = Client::Connect(daemon->socket());
        return client && client->GetOrgPolicy(orgs_[0]).error().code() == Code::kUnavailable;
      },
      std::chrono::seconds(10), "lookups to be refused"));
  EXPECT_EQ(Status(*daemon)->health, Health::kRefusing);
  CommandResult get = daemon->Ctl({"get", "--org", orgs_[0]});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_NE(get.err.find("UNAVAILABLE"), std::string::npos) << get.err;
}

TEST_F(DaemonSyncTest, RestartServesAtOnceAndResumesFromTheCursor) {
  {
    auto daemon = Start();
    ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
    ASSERT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  }
  // Only a cold start reads the instance default.
  const int default_reads = upstream_.RequestCount("/admin/v1/policies/domain");
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[5], {true, true, false}).ok());
  upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
  auto daemon = Start();  // the upstream is down: the stored state is served anyway
  EXPECT_EQ(Answer(*daemon, orgs_[0]), upstream_.EffectivePolicyBody(orgs_[0]));
  upstream_.ClearFaults();
  ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(70)));
  EXPECT_EQ(upstream_.RequestCount("/admin/v1/policies/domain"), default_reads)
      << "no second cold start";
}

TEST_F(DaemonSyncTest, TheConfigFileWorksAndFlagsOverrideIt) {
  const std::string config = dir_.Join("policyd.toml");
  std::ofstream(config) << "upstream = \"" << upstream_.base_url() << "\"\n"
                        << "token-file = \"" << token_file_ << "\"\n"
                        << "poll-interval = \"10m\"\n";
  Daemon daemon(dir_, {"--config", config, "--poll-interval", "200ms"});
  ASSERT_TRUE(daemon.WaitReady());
  ASSERT_TRUE(Converges(daemon, std::chrono::seconds(10)));
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[3], {false, true, true}).ok());
  EXPECT_TRUE(Converges(daemon, std::chrono::seconds(5)));  // 200ms wins over 10m
}

TEST_F(DaemonSyncTest, KeyFileAuthenticationWorksEndToEnd) {
  Result<ServiceAccountKey> key =
      GenerateServiceAccountKey(dir_.path(), "300000000000000077", "policyd-key");
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  chmod(key->key_file_path.c_str(), 0600);
  ASSERT_TRUE(
      upstream_.RegisterServiceAccount(key->user_id, key->key_id, key->public_key_pem).ok());
  upstream_.SetPat("");
  Daemon daemon(dir_, {"--upstream", upstream_.base_url(), "--key-file", key->key_file_path,
                       "--poll-interval", "200ms"});
  ASSERT_TRUE(daemon.WaitReady());
  ASSERT_TRUE(Converges(daemon, std::chrono::seconds(10)));
  EXPECT_GE(upstream_.IssuedTokens(), 1);
  const std::string log = daemon.process().Log();
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(DaemonSyncTest, SighupReloadsARotatedToken) {
  auto daemon = Start();
  ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
  upstream_.SetPat("rotated-pat-9876543210");  // the old token stops working
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Status(*daemon);
        return s && s->consecutive_failures > 0;
      },
      std::chrono::seconds(10), "sync to fail with the old token"));
  EXPECT_NE(Status(*daemon)->last_error.find("UNAUTHENTICATED"), std::string::npos);
  std::ofstream(token_file_) << "rotated-pat-9876543210\n";
  ASSERT_EQ(kill(daemon->process().pid(), SIGHUP), 0);
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[4], {true, true, true}).ok());
  EXPECT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = Status(*daemon);
        return s && s->consecutive_failures == 0;
      },
      std::chrono::seconds(10), "sync to recover"));
  EXPECT_EQ(daemon->process().Log().find("rotated-pat"), std::string::npos) << "secret logged";
}

TEST_F(DaemonSyncTest, SigtermDoesNotWaitForAHangingUpstreamRequest) {
  auto daemon = std::make_unique<Daemon>(
      dir_,
      std::vector<std::string>{"--upstream", upstream_.base_url(), "--token-file", token_file_,
                               "--poll-interval", "300ms", "--request-timeout", "60s"});
  ASSERT_TRUE(daemon->WaitReady());
  ASSERT_TRUE(Converges(*daemon, std::chrono::seconds(10)));
  const int before = upstream_.TotalRequests();
  upstream_.InjectFault(Fault{FaultKind::kSlow, Fault::kForever, "", milliseconds(50'000)});
  ASSERT_TRUE(WaitFor([&] { return upstream_.TotalRequests() > before; }, std::chrono::seconds(10),
                      "a poll to hang"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon->process().Stop(SIGTERM, std::chrono::seconds(20)), 0)
      << daemon->process().Log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(DaemonSyncTest, BadConfigurationExits78WithOneLine) {
  const std::string world_readable = dir_.Join("open-token");
  std::ofstream(world_readable) << "x\n";
  chmod(world_readable.c_str(), 0644);
  const std::string bad_toml = dir_.Join("bad.toml");
  std::ofstream(bad_toml) << "upstreem = \"x\"\n";
  const std::vector<std::vector<std::string>> cases = {
      {"--upstream", upstream_.base_url()},  // no credentials
      {"--upstream", upstream_.base_url(), "--token-file", token_file_, "--key-file", token_file_},
      {"--upstream", upstream_.base_url(), "--token-file", dir_.Join("missing")},
      {"--upstream", upstream_.base_url(), "--token-file", world_readable},
      {"--upstream", "not a url", "--token-file", token_file_},
      {"--config", bad_toml},
      {"--poll-interval", "soon"},
  };
  for (const auto& extra : cases) {
    TempDir run;
    std::vector<std::string> argv = {BinDir() + "/daemon/policyd", "--socket", run.Join("s.sock"),
                                     "--data-dir", run.Join("data")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 78) << extra.back() << "\n" << r.err;
    EXPECT_EQ(r.err.find("fake-pat"), std::string::npos);
  }
}

}  // namespace
}  // namespace policyd::testing_support
