// ServingState: what the lookup path needs to know about freshness, without touching the store.
//
// The sync loop (or the snapshot loader) records successes and failures here; the request
// handler reads it on every request to flag stale answers or, when configured to fail closed,
// refuse them. The hot-path reads are lock-free atomics; the error text is behind a mutex and
// only read by status requests.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "base/timestamp.h"
#include "model/store_state.h"

namespace policyd {

struct FreshnessOptions {
  // Upstream base URL; empty when the daemon serves a snapshot without syncing, in which case
  // data never counts as stale.
  std::string upstream;
  std::chrono::milliseconds max_staleness{std::chrono::minutes(5)};
  bool refuse_when_stale = false;  // fail closed: answer UNAVAILABLE instead of stale data
};

class ServingState {
 public:
  explicit ServingState(FreshnessOptions options) : options_(std::move(options)) {}

  // Records that the stored state was confirmed current with its source at `when`.
  void RecordSync(Timestamp when);
  // Records a failed sync attempt; `error` must hold no secrets.
  void RecordSyncFailure(std::string error);
  // Records whether the store can be written (false: degraded).
  void SetStoreWritable(bool writable) { store_writable_ = writable; }

  Timestamp last_sync() const;
  // False after a failed store write, until one succeeds (health DEGRADED).
  bool store_writable() const { return store_writable_.load(std::memory_order_relaxed); }
  // True when an upstream is configured and the data is older than max_staleness at `now`
  // (or was never synced).
  bool IsStale(Timestamp now) const;
  bool refuse_when_stale() const { return options_.refuse_when_stale; }

  // Fills the runtime parts of a status answer (everything but `meta` and `instance_id`).
  void FillStatus(Timestamp now, ServerStatus& status) const;

 private:
  const FreshnessOptions options_;
  std::atomic<std::int64_t> last_sync_ns_{0};
  std::atomic<std::uint32_t> consecutive_failures_{0};
  std::atomic<bool> store_writable_{true};
  mutable std::mutex mu_;
  std::string last_error_;  // guarded by mu_
};

}  // namespace policyd
