// Fleet-mode settings: publish-to, follow, nats-creds, nats-ca-file, nats-bucket, nats-replicas,
// publish-resync-interval, publisher-id: defaults, the same keys in the config file, the
// combinations refused with exit 78, and that changing them needs a restart.
#include <gtest/gtest.h>
#include <unistd.h>

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

std::string HostName() {
  char name[256] = {};
  EXPECT_EQ(gethostname(name, sizeof(name) - 1), 0);
  return name;
}

TEST(FleetConfigTest, OffByDefaultWithTheIssuesDefaults) {
  ParsedArgs p = Parse(kUpstream);
  ASSERT_TRUE(p.config.has_value());
  EXPECT_EQ(p.config->publish_to, "");
  EXPECT_EQ(p.config->follow, "");
  EXPECT_EQ(p.config->nats_bucket, "policyd");
  EXPECT_EQ(p.config->nats_replicas, 1u);
  EXPECT_EQ(p.config->publish_resync_interval, std::chrono::hours(1));
  EXPECT_EQ(p.config->publisher_id, HostName());
}

TEST(FleetConfigTest, TheFlagsAndTheConfigFileKeysAgree) {
  ParsedArgs flags =
      Parse(With({"--publish-to", "nats://n1:4222,nats://user:pw@n2:4223", "--nats-creds",
                  "/etc/policyd/pub.creds", "--nats-ca-file", "/etc/ca.pem", "--nats-bucket",
                  "policies_2", "--nats-replicas", "3", "--publish-resync-interval", "10m",
                  "--publisher-id", "pub-1", "--nats-inbox-prefix", "_INBOX_pub1"}));
  ASSERT_TRUE(flags.config.has_value());
  ParsedArgs file = Parse(kUpstream,
                          "publish-to = \"nats://n1:4222,nats://user:pw@n2:4223\"\n"
                          "nats-creds = \"/etc/policyd/pub.creds\"\n"
                          "nats-ca-file = \"/etc/ca.pem\"\n"
                          "nats-bucket = \"policies_2\"\n"
                          "nats-replicas = 3\n"
                          "publish-resync-interval = \"10m\"\n"
                          "publisher-id = \"pub-1\"\n"
                          "nats-inbox-prefix = \"_INBOX_pub1\"\n");
  ASSERT_TRUE(file.config.has_value());
  for (const DaemonConfig* c : {&*flags.config, &*file.config}) {
    EXPECT_EQ(c->publish_to, "nats://n1:4222,nats://user:pw@n2:4223");
    EXPECT_EQ(c->nats_creds, "/etc/policyd/pub.creds");
    EXPECT_EQ(c->nats_ca_file, "/etc/ca.pem");
    EXPECT_EQ(c->nats_bucket, "policies_2");
    EXPECT_EQ(c->nats_replicas, 3u);
    EXPECT_EQ(c->publish_resync_interval, std::chrono::minutes(10));
    EXPECT_EQ(c->publisher_id, "pub-1");
    EXPECT_EQ(c->nats_inbox_prefix, "_INBOX_pub1");
  }
  ParsedArgs follower = Parse({}, "follow = \"tls://nats.internal:4222\"\n");
  ASSERT_TRUE(follower.config.has_value());
  EXPECT_EQ(follower.config->follow, "tls://nats.internal:4222");
  ParsedArgs snapshot_publisher =
      Parse({"--snapshot", "/s.json", "--publish-to", "nats://127.0.0.1:4222"});
  EXPECT_TRUE(snapshot_publisher.config.has_value());
}

TEST(FleetConfigTest, ConfigurationErrorsExit78) {
  const std::vector<std::vector<std::string>> bad = {
      With({"--follow", "nats://n1:4222"}),                              // follow + upstream
      {"--snapshot", "/s.json", "--follow", "nats://n1:4222"},           // follow + snapshot
      {"--follow", "nats://n1:4222", "--publish-to", "nats://n1:4222"},  // both roles
      {"--publish-to", "nats://n1:4222"},                                // nothing to publish
      {"--follow", "n1:4222"},                                           // no scheme
      {"--follow", "nats://n1"},                                         // no port
      {"--follow", "nats://n1:99999"},                                   // bad port
      {"--follow", "nats://n1:4222/path"},                               // a path
      {"--follow", "nats://n1:4222,"},                                   // empty URL
      {"--follow", "nats://n1:4222", "--nats-bucket", "a.b"},            // bad bucket
      {"--follow", "nats://n1:4222", "--nats-bucket", ""},               // empty bucket
      With({"--publish-to", "nats://n1:4222", "--nats-replicas", "0"}),
      With({"--publish-to", "nats://n1:4222", "--nats-replicas", "6"}),
      With({"--publish-to", "nats://n1:4222", "--publish-resync-interval", "500ms"}),
      With({"--publish-to", "nats://n1:4222", "--publisher-id", std::string(201, 'p')}),
      {"--follow", "nats://n1:4222", "--nats-inbox-prefix", "_INBOX.>"},
      {"--follow", "nats://n1:4222", "--nats-inbox-prefix", "a..b"},
      {"--follow", "nats://n1:4222", "--nats-inbox-prefix", "a b"},
      {"--nats-creds", "/c.creds"},  // NATS settings without a NATS role
      With({"--nats-ca-file", "/ca.pem"}),
  };
  for (const std::vector<std::string>& args : bad) {
    testing::internal::CaptureStderr();
    ParsedArgs p = Parse(args);
    const std::string err = testing::internal::GetCapturedStderr();
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    EXPECT_FALSE(p.config.has_value()) << joined;
    EXPECT_EQ(p.exit_code, kExitConfig) << joined;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << joined << ": " << err;
  }
}

TEST(FleetConfigTest, ChangingAnyFleetSettingNeedsARestart) {
  const DaemonConfig running =
      *Parse(With({"--publish-to", "nats://n1:4222", "--publisher-id", "a"})).config;
  DaemonConfig fresh = running;
  EXPECT_TRUE(PlanReload(running, fresh).needs_restart.empty());
  fresh.publish_to = "nats://n2:4222";
  fresh.nats_bucket = "other";
  fresh.publish_resync_interval = std::chrono::minutes(5);
  fresh.publisher_id = "b";
  EXPECT_EQ(PlanReload(running, fresh).needs_restart,
            (std::vector<std::string>{"publish-to", "nats-bucket", "publish-resync-interval",
                                      "publisher-id"}));
}

}  // namespace
}  // namespace policyd
