#include "metrics/policyd_metrics.h"

#include <limits>

namespace policyd::metrics {
namespace {

constexpr double kNanosPerSecondD = 1e9;

double Seconds(Timestamp t) {
  return static_cast<double>(t.seconds) + static_cast<double>(t.nanos) / kNanosPerSecondD;
}

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

MetricFamily Single(std::string name, std::string help, MetricType type, double value) {
  MetricFamily f = Family(std::move(name), std::move(help), type);
  f.samples.push_back({{}, value});
  return f;
}

double D(std::uint64_t v) { return static_cast<double>(v); }

void AddRequestFamilies(const DaemonCounters& c, std::vector<MetricFamily>& out) {
  MetricFamily requests = Family(
      "policyd_requests_total",
      "Requests answered on the lookup socket, by request kind and result code (the gRPC code "
      "of the whole answer; per-org errors inside a batch answer do not count).",
      MetricType::kCounter);
  for (const RequestCount& r : c.requests) {
    requests.samples.push_back(
        {{{"kind", std::string(CountedKindName(r.kind))}, {"code", std::string(CodeName(r.code))}},
         D(r.count)});
  }
  out.push_back(std::move(requests));

  MetricFamily latency = Family(
      "policyd_request_duration_seconds",
      "Server-side request latency: from reading a request off the socket to writing its answer.",
      MetricType::kHistogram);
  HistogramSeries h;
  for (std::uint64_t b : c.latency.bounds_ns) h.bounds.push_back(D(b) / kNanosPerSecondD);
  h.counts = c.latency.counts;
  h.sum = D(c.latency.sum_ns) / kNanosPerSecondD;
  latency.histograms.push_back(std::move(h));
  out.push_back(std::move(latency));
}

void AddConnectionFamilies(const DaemonCounters& c, std::vector<MetricFamily>& out) {
  out.push_back(Single("policyd_connections_open", "Client connections being served now.",
                       MetricType::kGauge, D(c.connections_open)));
  out.push_back(Single("policyd_connections_accepted_total",
                       "Client connections admitted (over the limit or denied ones not counted).",
                       MetricType::kCounter, D(c.connections_accepted)));
  MetricFamily rejected =
      Family("policyd_connections_rejected_total",
             "Connections refused or cut off, by reason: max_connections (over "
             "--max-connections), per_peer (over --max-connections-per-peer), reserved (only "
             "the --reserved-connections places for root and policyd's uid were left), "
             "peer_denied (not in the peer allowlist), bad_frame (closed after a length prefix "
             "that cannot be answered).",
             MetricType::kCounter);
  rejected.samples.push_back({{{"reason", "max_connections"}}, D(c.rejected_max_connections)});
  rejected.samples.push_back({{{"reason", "per_peer"}}, D(c.rejected_per_peer)});
  rejected.samples.push_back({{{"reason", "reserved"}}, D(c.rejected_reserved)});
  rejected.samples.push_back({{{"reason", "peer_denied"}}, D(c.rejected_peer)});
  rejected.samples.push_back({{{"reason", "bad_frame"}}, D(c.closed_bad_frame)});
  out.push_back(std::move(rejected));
}

void AddSyncFamilies(const ServerStatus& s, const DaemonCounters& c, const MetricsContext& context,
                     std::vector<MetricFamily>& out) {
  out.push_back(Single("policyd_sync_attempts_total", "Sync rounds begun.", MetricType::kCounter,
                       D(c.sync_attempts)));
  out.push_back(Single("policyd_sync_successes_total", "Sync rounds that succeeded.",
                       MetricType::kCounter, D(c.sync_successes)));
  MetricFamily failures = Family(
      "policyd_sync_failures_total",
      "Sync rounds that failed, by cause: unavailable, timeout, rate_limited, auth, bad_response, "
      "store_write, other.",
      MetricType::kCounter);
  for (std::size_t i = 0; i < kSyncFailureCauses; ++i) {
    failures.samples.push_back(
        {{{"cause", std::string(SyncFailureCauseName(static_cast<SyncFailureCause>(i)))}},
         D(c.sync_failures[i])});
  }
  out.push_back(std::move(failures));
  out.push_back(Single("policyd_sync_consecutive_failures", "Sync rounds failed in a row.",
                       MetricType::kGauge, s.consecutive_failures));
  out.push_back(Single("policyd_last_sync_timestamp_seconds",
                       "When the data was last confirmed current with its source (Unix time; 0: "
                       "never).",
                       MetricType::kGauge,
                       s.meta.last_sync.IsZero() ? 0 : Seconds(s.meta.last_sync)));
  out.push_back(Single("policyd_data_age_seconds",
                       "Age of the data served: now minus the last sync (+Inf: never synced).",
                       MetricType::kGauge,
                       s.data_age_ms < 0 ? std::numeric_limits<double>::infinity()
                                         : static_cast<double>(s.data_age_ms) / 1e3));
  out.push_back(Single(
      "policyd_max_staleness_seconds", "Configured --max-staleness: data older than this is stale.",
      MetricType::kGauge, static_cast<double>(context.max_staleness.count()) / 1e3));
  out.push_back(Single("policyd_sync_events_applied_total",
                       "Upstream events that changed the store.", MetricType::kCounter,
                       D(c.events_applied)));
  out.push_back(Single("policyd_sync_cold_starts_total",
                       "Cold starts: the complete state rebuilt from the upstream.",
                       MetricType::kCounter, D(c.cold_starts)));
  MetricFamily webhook = Family(
      "policyd_webhook_requests_total",
      "Requests to the --webhook-listen listener, by result: accepted (signed; a sync was asked "
      "for), unsigned, invalid (bad or wrong signature), expired (outside the 300 s tolerance), "
      "too_large, bad_request, not_found, method_not_allowed.",
      MetricType::kCounter);
  for (std::size_t i = 0; i < kWebhookResults; ++i) {
    webhook.samples.push_back(
        {{{"result", std::string(WebhookResultName(static_cast<WebhookResult>(i)))}},
         D(c.webhook_requests[i])});
  }
  out.push_back(std::move(webhook));
}

void AddStoreFamilies(const ServerStatus& s, const MetricsContext& context,
                      std::vector<MetricFamily>& out) {
  out.push_back(Single("policyd_store_orgs", "Orgs the store knows.", MetricType::kGauge,
                       D(s.meta.org_count)));
  out.push_back(Single("policyd_store_custom_policies", "Orgs with their own domain policy.",
                       MetricType::kGauge, D(s.meta.custom_policy_count)));
  MetricFamily size = Family("policyd_store_size_bytes",
                             "Size of the store's data directory on disk.", MetricType::kGauge);
  if (context.store_bytes) size.samples.push_back({{}, D(*context.store_bytes)});
  out.push_back(std::move(size));
  out.push_back(Single("policyd_store_last_change_timestamp_seconds",
                       "When the stored state last changed (Unix time; 0: never).",
                       MetricType::kGauge,
                       s.meta.last_change.IsZero() ? 0 : Seconds(s.meta.last_change)));
}

// Only in fleet mode (ServerStatus::fleet): a daemon that is neither publisher nor follower has
// no NATS side to describe.
void AddFleetFamilies(const FleetStatus& f, std::vector<MetricFamily>& out) {
  MetricFamily info = Family("policyd_fleet_info",
                             "Always 1 in fleet mode; role (publisher or follower) and the NATS "
                             "KV bucket are the labels.",
                             MetricType::kGauge);
  info.samples.push_back({{{"role", std::string(FleetRoleName(f.role))}, {"bucket", f.bucket}}, 1});
  out.push_back(std::move(info));
  out.push_back(Single("policyd_fleet_connected",
                       "1 while the NATS connection is up, 0 while connecting or reconnecting.",
                       MetricType::kGauge, f.connection == FleetConnection::kConnected ? 1 : 0));
  out.push_back(Single("policyd_fleet_cursor",
                       "Follower: the bucket revision of the last value applied (kept in the "
                       "store); publisher: the revision of its last write; 0: none yet.",
                       MetricType::kGauge, D(f.cursor)));
  out.push_back(Single("policyd_fleet_caught_up",
                       "Follower: 1 once it has read the bucket's backlog since it (re)started.",
                       MetricType::kGauge, f.caught_up ? 1 : 0));
  MetricFamily heartbeats =
      Family("policyd_fleet_publisher_last_sync_seconds",
             "Each publisher's last successful upstream sync as its heartbeat in the bucket says "
             "(Unix time; 0: never), by publisher id. A follower has one per publisher seen, a "
             "publisher its own.",
             MetricType::kGauge);
  for (const FleetPublisher& p : f.publishers) {
    heartbeats.samples.push_back(
        {{{"publisher", p.id}}, p.last_sync.IsZero() ? 0 : Seconds(p.last_sync)});
  }
  out.push_back(std::move(heartbeats));
  const struct {
    const char* name;
    const char* help;
    std::uint64_t value;
  } counters[] = {
      {"policyd_fleet_values_applied_total",
       "Follower: bucket values and delete markers applied to the store.", f.values_applied},
      {"policyd_fleet_values_skipped_total",
       "Follower: values older than what the store holds; publisher: writes skipped because the "
       "bucket held the same or a newer version.",
       f.values_skipped},
      {"policyd_fleet_values_refused_total",
       "Follower: bucket entries refused (undecodable value, wrong key shape, unknown schema "
       "version); the store stays unchanged.",
       f.values_refused},
      {"policyd_fleet_writes_total", "Publisher: values and delete markers stored in the bucket.",
       f.writes},
      {"policyd_fleet_write_conflicts_total",
       "Publisher: compare-and-set writes lost to another publisher, re-read and retried.",
       f.write_conflicts},
      {"policyd_fleet_write_errors_total", "Publisher: bucket writes that failed (retried later).",
       f.write_errors},
      {"policyd_fleet_cold_starts_total", "Follower: whole-bucket reloads.", f.cold_starts},
      {"policyd_fleet_resync_passes_total",
       "Publisher: anti-entropy passes completed (--publish-resync-interval).", f.resync_passes},
  };
  for (const auto& c : counters) {
    out.push_back(Single(c.name, c.help, MetricType::kCounter, D(c.value)));
  }
}

}  // namespace

std::vector<MetricFamily> PolicydFamilies(const ServerStatus& s, const MetricsContext& context) {
  const DaemonCounters empty;
  const DaemonCounters& c = s.counters ? *s.counters : empty;
  std::vector<MetricFamily> out;
  MetricFamily build =
      Family("policyd_build_info", "Always 1; the labels say which policyd and RocksDB this is.",
             MetricType::kGauge);
  build.samples.push_back(
      {{{"version", context.version}, {"rocksdb_version", context.rocksdb_version}}, 1});
  out.push_back(std::move(build));
  out.push_back(Single("policyd_start_time_seconds", "When this policyd began serving (Unix time).",
                       MetricType::kGauge, c.started.IsZero() ? 0 : Seconds(c.started)));
  MetricFamily health =
      Family("policyd_health",
             "1 for the daemon's health state, 0 for the others: starting (no data yet), serving, "
             "stale (older than max-staleness, still served), degraded (store not writable), "
             "refusing (stale and failing closed).",
             MetricType::kGauge);
  for (Health h : kAllHealthStates) {
    health.samples.push_back({{{"state", std::string(HealthName(h))}}, h == s.health ? 1.0 : 0.0});
  }
  out.push_back(std::move(health));
  AddRequestFamilies(c, out);
  AddConnectionFamilies(c, out);
  AddSyncFamilies(s, c, context, out);
  AddStoreFamilies(s, context, out);
  if (s.fleet) AddFleetFamilies(*s.fleet, out);
  return out;
}

std::vector<std::string> PolicydFleetSampleNames() {
  std::vector<MetricFamily> families;
  AddFleetFamilies(FleetStatus{}, families);
  std::vector<std::string> names;
  for (const MetricFamily& f : families) names.push_back(f.name);
  return names;
}

std::vector<std::string> PolicydSampleNames() {
  ServerStatus s;
  s.counters.emplace();
  std::vector<std::string> names;
  for (const MetricFamily& f : PolicydFamilies(s, MetricsContext{})) {
    if (f.type == MetricType::kHistogram) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.push_back(f.name + suffix);
    } else {
      names.push_back(f.name);
    }
  }
  return names;
}

}  // namespace policyd::metrics
