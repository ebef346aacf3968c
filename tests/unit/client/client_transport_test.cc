// The C++ client's transport against a scripted peer on a real unix socket: one deadline per call
// whatever the answer's pace, answers split across reads or sharing one, a frame larger than the
// receive buffer, signals, and connect() bounded when the daemon's backlog is full.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "unit/client/test_listener.h"
#include "wire/frame.h"

namespace policyd {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A payload of `n` bytes: a frame as ReceiveFrame returns it undecoded.
std::vector<std::uint8_t> Payload(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(seed + i * 7);
  return p;
}

std::vector<std::uint8_t> Framed(const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out;
  AppendFrame(out, payload);
  return out;
}

// False once the client is gone.
bool WriteAll(int fd, const std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t k = send(fd, data, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    data += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

// Listens on a fresh path; `script` gets the first accepted connection (on the peer's thread).
class Peer {
 public:
  explicit Peer(std::function<void(int)> script, int backlog = 4)
      : listener_(backlog), script_(std::move(script)) {
    if (script_) thread_ = std::thread([this] { Serve(); });
  }
  ~Peer() {
    listener_.Shutdown();
    if (thread_.joinable()) thread_.join();
  }
  const std::string& path() const { return listener_.path(); }

 private:
  void Serve() {
    const int fd = listener_.Accept();
    if (fd < 0) return;
    script_(fd);
    close(fd);
  }

  TestListener listener_;
  std::function<void(int)> script_;
  std::thread thread_;
};

ClientOptions WithTimeout(milliseconds timeout) {
  ClientOptions o;
  o.timeout = timeout;
  return o;
}

TEST(ClientTransportTest, OneDeadlineBoundsTheWholeCallHoweverTheAnswerTrickles) {
  // Each byte arrives well within the timeout; the answer as a whole does not.
  Peer peer([](int fd) {
    const std::vector<std::uint8_t> frame = Framed(Payload(64, 1));
    for (std::uint8_t byte : frame) {
      if (!WriteAll(fd, &byte, 1)) return;
      std::this_thread::sleep_for(milliseconds(60));
    }
  });
  auto client = Client::Connect(peer.path(), WithTimeout(milliseconds(300)));
  ASSERT_TRUE(client) << client.error().message();
  const auto start = Clock::now();
  auto frame = client->ReceiveFrame();
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().code(), Code::kDeadlineExceeded) << frame.error().message();
  EXPECT_GE(elapsed, milliseconds(290));
  EXPECT_LT(elapsed, milliseconds(2000));  // generous: only "not byte by byte forever"
  EXPECT_FALSE(client->connected());
}

TEST(ClientTransportTest, AnswersSplitAcrossReadsOrSharingOneAreEachReturnedWhole) {
  const std::vector<std::uint8_t> a = Payload(40, 1), b = Payload(9, 2), c = Payload(1000, 3);
  Peer peer([&](int fd) {
    std::vector<std::uint8_t> both = Framed(a);
    const std::vector<std::uint8_t> second = Framed(b);
    both.insert(both.end(), second.begin(), second.end());
    WriteAll(fd, both.data(), both.size());  // two answers in one write
    const std::vector<std::uint8_t> third = Framed(c);
    for (std::size_t at : {std::size_t{0}, std::size_t{2}, std::size_t{500}}) {  // in three
      const std::size_t end = at == 0 ? 2 : at == 2 ? 500 : third.size();
      std::this_thread::sleep_for(milliseconds(20));
      WriteAll(fd, third.data() + at, end - at);
    }
  });
  auto client = Client::Connect(peer.path(), WithTimeout(milliseconds(5000)));
  ASSERT_TRUE(client) << client.error().message();
  for (const auto* want : {&a, &b, &c}) {
    auto frame = client->ReceiveFrame();
    ASSERT_TRUE(frame) << frame.error().message();
    EXPECT_EQ(std::vector<std::uint8_t>(frame->begin(), frame->end()), *want);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(frame->data()) % 8, 0u);  // for the Verifier
  }
  EXPECT_TRUE(client->connected());
}

TEST(ClientTransportTest, AnAnswerLargerThanTheBufferArrivesAndSoDoTheSmallOnesAfterIt) {
  const std::vector<std::uint8_t> big = Payload(300 * 1024 + 3, 5), small = Payload(16, 6);
  Peer peer([&](int fd) {
    std::vector<std::uint8_t> all = Framed(big);
    for (int i = 0; i < 2; ++i) {
      const std::vector<std::uint8_t> s = Framed(small);
      all.insert(all.end(), s.begin(), s.end());
    }
    WriteAll(fd, all.data(), all.size());
  });
  auto client = Client::Connect(peer.path(), WithTimeout(milliseconds(5000)));
  ASSERT_TRUE(client) << client.error().message();
  for (const auto* want : {&big, &small, &small}) {
    auto frame = client->ReceiveFrame();
    ASSERT_TRUE(frame) << frame.error().message();
    EXPECT_EQ(std::vector<std::uint8_t>(frame->begin(), frame->end()), *want);
  }
}

TEST(ClientTransportTest, AFrameOverTheLimitIsInternalAndCloses) {
  Peer peer([](int fd) {
    const std::vector<std::uint8_t> frame = Framed(Payload(2048, 1));
    WriteAll(fd, frame.data(), frame.size());
  });
  ClientOptions options = WithTimeout(milliseconds(5000));
  options.max_response_bytes = 1024;
  auto client = Client::Connect(peer.path(), options);
  ASSERT_TRUE(client) << client.error().message();
  auto frame = client->ReceiveFrame();
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().code(), Code::kInternal);
  EXPECT_NE(frame.error().message().find("bad frame"), std::string::npos);
  EXPECT_FALSE(client->connected());
}

TEST(ClientTransportTest, OnSignalDecidesWhetherASignalEndsAWaitingCall) {
  struct sigaction action {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);  // no SA_RESTART: the blocked recv() returns EINTR
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  for (const bool end : {true, false}) {
    SCOPED_TRACE(end ? "on_signal ends the call" : "on_signal keeps waiting");
    Peer peer([](int fd) {
      char byte;
      (void)recv(fd, &byte, 1, 0);  // until the client closes
    });
    int signals = 0;
    ClientOptions options = WithTimeout(milliseconds(end ? 10000 : 400));
    options.on_signal = [&] {
      ++signals;
      return end ? Status(Code::kCancelled, "interrupted") : Status::Ok();
    };
    auto client = Client::Connect(peer.path(), options);
    ASSERT_TRUE(client) << client.error().message();
    const pthread_t self = pthread_self();
    std::thread signaller([self] {
      std::this_thread::sleep_for(milliseconds(100));
      pthread_kill(self, SIGUSR1);
    });
    const auto start = Clock::now();
    auto frame = client->ReceiveFrame();
    const auto elapsed = Clock::now() - start;
    signaller.join();
    ASSERT_FALSE(frame);
    EXPECT_EQ(signals, 1);
    EXPECT_EQ(frame.error().code(), end ? Code::kCancelled : Code::kDeadlineExceeded);
    if (end) {
      EXPECT_LT(elapsed, milliseconds(5000));
    } else {
      EXPECT_GE(elapsed, milliseconds(390));  // the deadline, not the signal
    }
    EXPECT_FALSE(client->connected());
  }
  sigaction(SIGUSR1, &previous, nullptr);
}

TEST(ClientTransportTest, ConnectingToADaemonWhoseBacklogIsFullTimesOut) {
  Peer peer(nullptr, /*backlog=*/0);  // never accepts
  // Fill the backlog with connections that never get accepted.
  std::vector<int> pending;
  for (int i = 0; i < 64; ++i) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, peer.path().data(), peer.path().size());
    const int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    pending.push_back(fd);
    if (rc != 0) break;  // EAGAIN: full
  }
  const auto start = Clock::now();
  auto client = Client::Connect(peer.path(), WithTimeout(milliseconds(300)));
  const auto elapsed = Clock::now() - start;
  for (int fd : pending) close(fd);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code(), Code::kDeadlineExceeded) << client.error().message();
  EXPECT_GE(elapsed, milliseconds(290));
  EXPECT_LT(elapsed, milliseconds(3000));
}

}  // namespace
}  // namespace policyd
