// --webhook-listen and --webhook-signing-key-file: off by default, the same keys in the config
// file, both or neither, only with upstream (exit 78 otherwise), and their reload.
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

const std::vector<std::string> kUpstream = {"--upstream", "https://iam.example.com", "--token-file",
                                            "/etc/policyd/token"};

std::vector<std::string> With(std::vector<std::string> more) {
  std::vector<std::string> args = kUpstream;
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(WebhookConfigTest, OffByDefaultAndTheFlagsAndTheKeysAgree) {
  ParsedArgs none = Parse(kUpstream);
  ASSERT_TRUE(none.config.has_value());
  EXPECT_EQ(none.config->webhook_listen, "");
  EXPECT_EQ(none.config->webhook_signing_key_file, "");
  ParsedArgs flags = Parse(With({"--webhook-listen", "0.0.0.0:8090", "--webhook-signing-key-file",
                                 "/etc/policyd/webhook.key"}));
  ASSERT_TRUE(flags.config.has_value());
  EXPECT_EQ(flags.config->webhook_listen, "0.0.0.0:8090");
  EXPECT_EQ(flags.config->webhook_signing_key_file, "/etc/policyd/webhook.key");
  ParsedArgs file = Parse(kUpstream,
                          "webhook-listen = \"[::1]:8090\"\n"
                          "webhook-signing-key-file = \"/etc/policyd/webhook.key\"\n");
  ASSERT_TRUE(file.config.has_value());
  EXPECT_EQ(file.config->webhook_listen, "[::1]:8090");
  EXPECT_EQ(file.config->webhook_signing_key_file, "/etc/policyd/webhook.key");
}

TEST(WebhookConfigTest, ConfigurationErrorsExit78) {
  const std::vector<std::vector<std::string>> bad = {
      With({"--webhook-listen", "127.0.0.1:8090"}),                            // no key file
      With({"--webhook-signing-key-file", "/k"}),                              // no listener
      With({"--webhook-listen", "8090", "--webhook-signing-key-file", "/k"}),  // bad address
      {"--snapshot", "/s.json", "--webhook-listen", "127.0.0.1:8090", "--webhook-signing-key-file",
       "/k"},  // nothing to wake
      {"--webhook-listen", "127.0.0.1:8090", "--webhook-signing-key-file", "/k"},
  };
  for (const std::vector<std::string>& args : bad) {
    ParsedArgs p = Parse(args);
    EXPECT_FALSE(p.config.has_value()) << args[0] << " " << args[1];
    EXPECT_EQ(p.exit_code, kExitConfig) << args[0] << " " << args[1];
  }
}

TEST(WebhookConfigTest, TheKeyIsReReadOnReloadAndTheRestNeedsARestart) {
  DaemonConfig running =
      *Parse(With({"--webhook-listen", "127.0.0.1:8090", "--webhook-signing-key-file", "/k"}))
           .config;
  DaemonConfig fresh = running;
  EXPECT_TRUE(PlanReload(running, fresh).webhook_key);
  EXPECT_TRUE(PlanReload(running, fresh).needs_restart.empty());
  fresh.webhook_listen = "127.0.0.1:8091";
  fresh.webhook_signing_key_file = "/k2";
  EXPECT_EQ(PlanReload(running, fresh).needs_restart,
            (std::vector<std::string>{"webhook-listen", "webhook-signing-key-file"}));
  EXPECT_FALSE(PlanReload(*Parse(kUpstream).config, *Parse(kUpstream).config).webhook_key);
}

}  // namespace
}  // namespace policyd
