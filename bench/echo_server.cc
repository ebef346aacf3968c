#include "echo_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
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

// Writes everything; on a full socket buffer (never in the benchmark: clients read every answer)
// waits until it drains.
bool WriteAll(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd pfd{fd, POLLOUT, 0};
      poll(&pfd, 1, -1);
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Answers every complete frame in c.in with one write; keeps a partial frame for later.
bool AnswerFrames(Connection& c, const std::vector<std::uint8_t>& response) {
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
  return c.out.empty() || WriteAll(c.fd, c.out.data(), c.out.size());
}

// One read into the free space. 1: got bytes, and filled the space (more may be waiting);
// 0: got bytes, or nothing was there; -1: the connection is done.
int ReadOnce(Connection& c) {
  if (c.used == c.in.size()) c.in.resize(c.in.size() * 2);
  const std::size_t space = c.in.size() - c.used;
  const ssize_t r = read(c.fd, c.in.data() + c.used, space);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (r <= 0) return -1;
  c.used += static_cast<std::size_t>(r);
  return static_cast<std::size_t>(r) == space ? 1 : 0;
}

// Level-triggered: one read per readiness; anything left makes epoll report the socket again.
// Edge-triggered: read until a short read, after which new data raises a new edge.
bool ServeReady(Connection& c, const std::vector<std::uint8_t>& response, bool edge) {
  int r = 0;
  do {
    r = ReadOnce(c);
    if (r < 0) return false;
  } while (edge && r == 1);
  return AnswerFrames(c, response);
}

void EventLoop(int ep, const EchoServerConfig& config) {
  const bool edge = config.variant.design == EchoDesign::kEpollEdge;
  epoll_event events[64];
  for (;;) {
    const int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Connection*>(events[i].data.ptr);
      if (!ServeReady(*c, config.response_frame, edge)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
        close(c->fd);
        delete c;
      }
    }
  }
}

void ServeBlocking(int fd, const std::vector<std::uint8_t>& response) {
  Connection c;
  c.fd = fd;
  while (ReadOnce(c) >= 0)
    if (!AnswerFrames(c, response)) break;
  close(fd);
}

int Accept(int listen_fd, int flags) {
  for (;;) {
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | flags);
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)) return fd;
  }
}

}  // namespace

std::string EchoVariantName(const EchoVariant& v) {
  switch (v.design) {
    case EchoDesign::kEpollLevel:
      return "epoll LT x" + std::to_string(v.threads);
    case EchoDesign::kEpollEdge:
      return "epoll ET x" + std::to_string(v.threads);
    case EchoDesign::kThreadPerConnection:
      return "thread/conn";
  }
  return "?";
}

std::vector<EchoVariant> AllEchoVariants(unsigned cpus) {
  std::vector<EchoVariant> all;
  for (EchoDesign d : {EchoDesign::kEpollLevel, EchoDesign::kEpollEdge}) {
    all.push_back({d, 1});
    if (cpus > 1) all.push_back({d, static_cast<int>(cpus)});
  }
  all.push_back({EchoDesign::kThreadPerConnection, 1});
  return all;
}

void RunEchoServer(const EchoServerConfig& config) {
  if (config.variant.design == EchoDesign::kThreadPerConnection) {
    for (;;) {
      const int fd = Accept(config.listen_fd, 0);
      if (fd < 0) return;
      std::thread([fd, &config] { ServeBlocking(fd, config.response_frame); }).detach();
    }
  }
  const std::uint32_t trigger =
      config.variant.design == EchoDesign::kEpollEdge ? EPOLLIN | EPOLLET : EPOLLIN;
  std::vector<int> loops;
  for (int i = 0; i < std::max(1, config.variant.threads); ++i) {
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return;
    loops.push_back(ep);
    std::thread([ep, &config] { EventLoop(ep, config); }).detach();
  }
  for (std::size_t next = 0;; ++next) {
    const int fd = Accept(config.listen_fd, SOCK_NONBLOCK);
    if (fd < 0) return;
    auto* c = new Connection;
    c->fd = fd;
    epoll_event ev{};
    ev.events = trigger;
    ev.data.ptr = c;
    if (epoll_ctl(loops[next % loops.size()], EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      delete c;
    }
  }
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
