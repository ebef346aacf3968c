// Test support: a datagram socket standing in for the service manager's notification socket
// (pass NOTIFY_SOCKET=<path> to policyd), collecting every sd_notify message it receives.
//
// Header-only. Threads: one test thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

namespace policyd::testing_support {

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
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Collects messages until `needle` appears at or after offset `from` of all() or `timeout`
  // passes.
  ::testing::AssertionResult WaitFor(const std::string& needle, std::chrono::milliseconds timeout,
                                     std::size_t from = 0) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (all_.find(needle, from) != std::string::npos) return ::testing::AssertionSuccess();
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) all_ += std::string(buf, static_cast<std::size_t>(n)) + "\n";
    }
    if (all_.find(needle, from) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no \"" << needle << "\" in:\n" << all_.substr(from);
  }
  // Every message so far, each followed by a newline.
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

}  // namespace policyd::testing_support
