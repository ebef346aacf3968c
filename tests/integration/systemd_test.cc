// policyd under systemd's contracts, without systemd: socket activation through
// systemd-socket-activate, and sd_notify messages received on our own NOTIFY_SOCKET.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "support/daemon.h"

namespace policyd::testing_support {
namespace {

// A datagram socket standing in for the service manager's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval tv{0, 100'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~NotifySocket() { close(fd_); }

  // Collects messages until one contains `needle` or `timeout` passes.
  ::testing::AssertionResult WaitFor(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (all_.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) all_ += std::string(buf, static_cast<std::size_t>(n)) + "\n";
    }
    if (all_.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no \"" << needle << "\" in:\n" << all_;
  }
  const std::string& all() const { return all_; }
  std::size_t Count(const std::string& needle) const {
    std::size_t n = 0;
    for (std::size_t at = all_.find(needle); at != std::string::npos;
         at = all_.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::string all_;
};

TEST(SystemdTest, SocketActivationServesLookupsOnThePassedSocket) {
  TempDir dir;
  const Snapshot snapshot = MakeSnapshot(50);
  WriteSnapshot(snapshot, dir.Join("snapshot.json"));
  const std::string sock = dir.Join("activated.sock");
  ChildProcess daemon({"/usr/bin/systemd-socket-activate", "-l", sock,
                       BinDir() + "/daemon/policyd", "--data-dir", dir.Join("data"),
                       "--snapshot", dir.Join("snapshot.json"), "--socket",
                       dir.Join("unused.sock")},
                      dir.Join("log"));
  // systemd-socket-activate listens first and starts policyd on the first connection, which
  // waits in the backlog until policyd is ready: the very first lookup must succeed.
  ASSERT_TRUE(WaitFor([&] { return access(sock.c_str(), F_OK) == 0; }, std::chrono::seconds(10),
                      "the activation socket"));
  auto client = Client::Connect(sock);
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  auto answer = client->GetOrgPolicy("org-10");
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString() << "\n" << daemon.Log();
  EXPECT_EQ(answer->policy, ExpectedPolicy(snapshot, "org-10"));
  EXPECT_NE(daemon.Log().find("the socket systemd passed"), std::string::npos) << daemon.Log();
  EXPECT_NE(access(dir.Join("unused.sock").c_str(), F_OK), 0) << "--socket must be ignored";
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

TEST(SystemdTest, NotifiesReadyStatusWatchdogAndStopping) {
  TempDir dir;
  WriteSnapshot(MakeSnapshot(30), dir.Join("snapshot.json"));
  NotifySocket notify(dir.Join("notify.sock"));
  ChildProcess daemon({BinDir() + "/daemon/policyd", "--socket", dir.Join("p.sock"),
                       "--data-dir", dir.Join("data"), "--snapshot", dir.Join("snapshot.json")},
                      dir.Join("log"),
                      {"NOTIFY_SOCKET=" + dir.Join("notify.sock"), "WATCHDOG_USEC=400000"});
  ASSERT_TRUE(notify.WaitFor("READY=1", std::chrono::seconds(10))) << daemon.Log();
  EXPECT_TRUE(notify.WaitFor("STATUS=serving 30 orgs", std::chrono::seconds(5)));
  // READY only once the socket answers.
  EXPECT_TRUE(Client::Connect(dir.Join("p.sock")).has_value());
  ASSERT_TRUE(notify.WaitFor("WATCHDOG=1", std::chrono::seconds(5)));
  // WATCHDOG_USEC=400ms: a ping every 200 ms, from the serving loops.
  const auto start = std::chrono::steady_clock::now();
  while (notify.Count("WATCHDOG=1") < 4 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    (void)notify.WaitFor("never", std::chrono::milliseconds(100));
  }
  EXPECT_GE(notify.Count("WATCHDOG=1"), 4u) << notify.all();
  EXPECT_EQ(kill(daemon.pid(), SIGTERM), 0);
  EXPECT_TRUE(notify.WaitFor("STOPPING=1", std::chrono::seconds(10)));
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(15)), 0) << daemon.Log();
}

}  // namespace
}  // namespace policyd::testing_support
