// The physical-limit baseline: a minimal server on a unix socket that does no work. For every
// complete length-prefixed request frame it writes back `response_frame` (a complete frame,
// prefix included), so request and response sizes equal policyd's.
//
// Several designs of "a zero-work server done well" are offered, because which one is fastest
// depends on the concurrency and on how many cores the client leaves free; the benchmark measures
// them all and takes the fastest at each concurrency as the limit:
//   * epoll, level-triggered: one read per readiness, all complete frames answered by one write;
//   * epoll, edge-triggered: reads until a short read (the socket is then drained), then one write;
//   * one blocking thread per connection: read, write, nothing else (two system calls per request,
//     no epoll_wait at all).
// Epoll designs run `threads` event loops; an accept thread hands connections round-robin to them
// (as policyd does), so no loop is left idle while another holds every connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace policyd::bench {

enum class EchoDesign { kEpollLevel, kEpollEdge, kThreadPerConnection };

struct EchoVariant {
  EchoDesign design = EchoDesign::kEpollLevel;
  int threads = 1;  // event loops (epoll designs only)
};
// "epoll LT x2", "epoll ET x1", "thread/conn".
std::string EchoVariantName(const EchoVariant& variant);
// Every variant worth measuring on a machine with `cpus` cores (1 thread and one per core).
std::vector<EchoVariant> AllEchoVariants(unsigned cpus);

struct EchoServerConfig {
  int listen_fd = -1;  // bound and listening
  std::vector<std::uint8_t> response_frame;
  EchoVariant variant;
};

// Serves forever (run it in a forked child).
void RunEchoServer(const EchoServerConfig& config);

// Binds and listens on `path`; returns the fd or -1 with errno set.
int ListenUnix(const char* path);

}  // namespace policyd::bench
