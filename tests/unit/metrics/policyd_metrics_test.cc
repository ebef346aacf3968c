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

FleetStatus FollowerFleet() {
  FleetStatus f;
  f.role = FleetRole::kFollower;
  f.servers = "nats://10.0.0.1:4222";
  f.bucket = "policyd";
  f.connection = FleetConnection::kConnected;
  f.cursor = 4321;
  f.caught_up = true;
  f.publishers = {{"pub-a", {1'700'000'100, 250'000'000}, "iam.example.com"},
                  {"pub \"b\"", {}, "snapshot.json"}};
  f.values_applied = 31;
  f.values_skipped = 32;
  f.values_refused = 33;
  f.cold_starts = 2;
  return f;
}

bool HasFleetFamily(const std::vector<MetricFamily>& families) {
  for (const MetricFamily& f : families) {
    if (f.name.starts_with("policyd_fleet_")) return true;
  }
  return false;
}

TEST(PolicydMetricsTest, FleetFamiliesOnlyInFleetMode) {
  EXPECT_FALSE(HasFleetFamily(PolicydFamilies(SampleStatus(), Context())));
  ServerStatus s = SampleStatus();
  s.fleet = FollowerFleet();
  EXPECT_TRUE(HasFleetFamily(PolicydFamilies(s, Context())));
}

TEST(PolicydMetricsTest, AFollowersFleetValuesComeFromItsFleetStatus) {
  ServerStatus s = SampleStatus();
  s.fleet = FollowerFleet();
  const std::string text = RenderText(PolicydFamilies(s, Context()));
  for (const char* line : {
           "# TYPE policyd_fleet_info gauge",
           "policyd_fleet_info{role=\"follower\",bucket=\"policyd\"} 1",
           "# TYPE policyd_fleet_connected gauge",
           "policyd_fleet_connected 1",
           "policyd_fleet_cursor 4321",
           "policyd_fleet_caught_up 1",
           "# TYPE policyd_fleet_publisher_last_sync_seconds gauge",
           "policyd_fleet_publisher_last_sync_seconds{publisher=\"pub-a\"} 1700000100.25",
           "policyd_fleet_publisher_last_sync_seconds{publisher=\"pub \\\"b\\\"\"} 0",
           "# TYPE policyd_fleet_values_applied_total counter",
           "policyd_fleet_values_applied_total 31",
           "policyd_fleet_values_skipped_total 32",
           "policyd_fleet_values_refused_total 33",
           "policyd_fleet_writes_total 0",
           "policyd_fleet_write_conflicts_total 0",
           "policyd_fleet_write_errors_total 0",
           "policyd_fleet_cold_starts_total 2",
           "policyd_fleet_resync_passes_total 0",
       }) {
    EXPECT_TRUE(Has(text, line)) << "missing: " << line << "\n" << text;
  }
  EXPECT_NE(text.find("# HELP policyd_fleet_values_refused_total "), std::string::npos);
}

TEST(PolicydMetricsTest, APublishersFleetValuesComeFromItsFleetStatus) {
  ServerStatus s = SampleStatus();
  FleetStatus& f = s.fleet.emplace();
  f.role = FleetRole::kPublisher;
  f.bucket = "policy-prod";
  f.connection = FleetConnection::kReconnecting;
  f.cursor = 77;
  f.publishers = {{"host-1", {1'700'000'000, 0}, "iam.example.com"}};
  f.writes = 41;
  f.write_conflicts = 42;
  f.write_errors = 43;
  f.values_skipped = 44;
  f.resync_passes = 45;
  const std::string text = RenderText(PolicydFamilies(s, Context()));
  for (const char* line : {
           "policyd_fleet_info{role=\"publisher\",bucket=\"policy-prod\"} 1",
           "policyd_fleet_connected 0",
           "policyd_fleet_cursor 77",
           "policyd_fleet_caught_up 0",
           "policyd_fleet_publisher_last_sync_seconds{publisher=\"host-1\"} 1.7e+09",
           "policyd_fleet_writes_total 41",
           "policyd_fleet_write_conflicts_total 42",
           "policyd_fleet_write_errors_total 43",
           "policyd_fleet_values_skipped_total 44",
           "policyd_fleet_resync_passes_total 45",
       }) {
    EXPECT_TRUE(Has(text, line)) << "missing: " << line << "\n" << text;
  }
}

TEST(PolicydMetricsTest, FleetNamesAreValidUniqueAndListed) {
  ServerStatus s = SampleStatus();
  s.fleet = FollowerFleet();
  std::set<std::string> seen;
  std::set<std::string> fleet;
  for (const MetricFamily& f : PolicydFamilies(s, Context())) {
    EXPECT_TRUE(seen.insert(f.name).second) << "duplicate " << f.name;
    EXPECT_EQ(f.type == MetricType::kCounter, f.name.ends_with("_total")) << f.name;
    if (f.name.starts_with("policyd_fleet_")) fleet.insert(f.name);
  }
  const std::vector<std::string> listed = PolicydFleetSampleNames();
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), fleet);
  EXPECT_EQ(fleet.size(), 13u);
}

}  // namespace
}  // namespace policyd::metrics
