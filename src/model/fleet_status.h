// FleetStatus: what a fleet-mode policyd (a publisher or a follower, issue #13) reports about its
// NATS side: in `policyctl status`, `policyctl top` and the Prometheus endpoint.
//
// The publisher (publish/) and the follower (follow/) keep their own lock-free counters and fill
// one FleetStatus when asked; the status surfaces only read it.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/timestamp.h"

namespace policyd {

// Values are part of the wire protocol (response.fbs FleetRole, FleetConnection).
enum class FleetRole : std::uint8_t {
  kNone = 0,       // not in fleet mode (direct sync or a snapshot)
  kPublisher = 1,  // --publish-to: syncs the upstream and writes the bucket
  kFollower = 2,   // --follow: reads the bucket, holds no IAM credential
};

// "none", "publisher", "follower" (status, /metrics labels); "unknown" for a value a newer daemon
// sent.
constexpr std::string_view FleetRoleName(FleetRole role) {
  switch (role) {
    case FleetRole::kNone:
      return "none";
    case FleetRole::kPublisher:
      return "publisher";
    case FleetRole::kFollower:
      return "follower";
  }
  return "unknown";
}

// NATS connection state, as nats/connection.h reports it.
enum class FleetConnection : std::uint8_t {
  kConnecting = 0,  // never connected yet (cnats keeps retrying every URL)
  kConnected = 1,
  kReconnecting = 2,
  kClosed = 3,
};

// "connecting", "connected", "reconnecting", "closed"; "unknown" for a value a newer daemon sent.
constexpr std::string_view FleetConnectionName(FleetConnection connection) {
  switch (connection) {
    case FleetConnection::kConnecting:
      return "connecting";
    case FleetConnection::kConnected:
      return "connected";
    case FleetConnection::kReconnecting:
      return "reconnecting";
    case FleetConnection::kClosed:
      return "closed";
  }
  return "unknown";
}

// A publisher's heartbeat as last read from the bucket (heartbeat.<publisher id>).
struct FleetPublisher {
  std::string id;
  Timestamp last_sync;  // its last successful upstream sync
  std::string source;   // its upstream's host, or its snapshot file
  friend bool operator==(const FleetPublisher&, const FleetPublisher&) = default;
};

struct FleetStatus {
  FleetRole role = FleetRole::kNone;
  std::string servers;  // the NATS URLs, comma-separated, without user or password
  std::string bucket;
  FleetConnection connection = FleetConnection::kConnecting;
  // Follower: the bucket revision (stream sequence) of the last value applied, the cursor kept in
  // the store. Publisher: the revision of its last write. 0: none yet.
  std::uint64_t cursor = 0;
  bool caught_up = false;  // follower: has read the bucket's backlog since it (re)started
  std::vector<FleetPublisher> publishers;  // follower: every heartbeat seen; publisher: its own

  // Cumulative counters since start.
  std::uint64_t values_applied = 0;   // follower: values and delete markers applied to the store
  std::uint64_t values_skipped = 0;   // follower: older than held; publisher: bucket equal/newer
  std::uint64_t values_refused = 0;   // follower: undecodable / wrong key / unknown schema
  std::uint64_t writes = 0;           // publisher: puts and delete markers stored
  std::uint64_t write_conflicts = 0;  // publisher: compare-and-set lost, re-read and retried
  std::uint64_t write_errors = 0;     // publisher: writes that failed (retried later)
  std::uint64_t cold_starts = 0;      // follower: whole-bucket reloads
  std::uint64_t resync_passes = 0;    // publisher: anti-entropy passes completed
  friend bool operator==(const FleetStatus&, const FleetStatus&) = default;
};

}  // namespace policyd
