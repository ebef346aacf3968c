// `policyctl top` as an operator sees it: run in a real terminal (tmux), read off the screen with
// `tmux capture-pane`, against a real policyd under known traffic.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <thread>

#include "support/daemon.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// tmux's path ("" when it is not installed).
std::string TmuxPath() {
  CommandResult r = RunCommand({"/bin/sh", "-c", "command -v tmux"});
  if (r.exit_code != 0) return "";
  return r.out.substr(0, r.out.find('\n'));
}

// A tmux server of our own (its own socket name, no user configuration).
class Tmux {
 public:
  explicit Tmux(std::string path)
      : path_(std::move(path)), name_("policyd-top-test-" + std::to_string(getpid())) {}
  ~Tmux() { Run({"kill-server"}); }
  CommandResult Run(std::vector<std::string> args) {
    std::vector<std::string> argv = {path_, "-L", name_, "-f", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, seconds(10));
  }
  std::string Screen() { return Run({"capture-pane", "-p", "-t", "top"}).out; }

 private:
  std::string path_;
  std::string name_;
};

TEST(TopTest, ShowsLiveRatesLatencyAndExactTotalsInATerminal) {
  const std::string tmux_path = TmuxPath();
  if (tmux_path.empty()) {
    GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh installs it)";
  }
  TempDir dir;
  WriteSnapshot(MakeSnapshot(100), dir.Join("snapshot.json"));
  Daemon daemon(dir, {"--snapshot", dir.Join("snapshot.json")});
  ASSERT_TRUE(daemon.WaitReady());

  Tmux tmux(tmux_path);
  const std::string command = BinDir() + "/cli/policyctl --socket " + daemon.socket() + " top";
  ASSERT_EQ(
      tmux.Run({"new-session", "-d", "-s", "top", "-x", "120", "-y", "30", command}).exit_code, 0);

  // Traffic while top watches: lookups on one connection until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<int> done{0};
  std::thread traffic([&] {
    Client client = daemon.Connect();
    while (!stop) {
      if (client.GetOrgPolicy("org-" + std::to_string(done % 100))) ++done;
    }
  });
  // Under load: a lookup rate above zero and latency percentiles with units.
  const std::regex busy(R"(lookups ([1-9][0-9]*(\.[0-9])?)/s)");
  const std::regex latency(
      R"(p50 [0-9.]+(ns|us|ms)  p90 [0-9.]+(ns|us|ms)  p99 [0-9.]+(ns|us|ms))");
  std::string screen;
  bool seen = WaitFor(
      [&] {
        screen = tmux.Screen();
        return std::regex_search(screen, busy) && std::regex_search(screen, latency);
      },
      seconds(15), "a busy screen");
  EXPECT_TRUE(seen) << screen;
  std::cout << "--- under load ---\n" << screen;
  stop = true;
  traffic.join();

  // Quiet again: the totals are exactly the lookups made, and the rate drops to zero.
  const std::string total = "(" + std::to_string(done.load()) + " lookups)";
  seen = WaitFor(
      [&] {
        screen = tmux.Screen();
        return screen.find(total) != std::string::npos &&
               screen.find("lookups 0.0/s") != std::string::npos;
      },
      seconds(10), "the exact total");
  EXPECT_TRUE(seen) << "want " << total << " in:\n" << screen;
  EXPECT_NE(screen.find("health serving"), std::string::npos) << screen;
  EXPECT_NE(screen.find("orgs 100 (10 own policy)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("get_org_policy       OK"), std::string::npos) << screen;
  std::cout << "--- quiet ---\n" << screen;

  // q quits, and the terminal gets its screen back.
  ASSERT_EQ(tmux.Run({"send-keys", "-t", "top", "q"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        return tmux.Run({"has-session", "-t", "top"}).exit_code != 0;
      },
      seconds(5), "top to quit"));
}

TEST(TopTest, OnceWithoutATerminalPrintsOnePlainFrame) {
  TempDir dir;
  WriteSnapshot(MakeSnapshot(10), dir.Join("snapshot.json"));
  Daemon daemon(dir, {"--snapshot", dir.Join("snapshot.json")});
  ASSERT_TRUE(daemon.WaitReady());
  CommandResult r = daemon.Ctl({"top", "--once", "--interval-ms", "200"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;  // no escape codes
  EXPECT_NE(r.out.find("health serving"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("requests  "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("requests  -"), std::string::npos) << r.out;  // a rate, not "-"
  // No daemon: exit 4 like every other command.
  CommandResult gone =
      RunCommand({BinDir() + "/cli/policyctl", "--socket", dir.Join("nope.sock"), "top", "--once"});
  EXPECT_EQ(gone.exit_code, 4) << gone.err;
}

}  // namespace
}  // namespace policyd::testing_support
