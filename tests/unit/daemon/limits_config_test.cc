// The load-limit settings: flags, the same keys in the config file, bounds, and what a reload
// does with them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/reload.h"
#include "parse_args.h"

namespace policyd {
namespace {

using std::chrono::milliseconds;

ParsedArgs Parse(std::vector<std::string> args, std::optional<std::string_view> toml = {}) {
  return ParseArgs(std::move(args), toml);
}

TEST(LimitsConfigTest, DefaultsAreTheDocumentedOnes) {
  ParsedArgs p = Parse({});
  ASSERT_TRUE(p.config.has_value());
  EXPECT_EQ(p.config->max_connections, 4096u);
  EXPECT_EQ(p.config->max_inflight, 128u);
  EXPECT_EQ(p.config->frame_timeout, milliseconds(10'000));
  EXPECT_EQ(p.config->idle_timeout, milliseconds(60'000));
  EXPECT_EQ(p.config->max_frame_bytes, 65536u);
  EXPECT_EQ(p.config->max_connections_per_peer, 512u);
  EXPECT_EQ(p.config->reserved_connections, 8u);
}

TEST(LimitsConfigTest, PerPeerAndReservedConnectionsAreFlagsAndKeys) {
  ParsedArgs flags = Parse({"--max-connections", "64", "--max-connections-per-peer", "8",
                            "--reserved-connections", "4"});
  ASSERT_TRUE(flags.config.has_value());
  EXPECT_EQ(flags.config->max_connections_per_peer, 8u);
  EXPECT_EQ(flags.config->reserved_connections, 4u);

  const std::string toml =
      "max-connections = 64\nmax-connections-per-peer = 16\nreserved-connections = 0\n";
  ParsedArgs file = Parse({}, toml);
  ASSERT_TRUE(file.config.has_value());
  EXPECT_EQ(file.config->max_connections_per_peer, 16u);
  EXPECT_EQ(file.config->reserved_connections, 0u);

  ParsedArgs both = Parse({"--reserved-connections", "63"}, toml);
  ASSERT_TRUE(both.config.has_value());
  EXPECT_EQ(both.config->reserved_connections, 63u);
  EXPECT_EQ(both.config->max_connections_per_peer, 16u);
}

TEST(LimitsConfigTest, ReservedConnectionsMustBeFewerThanMaxConnections) {
  const std::vector<std::vector<std::string>> bad = {
      {"--max-connections", "8", "--reserved-connections", "8"},
      {"--max-connections", "1", "--reserved-connections", "1"},
      {"--reserved-connections", "4096"},
      {"--max-connections-per-peer", "0"},
      {"--max-connections-per-peer", "1000001"},
      {"--reserved-connections", "-1"},
  };
  for (const std::vector<std::string>& args : bad) {
    ParsedArgs p = Parse(args);
    EXPECT_FALSE(p.config.has_value()) << ::testing::PrintToString(args);
    EXPECT_EQ(p.exit_code, kExitConfig) << ::testing::PrintToString(args);
  }
  EXPECT_FALSE(Parse({}, "max-connections = 5\nreserved-connections = 5\n").config.has_value());
  // Not given, the default shrinks to fit a small max-connections (configurations written
  // before reserved-connections existed keep working).
  for (const auto& [max, reserved] : std::vector<std::pair<std::size_t, std::size_t>>{
           {1, 0}, {2, 1}, {8, 7}, {9, 8}, {4096, 8}}) {
    ParsedArgs p = Parse({"--max-connections", std::to_string(max)});
    ASSERT_TRUE(p.config.has_value()) << max;
    EXPECT_EQ(p.config->reserved_connections, reserved) << max;
  }
  ParsedArgs from_file = Parse({}, "max-connections = 5\n");
  ASSERT_TRUE(from_file.config.has_value());
  EXPECT_EQ(from_file.config->reserved_connections, 4u);
}

TEST(LimitsConfigTest, FlagsAndConfigKeysAreTheSameAndFlagsWin) {
  ParsedArgs flags =
      Parse({"--max-connections", "10", "--max-inflight", "16", "--frame-timeout", "500ms"});
  ASSERT_TRUE(flags.config.has_value());
  EXPECT_EQ(flags.config->max_connections, 10u);
  EXPECT_EQ(flags.config->max_inflight, 16u);
  EXPECT_EQ(flags.config->frame_timeout, milliseconds(500));

  const std::string toml = "max-connections = 20\nmax-inflight = 32\nframe-timeout = \"2s\"\n";
  ParsedArgs file = Parse({}, toml);
  ASSERT_TRUE(file.config.has_value());
  EXPECT_EQ(file.config->max_connections, 20u);
  EXPECT_EQ(file.config->max_inflight, 32u);
  EXPECT_EQ(file.config->frame_timeout, milliseconds(2000));

  ParsedArgs both = Parse({"--max-inflight", "8"}, toml);
  ASSERT_TRUE(both.config.has_value());
  EXPECT_EQ(both.config->max_inflight, 8u);
  EXPECT_EQ(both.config->max_connections, 20u);
}

TEST(LimitsConfigTest, OutOfRangeValuesExit78) {
  const std::vector<std::vector<std::string>> bad = {
      {"--max-connections", "0"},    {"--max-connections", "1000001"}, {"--max-connections", "-1"},
      {"--max-connections", "many"}, {"--max-inflight", "0"},          {"--max-inflight", "65537"},
      {"--frame-timeout", "50ms"},   {"--frame-timeout", "soon"},
  };
  for (const std::vector<std::string>& args : bad) {
    ParsedArgs p = Parse(args);
    EXPECT_FALSE(p.config.has_value()) << args[0] << " " << args[1];
    EXPECT_EQ(p.exit_code, kExitConfig) << args[0] << " " << args[1];
  }
  EXPECT_FALSE(Parse({}, "max-inflight = 0\n").config.has_value());
}

TEST(LimitsConfigTest, ConnectionLimitsReloadTheOtherLimitsNeedARestart) {
  DaemonConfig running;
  DaemonConfig fresh = running;
  fresh.max_connections = 100;
  ReloadPlan plan = PlanReload(running, fresh);
  EXPECT_TRUE(plan.max_connections);
  EXPECT_TRUE(plan.needs_restart.empty());
  for (auto change : {+[](DaemonConfig& c) { c.max_connections_per_peer = 3; },
                      +[](DaemonConfig& c) { c.reserved_connections = 0; }}) {
    fresh = running;
    change(fresh);
    plan = PlanReload(running, fresh);
    EXPECT_TRUE(plan.max_connections);
    EXPECT_TRUE(plan.needs_restart.empty());
  }

  fresh = running;
  fresh.max_inflight = 4;
  fresh.frame_timeout = milliseconds(1000);
  plan = PlanReload(running, fresh);
  EXPECT_FALSE(plan.max_connections);
  EXPECT_EQ(plan.needs_restart, (std::vector<std::string>{"frame-timeout", "max-inflight"}));
}

}  // namespace
}  // namespace policyd

namespace policyd {
namespace {

TEST(RequestMetricsConfigTest, OnByDefaultOffByFlagOrKeyAndNothingElseIsABool) {
  ASSERT_TRUE(Parse({}).config.has_value());
  EXPECT_TRUE(Parse({}).config->request_metrics);
  ParsedArgs flag = Parse({"--request-metrics", "false"});
  ASSERT_TRUE(flag.config.has_value());
  EXPECT_FALSE(flag.config->request_metrics);
  ParsedArgs key = Parse({}, "request-metrics = false\n");
  ASSERT_TRUE(key.config.has_value());
  EXPECT_FALSE(key.config->request_metrics);
  ParsedArgs both = Parse({"--request-metrics", "true"}, "request-metrics = false\n");
  ASSERT_TRUE(both.config.has_value());
  EXPECT_TRUE(both.config->request_metrics);
  for (const char* bad : {"no", "0", "off", ""}) {
    ParsedArgs p = Parse({"--request-metrics", bad});
    EXPECT_FALSE(p.config.has_value()) << bad;
    EXPECT_EQ(p.exit_code, kExitConfig) << bad;
  }
}

}  // namespace
}  // namespace policyd
