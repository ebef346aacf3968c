// `policyctl top`'s screen from two samples: rates, percentiles, restarts, width.
#include "cli/top_view.h"

#include <gtest/gtest.h>

namespace policyd {
namespace {

ServerStatus Sample(std::int64_t now_s, std::uint64_t ok, std::uint64_t not_found,
                    std::vector<std::uint64_t> latency) {
  ServerStatus s;
  s.version = "9.9";
  s.health = Health::kServing;
  s.meta.org_count = 10;
  s.meta.custom_policy_count = 1;
  s.meta.has_instance = true;
  s.upstream = "https://iam";
  s.data_age_ms = 3'000;
  s.now = Timestamp{now_s, 0};
  DaemonCounters& c = s.counters.emplace();
  c.started = Timestamp{1000, 0};
  c.requests = {{kKindGetOrgPolicy, Code::kOk, ok},
                {kKindGetOrgPolicy, Code::kNotFound, not_found},
                {kKindGetStatus, Code::kOk, 5}};
  c.latency.bounds_ns = {1'000, 10'000, 100'000};
  c.latency.counts = std::move(latency);
  c.connections_open = 3;
  c.sync_successes = 4;
  c.sync_failures[0] = 1;
  c.events_applied = 12;
  return s;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  return all;
}

TEST(TopViewTest, RatesAndPercentilesComeFromTheDifferenceOfTwoSamples) {
  const ServerStatus before = Sample(1010, 1000, 10, {0, 100, 0, 0});
  // 2 s later: 2,000 more OK lookups, 20 more NOT_FOUND; of the 2,020 new latencies 1,010 took
  // <= 1 us, 1,010 up to 10 us.
  const ServerStatus after = Sample(1012, 3000, 30, {1010, 1110, 0, 0});
  const std::string screen = Join(RenderTop(&before, after, 200));
  EXPECT_NE(
      screen.find("requests  1010/s  lookups 1010/s  errors 0.0/s  total 3035 (3030 lookups)"),
      std::string::npos)
      << screen;
  EXPECT_NE(screen.find("p50 1.0us"), std::string::npos) << screen;  // the 1,010th of 2,020
  EXPECT_NE(screen.find("p99 9.8us"), std::string::npos) << screen;
  EXPECT_NE(screen.find("(2020 requests)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("health serving  up 12s"), std::string::npos) << screen;
  EXPECT_NE(screen.find("conns     open 3"), std::string::npos) << screen;
  EXPECT_NE(screen.find("sync      4 ok, 1 failed (unavailable 1), 0 in a row"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("data      age 3s  orgs 10 (1 own policy)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("get_org_policy       NOT_FOUND                  10.0/s             30"),
            std::string::npos)
      << screen;
}

TEST(TopViewTest, ErrorsAreAnswersOtherThanOkAndNotFound) {
  const ServerStatus before = Sample(1010, 1000, 10, {0, 100, 0, 0});
  ServerStatus after = Sample(1012, 1000, 30, {0, 100, 0, 0});
  after.counters->requests.push_back({kKindGetOrgPolicy, Code::kUnavailable, 4});
  const std::string screen = Join(RenderTop(&before, after, 200));
  EXPECT_NE(screen.find("errors 2.0/s"), std::string::npos) << screen;
}

TEST(TopViewTest, FirstSampleAndRestartShowTotalsWithoutRates) {
  const ServerStatus first = Sample(1010, 1000, 10, {0, 100, 0, 0});
  std::string screen = Join(RenderTop(nullptr, first, 200));
  EXPECT_NE(screen.find("requests  -  lookups -  errors -  total 1015"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("(since start)"), std::string::npos) << screen;
  ServerStatus restarted = Sample(1012, 5, 0, {0, 5, 0, 0});
  restarted.counters->started = Timestamp{1011, 0};
  screen = Join(RenderTop(&first, restarted, 200));
  EXPECT_NE(screen.find("requests  -  lookups -"), std::string::npos) << screen;
}

TEST(TopViewTest, LinesFitTheWidthAndStaleIsShown) {
  ServerStatus s = Sample(1010, 1, 0, {1, 0, 0, 0});
  s.health = Health::kStale;
  s.stale = true;
  for (const std::string& line : RenderTop(nullptr, s, 40)) EXPECT_LE(line.size(), 40u) << line;
  const std::string screen = Join(RenderTop(nullptr, s, 200));
  EXPECT_NE(screen.find("health stale"), std::string::npos) << screen;
  EXPECT_NE(screen.find("(STALE)"), std::string::npos) << screen;
}

ServerStatus FollowerSample(std::int64_t now_s, std::uint64_t applied, std::uint64_t refused) {
  ServerStatus s = Sample(now_s, 1000, 10, {0, 100, 0, 0});
  s.upstream.clear();
  FleetStatus& f = s.fleet.emplace();
  f.role = FleetRole::kFollower;
  f.bucket = "policyd";
  f.connection = FleetConnection::kConnected;
  f.cursor = 900 + applied;
  f.caught_up = true;
  f.publishers = {{"pub-a", {now_s - 75, 0}, "iam"}, {"pub-b", {now_s - 4, 0}, "iam"}};
  f.values_applied = applied;
  f.values_refused = refused;
  f.cold_starts = 1;
  return s;
}

std::string FleetLineOf(const std::vector<std::string>& lines) {
  for (const std::string& l : lines) {
    if (l.starts_with("fleet     ")) return l;
  }
  return "";
}

TEST(TopViewTest, AFollowerShowsItsFleetLineWithRates) {
  const ServerStatus before = FollowerSample(1010, 100, 2);
  const ServerStatus after = FollowerSample(1012, 160, 3);  // 30 applied/s, 0.5 refused/s
  const std::vector<std::string> lines = RenderTop(&before, after, 300);
  EXPECT_EQ(
      FleetLineOf(lines),
      "fleet     follower connected  cursor 1060 (caught up)  applied 160 (30.0/s)  refused 3 "
      "(0.5/s)  cold starts 1  newest heartbeat 4s ago");
  const std::string screen = Join(lines);
  EXPECT_NE(screen.find("sync      from nats bucket policyd (no upstream), 0 failures in a row"),
            std::string::npos)
      << screen;
  // The first sample has no rates yet.
  EXPECT_NE(FleetLineOf(RenderTop(nullptr, after, 300)).find("applied 160 (-)  refused 3 (-)"),
            std::string::npos);
}

TEST(TopViewTest, APublisherShowsItsWritesAndNoHeartbeatYet) {
  ServerStatus before = Sample(1010, 1000, 10, {0, 100, 0, 0});
  FleetStatus& f = before.fleet.emplace();
  f.role = FleetRole::kPublisher;
  f.connection = FleetConnection::kReconnecting;
  f.cursor = 55;
  f.writes = 10;
  ServerStatus after = before;
  after.now = Timestamp{1014, 0};
  after.fleet->writes = 18;
  after.fleet->write_conflicts = 1;
  const std::string line = FleetLineOf(RenderTop(&before, after, 300));
  EXPECT_EQ(line,
            "fleet     publisher reconnecting  last write 55  writes 18 (2.0/s)  conflicts 1  "
            "errors 0  newest heartbeat none");
  const std::string screen = Join(RenderTop(&before, after, 300));
  EXPECT_NE(screen.find("sync      4 ok"), std::string::npos) << "the publisher syncs" << screen;
}

TEST(TopViewTest, NoFleetLineOutOfFleetModeAndHostileTimesNeverBreakIt) {
  EXPECT_EQ(FleetLineOf(RenderTop(nullptr, Sample(1010, 1, 0, {1, 0, 0, 0}), 300)), "");
  ServerStatus s = FollowerSample(1010, 1, 0);
  s.fleet->publishers = {{"ahead", {1110, 0}, ""}};  // its clock runs 100 s ahead
  EXPECT_NE(FleetLineOf(RenderTop(nullptr, s, 300)).find("newest heartbeat 0s ago"),
            std::string::npos);
  s.fleet->publishers = {{"far", {INT64_MAX, 0}, ""}};
  EXPECT_NE(FleetLineOf(RenderTop(nullptr, s, 300)).find("newest heartbeat unknown"),
            std::string::npos);
  s.fleet->publishers = {{"pub", {1000, 0}, ""}};
  s.now = Timestamp{-(INT64_MAX / 1000), 0};  // the age in ms does not fit
  EXPECT_NE(FleetLineOf(RenderTop(nullptr, s, 300)).find("newest heartbeat unknown"),
            std::string::npos);
}

TEST(TopViewTest, NanosAreFormattedWithAUnit) {
  EXPECT_EQ(FormatNanos(950), "950ns");
  EXPECT_EQ(FormatNanos(1'500), "1.5us");
  EXPECT_EQ(FormatNanos(12'345), "12us");
  EXPECT_EQ(FormatNanos(3'210'000), "3.2ms");
  EXPECT_EQ(FormatNanos(1.5e9), "1.50s");
}

}  // namespace
}  // namespace policyd
