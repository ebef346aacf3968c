// `policyctl status` (text and --json) for a daemon out of fleet mode, a follower and a publisher;
// and the whole path once: a FleetStatus source given to ServingState reaches policyctl's output
// through a real in-process server, the wire and the client.
#include "cli/status_output.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "cli/commands.h"
#include "server/server.h"
#include "server/serving_state.h"
#include "store/store.h"

namespace policyd {
namespace {

constexpr Timestamp kNow{1'765'000'200, 0};

ServerStatus Base() {
  ServerStatus s;
  s.meta = StoreMeta{200,
                     20,
                     true,
                     "cursor-1\nsecond line",
                     "https://iam.example.com",
                     Timestamp{1'765'000'000, 0},
                     Timestamp{1'765'000'190, 0}};
  s.instance_id = "300000000000000001";
  s.data_age_ms = 10'000;
  s.health = Health::kServing;
  s.version = "0.9.0";
  s.now = kNow;
  return s;
}

FleetStatus Follower() {
  FleetStatus f;
  f.role = FleetRole::kFollower;
  f.servers = "nats://10.0.0.1:4222,nats://10.0.0.2:4222";
  f.bucket = "policyd";
  f.connection = FleetConnection::kConnected;
  f.cursor = 1234;
  f.caught_up = true;
  f.publishers = {{"pub-a", {1'765'000'195, 500'000'000}, "iam.example.com"},
                  {"pub-b", {}, "/etc/policyd/snapshot.json"}};
  f.values_applied = 11;
  f.values_skipped = 12;
  f.values_refused = 13;
  f.cold_starts = 1;
  return f;
}

FleetStatus Publisher() {
  FleetStatus f;
  f.role = FleetRole::kPublisher;
  f.servers = "nats://nats.internal:4222";
  f.bucket = "policy-prod";
  f.connection = FleetConnection::kReconnecting;
  f.cursor = 77;
  f.publishers = {{"host-1", {1'765'000'190, 0}, "iam.example.com"}};
  f.values_skipped = 3;
  f.writes = 21;
  f.write_conflicts = 2;
  f.write_errors = 1;
  f.resync_passes = 4;
  return f;
}

TEST(StatusOutputTest, WithoutFleetModeTheTextIsTheUsualOne) {
  EXPECT_EQ(FormatStatusText(Base()),
            "health:          serving\n"
            "instance:        300000000000000001\n"
            "orgs:            200 (20 with their own policy)\n"
            "last change:     2025-12-06T05:46:40Z\n"
            "last sync:       2025-12-06T05:49:50Z\n"
            "data age:        10 s\n"
            "source:          https://iam.example.com\n"
            "upstream:        (none)\n"
            "cursor:          cursor-1\n"
            "sync failures:   0 in a row\n"
            "version:         0.9.0\n");
}

TEST(StatusOutputTest, AFollowerShowsNatsAsItsSourceWithEveryPublisher) {
  ServerStatus s = Base();
  s.fleet = Follower();
  EXPECT_EQ(FormatStatusText(s),
            "health:          serving\n"
            "instance:        300000000000000001\n"
            "orgs:            200 (20 with their own policy)\n"
            "last change:     2025-12-06T05:46:40Z\n"
            "last sync:       2025-12-06T05:49:50Z\n"
            "data age:        10 s\n"
            "source:          nats\n"
            "bucket:          policyd\n"
            "nats servers:    nats://10.0.0.1:4222,nats://10.0.0.2:4222\n"
            "connection:      connected\n"
            "cursor:          1234\n"
            "caught up:       yes\n"
            "publisher:       pub-a, source iam.example.com, last sync "
            "2025-12-06T05:49:55.500Z (4 s ago)\n"
            "publisher:       pub-b, source /etc/policyd/snapshot.json, last sync never\n"
            "fleet counters:  applied 11, skipped 12, refused 13, cold starts 1\n"
            "sync failures:   0 in a row\n"
            "version:         0.9.0\n");
}

TEST(StatusOutputTest, AFollowerThatHasReadNothingYetSaysSo) {
  ServerStatus s = Base();
  FleetStatus f;
  f.role = FleetRole::kFollower;
  s.fleet = f;
  const std::string text = FormatStatusText(s);
  EXPECT_NE(text.find("cursor:          (none yet)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("caught up:       no\n"), std::string::npos) << text;
  EXPECT_NE(text.find("connection:      connecting\n"), std::string::npos) << text;
  EXPECT_NE(text.find("publishers:      (no heartbeat read yet)\n"), std::string::npos) << text;
}

TEST(StatusOutputTest, APublisherShowsItsSyncThenItsBucketSide) {
  ServerStatus s = Base();
  s.upstream = "https://iam.example.com";
  s.fleet = Publisher();
  const std::string text = FormatStatusText(s);
  EXPECT_NE(text.find("source:          https://iam.example.com\n"
                      "upstream:        https://iam.example.com\n"
                      "cursor:          cursor-1\n"
                      "sync failures:   0 in a row\n"
                      "fleet:           publisher\n"
                      "bucket:          policy-prod\n"
                      "nats servers:    nats://nats.internal:4222\n"
                      "connection:      reconnecting\n"
                      "last write:      revision 77\n"
                      "fleet counters:  writes 21, conflicts 2, errors 1, skipped 3, "
                      "resync passes 4\n"
                      "version:         0.9.0\n"),
            std::string::npos)
      << text;
}

TEST(StatusOutputTest, JsonCarriesTheFleetObjectOrNull) {
  nlohmann::json plain = nlohmann::json::parse(FormatStatusJson(Base()));
  EXPECT_TRUE(plain.at("fleet").is_null());
  EXPECT_EQ(plain.at("source"), "https://iam.example.com");

  ServerStatus s = Base();
  s.fleet = Follower();
  const std::string text = FormatStatusJson(s);
  EXPECT_EQ(text.find('\n'), std::string::npos) << "one line";
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("source"), "nats");
  const nlohmann::json& f = j.at("fleet");
  EXPECT_EQ(f.at("role"), "follower");
  EXPECT_EQ(f.at("bucket"), "policyd");
  EXPECT_EQ(f.at("servers"), "nats://10.0.0.1:4222,nats://10.0.0.2:4222");
  EXPECT_EQ(f.at("connection"), "connected");
  EXPECT_EQ(f.at("cursor"), 1234);
  EXPECT_EQ(f.at("caughtUp"), true);
  ASSERT_EQ(f.at("publishers").size(), 2u);
  EXPECT_EQ(f.at("publishers")[0].at("id"), "pub-a");
  EXPECT_EQ(f.at("publishers")[0].at("source"), "iam.example.com");
  EXPECT_EQ(f.at("publishers")[0].at("lastSync"), "2025-12-06T05:49:55.500Z");
  EXPECT_EQ(f.at("publishers")[0].at("lastSyncAgeMs"), 4'500);
  EXPECT_TRUE(f.at("publishers")[1].at("lastSync").is_null());
  EXPECT_TRUE(f.at("publishers")[1].at("lastSyncAgeMs").is_null());
  EXPECT_EQ(f.at("valuesApplied"), 11);
  EXPECT_EQ(f.at("valuesSkipped"), 12);
  EXPECT_EQ(f.at("valuesRefused"), 13);
  EXPECT_EQ(f.at("coldStarts"), 1);
  EXPECT_EQ(f.at("writes"), 0);

  s.fleet = Publisher();
  nlohmann::json p = nlohmann::json::parse(FormatStatusJson(s));
  EXPECT_EQ(p.at("source"), "https://iam.example.com");
  EXPECT_EQ(p.at("fleet").at("role"), "publisher");
  EXPECT_EQ(p.at("fleet").at("writes"), 21);
  EXPECT_EQ(p.at("fleet").at("writeConflicts"), 2);
  EXPECT_EQ(p.at("fleet").at("writeErrors"), 1);
  EXPECT_EQ(p.at("fleet").at("resyncPasses"), 4);
}

TEST(StatusOutputTest, AgesOfHostileTimesNeverOverflow) {
  EXPECT_EQ(AgeMillis(Timestamp{10, 0}, Timestamp{12, 500'000'000}), 2'500);
  EXPECT_EQ(AgeMillis(Timestamp{12, 0}, Timestamp{10, 0}), -2'000);
  EXPECT_EQ(AgeMillis(Timestamp{}, kNow), std::nullopt);
  EXPECT_EQ(AgeMillis(Timestamp{INT64_MIN, 0}, kNow), std::nullopt);
  EXPECT_EQ(AgeMillis(Timestamp{INT64_MAX / 10, 0}, Timestamp{-INT64_MAX / 10, 0}), std::nullopt);
  ServerStatus s = Base();
  s.fleet = Follower();
  s.fleet->publishers[0].last_sync = Timestamp{INT64_MIN, 0};
  EXPECT_NE(FormatStatusText(s).find("publisher:       pub-a"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::accept(FormatStatusJson(s)));
}

// The whole path, with a test double for the publisher/follower behind the hook.
class StatusPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-status-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> store = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    Snapshot snapshot;
    snapshot.instance.id = "1";
    snapshot.instance.policy.details.resource_owner = "1";
    snapshot.orgs.push_back(OrgRecord{"org-1", {}});
    ASSERT_TRUE(store_->Replace(snapshot, "", "nats", SystemClock().Now()).ok());
    ServerOptions options;
    options.socket.path = dir_ + "/policyd.sock";
    options.threads = 1;
    server_ = std::make_unique<Server>(options, *store_, state_, SystemClock());
    ASSERT_TRUE(server_->Start().ok());
    serving_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (serving_.joinable()) serving_.join();
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  int Status(bool json, std::string& out) {
    std::ostringstream o, e;
    const int code = RunStatus(CliContext{dir_ + "/policyd.sock", 5000, o, e}, json);
    out = o.str();
    EXPECT_EQ(e.str(), "");
    return code;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  ServingState state_{FreshnessOptions{}};
  std::unique_ptr<Server> server_;
  std::thread serving_;
};

TEST_F(StatusPathTest, TheFleetSourceReachesPolicyctlStatus) {
  std::string out;
  ASSERT_EQ(Status(false, out), kExitOk);
  EXPECT_EQ(out.find("nats servers:"), std::string::npos) << "no source set yet\n" << out;

  std::atomic<int> calls{0};
  FleetStatus follower = Follower();
  state_.SetFleetSource([&calls, follower]() -> std::optional<FleetStatus> {
    ++calls;
    return follower;
  });
  ASSERT_EQ(Status(false, out), kExitOk);
  EXPECT_NE(out.find("source:          nats\n"
                     "bucket:          policyd\n"
                     "nats servers:    nats://10.0.0.1:4222,nats://10.0.0.2:4222\n"
                     "connection:      connected\n"
                     "cursor:          1234\n"
                     "caught up:       yes\n"
                     "publisher:       pub-a, source iam.example.com, last sync "
                     "2025-12-06T05:49:55.500Z ("),
            std::string::npos)
      << out;
  ASSERT_EQ(Status(true, out), kExitOk);
  nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j.at("fleet").at("cursor"), 1234);
  EXPECT_EQ(j.at("fleet").at("publishers").size(), 2u);
  EXPECT_EQ(calls.load(), 2);

  // A source with nothing to report, then none at all: no fleet lines.
  state_.SetFleetSource([] { return std::optional<FleetStatus>(); });
  ASSERT_EQ(Status(true, out), kExitOk);
  EXPECT_TRUE(nlohmann::json::parse(out).at("fleet").is_null()) << out;
  state_.SetFleetSource({});
  ASSERT_EQ(Status(false, out), kExitOk);
  EXPECT_EQ(out.find("fleet"), std::string::npos) << out;
}

TEST_F(StatusPathTest, TheFleetSourceReachesPolicyctlTop) {
  state_.SetFleetSource([] { return std::optional<FleetStatus>(Follower()); });
  std::ostringstream o, e;
  TopOptions once;
  once.interval_ms = 100;
  once.once = true;
  ASSERT_EQ(RunTop(CliContext{dir_ + "/policyd.sock", 5000, o, e}, once), kExitOk) << e.str();
  const std::string screen = o.str();
  EXPECT_NE(screen.find("\nfleet     follower connected  cursor 1234 (caught up)  applied 11 "
                        "(0.0/s)  refused 13 (0.0/s)  cold starts 1  newest heartbeat "),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("from nats bucket policyd (connected)"), std::string::npos) << screen;
}

// The source runs outside ServingState's lock: one that records into the same state (as the
// follower does from its own threads) must not deadlock.
TEST_F(StatusPathTest, TheSourceMayUseTheServingStateItIsGivenTo) {
  state_.SetFleetSource([this]() -> std::optional<FleetStatus> {
    state_.RecordSyncFailure("nats: connection lost");
    return Publisher();
  });
  std::string out;
  ASSERT_EQ(Status(false, out), kExitOk);
  EXPECT_NE(out.find("fleet:           publisher\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace policyd
