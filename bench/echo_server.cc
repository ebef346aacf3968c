#include "echo_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace policyd::bench {
namespace {

struct Connection {
  int fd = -1;
  std::vector<std::uint8_t> in = std::vector<std::uint8_t>(1 << 16);
  std::size_t used = 0;
  std::vector<std::uint8_t> out;
};

bool WriteAll(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Reads what is there, answers every complete frame; false when the connection is done.
bool Serve(Connection& c, const std::vector<std::uint8_t>& response) {
  if (c.used == c.in.size()) c.in.resize(c.in.size() * 2);
  const ssize_t r = read(c.fd, c.in.data() + c.used, c.in.size() - c.used);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (r <= 0) return false;
  c.used += static_cast<std::size_t>(r);
  std::size_t pos = 0;
  c.out.clear();
  while (c.used - pos >= 4) {
    const std::uint8_t* p = c.in.data() + pos;
    const std::size_t len = static_cast<std::size_t>(p[0]) | static_cast<std::size_t>(p[1]) << 8 |
                            static_cast<std::size_t>(p[2]) << 16 |
                            static_cast<std::size_t>(p[3]) << 24;
    if (c.used - pos < 4 + len) break;
    pos += 4 + len;
    c.out.insert(c.out.end(), response.begin(), response.end());
  }
  if (pos > 0) {
    std::memmove(c.in.data(), c.in.data() + pos, c.used - pos);
    c.used -= pos;
  }
  // Accepted sockets are blocking: the client always reads its answers, so this completes.
  return c.out.empty() || WriteAll(c.fd, c.out.data(), c.out.size());
}

void Loop(const EchoServerConfig& config) {
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return;
  epoll_event lev{};
  lev.events = EPOLLIN | EPOLLEXCLUSIVE;
  lev.data.ptr = nullptr;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, config.listen_fd, &lev) != 0) return;
  epoll_event events[64];
  for (;;) {
    const int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        const int fd = accept4(config.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;  // another thread took it
        auto* c = new Connection;
        c->fd = fd;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
          close(fd);
          delete c;
        }
        continue;
      }
      auto* c = static_cast<Connection*>(events[i].data.ptr);
      if (!Serve(*c, config.response_frame)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
        close(c->fd);
        delete c;
      }
    }
  }
}

}  // namespace

void RunEchoServer(const EchoServerConfig& config) {
  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i) threads.emplace_back([&config] { Loop(config); });
  Loop(config);
  for (auto& t : threads) t.join();
}

int ListenUnix(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::strcpy(addr.sun_path, path);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 1024) != 0) {
    const int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

}  // namespace policyd::bench
