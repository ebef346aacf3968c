// --metrics-listen: off by default, the same key in the config file, a bad address refused at
// parse time (exit 78), and a change left to a restart.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/reload.h"
#include "parse_args.h"

namespace policyd {
namespace {

ParsedArgs Parse(std::vector<std::string> args, std::optional<std::string_view> toml = {}) {
  return ParseArgs(std::move(args), toml);
}

TEST(MetricsConfigTest, OffByDefaultAndTheFlagAndTheKeyAgree) {
  EXPECT_EQ(Parse({}).config->metrics_listen, "");
  ParsedArgs flag = Parse({"--metrics-listen", "127.0.0.1:9464"});
  ASSERT_TRUE(flag.config.has_value());
  EXPECT_EQ(flag.config->metrics_listen, "127.0.0.1:9464");
  ParsedArgs file = Parse({}, "metrics-listen = \"[::1]:9100\"\n");
  ASSERT_TRUE(file.config.has_value());
  EXPECT_EQ(file.config->metrics_listen, "[::1]:9100");
}

TEST(MetricsConfigTest, ABadAddressIsAConfigurationError) {
  for (const char* bad : {"9464", "127.0.0.1", "127.0.0.1:99999", "::1:9464", "host:port"}) {
    ParsedArgs p = Parse({"--metrics-listen", bad});
    EXPECT_FALSE(p.config.has_value()) << bad;
    EXPECT_EQ(p.exit_code, kExitConfig) << bad;
  }
}

TEST(MetricsConfigTest, AChangeNeedsARestart) {
  DaemonConfig running = *Parse({}).config;
  DaemonConfig fresh = running;
  fresh.metrics_listen = "127.0.0.1:9464";
  EXPECT_EQ(PlanReload(running, fresh).needs_restart, std::vector<std::string>{"metrics-listen"});
}

}  // namespace
}  // namespace policyd
