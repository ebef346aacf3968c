// NatsConnection: one connection to a NATS server or cluster, with a JetStream context, owned by
// the caller (RAII). The nats module is the only part of policyd that includes cnats (libnats);
// this header does not, so callers never see cnats types.
//
// Connecting never waits for a server. Connect() returns a connection at once, even when no
// listed server is reachable ("retry on failed connect"), and the library keeps trying every URL
// forever, ReconnectWait apart (plus jitter), after the first failure and after every later
// disconnect ("reconnect forever"). While it is not connected, calls that need the server fail
// with kUnavailable or kDeadlineExceeded; nothing blocks for longer than the request timeout.
// A daemon can therefore start and serve its local copy while NATS is down.
//
// Events (connected, disconnected, reconnected, closed, asynchronous errors such as a refused
// publish or a missed consumer heartbeat) go to the optional `on_event` callback. It runs on a
// cnats library thread (the library's single asynchronous-callback thread, shared by every
// connection of the process), never on the caller's thread and never concurrently with itself.
// It must return quickly and must not destroy this connection; posting to the caller's own loop
// is the intended use. It is never called once the destructor has started.
//
// Thread-safety: state() and the KV objects built on the connection may be used from any
// thread; cnats locks internally. The connection must outlive every KvBucket and KvStream
// created from it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/fleet_status.h"

namespace policyd::nats {

struct ConnectOptions {
  // One or more "nats://HOST:PORT" (or "tls://HOST:PORT") URLs of the same cluster. User and
  // password may be given in the URL ("nats://user:pass@host:port").
  std::vector<std::string> urls;
  // --nats-creds: a NATS user credentials file (user JWT and nkey seed). Empty: none.
  std::string creds_file;
  // --nats-ca-file: PEM file of CA certificates to trust; setting it requires TLS. Empty: plain
  // TCP unless the URL scheme is tls://.
  std::string ca_file;
  // Client name shown by the server's monitoring endpoints.
  std::string name = "policyd";
  // Prefix of reply subjects ("_INBOX_host1"), so a server can scope this user's subscribe
  // permission to its own inbox. Empty: cnats's default "_INBOX".
  std::string inbox_prefix;
  // Time to establish one TCP/TLS connection to one server.
  std::chrono::milliseconds connect_timeout{2000};
  // Pause between two rounds of connection attempts over the URL list.
  std::chrono::milliseconds reconnect_wait{500};
  // Default wait for each JetStream API request and each publish acknowledgement.
  std::chrono::milliseconds request_timeout{5000};
  // How long the destructor waits for cnats to confirm the close.
  std::chrono::milliseconds close_timeout{5000};
};

enum class ConnState { kConnecting, kConnected, kReconnecting, kDisconnected, kClosed };
std::string_view ConnStateName(ConnState state);
// The state as fleet mode's status surfaces report it (disconnected counts as reconnecting: cnats
// keeps trying).
FleetConnection FleetConnectionOf(ConnState state);

struct ConnEvent {
  enum class Kind { kConnected, kDisconnected, kReconnected, kClosed, kAsyncError };
  Kind kind;
  // For kAsyncError: what went wrong (kPermissionDenied for a refused publish or subscribe,
  // kUnavailable for a missed consumer heartbeat, ...). OK otherwise.
  Status error;
};
using EventCallback = std::function<void(const ConnEvent&)>;

// Module-internal: the cnats handles (defined in nats/handles.h).
struct Handles;

class NatsConnection {
 public:
  // Creates the connection and starts connecting. Success does NOT mean connected: see state().
  // Errors: kInvalidArgument for no URL or a malformed one, and for an unreadable creds file or
  // an unreadable or invalid CA file (message names the file); kInternal when cnats cannot
  // start. A creds file that is readable but wrong shows only when connecting (kAsyncError
  // events, never connected).
  static Result<std::unique_ptr<NatsConnection>> Connect(const ConnectOptions& options,
                                                         EventCallback on_event = {});

  // Closes the connection (in-flight calls on other threads fail) and waits up to
  // options.close_timeout for cnats to confirm; never longer. Subscriptions created from this
  // connection must have been destroyed before.
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  ConnState state() const;
  // The URL of the server currently connected to, without any user:password part; empty when
  // not connected.
  std::string ConnectedUrl() const;
  const ConnectOptions& options() const { return options_; }

  // Module-internal access to the cnats handles.
  Handles& handles() { return *handles_; }

 private:
  NatsConnection(ConnectOptions options, std::unique_ptr<Handles> handles);
  ConnectOptions options_;
  std::unique_ptr<Handles> handles_;
};

// Releases cnats's process-wide resources (its threads and per-thread memory), waiting at most
// `timeout`. Call once at process exit after every connection is destroyed; no cnats call may
// follow. Returns kDeadlineExceeded when the library did not finish in time.
Status ShutdownLibrary(std::chrono::milliseconds timeout);

}  // namespace policyd::nats
