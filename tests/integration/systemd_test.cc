// policyd under systemd's contracts, without systemd: socket activation through
// systemd-socket-activate, and sd_notify messages received on our own NOTIFY_SOCKET.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "support/daemon.h"
#include "support/notify_socket.h"

namespace policyd::testing_support {
namespace {

TEST(SystemdTest, SocketActivationServesLookupsOnThePassedSocket) {
  TempDir dir;
  const Snapshot snapshot = MakeSnapshot(50);
  WriteSnapshot(snapshot, dir.Join("snapshot.json"));
  const std::string sock = dir.Join("activated.sock");
  ChildProcess daemon({"/usr/bin/systemd-socket-activate", "-l", sock, BinDir() + "/daemon/policyd",
                       "--data-dir", dir.Join("data"), "--snapshot", dir.Join("snapshot.json"),
                       "--socket", dir.Join("unused.sock")},
                      dir.Join("log"));
  // systemd-socket-activate listens first and starts policyd on the first connection, which
  // waits in the backlog until policyd is ready: the very first lookup must succeed.
  // The socket file appears at bind(), an instant before listen(): connect until accepted. The
  // first answer includes policyd's whole start-up (exec, opening and filling the store, with
  // fsyncs that a loaded CI disk can stretch to seconds), so it gets a generous timeout.
  ClientOptions slow_start;
  slow_start.timeout = std::chrono::seconds(60);
  Result<Client> client = Err(Status::Unavailable("not connected yet"));
  ASSERT_TRUE(WaitFor(
      [&] {
        client = Client::Connect(sock, slow_start);
        return client.has_value();
      },
      std::chrono::seconds(20), "the activation socket"))
      << client.error().ToString();
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
  ChildProcess daemon({BinDir() + "/daemon/policyd", "--socket", dir.Join("p.sock"), "--data-dir",
                       dir.Join("data"), "--snapshot", dir.Join("snapshot.json")},
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

namespace policyd::testing_support {
namespace {

// Runs policyctl as `nobody` (uid/gid 65534) against `socket`.
CommandResult CtlAsNobody(const std::string& socket, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {
      "/usr/bin/setpriv",          "--reuid=65534", "--regid=65534", "--clear-groups",
      BinDir() + "/cli/policyctl", "--socket",      socket};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

TEST(PeerAllowlistTest, AcceptsListedPeersAndDeniesOthers) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  TempDir dir;
  chmod(dir.path().c_str(), 0755);  // let `nobody` reach the socket; the allowlist decides
  WriteSnapshot(MakeSnapshot(10), dir.Join("snapshot.json"));
  const std::string sock = dir.Join("p.sock");
  {
    ChildProcess daemon(
        {BinDir() + "/daemon/policyd", "--socket", sock, "--socket-mode", "0666", "--data-dir",
         dir.Join("data"), "--snapshot", dir.Join("snapshot.json"), "--allow-uid", "0"},
        dir.Join("log"));
    ASSERT_TRUE(WaitFor([&] { return Client::Connect(sock).has_value(); }, std::chrono::seconds(10),
                        "policyd"));
    auto root = Client::Connect(sock);
    ASSERT_TRUE(root.has_value());
    EXPECT_TRUE(root->GetOrgPolicy("org-1").has_value());
    for (int i = 0; i < 3; ++i) {
      CommandResult denied = CtlAsNobody(sock, {"get", "--org", "org-1"});
      EXPECT_EQ(denied.exit_code, 1) << denied.err;
      EXPECT_NE(denied.err.find("PERMISSION_DENIED"), std::string::npos) << denied.err;
    }
    EXPECT_EQ(daemon.Stop(SIGTERM), 0);
    const std::string log = daemon.Log();
    EXPECT_NE(log.find("denied a connection from uid 65534"), std::string::npos) << log;
    const std::size_t first = log.find("denied a connection");
    EXPECT_EQ(log.find("denied a connection", first + 1), std::string::npos)
        << "logged once per uid:\n"
        << log;
  }
  ChildProcess daemon({BinDir() + "/daemon/policyd", "--socket", sock, "--socket-mode", "0666",
                       "--data-dir", dir.Join("data"), "--allow-uid", "root,65534"},
                      dir.Join("log2"));
  ASSERT_TRUE(WaitFor([&] { return Client::Connect(sock).has_value(); }, std::chrono::seconds(10),
                      "policyd"));
  CommandResult allowed = CtlAsNobody(sock, {"get", "--org", "org-1"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
}

TEST(PeerAllowlistTest, SupplementaryGroupsCount) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  TempDir dir;
  chmod(dir.path().c_str(), 0755);
  WriteSnapshot(MakeSnapshot(10), dir.Join("snapshot.json"));
  const std::string sock = dir.Join("p.sock");
  ChildProcess daemon(
      {BinDir() + "/daemon/policyd", "--socket", sock, "--socket-mode", "0666", "--data-dir",
       dir.Join("data"), "--snapshot", dir.Join("snapshot.json"), "--allow-gid", "4242"},
      dir.Join("log"));
  ASSERT_TRUE(WaitFor([&] { return Client::Connect(sock).has_value(); }, std::chrono::seconds(10),
                      "policyd"));
  auto as_nobody = [&](const std::string& groups) {
    return RunCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--groups=" + groups,
                       BinDir() + "/cli/policyctl", "--socket", sock, "status"});
  };
  EXPECT_EQ(as_nobody("4242").exit_code, 0);  // primary gid 65534, supplementary 4242
  EXPECT_EQ(as_nobody("4343").exit_code, 1);
}

TEST(PeerAllowlistTest, WithoutAnAllowlistTheFileModeDecides) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  TempDir dir;
  chmod(dir.path().c_str(), 0755);
  WriteSnapshot(MakeSnapshot(10), dir.Join("snapshot.json"));
  const std::string sock = dir.Join("p.sock");
  ChildProcess daemon({BinDir() + "/daemon/policyd", "--socket", sock, "--data-dir",
                       dir.Join("data"), "--snapshot", dir.Join("snapshot.json")},
                      dir.Join("log"));  // default mode 0660, owned by root
  ASSERT_TRUE(WaitFor([&] { return Client::Connect(sock).has_value(); }, std::chrono::seconds(10),
                      "policyd"));
  CommandResult r = CtlAsNobody(sock, {"status"});
  EXPECT_EQ(r.exit_code, 4) << r.err;  // connect() refused by the file mode
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace policyd::testing_support

namespace policyd::testing_support {
namespace {

TEST(ReloadTest, SighupAppliesTheAllowlistAndKeepsTheOldConfigWhenTheNewOneIsBroken) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  TempDir dir;
  chmod(dir.path().c_str(), 0755);
  WriteSnapshot(MakeSnapshot(10), dir.Join("snapshot.json"));
  const std::string sock = dir.Join("p.sock"), config = dir.Join("policyd.toml");
  auto write_config = [&](const std::string& extra) {
    std::ofstream(config) << "socket = \"" << sock << "\"\nsocket-mode = \"0666\"\n"
                          << "data-dir = \"" << dir.Join("data") << "\"\n"
                          << extra;
  };
  write_config("allow-uid = \"0\"\n");
  NotifySocket notify(dir.Join("notify.sock"));
  ChildProcess daemon(
      {BinDir() + "/daemon/policyd", "--config", config, "--snapshot", dir.Join("snapshot.json")},
      dir.Join("log"), {"NOTIFY_SOCKET=" + dir.Join("notify.sock")});
  ASSERT_TRUE(notify.WaitFor("READY=1", std::chrono::seconds(10))) << daemon.Log();
  EXPECT_EQ(CtlAsNobody(sock, {"status"}).exit_code, 1);  // denied

  write_config("allow-uid = \"0,65534\"\n");
  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
  ASSERT_TRUE(
      WaitFor([&] { return daemon.Log().find("reloaded: peer allowlist") != std::string::npos; },
              std::chrono::seconds(10), "the reload"));
  EXPECT_TRUE(notify.WaitFor("RELOADING=1", std::chrono::seconds(5)));
  EXPECT_EQ(CtlAsNobody(sock, {"status"}).exit_code, 0);

  write_config("allow-uid = \"0\"\nthreads = \"many\"\n");  // broken: nothing may change
  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] { return daemon.Log().find("reload failed") != std::string::npos; },
                      std::chrono::seconds(10), "the failed reload"));
  EXPECT_EQ(CtlAsNobody(sock, {"status"}).exit_code, 0) << "old allowlist still in force";

  write_config("allow-uid = \"0,65534\"\nthreads = \"7\"\nlog-level = \"debug\"\n");
  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor(
      [&] { return daemon.Log().find("threads changed but needs a restart") != std::string::npos; },
      std::chrono::seconds(10), "the restart warning"));
  EXPECT_TRUE(WaitFor([&] { return daemon.Log().find("reloaded: log-level") != std::string::npos; },
                      std::chrono::seconds(10), "log level applied"));
  EXPECT_TRUE(daemon.Running());
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace policyd::testing_support

namespace policyd::testing_support {
namespace {

TEST(JournalLoggingTest, LinesCarryPriorityPrefixesUnderJournald) {
  TempDir dir;
  ChildProcess bad({BinDir() + "/daemon/policyd", "--socket", dir.Join("s"), "--data-dir", "/etc"},
                   dir.Join("log"), {"JOURNAL_STREAM=8:12345"});
  EXPECT_EQ(bad.Wait(std::chrono::seconds(10)), 78);
  const std::string log = bad.Log();
  EXPECT_EQ(log.rfind("<2>", 0), 0u) << log;  // critical, one line
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
}

}  // namespace
}  // namespace policyd::testing_support
