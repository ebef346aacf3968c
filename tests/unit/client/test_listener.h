// A listening unix socket at a fresh path in its own temp dir, for the client's tests to play
// the daemon on. Closed and removed when destroyed; Shutdown() wakes a thread blocked in accept().
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace policyd {

class TestListener {
 public:
  explicit TestListener(int backlog = 1) {
    char dir[] = "/tmp/policyd-client-test-XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/policyd.sock";
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, backlog), 0);
  }
  TestListener(const TestListener&) = delete;
  TestListener& operator=(const TestListener&) = delete;
  ~TestListener() {
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  // The next connection's descriptor, or -1 once Shutdown() was called.
  int Accept() const { return accept(fd_, nullptr, nullptr); }
  void Shutdown() const { shutdown(fd_, SHUT_RDWR); }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

}  // namespace policyd
