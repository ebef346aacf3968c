// Server: the unix-socket front end. Accepts connections and runs one session per connection on
// a pool of Asio io_contexts (one per thread, no locks between them).
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
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
  std::string version;
  // When set, on_heartbeat runs every heartbeat_interval on the first serving thread, but only
  // while every serving loop is turning (each ticked within two intervals): a wedged loop stops
  // the heartbeat, which is what systemd's watchdog needs to notice it.
  std::chrono::milliseconds heartbeat_interval{0};
  std::function<void()> on_heartbeat;
  PeerPolicy peers;  // initial allowlist; SetPeerPolicy() replaces it at run time
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

  // The socket path served (empty for an adopted fd).
  const std::string& socket_path() const;
  unsigned thread_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace policyd
