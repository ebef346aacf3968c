// Connection admission: whether a newly accepted connection may be served, given how many
// connections are open in all and for its peer's uid, so that one client (a leaking connection
// pool) cannot take every place and lock out all the others.
//
// Three limits, checked in this order when a connection is accepted:
//   1. max_per_peer: connections one ordinary peer uid may hold at once.
//   2. max_connections − reserved: the places ordinary peers share.
//   3. max_connections: all places. The last `reserved` of them (PostgreSQL's
//      superuser_reserved_connections) are left to privileged peers — uid 0 and the daemon's own
//      effective uid — so that the operator's tools (`policyctl status`) always get in.
// Privileged peers are not subject to max_per_peer; they are to max_connections.
//
// AdmitConnection() and the helpers are pure. ConnectionTable is the server's thread-safe count
// of open connections by peer uid: the accept loop opens, any serving thread closes.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace policyd {

struct ConnectionLimits {
  std::size_t max_connections = 4096;  // all places, the reserved ones included
  std::size_t max_per_peer = 512;      // per ordinary peer uid
  std::size_t reserved = 8;            // of max_connections, for privileged peers only
  friend bool operator==(const ConnectionLimits&, const ConnectionLimits&) = default;
};

// Why a connection was refused. kNone: admit it.
enum class Refusal {
  kNone,
  kPerPeer,         // the peer's uid holds max_per_peer connections
  kReserved,        // only the reserved places are left, and the peer is not privileged
  kMaxConnections,  // every place is taken
};

// The places ordinary peers share: max_connections − reserved, but at least 1 while
// max_connections is (when the descriptor limit lowered max_connections to `reserved` or less,
// ordinary peers keep one place rather than none).
std::size_t OrdinaryPlaces(const ConnectionLimits& limits);

// Whether uid 0 or `own_euid` (the daemon's effective uid) is connecting.
constexpr bool IsPrivilegedPeer(uid_t peer, uid_t own_euid) {
  return peer == 0 || peer == own_euid;
}

// The decision for one new connection: `open` connections are served now, `open_for_peer` of
// them by the new connection's uid (the new one not counted).
Refusal AdmitConnection(const ConnectionLimits& limits, bool privileged, std::size_t open,
                        std::size_t open_for_peer);

// The Prometheus `reason` label value of policyd_connections_rejected_total for a refusal:
// "per_peer", "reserved", "max_connections" ("" for kNone).
std::string_view RefusalReason(Refusal refusal);

// The RESOURCE_EXHAUSTED message a refused client gets, naming the limit and its flag, e.g.
// "uid 1000 holds its maximum of 512 connections (--max-connections-per-peer); ...".
std::string RefusalMessage(Refusal refusal, const ConnectionLimits& limits, uid_t peer);

// Open connections by peer uid, and the limits they are checked against. Thread-safe: one mutex
// held for a map update per accepted or ended connection (not per request).
class ConnectionTable {
 public:
  explicit ConnectionTable(uid_t own_euid) : own_euid_(own_euid) {}

  // Replaces the limits for connections opened from now on (open ones are kept).
  void SetLimits(const ConnectionLimits& limits);
  ConnectionLimits limits() const;

  // Decides on a new connection from `peer` and, when it is admitted (kNone), counts it: every
  // admitted connection must be closed with Close(peer) exactly once.
  Refusal Open(uid_t peer);
  void Close(uid_t peer);

  // Connections open now, in all and for one uid.
  std::size_t open() const { return open_.load(std::memory_order_relaxed); }
  std::size_t open_for(uid_t peer) const;
  uid_t own_euid() const { return own_euid_; }

 private:
  const uid_t own_euid_;
  mutable std::mutex mu_;
  ConnectionLimits limits_;                         // guarded by mu_
  std::unordered_map<uid_t, std::size_t> by_peer_;  // guarded by mu_; no zero entries
  std::atomic<std::size_t> open_{0};                // written under mu_, read without it
};

}  // namespace policyd
