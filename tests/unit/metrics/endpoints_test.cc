// /metrics, /healthz and /readyz as request -> reply, and the STATUS= summary they share.
#include "metrics/endpoints.h"

#include <gtest/gtest.h>

namespace policyd::metrics {
namespace {

ServerStatus StatusIn(Health health) {
  ServerStatus s;
  s.meta.org_count = 30;
  s.meta.custom_policy_count = 3;
  s.meta.has_instance = health != Health::kStarting;
  s.upstream = "https://iam.example.com";
  s.data_age_ms = 7'900;
  s.health = health;
  s.counters.emplace();
  return s;
}

Endpoints Make(std::function<Result<ServerStatus>()> status, bool turning = true) {
  return Endpoints(EndpointSources{std::move(status), [turning] { return turning; },
                                   MetricsContext{"v", "r", std::chrono::seconds(60), {}},
                                   [] { return std::optional<std::uint64_t>(123); },
                                   /*accepting=*/{}});
}

TEST(HealthSummaryTest, EachStateLeadsWithItsNameAsSystemdShowsIt) {
  const std::pair<Health, std::string> cases[] = {
      {Health::kStarting, "starting: no policy data yet"},
      {Health::kServing, "serving 30 orgs (3 with their own policy), last sync 7s ago"},
      {Health::kStale, "STALE, serving 30 orgs (3 with their own policy), last sync 7s ago"},
      {Health::kDegraded,
       "DEGRADED (store not writable), serving 30 orgs (3 with their own policy), last sync 7s "
       "ago"},
      {Health::kRefusing,
       "REFUSING lookups (stale data), holding 30 orgs (3 with their own policy), last sync 7s "
       "ago"},
  };
  for (const auto& [health, line] : cases) {
    EXPECT_EQ(HealthSummary(StatusIn(health)), line);
    // The first word, lower-cased and without punctuation, is the state's name.
    std::string first = line.substr(0, line.find_first_of(" ,:"));
    for (char& ch : first) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(first, HealthName(health));
  }
}

TEST(HealthSummaryTest, FailuresAndNeverSyncedAreSaid) {
  ServerStatus s = StatusIn(Health::kStale);
  s.data_age_ms = -1;
  s.consecutive_failures = 3;
  s.last_error = "UNAVAILABLE: HTTP 503";
  EXPECT_EQ(HealthSummary(s),
            "STALE, serving 30 orgs (3 with their own policy), never synced, 3 failed syncs: "
            "UNAVAILABLE: HTTP 503");
  s.upstream.clear();
  EXPECT_EQ(HealthSummary(s), "STALE, serving 30 orgs (3 with their own policy)");
}

TEST(HealthSummaryTest, AFollowerSaysItsBucketAndConnection) {
  ServerStatus s = StatusIn(Health::kServing);
  s.upstream.clear();  // a follower has none
  FleetStatus& f = s.fleet.emplace();
  f.role = FleetRole::kFollower;
  f.bucket = "policyd";
  f.connection = FleetConnection::kReconnecting;
  EXPECT_EQ(HealthSummary(s),
            "serving 30 orgs (3 with their own policy) from nats bucket policyd (reconnecting), "
            "last sync 7s ago");
  s.health = Health::kStarting;
  EXPECT_EQ(HealthSummary(s),
            "starting: no policy data yet, from nats bucket policyd (reconnecting)");
  // A publisher's line is about its upstream, as without fleet mode.
  s = StatusIn(Health::kServing);
  s.fleet.emplace().role = FleetRole::kPublisher;
  EXPECT_EQ(HealthSummary(s), "serving 30 orgs (3 with their own policy), last sync 7s ago");
}

TEST(EndpointsTest, MetricsShowTheFleetFamiliesOnlyInFleetMode) {
  ServerStatus s = StatusIn(Health::kServing);
  Endpoints plain = Make([&s] { return Result<ServerStatus>(s); });
  EXPECT_EQ(plain.Answer("/metrics")->body.find("policyd_fleet_"), std::string::npos);
  s.fleet.emplace().role = FleetRole::kFollower;
  s.fleet->bucket = "b";
  Endpoints fleet = Make([&s] { return Result<ServerStatus>(s); });
  EXPECT_NE(fleet.Answer("/metrics")
                ->body.find("\npolicyd_fleet_info{role=\"follower\",bucket=\"b\"} 1\n"),
            std::string::npos);
}

TEST(EndpointsTest, ReadyzIsReadyExactlyWhenLookupsGetDataAndSaysWhy) {
  for (Health h : kAllHealthStates) {
    const Endpoints e = Make([h] { return StatusIn(h); });
    std::optional<HttpReply> r = e.Answer("/readyz");
    ASSERT_TRUE(r.has_value());
    const bool ready = h == Health::kServing || h == Health::kStale || h == Health::kDegraded;
    EXPECT_EQ(r->status, ready ? 200 : 503) << HealthName(h);
    EXPECT_EQ(r->body, std::string(ready ? "ready" : "not ready") + " health=" +
                           std::string(HealthName(h)) + ": " + HealthSummary(StatusIn(h)) + "\n");
    std::optional<HttpReply> live = e.Answer("/healthz");
    ASSERT_TRUE(live.has_value());
    EXPECT_EQ(live->status, 200);
    EXPECT_EQ(live->body, "ok health=" + std::string(HealthName(h)) + "\n");
  }
}

TEST(EndpointsTest, HealthzFailsWhenAServingLoopIsWedged) {
  const Endpoints e = Make([] { return StatusIn(Health::kServing); }, /*turning=*/false);
  EXPECT_EQ(e.Answer("/healthz")->status, 503);
  EXPECT_EQ(e.Answer("/readyz")->status, 200);  // readiness is about the data
}

TEST(EndpointsTest, ReadyzIsNotReadyWhileTheLookupSocketIsNotAccepting) {
  // The HTTP listener starts before the lookup socket listens and outlives it at shutdown: a
  // probe must not send traffic to a socket that is not there yet (or any more).
  bool accepting = false;
  const Endpoints e(EndpointSources{[] { return StatusIn(Health::kServing); }, [] { return true; },
                                    MetricsContext{"v", "r", std::chrono::seconds(60), {}},
                                    [] { return std::optional<std::uint64_t>(1); },
                                    [&accepting] { return accepting; }});
  EXPECT_EQ(e.Answer("/readyz")->status, 503);
  EXPECT_EQ(e.Answer("/readyz")->body,
            "not ready: the lookup socket is not accepting connections\n");
  EXPECT_EQ(e.Answer("/healthz")->status, 200);
  EXPECT_EQ(e.Answer("/metrics")->status, 200);
  accepting = true;
  EXPECT_EQ(e.Answer("/readyz")->status, 200);
}

TEST(EndpointsTest, MetricsIsTheTextExpositionWithTheStoreSize) {
  const Endpoints e = Make([] { return StatusIn(Health::kServing); });
  std::optional<HttpReply> r = e.Answer("/metrics");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, kTextContentType);
  EXPECT_NE(r->body.find("\npolicyd_store_size_bytes 123\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("\npolicyd_health{state=\"serving\"} 1\n"), std::string::npos);
}

TEST(EndpointsTest, AnUnreadableStoreIsNotReadyButAlive) {
  const Endpoints e =
      Make([]() -> Result<ServerStatus> { return Err(Status::Internal("disk on fire")); });
  EXPECT_EQ(e.Answer("/readyz")->status, 503);
  EXPECT_NE(e.Answer("/readyz")->body.find("disk on fire"), std::string::npos);
  EXPECT_EQ(e.Answer("/metrics")->status, 503);
  EXPECT_EQ(e.Answer("/healthz")->status, 200);
}

TEST(EndpointsTest, OtherPathsAreNotOurs) {
  const Endpoints e = Make([] { return StatusIn(Health::kServing); });
  for (const char* path : {"/", "/metrics/", "/health", "/readyz?x", ""}) {
    EXPECT_FALSE(e.Answer(path).has_value()) << path;
  }
}

TEST(ListenAddressTest, ParsesHostAndPort) {
  struct Case {
    const char* text;
    bool ok;
    const char* host;
    int port;
  };
  const Case cases[] = {
      {"127.0.0.1:9464", true, "127.0.0.1", 9464},
      {"[::1]:9464", true, "::1", 9464},
      {"localhost:0", true, "localhost", 0},
      {"0.0.0.0:65535", true, "0.0.0.0", 65535},
      {"127.0.0.1", false, "", 0},
      {":9464", false, "", 0},
      {"::1:9464", false, "", 0},
      {"[::1]", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},
      {"127.0.0.1:-1", false, "", 0},
      {"127.0.0.1:94x", false, "", 0},
      {"[]:1", false, "", 0},
      {"", false, "", 0},
  };
  for (const Case& c : cases) {
    Result<ListenAddress> a = ParseListenAddress(c.text);
    ASSERT_EQ(a.has_value(), c.ok) << c.text;
    if (!a) {
      EXPECT_EQ(a.error().code(), Code::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(a->host, c.host);
    EXPECT_EQ(a->port, c.port);
  }
}

}  // namespace
}  // namespace policyd::metrics
