// Server: the unix-socket front end. Accepts connections and runs one session per connection on
// a pool of Asio io_contexts (one per thread, no locks between them). The first thread accepts
// and serves a new connection itself unless it serves two or more more than the least busy
// thread, which then gets it: a connection per request costs no wake-up of another thread.
//
// Lifecycle: Create() → Start() (socket listening; clients can connect) → Run() blocks serving
// until Stop() → Run() returns after in-flight requests are answered (or the drain deadline).
// Stop() may be called from any thread, any number of times.
//
// Asio stays behind this header: callers see only plain types.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "server/admission.h"
#include "server/peer_policy.h"
#include "server/serving_state.h"
#include "server/unix_socket.h"
#include "store/store.h"

namespace policyd {

struct ServerOptions {
  UnixSocketOptions socket;  // where to listen (ignored when listen_fd >= 0)
  int listen_fd = -1;        // an already listening socket (systemd socket activation)
  unsigned threads = 0;      // 0: one per core
  std::uint32_t max_frame_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // A frame whose first bytes arrived must be complete within this (slow-drip clients).
  std::chrono::milliseconds frame_timeout{std::chrono::seconds(10)};
  // Connections served at once; one more is accepted, answered RESOURCE_EXHAUSTED and closed.
  // Lowered at Start() when RLIMIT_NOFILE (raised up to its hard limit) cannot hold this many
  // plus reserved_fds.
  std::size_t max_connections = 4096;
  // Connections one peer uid (SO_PEERCRED) may hold at once, and how many of max_connections
  // only root and this process's effective uid may use (who are also exempt from the per-peer
  // limit). server/admission.h has the rules.
  std::size_t max_connections_per_peer = 512;
  std::size_t reserved_connections = 8;
  // Requests of one connection answered before their answers are written and more is read.
  std::size_t max_inflight = 128;
  // Count and time requests by kind and status (status counters, /metrics). Off saves the
  // per-request counting (measured by bench/policyd_bench); connection counters stay.
  bool count_requests = true;
  // Descriptors kept free for everything but connections: RocksDB's open files (the store
  // caps them at 256), the listening socket, logs, the upstream's sockets; 4 more per thread
  // are added for the event loops.
  std::size_t reserved_fds = 512;
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
  std::string version;
  // When set, on_heartbeat runs every heartbeat_interval on the first serving thread, but only
  // while every serving loop is turning (each ticked within two intervals): a wedged loop stops
  // the heartbeat, which is what systemd's watchdog needs to notice it.
  std::chrono::milliseconds heartbeat_interval{0};
  std::function<void()> on_heartbeat;
  PeerPolicy peers;  // initial allowlist; SetPeerPolicy() replaces it at run time
  // Fills the counters the server does not keep itself (sync rounds) into status answers that
  // ask for counters; may be empty. Runs on a serving thread: must be quick and thread-safe.
  std::function<void(DaemonCounters&)> more_counters;
};

class Server {
 public:
  Server(ServerOptions options, const Store& store, const ServingState& state, const Clock& clock);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Creates (or adopts) the listening socket. Errors as ListenUnixSocket().
  Status Start();
  // Serves on `threads` threads (the caller's thread is one of them) until Stop().
  void Run();
  // Stops accepting, lets sessions answer what they already received, then ends Run().
  void Stop();

  // Replaces the peer allowlist for connections accepted from now on. Thread-safe.
  void SetPeerPolicy(PeerPolicy peers);
  // Changes the connection limits for connections accepted from now on (open ones above a
  // lowered limit are kept), raising RLIMIT_NOFILE as Start() does. Returns the limits in
  // effect, whose max_connections is lower than asked when the descriptor limit cannot hold that
  // many. Thread-safe.
  ConnectionLimits SetConnectionLimits(ConnectionLimits limits);
  // Connections being served now (refused ones are never counted). Thread-safe.
  std::size_t open_connections() const;
  // Adds what the server counted — requests by kind and code from every serving thread, the
  // latency histogram, connections — to `out`, and sets out.started (when the server was made).
  // Thread-safe and lock-free, also before Start(); values may trail increments made meanwhile.
  void FillCounters(DaemonCounters& out) const;
  // False when a serving loop has not turned for two heartbeat intervals (what withholds the
  // systemd watchdog); always true without a heartbeat. Thread-safe.
  bool loops_turning() const;
  // True from a successful Start() until Stop(): the socket is listening and connections are
  // accepted (served once Run() runs). Thread-safe.
  bool accepting() const;

  // The socket path served (empty for an adopted fd).
  const std::string& socket_path() const;
  unsigned thread_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace policyd
