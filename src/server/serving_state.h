// ServingState: what the lookup path needs to know about freshness, without touching the store.
//
// The sync loop (or the snapshot loader) records successes and failures here; the request
// handler reads it on every request to flag stale answers or, when configured to fail closed,
// refuse them. The hot-path reads are lock-free atomics; the error text and the fleet source are
// behind a mutex and only read by status requests and scrapes.
//
// FillStatus() fills the runtime part of every status surface (the status request, /metrics,
// /healthz, /readyz, `policyctl top`), so a fleet-mode daemon gives its FleetStatus source here,
// once, and every surface shows it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/timestamp.h"
#include "model/fleet_status.h"
#include "model/store_state.h"

namespace policyd {

struct FreshnessOptions {
  // Upstream base URL; empty when the daemon serves a snapshot without syncing, in which case
  // data never counts as stale.
  std::string upstream;
  std::chrono::milliseconds max_staleness{std::chrono::minutes(5)};
  bool refuse_when_stale = false;  // fail closed: answer UNAVAILABLE instead of stale data
};

// What a fleet-mode daemon's publisher (publish/) or follower (follow/) reports; nullopt when it
// has nothing to report (not in fleet mode). Contract: it is called on a serving thread for each
// status request and on the metrics listener's thread for each scrape, possibly on several
// threads at once, so it must be thread-safe and cheap: read counters and copy a few strings,
// never wait on NATS, the store or a lock held across I/O.
using FleetStatusSource = std::function<std::optional<FleetStatus>()>;

class ServingState {
 public:
  explicit ServingState(FreshnessOptions options) : options_(std::move(options)) {}

  // Records that the stored state was confirmed current with its source at `when`.
  void RecordSync(Timestamp when);
  // Records a failed sync attempt; `error` must hold no secrets.
  void RecordSyncFailure(std::string error);
  // Makes every status carry what `source` reports (ServerStatus::fleet); an empty source (the
  // default) reports nothing. `source` is called outside this object's lock; whatever it uses must
  // stay alive until it is replaced or every status surface has stopped (Server::Run() returned,
  // Observability::Stop()).
  void SetFleetSource(FleetStatusSource source);
  // Records whether the store can be written (false: degraded).
  void SetStoreWritable(bool writable) { store_writable_ = writable; }

  Timestamp last_sync() const;
  // False after a failed store write, until one succeeds (health DEGRADED).
  bool store_writable() const { return store_writable_.load(std::memory_order_relaxed); }
  // True when an upstream is configured and the data is older than max_staleness at `now`
  // (or was never synced).
  bool IsStale(Timestamp now) const;
  bool refuse_when_stale() const { return options_.refuse_when_stale; }

  // Fills the runtime parts of a status answer (everything but `meta`, `instance_id`, `version`
  // and `counters`), `fleet` from the fleet source.
  void FillStatus(Timestamp now, ServerStatus& status) const;

 private:
  const FreshnessOptions options_;
  std::atomic<std::int64_t> last_sync_ns_{0};
  std::atomic<std::uint32_t> consecutive_failures_{0};
  std::atomic<bool> store_writable_{true};
  mutable std::mutex mu_;
  std::string last_error_;  // guarded by mu_
  // Shared so that a status being filled keeps calling the source it copied, unlocked.
  std::shared_ptr<const FleetStatusSource> fleet_source_;  // guarded by mu_
};

}  // namespace policyd
