// policyd's metric families: names, types, labels and values from one status snapshot.
#include "metrics/policyd_metrics.h"

#include <gtest/gtest.h>

#include <set>

namespace policyd::metrics {
namespace {

ServerStatus SampleStatus() {
  ServerStatus s;
  s.meta.org_count = 100;
  s.meta.custom_policy_count = 7;
  s.meta.has_instance = true;
  s.meta.last_sync = Timestamp{1'700'000'000, 500'000'000};
  s.meta.last_change = Timestamp{1'600'000'000, 0};
  s.data_age_ms = 2'500;
  s.upstream = "https://iam.example.com";
  s.consecutive_failures = 2;
  s.health = Health::kStale;
  DaemonCounters& c = s.counters.emplace();
  c.started = Timestamp{1'699'999'000, 0};
  c.requests = {{kKindGetOrgPolicy, Code::kOk, 40},
                {kKindGetOrgPolicy, Code::kNotFound, 2},
                {kKindUndecodable, Code::kInvalidArgument, 1}};
  c.latency.bounds_ns = {1'000, 2'000};
  c.latency.counts = {10, 20, 3};
  c.latency.sum_ns = 90'000;
  c.connections_open = 4;
  c.connections_accepted = 9;
  c.rejected_max_connections = 1;
  c.rejected_peer = 2;
  c.closed_bad_frame = 3;
  c.sync_attempts = 10;
  c.sync_successes = 7;
  c.sync_failures[static_cast<std::size_t>(SyncFailureCause::kUnavailable)] = 2;
  c.sync_failures[static_cast<std::size_t>(SyncFailureCause::kStoreWrite)] = 1;
  c.cold_starts = 1;
  c.events_applied = 55;
  c.rejected_per_peer = 5;
  c.rejected_reserved = 6;
  return s;
}

MetricsContext Context() {
  return MetricsContext{"1.2.3", "7.8.3", std::chrono::minutes(5), std::uint64_t{4096}};
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(PolicydMetricsTest, EveryValueComesFromTheStatus) {
  const std::string text = RenderText(PolicydFamilies(SampleStatus(), Context()));
  for (const char* line : {
           "policyd_build_info{version=\"1.2.3\",rocksdb_version=\"7.8.3\"} 1",
           "policyd_start_time_seconds 1699999000",
           "policyd_health{state=\"starting\"} 0",
           "policyd_health{state=\"serving\"} 0",
           "policyd_health{state=\"stale\"} 1",
           "policyd_health{state=\"degraded\"} 0",
           "policyd_health{state=\"refusing\"} 0",
           "policyd_requests_total{kind=\"get_org_policy\",code=\"OK\"} 40",
           "policyd_requests_total{kind=\"get_org_policy\",code=\"NOT_FOUND\"} 2",
           "policyd_requests_total{kind=\"undecodable\",code=\"INVALID_ARGUMENT\"} 1",
           "policyd_request_duration_seconds_bucket{le=\"1e-06\"} 10",
           "policyd_request_duration_seconds_bucket{le=\"2e-06\"} 30",
           "policyd_request_duration_seconds_bucket{le=\"+Inf\"} 33",
           "policyd_request_duration_seconds_sum 9e-05",
           "policyd_request_duration_seconds_count 33",
           "policyd_connections_open 4",
           "policyd_connections_accepted_total 9",
           "policyd_connections_rejected_total{reason=\"max_connections\"} 1",
           "policyd_connections_rejected_total{reason=\"per_peer\"} 5",
           "policyd_connections_rejected_total{reason=\"reserved\"} 6",
           "policyd_connections_rejected_total{reason=\"peer_denied\"} 2",
           "policyd_connections_rejected_total{reason=\"bad_frame\"} 3",
           "policyd_sync_attempts_total 10",
           "policyd_sync_successes_total 7",
           "policyd_sync_failures_total{cause=\"unavailable\"} 2",
           "policyd_sync_failures_total{cause=\"store_write\"} 1",
           "policyd_sync_failures_total{cause=\"auth\"} 0",
           "policyd_sync_consecutive_failures 2",
           "policyd_last_sync_timestamp_seconds 1700000000.5",
           "policyd_data_age_seconds 2.5",
           "policyd_max_staleness_seconds 300",
           "policyd_sync_events_applied_total 55",
           "policyd_sync_cold_starts_total 1",
           "policyd_store_orgs 100",
           "policyd_store_custom_policies 7",
           "policyd_store_size_bytes 4096",
           "policyd_store_last_change_timestamp_seconds 1.6e+09",  // as Go's FormatFloat(v, 'g',
                                                                   // -1)
       }) {
    EXPECT_TRUE(Has(text, line)) << "missing: " << line << "\n" << text;
  }
}

TEST(PolicydMetricsTest, NeverSyncedDataIsInfinitelyOldAndTheLastSyncZero) {
  ServerStatus s = SampleStatus();
  s.data_age_ms = -1;
  s.meta.last_sync = Timestamp{};
  const std::string text = RenderText(PolicydFamilies(s, Context()));
  EXPECT_TRUE(Has(text, "policyd_data_age_seconds +Inf")) << text;
  EXPECT_TRUE(Has(text, "policyd_last_sync_timestamp_seconds 0")) << text;
}

TEST(PolicydMetricsTest, ExactlyOneHealthStateIsOneForEachState) {
  for (Health h : kAllHealthStates) {
    ServerStatus s = SampleStatus();
    s.health = h;
    int ones = 0;
    for (const MetricFamily& f : PolicydFamilies(s, Context())) {
      if (f.name != "policyd_health") continue;
      ASSERT_EQ(f.samples.size(), 5u);
      for (const Sample& sample : f.samples) {
        if (sample.value == 1) {
          ++ones;
          EXPECT_EQ(sample.labels.at(0).value, HealthName(h));
        }
      }
    }
    EXPECT_EQ(ones, 1) << HealthName(h);
  }
}

TEST(PolicydMetricsTest, NamesAreValidUniqueAndCountersEndInTotal) {
  std::set<std::string> seen;
  for (const MetricFamily& f : PolicydFamilies(SampleStatus(), Context())) {
    EXPECT_TRUE(IsValidMetricName(f.name)) << f.name;
    EXPECT_TRUE(f.name.starts_with("policyd_")) << f.name;
    EXPECT_TRUE(seen.insert(f.name).second) << "duplicate " << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_EQ(f.type == MetricType::kCounter, f.name.ends_with("_total")) << f.name;
    for (const Sample& s : f.samples) {
      for (const Label& l : s.labels) EXPECT_TRUE(IsValidLabelName(l.name)) << l.name;
    }
  }
}

TEST(PolicydMetricsTest, WithoutCountersEveryFamilyIsStillExposed) {
  ServerStatus s = SampleStatus();
  s.counters.reset();
  std::set<std::string> names;
  for (const MetricFamily& f : PolicydFamilies(s, MetricsContext{})) names.insert(f.name);
  for (const std::string& name : PolicydSampleNames()) {
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (family.ends_with(suffix) && family.starts_with("policyd_request_duration")) {
        family.resize(family.size() - std::string(suffix).size());
      }
    }
    EXPECT_TRUE(names.count(family)) << family;
  }
}

}  // namespace
}  // namespace policyd::metrics
