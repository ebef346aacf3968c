// Server::accepting() across the lifecycle: what /readyz reports, so it must be true exactly
// while a client can connect.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "client/client.h"
#include "server/server.h"
#include "server/serving_state.h"
#include "store/store.h"

namespace policyd {
namespace {

// Whether a client can connect to `path` now.
bool CanConnect(const std::string& path) { return Client::Connect(path).has_value(); }

TEST(ServerLifecycleTest, AcceptsExactlyFromStartUntilStop) {
  std::string dir = (std::filesystem::temp_directory_path() / "policyd-server-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  Result<std::unique_ptr<Store>> store = OpenRocksStore(dir + "/data", StoreOptions{});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  ServingState state{FreshnessOptions{}};
  ServerOptions options;
  options.socket.path = dir + "/policyd.sock";
  options.threads = 1;
  {
    Server server(options, **store, state, SystemClock());
    EXPECT_FALSE(server.accepting());
    EXPECT_FALSE(CanConnect(options.socket.path));
    ASSERT_TRUE(server.Start().ok());
    EXPECT_TRUE(server.accepting());
    EXPECT_TRUE(CanConnect(options.socket.path));  // waits in the backlog until Run()
    std::thread serving([&server] { server.Run(); });
    server.Stop();
    EXPECT_FALSE(server.accepting());
    serving.join();
    EXPECT_FALSE(server.accepting());
    EXPECT_FALSE(CanConnect(options.socket.path));
  }
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace policyd
