#include "server/serving_state.h"

#include "base/clock.h"

namespace policyd {
void ServingState::RecordSync(Timestamp when) {
  last_sync_ns_.store(ToNanos(when), std::memory_order_relaxed);
  consecutive_failures_.store(0, std::memory_order_relaxed);
}

void ServingState::RecordSyncFailure(std::string error) {
  consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  last_error_ = std::move(error);
}

void ServingState::SetFleetSource(FleetStatusSource source) {
  auto shared = source ? std::make_shared<const FleetStatusSource>(std::move(source)) : nullptr;
  std::lock_guard lock(mu_);
  fleet_source_ = std::move(shared);
}

Timestamp ServingState::last_sync() const {
  return FromNanos(last_sync_ns_.load(std::memory_order_relaxed));
}

bool ServingState::IsStale(Timestamp now) const {
  if (options_.upstream.empty()) return false;
  const std::int64_t last = last_sync_ns_.load(std::memory_order_relaxed);
  if (last == 0) return true;
  const std::int64_t max_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.max_staleness).count();
  return ToNanos(now) - last > max_ns;
}

void ServingState::FillStatus(Timestamp now, ServerStatus& status) const {
  const Timestamp last = last_sync();
  status.data_age_ms = last.IsZero() ? -1 : MillisBetween(last, now);
  status.stale = IsStale(now);
  status.upstream = options_.upstream;
  status.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
  std::shared_ptr<const FleetStatusSource> fleet_source;
  {
    std::lock_guard lock(mu_);
    status.last_error = last_error_;
    fleet_source = fleet_source_;
  }
  // Unlocked: the source may take its own locks, and its owner may record syncs meanwhile.
  status.fleet = fleet_source ? (*fleet_source)() : std::nullopt;
  status.now = now;
  if (!status.meta.has_instance) {
    status.health = Health::kStarting;
  } else if (!store_writable_.load(std::memory_order_relaxed)) {
    status.health = Health::kDegraded;
  } else if (status.stale) {
    status.health = options_.refuse_when_stale ? Health::kRefusing : Health::kStale;
  } else {
    status.health = Health::kServing;
  }
}

}  // namespace policyd
