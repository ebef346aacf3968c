// One client must not lock out every other: --max-connections-per-peer and
// --reserved-connections against the real policyd, run as root.
//
// Children of the test switch to other uids, connect to the daemon and hand their connections
// to the test over a socketpair (SCM_RIGHTS) before exiting. SO_PEERCRED records the uid that
// connected, so the daemon counts each connection under the child's uid for as long as the test
// holds it open, and the test reads every answer itself.
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "support/daemon.h"
#include "support/http_scrape.h"
#include "wire/frame.h"
#include "wire/request.h"

namespace policyd::testing_support {
namespace {

using std::chrono::seconds;

constexpr uid_t kNobody = 65534;
constexpr uid_t kThirdUid = 65533;
constexpr int kMax = 64, kPerPeer = 8, kReserved = 4;  // ordinary peers share 60 places

std::string Rejected(const char* reason) {
  return std::string("policyd_connections_rejected_total{reason=\"") + reason + "\"}";
}

// A connection made by another uid, held by the test. Blocking, with 10 s timeouts so that a
// daemon that stops answering fails the test instead of hanging it.
class Held {
 public:
  explicit Held(int fd) : fd_(fd) {
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  Held(Held&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Held& operator=(Held&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Held() {
    if (fd_ >= 0) close(fd_);
  }

  // True when a lookup on this connection is answered with a policy: the daemon serves it.
  bool Served() {
    std::vector<std::uint8_t> frame;
    AppendGetOrgPolicy(frame, 7, "org-1", false);
    if (send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) {
      return false;
    }
    std::optional<Response> r = Receive();
    return r && r->id == 7 && r->kind == ResponseKind::kPolicy;
  }
  // The refusal a connection over a limit gets at once, unasked, followed by EOF; a
  // description of what came instead otherwise.
  ::testing::AssertionResult Refused(const std::string& message_part) {
    std::optional<Response> r = Receive();
    if (!r) return ::testing::AssertionFailure() << "no answer";
    if (r->id != 0 || r->error.code() != Code::kResourceExhausted ||
        r->error.message().find(message_part) == std::string::npos) {
      return ::testing::AssertionFailure() << "answer " << r->error.ToString();
    }
    std::uint8_t b;
    if (recv(fd_, &b, 1, 0) != 0) return ::testing::AssertionFailure() << "not closed";
    return ::testing::AssertionSuccess() << r->error.message();
  }

 private:
  std::optional<Response> Receive() {
    std::uint8_t header[4];
    if (!ReadExactly(header, 4)) return std::nullopt;
    Result<std::uint32_t> n = DecodeFrameLength(header, 1u << 20);
    if (!n) return std::nullopt;
    std::vector<std::uint64_t> body(*n / 8 + 1);
    if (!ReadExactly(reinterpret_cast<std::uint8_t*>(body.data()), *n)) return std::nullopt;
    Result<Response> r = DecodeResponse({reinterpret_cast<std::uint8_t*>(body.data()), *n});
    return r ? std::optional<Response>(std::move(*r)) : std::nullopt;
  }
  bool ReadExactly(std::uint8_t* to, std::size_t n) {
    for (std::size_t got = 0; got < n;) {
      const ssize_t r = recv(fd_, to + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
};

// In the child: becomes `uid` (and gid `uid`, no supplementary groups), makes `count`
// connections to `addr` one after the other and sends each over `channel`. Only system calls
// between fork and _exit.
[[noreturn]] void ConnectAndHandOver(uid_t uid, const sockaddr_un& addr, int count, int channel) {
  if (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0) _exit(2);
  for (int i = 0; i < count; ++i) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      _exit(3);
    }
    char byte = 'c';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(channel, &msg, 0) != 1) _exit(4);
    close(fd);
  }
  _exit(0);
}

// `count` connections to `socket_path` made by `uid`, in the order they were made (and so
// accepted). Fails the test (and returns fewer) when the child could not make them all.
std::vector<Held> ConnectAs(uid_t uid, const std::string& socket_path, int count) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int pair[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  const pid_t child = fork();
  if (child == 0) {
    close(pair[0]);
    ConnectAndHandOver(uid, addr, count, pair[1]);
  }
  close(pair[1]);
  timeval tv{10, 0};
  setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::vector<Held> held;
  for (int i = 0; i < count; ++i) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    if (recvmsg(pair[0], &msg, MSG_CMSG_CLOEXEC) != 1) break;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == nullptr || c->cmsg_type != SCM_RIGHTS) break;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
    held.emplace_back(fd);
  }
  close(pair[0]);
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the child as uid " << uid << " ended with status " << status
      << " (exit 2: could not switch uid; 3: could not connect, e.g. the socket's directory is "
         "not reachable by that uid; 4: could not hand a connection over)";
  EXPECT_EQ(held.size(), static_cast<std::size_t>(count)) << "uid " << uid;
  return held;
}

int CountMatches(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

class PeerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as other uids";
    chmod(dir_.path().c_str(), 0755);  // other uids reach the socket; its mode lets them in
    WriteSnapshot(MakeSnapshot(10), dir_.Join("snapshot.json"));
  }

  // policyd with `toml` as its config file, a socket anyone may connect to, and /metrics.
  void Start(const std::string& toml) {
    WriteConfig(toml);
    daemon_ = std::make_unique<Daemon>(
        dir_, std::vector<std::string>{"--snapshot", dir_.Join("snapshot.json"), "--socket-mode",
                                       "0666", "--metrics-listen", "127.0.0.1:0", "--config",
                                       dir_.Join("policyd.toml")});
    ASSERT_TRUE(daemon_->WaitReady());
    port_ = MetricsPort(daemon_->process());
    ASSERT_TRUE(WaitOpen(0));  // the readiness probes' connections are gone
  }
  void WriteConfig(const std::string& toml) { std::ofstream(dir_.Join("policyd.toml")) << toml; }
  ::testing::AssertionResult WaitOpen(double n) {
    return WaitFor([&] { return ScrapeMetrics(port_).Get("policyd_connections_open") == n; },
                   seconds(10), std::to_string(n) + " open connections");
  }
  // Root's own tools: policyctl status and a C++ client.
  void ExpectRootServed(const std::string& when) {
    CommandResult status = daemon_->Ctl({"status"});
    EXPECT_EQ(status.exit_code, 0) << when << ": " << status.err;
    Result<Client> root = Client::Connect(daemon_->socket());
    ASSERT_TRUE(root.has_value()) << when;
    EXPECT_TRUE(root->GetStatus().has_value()) << when;
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
};

TEST_F(PeerLimitsTest, APeerOverItsLimitIsRefusedAndRootAndOtherUidsAreStillServed) {
  Start("max-connections = 64\nmax-connections-per-peer = 8\nreserved-connections = 4\n");
  std::vector<Held> nobody = ConnectAs(kNobody, daemon_->socket(), kPerPeer + 4);
  ASSERT_EQ(nobody.size(), static_cast<std::size_t>(kPerPeer + 4));
  for (int i = 0; i < kPerPeer; ++i) EXPECT_TRUE(nobody[i].Served()) << "connection " << i;
  for (std::size_t i = kPerPeer; i < nobody.size(); ++i) {
    EXPECT_TRUE(
        nobody[i].Refused("uid 65534 holds its maximum of 8 connections "
                          "(--max-connections-per-peer)"))
        << "connection " << i;
  }
  nobody.erase(nobody.begin() + kPerPeer, nobody.end());  // the refused ones are closed anyway
  ExpectRootServed("nobody at its limit");
  std::vector<Held> third = ConnectAs(kThirdUid, daemon_->socket(), 1);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_TRUE(third[0].Served());

  EXPECT_TRUE(WaitOpen(kPerPeer + 1));  // root's tools closed theirs
  Scrape s = ScrapeMetrics(port_);
  EXPECT_EQ(s.Get(Rejected("per_peer")), 4);
  EXPECT_EQ(s.Get(Rejected("reserved")), 0);
  EXPECT_EQ(s.Get(Rejected("max_connections")), 0);
  // One log line for the burst, not one per refusal.
  EXPECT_EQ(CountMatches(daemon_->process().Log(), "uid 65534 holds its maximum of 8 connections"),
            1)
      << daemon_->process().Log();

  // A connection closed is a place for the same uid again: the count goes down.
  nobody.pop_back();
  std::vector<Held> again;
  EXPECT_TRUE(WaitFor(
      [&] {
        again = ConnectAs(kNobody, daemon_->socket(), 1);
        return again.size() == 1 && again[0].Served();
      },
      seconds(10), "nobody's freed place"));
  EXPECT_TRUE(ConnectAs(kNobody, daemon_->socket(), 1).at(0).Refused("--max-connections-per-"));

  // SIGHUP applies a new per-peer limit to the next connections.
  WriteConfig("max-connections = 64\nmax-connections-per-peer = 10\nreserved-connections = 4\n");
  ASSERT_EQ(kill(daemon_->process().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        return daemon_->process().Log().find("max-connections-per-peer (10)") != std::string::npos;
      },
      seconds(10), "the reload"))
      << daemon_->process().Log();
  std::vector<Held> more = ConnectAs(kNobody, daemon_->socket(), 3);
  ASSERT_EQ(more.size(), 3u);
  EXPECT_TRUE(more[0].Served());
  EXPECT_TRUE(more[1].Served());
  EXPECT_TRUE(more[2].Refused("uid 65534 holds its maximum of 10 connections"));
  EXPECT_TRUE(daemon_->process().Running());
}

// Ordinary peers hold every place they may (kMax - kReserved); `peers` lists the uids, each
// holding places_each (the last one fewer, its surplus refused as over the general limit).
void FillOrdinaryPlaces(const std::string& socket, const std::vector<uid_t>& peers, int places_each,
                        std::vector<Held>& held) {
  int left = kMax - kReserved;
  for (uid_t uid : peers) {
    std::vector<Held> got = ConnectAs(uid, socket, places_each);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(places_each));
    for (Held& h : got) {
      if (left > 0) {
        EXPECT_TRUE(h.Served()) << "uid " << uid << ", " << left << " places left";
        held.push_back(std::move(h));
        --left;
      } else {
        EXPECT_TRUE(h.Refused("reserved for root and policyd's own uid (--reserved-connections)"))
            << "uid " << uid;
      }
    }
  }
  ASSERT_EQ(left, 0) << "the peers did not fill the ordinary places";
}

// What must hold while ordinary peers have every ordinary place: a third uid is refused (only
// reserved places are left), root's tools get in, root takes the reserved places, and past them
// root too is refused as over --max-connections.
void ExpectOnlyReservedPlacesLeft(const std::string& socket) {
  std::vector<Held> third = ConnectAs(kThirdUid, socket, 1);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_TRUE(third[0].Refused(
      "the last 4 of its --max-connections 64 are reserved for root and policyd's own uid"));
  std::vector<Client> root;
  for (int i = 0; i < kReserved; ++i) {
    Result<Client> c = Client::Connect(socket);
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(c->GetStatus().has_value()) << "reserved place " << i;
    root.push_back(std::move(*c));
  }
  Result<Client> over = Client::Connect(socket);
  ASSERT_TRUE(over.has_value());
  Result<ServerStatus> refused = over->GetStatus();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kResourceExhausted);
  EXPECT_NE(refused.error().message().find(
                "policyd is serving its maximum of 64 connections (--max-connections)"),
            std::string::npos)
      << refused.error().ToString();
}

TEST_F(PeerLimitsTest, OnePeerHoldingTheGeneralLimitLeavesTheReservedPlacesToRoot) {
  // The per-peer limit above max-connections: one uid can take every ordinary place.
  Start("max-connections = 64\nmax-connections-per-peer = 100\nreserved-connections = 4\n");
  std::vector<Held> held;
  FillOrdinaryPlaces(daemon_->socket(), {kNobody}, kMax - kReserved + 2, held);
  if (HasFatalFailure()) return;
  ExpectRootServed("only reserved places left");
  ASSERT_TRUE(WaitOpen(kMax - kReserved));  // root's tools closed their connections
  ExpectOnlyReservedPlacesLeft(daemon_->socket());
  Scrape s = ScrapeMetrics(port_);
  EXPECT_EQ(s.Get(Rejected("reserved")), 2 + 1);  // nobody's surplus, the third uid
  EXPECT_EQ(s.Get(Rejected("max_connections")), 1);
  EXPECT_EQ(s.Get(Rejected("per_peer")), 0);
  EXPECT_EQ(CountMatches(daemon_->process().Log(), "only the 4 reserved places"), 1)
      << daemon_->process().Log();
}

TEST_F(PeerLimitsTest, SeveralPeersHoldingTheGeneralLimitLeaveTheReservedPlacesToRoot) {
  Start("max-connections = 64\nmax-connections-per-peer = 8\nreserved-connections = 4\n");
  std::vector<uid_t> peers;
  for (uid_t uid = 65500; uid < 65508; ++uid) peers.push_back(uid);  // 8 x 8 = 64 asked
  std::vector<Held> held;
  FillOrdinaryPlaces(daemon_->socket(), peers, kPerPeer, held);
  if (HasFatalFailure()) return;
  ExpectRootServed("only reserved places left");
  ASSERT_TRUE(WaitOpen(kMax - kReserved));
  ExpectOnlyReservedPlacesLeft(daemon_->socket());
  Scrape s = ScrapeMetrics(port_);
  EXPECT_EQ(s.Get(Rejected("reserved")), 4 + 1);  // the last uid's surplus, the third uid
  EXPECT_EQ(s.Get(Rejected("max_connections")), 1);
  EXPECT_EQ(s.Get(Rejected("per_peer")), 0);

  // One ordinary place freed is one place for another uid again.
  held.erase(held.begin());
  std::vector<Held> third;
  EXPECT_TRUE(WaitFor(
      [&] {
        third = ConnectAs(kThirdUid, daemon_->socket(), 1);
        return third.size() == 1 && third[0].Served();
      },
      seconds(10), "the freed ordinary place"));
  EXPECT_TRUE(daemon_->process().Running());
}

}  // namespace
}  // namespace policyd::testing_support
