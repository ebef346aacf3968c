// policyd's metrics: the families /metrics exposes, built from one status snapshot.
//
// Every number comes from a ServerStatus with counters — the same snapshot a status request
// answers with — so /metrics, `policyctl status`, `policyctl top` and the health endpoints never
// disagree about the state they describe. The README's "Observability" section lists each
// metric; docs/grafana-dashboard.json and docs/prometheus-alerts.yml use them (a test checks
// that every name they use is exposed).
//
// Pure. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "metrics/exposition.h"
#include "model/store_state.h"

namespace policyd::metrics {

// What the status does not carry: build facts and settings.
struct MetricsContext {
  std::string version;          // policyd's
  std::string rocksdb_version;  // the RocksDB policyd was built with
  std::chrono::milliseconds max_staleness{0};
  std::optional<std::uint64_t> store_bytes;  // the data directory's size on disk, if known
};

// The families, in a fixed order. `status.counters` absent: the counter families are exposed
// with no samples (or zeros), never left out, so dashboards and alerts always find the names.
// The policyd_fleet_* families come last and only with `status.fleet` (a publisher or follower):
// their labels (role, bucket) and meaning exist only in fleet mode.
std::vector<MetricFamily> PolicydFamilies(const ServerStatus& status,
                                          const MetricsContext& context);

// Every metric name PolicydFamilies exposes out of fleet mode, as scraped (histograms with their
// _bucket, _sum and _count series); PolicydFleetSampleNames() the ones fleet mode adds.
std::vector<std::string> PolicydSampleNames();
std::vector<std::string> PolicydFleetSampleNames();

}  // namespace policyd::metrics
