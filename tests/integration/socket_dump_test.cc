// `policyctl dump` over the socket against the real policyd (issue #15 part 5): byte for byte the
// offline dump (--data-dir) of the same store, for a store of POLICYD_DUMP_ORGS orgs (default
// 1,000,000; 20,000 under a sanitizer), with the daemon's RSS growth measured during the dump and
// bounded; a peer the daemon allows that is not root dumps too.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "json/snapshot_json.h"
#include "store/store.h"
#include "support/daemon.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kDefaultOrgs = 20'000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int kDefaultOrgs = 20'000;
#else
constexpr int kDefaultOrgs = 1'000'000;
#endif
#else
constexpr int kDefaultOrgs = 1'000'000;
#endif

// The daemon's RSS may grow this much while it streams a dump of any size (measured: see
// docs/dump.md; the bound leaves room for the allocator and RocksDB's pinned blocks).
constexpr long kMaxRssGrowthKb = 64 * 1024;

int OrgCount() {
  const char* env = std::getenv("POLICYD_DUMP_ORGS");
  return env != nullptr ? std::atoi(env) : kDefaultOrgs;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// VmRSS (or another "Vm*:" line) of `pid` in KiB; -1 when unreadable.
long VmKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// Whether two files hold the same bytes, compared in blocks (they may be hundreds of MB).
::testing::AssertionResult SameBytes(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return ::testing::AssertionFailure() << "cannot read " << a << " or " << b;
  std::vector<char> ba(1 << 20), bb(1 << 20);
  std::uint64_t at = 0;
  for (;;) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() ||
        !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin())) {
      return ::testing::AssertionFailure() << "the files differ in the 1 MiB block at " << at;
    }
    if (fa.gcount() == 0) return ::testing::AssertionSuccess() << at << " bytes";
    at += static_cast<std::uint64_t>(fa.gcount());
  }
}

// Writes the example snapshot (every kind, IdP links, domains) and then `orgs` generated orgs
// (every 10th with its own policy, each with a verified primary domain) to a store in `dir`, in
// batches, without holding them all in memory.
void BuildStore(const std::string& dir, int orgs) {
  Result<std::unique_ptr<Store>> store = OpenRocksStore(dir, StoreOptions{});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  Result<Snapshot> example = ParseSnapshot(ReadFile(SourceDir() + "/examples/snapshot.json"));
  ASSERT_TRUE(example.has_value());
  ASSERT_TRUE((*store)->Replace(*example, "", "example", Timestamp{1700000000, 0}).ok());
  constexpr int kBatch = 20'000;
  for (int first = 0; first < orgs; first += kBatch) {
    StoreChange change;
    for (int i = first; i < std::min(orgs, first + kBatch); ++i) {
      OrgRecord org{"org-" + std::to_string(i), std::nullopt};
      if (i % 10 == 0) {
        PolicyRecord p;
        p.flags.user_login_must_be_domain = i % 20 == 0;
        p.flags.validate_org_domains = true;
        p.details = Details{static_cast<std::uint64_t>(i) + 1, Timestamp{1700000000, 0},
                            Timestamp{1700000000 + i, 0}, org.id};
        org.policy = p;
      }
      change.put_org_domains.push_back(
          OrgDomains{org.id, {OrgDomain{org.id + ".example.com", true, true}}, 0});
      change.put_orgs.push_back(std::move(org));
    }
    ASSERT_TRUE((*store)->Apply(change, Timestamp{1700000001, 0}).ok());
  }
  ASSERT_TRUE((*store)->Flush().ok());
}

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

class SocketDumpTest : public ::testing::Test {
 protected:
  // A store of `orgs` orgs (plus the example's) in dir_/data, and its offline dump (policyctl
  // --data-dir) in dir_/offline.json, made before policyd starts: a read-only open of a store
  // that a daemon is compacting can find a table file gone (the offline mode's known race).
  void BuildAndDumpOffline(int orgs) {
    auto t0 = SteadyClock::now();
    BuildStore(dir_.Join("data"), orgs);
    if (HasFatalFailure()) return;
    std::cout << "[ figures ] store of " << orgs << " orgs written in " << SecondsSince(t0)
              << " s\n";
    t0 = SteadyClock::now();
    CommandResult offline = RunCommand({BinDir() + "/cli/policyctl", "dump", "--data-dir",
                                        dir_.Join("data"), "--output", dir_.Join("offline.json")},
                                       seconds(300));
    ASSERT_EQ(offline.exit_code, 0) << offline.err;
    offline_s_ = SecondsSince(t0);
  }
  // policyd on that store, its lookup index loaded.
  void Start(std::vector<std::string> extra = {}) {
    daemon_ = std::make_unique<Daemon>(dir_, std::move(extra));
    ASSERT_TRUE(daemon_->WaitReady());
    ASSERT_TRUE(WaitFor(
        [&] { return daemon_->process().Log().find("lookup index loaded: ") != std::string::npos; },
        seconds(120), "the lookup index"));
  }

  double offline_s_ = 0;
  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(SocketDumpTest, AMillionOrgsOverTheSocketAreByteIdenticalToTheOfflineDumpInBoundedMemory) {
  const int orgs = OrgCount();
  BuildAndDumpOffline(orgs);
  if (HasFatalFailure()) return;
  // One serving thread: the dump and the lookups below share its event loop.
  Start({"--threads", "1"});
  if (HasFatalFailure()) return;
  const pid_t pid = daemon_->process().pid();
  const std::string policyctl = BinDir() + "/cli/policyctl";

  const long before_kb = VmKb(pid, "VmRSS");
  ASSERT_GT(before_kb, 0);
  std::atomic<bool> done{false};
  std::atomic<long> peak_kb{before_kb};
  std::thread sampler([&] {
    while (!done) {
      const long kb = VmKb(pid, "VmRSS");
      if (kb > peak_kb) peak_kb = kb;
      std::this_thread::sleep_for(milliseconds(10));
    }
  });
  // Another client's lookups while the dump streams: answered between its frames.
  std::vector<double> lookup_ms;
  int wrong = 0;
  std::thread lookups([&] {
    Client client = daemon_->Connect();
    for (int i = 0; !done; ++i) {
      const auto at = SteadyClock::now();
      Result<PolicyAnswer> a = client.GetOrgPolicy("org-" + std::to_string((i * 7919) % orgs));
      if (!done) lookup_ms.push_back(SecondsSince(at) * 1000);
      wrong += !a.has_value() || !a->org_known;
    }
  });
  const auto t = SteadyClock::now();
  CommandResult online = RunCommand({policyctl, "--timeout-ms", "30000", "dump", "--socket",
                                     daemon_->socket(), "--output", dir_.Join("socket.json")},
                                    seconds(300));
  const double online_s = SecondsSince(t);
  done = true;
  sampler.join();
  lookups.join();
  std::sort(lookup_ms.begin(), lookup_ms.end());
  const long after_kb = VmKb(pid, "VmRSS");
  ASSERT_EQ(online.exit_code, 0) << online.err;

  EXPECT_TRUE(SameBytes(dir_.Join("offline.json"), dir_.Join("socket.json")));
  struct stat st {};
  ASSERT_EQ(stat(dir_.Join("socket.json").c_str(), &st), 0);
  std::cout << "[ figures ] " << orgs << " orgs, dump " << st.st_size << " bytes; offline "
            << offline_s_ << " s, socket " << online_s << " s; daemon VmRSS before " << before_kb
            << " KiB, peak during " << peak_kb << " KiB (+" << (peak_kb - before_kb)
            << " KiB), after " << after_kb << " KiB; VmHWM " << VmKb(pid, "VmHWM") << " KiB; "
            << lookup_ms.size() << " lookups during the dump, median "
            << (lookup_ms.empty() ? 0 : lookup_ms[lookup_ms.size() / 2]) << " ms, max "
            << (lookup_ms.empty() ? 0 : lookup_ms.back()) << " ms\n";
  EXPECT_EQ(wrong, 0);
  // A dump that took over a second left the single serving thread free for lookups meanwhile.
  if (online_s > 1) {
    EXPECT_GT(lookup_ms.size(), 10u);
  }
  EXPECT_LT(peak_kb - before_kb, kMaxRssGrowthKb);
  // Still serving.
  Result<ServerStatus> status = daemon_->Connect().GetStatus();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->meta.org_count, static_cast<std::uint64_t>(orgs) + 5);  // + the example's
}

// Runs policyctl as `uid` (gid the same) with standard output into `out_path`; its exit code.
int RunAs(uid_t uid, const std::vector<std::string>& args, const std::string& out_path,
          const std::string& err_path) {
  const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv = {BinDir() + "/cli/policyctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    if (dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(120);
    if (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0) _exit(121);
    execv(raw[0], raw.data());
    _exit(122);
  }
  close(out);
  close(err);
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(SocketDumpTest, APeerTheDaemonAllowsDumpsWithoutRootAndOthersAreRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as other uids";
  constexpr uid_t kNobody = 65534, kOther = 65533;
  chmod(dir_.path().c_str(), 0755);  // other uids reach the socket; its mode lets them in
  BuildAndDumpOffline(2000);
  if (HasFatalFailure()) return;
  Start({"--socket-mode", "0666", "--allow-uid", "0," + std::to_string(kNobody)});
  if (HasFatalFailure()) return;
  const std::vector<std::string> dump = {"dump", "--socket", daemon_->socket()};
  EXPECT_EQ(RunAs(kNobody, dump, dir_.Join("nobody.json"), dir_.Join("nobody.err")), 0)
      << ReadFile(dir_.Join("nobody.err"));
  EXPECT_TRUE(SameBytes(dir_.Join("offline.json"), dir_.Join("nobody.json")));
  // The same peer has no access to the store's files (0700, as the unit's StateDirectoryMode):
  // the offline mode is root's.
  ASSERT_EQ(chmod(dir_.Join("data").c_str(), 0700), 0);
  EXPECT_NE(RunAs(kNobody, {"dump", "--data-dir", dir_.Join("data")}, dir_.Join("x.json"),
                  dir_.Join("x.err")),
            0);
  // A uid the allowlist leaves out is refused, with one line.
  EXPECT_NE(RunAs(kOther, dump, dir_.Join("other.json"), dir_.Join("other.err")), 0);
  EXPECT_NE(ReadFile(dir_.Join("other.err")).find("PERMISSION_DENIED"), std::string::npos)
      << ReadFile(dir_.Join("other.err"));
  EXPECT_TRUE(ReadFile(dir_.Join("other.json")).empty());
}

TEST_F(SocketDumpTest, ADumpOfADaemonWithoutStateFailsWithOneLine) {
  daemon_ = std::make_unique<Daemon>(dir_);  // an empty store, no upstream, no snapshot
  ASSERT_TRUE(daemon_->WaitReady());
  CommandResult dump = daemon_->Ctl({"dump"});
  EXPECT_EQ(dump.exit_code, 1) << dump.err;
  EXPECT_NE(dump.err.find("FAILED_PRECONDITION"), std::string::npos) << dump.err;
  EXPECT_EQ(std::count(dump.err.begin(), dump.err.end(), '\n'), 1) << dump.err;
  EXPECT_TRUE(dump.out.empty());
}

}  // namespace
}  // namespace policyd::testing_support
