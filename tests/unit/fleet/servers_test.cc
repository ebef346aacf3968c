// fleet/servers.h: splitting a --follow / --publish-to list and redacting credentials.
#include "fleet/servers.h"

#include <gtest/gtest.h>

namespace policyd::fleet {
namespace {

TEST(SplitServersTest, SplitsOnCommasAndDropsEmptyItems) {
  EXPECT_EQ(SplitServers("nats://a:1,nats://b:2"),
            (std::vector<std::string>{"nats://a:1", "nats://b:2"}));
  EXPECT_EQ(SplitServers(",nats://a:1,,"), std::vector<std::string>{"nats://a:1"});
  EXPECT_TRUE(SplitServers("").empty());
}

TEST(RedactedServersTest, DropsUserAndPassword) {
  EXPECT_EQ(RedactedServers({"nats://u:p@h1:4222", "nats://h2:4222"}),
            "nats://h1:4222,nats://h2:4222");
  EXPECT_EQ(RedactedServers({"tls://user:p@ss@h:1"}), "tls://h:1");
  EXPECT_EQ(RedactedServers({"tls://t@c:1/x@y"}), "tls://c:1/x@y");
  EXPECT_EQ(RedactedServers({"h:1"}), "h:1");
  EXPECT_EQ(RedactedServers({}), "");
}

}  // namespace
}  // namespace policyd::fleet
