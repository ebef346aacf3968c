// The physical-limit baseline: a minimal epoll server on a unix socket that does no work. For
// every complete length-prefixed request frame it writes back `response_frame` (a complete frame,
// prefix included), so request and response sizes equal policyd's.
#pragma once

#include <cstdint>
#include <vector>

namespace policyd::bench {

struct EchoServerConfig {
  int listen_fd = -1;  // bound and listening
  std::vector<std::uint8_t> response_frame;
  int threads = 1;  // epoll threads, each with its own epoll set sharing the listener
};

// Serves forever (run it in a forked child).
void RunEchoServer(const EchoServerConfig& config);

// Binds and listens on `path`; returns the fd or -1 with errno set.
int ListenUnix(const char* path);

}  // namespace policyd::bench
