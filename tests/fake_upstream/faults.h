// Fault scripting for the fake upstream, and the socket tricks that make "connection reset" and
// a fast shutdown real.
//
// FaultInjector is thread-safe: tests inject from their thread while server threads take.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string_view>

#include "fake_upstream/fake_upstream.h"

namespace policyd::testing_support {

class FaultInjector {
 public:
  void Inject(Fault fault);
  void Clear();
  // The first pending fault whose path_prefix matches `path`, consuming one of its `times`.
  std::optional<Fault> Take(std::string_view path);
  int triggered() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Fault> pending_;
  int triggered_ = 0;
};

// Aborts the server side of the TCP connection whose local port is `local_port` and whose peer
// port is `remote_port` with a RST (connect(AF_UNSPEC) disconnects a TCP socket), without
// closing the descriptor, which the HTTP library still owns and closes itself. The peer sees
// "connection reset by peer" before any response byte. Returns false if no such socket exists.
bool ResetConnection(int local_port, int remote_port);

// shutdown(SHUT_RDWR) on every connected socket of this process whose local port is
// `local_port`: idle keep-alive connections then end at once instead of after their timeout.
void ShutdownConnections(int local_port);

}  // namespace policyd::testing_support
