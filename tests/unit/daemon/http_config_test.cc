// The HTTP socket settings: flags, the same keys in the config file, checks, and that a reload
// leaves them to a restart.
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

TEST(HttpConfigTest, OffByDefaultWithTheLookupSocketsMode) {
  ParsedArgs p = Parse({});
  ASSERT_TRUE(p.config.has_value());
  EXPECT_EQ(p.config->http_socket, "");
  EXPECT_EQ(p.config->http_socket_mode, 0660u);
}

TEST(HttpConfigTest, FlagsAndConfigKeysAreTheSameAndFlagsWin) {
  ParsedArgs flags =
      Parse({"--http-socket", "/run/policyd/http.sock", "--http-socket-mode", "0600"});
  ASSERT_TRUE(flags.config.has_value());
  EXPECT_EQ(flags.config->http_socket, "/run/policyd/http.sock");
  EXPECT_EQ(flags.config->http_socket_mode, 0600u);

  const std::string toml = "http-socket = \"/tmp/h.sock\"\nhttp-socket-mode = \"0666\"\n";
  ParsedArgs file = Parse({}, toml);
  ASSERT_TRUE(file.config.has_value());
  EXPECT_EQ(file.config->http_socket, "/tmp/h.sock");
  EXPECT_EQ(file.config->http_socket_mode, 0666u);

  ParsedArgs both = Parse({"--http-socket", "/tmp/other.sock"}, toml);
  ASSERT_TRUE(both.config.has_value());
  EXPECT_EQ(both.config->http_socket, "/tmp/other.sock");
  EXPECT_EQ(both.config->http_socket_mode, 0666u);
}

TEST(HttpConfigTest, BadValuesExit78) {
  const std::vector<std::vector<std::string>> bad = {
      {"--http-socket-mode", "0999"},
      {"--http-socket-mode", "rw"},
      {"--http-socket-mode", "06600"},
      {"--socket", "/tmp/same.sock", "--http-socket", "/tmp/same.sock"},
  };
  for (const auto& args : bad) {
    ParsedArgs p = Parse(args);
    EXPECT_FALSE(p.config.has_value()) << args.back();
    EXPECT_EQ(p.exit_code, kExitConfig) << args.back();
  }
  ParsedArgs unknown = Parse({}, "http-sock = \"/tmp/h.sock\"\n");
  EXPECT_EQ(unknown.exit_code, kExitConfig);
}

TEST(HttpConfigTest, AReloadLeavesTheHttpSocketToARestart) {
  DaemonConfig running;
  DaemonConfig fresh = running;
  fresh.http_socket = "/run/policyd/http.sock";
  fresh.http_socket_mode = 0600;
  const ReloadPlan plan = PlanReload(running, fresh);
  EXPECT_EQ(plan.needs_restart, (std::vector<std::string>{"http-socket", "http-socket-mode"}));
  EXPECT_TRUE(PlanReload(fresh, fresh).needs_restart.empty());
}

}  // namespace
}  // namespace policyd
