// Durable bookkeeping about the stored state, and the runtime status the daemon reports.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/counters.h"
#include "model/domain_policy.h"
#include "model/fleet_status.h"

namespace policyd {

// Kept in the store, written in the same atomic batch as the state it describes.
struct StoreMeta {
  std::uint64_t org_count = 0;            // orgs the store knows
  std::uint64_t custom_policy_count = 0;  // orgs with their own policy
  bool has_instance = false;              // an instance default is stored
  std::string cursor;                     // sync cursor, opaque to the store ("" = none)
  std::string source;                     // where the state came from: upstream URL or snapshot
  Timestamp last_change;                  // wall time the state last changed
  Timestamp last_sync;                    // wall time the state was last confirmed current

  friend bool operator==(const StoreMeta&, const StoreMeta&) = default;
};

}  // namespace policyd

namespace policyd {

// Health of the daemon as a whole (values are part of the wire protocol: response.fbs Health).
enum class Health : std::uint8_t {
  kStarting = 0,  // store open, no state yet
  kServing = 1,   // state present and fresh (or no upstream configured)
  kStale = 2,     // data older than max-staleness; still served
  kDegraded = 3,  // the store cannot be written; reads still served
  kRefusing = 4,  // stale and configured to fail closed
};

// "starting", "serving", "stale", "degraded", "refusing": the one name of each state that every
// surface (status, /metrics, /healthz, /readyz, systemd STATUS=) uses.
constexpr std::string_view HealthName(Health health) {
  switch (health) {
    case Health::kStarting:
      return "starting";
    case Health::kServing:
      return "serving";
    case Health::kStale:
      return "stale";
    case Health::kDegraded:
      return "degraded";
    case Health::kRefusing:
      return "refusing";
  }
  return "unknown";
}
inline constexpr Health kAllHealthStates[] = {Health::kStarting, Health::kServing, Health::kStale,
                                              Health::kDegraded, Health::kRefusing};

// The daemon's answer to a status request.
struct ServerStatus {
  StoreMeta meta;
  std::string instance_id;
  std::int64_t data_age_ms = -1;  // -1: never synced
  bool stale = false;
  std::string upstream;  // "" without an upstream
  std::uint32_t consecutive_failures = 0;
  std::string last_error;
  Health health = Health::kStarting;
  std::string version;
  Timestamp now;
  // What the daemon has done since it started; only when asked for (GetStatus with_counters).
  std::optional<DaemonCounters> counters;
  // The NATS side of a publisher or follower (issue #13); absent when not in fleet mode.
  std::optional<FleetStatus> fleet;

  friend bool operator==(const ServerStatus&, const ServerStatus&) = default;
};

}  // namespace policyd
