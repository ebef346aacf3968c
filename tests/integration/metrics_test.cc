// The real policyd's observability: /metrics after known traffic, the sync gauges against the
// fake upstream, and every health state as each surface reports it (status request, policyctl
// status, /healthz, /readyz, systemd STATUS=, policyd_health).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "fake_upstream/fake_upstream.h"
#include "support/daemon.h"
#include "support/http_scrape.h"
#include "support/notify_socket.h"
#include "wire/frame.h"
#include "wire/request.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Requests(const char* kind, const char* code) {
  return std::string("policyd_requests_total{kind=\"") + kind + "\",code=\"" + code + "\"}";
}

// A raw connection that sends `bytes` and reads until the daemon closes or 2 s pass.
void SendRaw(const std::string& socket_path, const std::vector<std::uint8_t>& bytes) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  close(fd);
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = MakeSnapshot(50);
    WriteSnapshot(snapshot_, dir_.Join("snapshot.json"));
  }

  std::unique_ptr<Daemon> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--snapshot", dir_.Join("snapshot.json"), "--metrics-listen",
                                     "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto d = std::make_unique<Daemon>(dir_, args);
    port_ = MetricsPort(d->process());
    return d;
  }

  TempDir dir_;
  Snapshot snapshot_;
  int port_ = 0;
};

TEST_F(MetricsTest, AScrapeAfterKnownTrafficShowsExactlyTheExpectedCounts) {
  auto daemon = Start();
  ASSERT_TRUE(daemon->WaitReady());
  // Everything before the traffic (the readiness probes) is the baseline.
  ASSERT_TRUE(WaitFor([&] { return ScrapeMetrics(port_).Get("policyd_connections_open") == 0; },
                      seconds(5), "the probes' connections to close"));
  const Scrape before = ScrapeMetrics(port_);
  ASSERT_EQ(before.status, 200);

  Client client = daemon->Connect();  // held open to the end
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(client.GetOrgPolicy("org-" + std::to_string(i)));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(client.GetOrgPolicy("no-such-org", /*strict=*/true));
  const std::vector<std::string> batch = {"org-1", "org-2", "no-such-org"};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.GetOrgPolicies(batch, /*strict=*/true));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.GetDefaultPolicy());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.GetStatus());
  // A well-framed FlatBuffer that is no request: answered INVALID_ARGUMENT, connection kept.
  std::vector<std::uint8_t> garbage;
  const std::uint8_t junk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  AppendFrame(garbage, junk);
  ASSERT_TRUE(client.Send(garbage).ok());
  ASSERT_FALSE(client.Receive()->error.ok());
  // A length prefix over the maximum, on a connection of its own: answered and closed.
  SendRaw(daemon->socket(), {0xff, 0xff, 0xff, 0x7f});
  // Three more connections, each one lookup, closed.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(daemon->Connect().GetOrgPolicy("org-3"));

  const std::vector<std::pair<std::string, double>> expected = {
      {Requests("get_org_policy", "OK"), 25 + 3},
      {Requests("get_org_policy", "NOT_FOUND"), 5},
      {Requests("get_org_policies", "OK"), 3},
      {Requests("get_default_policy", "OK"), 2},
      {Requests("get_status", "OK"), 4},
      {Requests("undecodable", "INVALID_ARGUMENT"), 1},
      {Requests("undecodable", "RESOURCE_EXHAUSTED"), 1},
      // Every answered request but the unframeable one; written once the answer is.
      {"policyd_request_duration_seconds_count", 28 + 5 + 3 + 2 + 4 + 1},
      {"policyd_connections_accepted_total", 1 + 1 + 3},
      {"policyd_connections_rejected_total{reason=\"bad_frame\"}", 1},
      {"policyd_connections_rejected_total{reason=\"max_connections\"}", 0},
      {"policyd_connections_rejected_total{reason=\"per_peer\"}", 0},
      {"policyd_connections_rejected_total{reason=\"reserved\"}", 0},
      {"policyd_connections_rejected_total{reason=\"peer_denied\"}", 0},
  };
  auto delta = [&](const Scrape& now, const std::string& series) {
    return now.Find(series).value_or(0) - before.Find(series).value_or(0);
  };
  Scrape after;
  // The last connections' closing and latencies are recorded an instant after the answers.
  EXPECT_TRUE(WaitFor(
      [&] {
        after = ScrapeMetrics(port_);
        if (after.Get("policyd_connections_open") != 1) return false;
        for (const auto& [series, want] : expected) {
          if (delta(after, series) != want) return false;
        }
        return true;
      },
      seconds(5), "the counts to settle"));
  for (const auto& [series, want] : expected) EXPECT_EQ(delta(after, series), want) << series;
  EXPECT_EQ(after.Get("policyd_connections_open"), 1);
  // The buckets are cumulative and end at the count; the sum is positive and under a second.
  const double count = after.Get("policyd_request_duration_seconds_count");
  EXPECT_EQ(after.Get("policyd_request_duration_seconds_bucket{le=\"+Inf\"}"), count);
  EXPECT_LE(after.Get("policyd_request_duration_seconds_bucket{le=\"1e-06\"}"),
            after.Get("policyd_request_duration_seconds_bucket{le=\"0.001\"}"));
  EXPECT_GT(after.Get("policyd_request_duration_seconds_sum"), 0);
  EXPECT_LT(after.Get("policyd_request_duration_seconds_sum"), count);
  EXPECT_EQ(after.Get("policyd_store_orgs"), 50);
  EXPECT_EQ(after.Get("policyd_store_custom_policies"), 5);
  EXPECT_GT(after.Get("policyd_store_size_bytes"), 0);
  EXPECT_EQ(after.Get("policyd_health{state=\"serving\"}"), 1);
  EXPECT_TRUE(after.HasMetric("policyd_build_info")) << after.text;
  EXPECT_NE(after.text.find("policyd_build_info{version=\"0.1.0\",rocksdb_version=\"7."),
            std::string::npos)
      << after.text;

  // The status request with counters (what policyctl top reads) carries the same counts.
  Result<ServerStatus> status = client.GetStatus(/*with_counters=*/true);
  ASSERT_TRUE(status && status->counters);
  std::uint64_t ok_lookups = 0;
  for (const RequestCount& r : status->counters->requests) {
    if (r.kind == kKindGetOrgPolicy && r.code == Code::kOk) ok_lookups = r.count;
  }
  EXPECT_EQ(static_cast<double>(ok_lookups), after.Get(Requests("get_org_policy", "OK")));
  EXPECT_EQ(status->counters->connections_open, 1u);
}

TEST_F(MetricsTest, WithRequestMetricsOffRequestsAreAnsweredButNotCounted) {
  auto daemon = Start({"--request-metrics", "false"});
  ASSERT_TRUE(daemon->WaitReady());
  Client client = daemon->Connect();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.GetOrgPolicy("org-" + std::to_string(i)));
  Result<ServerStatus> status = client.GetStatus(/*with_counters=*/true);
  ASSERT_TRUE(status && status->counters);
  EXPECT_TRUE(status->counters->requests.empty());
  const Scrape s = ScrapeMetrics(port_);
  EXPECT_EQ(s.Find(Requests("get_org_policy", "OK")).value_or(0), 0);
  EXPECT_EQ(s.Get("policyd_request_duration_seconds_count"), 0);
  // Connections are still counted.
  EXPECT_GE(s.Get("policyd_connections_accepted_total"), 1);
  EXPECT_EQ(daemon->process().Stop(SIGTERM), 0);
}

TEST_F(MetricsTest, RejectedConnectionsAreCountedByReason) {
  {
    auto daemon = Start({"--max-connections", "2"});
    ASSERT_TRUE(daemon->WaitReady());
    ASSERT_TRUE(WaitFor([&] { return ScrapeMetrics(port_).Get("policyd_connections_open") == 0; },
                        seconds(5), "the probes' connections to close"));
    Client a = daemon->Connect();
    Client b = daemon->Connect();
    ASSERT_TRUE(a.GetStatus() && b.GetStatus());
    for (int i = 0; i < 3; ++i) {
      Result<Client> c = Client::Connect(daemon->socket());
      ASSERT_TRUE(c);
      EXPECT_EQ(c->GetStatus().error().code(), Code::kResourceExhausted);
    }
    const Scrape s = ScrapeMetrics(port_);
    EXPECT_EQ(s.Get("policyd_connections_rejected_total{reason=\"max_connections\"}"), 3);
    EXPECT_EQ(s.Get("policyd_connections_open"), 2);
    EXPECT_EQ(daemon->process().Stop(SIGTERM), 0);
  }
  {
    // Only uid 65534 may connect; this test runs as another user.
    ASSERT_NE(getuid(), 65534u);
    auto daemon = Start({"--allow-uid", "65534"});
    ASSERT_TRUE(
        WaitFor([&] { return HttpGet(port_, "/readyz").status == 200; }, seconds(20), "readiness"));
    for (int i = 0; i < 2; ++i) {
      Result<Client> c = Client::Connect(daemon->socket());
      ASSERT_TRUE(c);
      EXPECT_EQ(c->GetStatus().error().code(), Code::kPermissionDenied);
    }
    EXPECT_TRUE(WaitFor(
        [&] {
          return ScrapeMetrics(port_).Get(
                     "policyd_connections_rejected_total{reason=\"peer_denied\"}") == 2;
        },
        seconds(5), "two peer denials"));
    EXPECT_EQ(ScrapeMetrics(port_).Get("policyd_connections_accepted_total"), 0);
  }
}

TEST_F(MetricsTest, ABadAddressIsAConfigurationErrorAndABusyPortStopsTheStart) {
  CommandResult bad = RunCommand({BinDir() + "/daemon/policyd", "--socket", dir_.Join("s.sock"),
                                  "--data-dir", dir_.Join("data"), "--metrics-listen", "9464"});
  EXPECT_EQ(bad.exit_code, 78);
  EXPECT_NE(bad.err.find("metrics-listen"), std::string::npos) << bad.err;
  auto first = Start();
  ASSERT_TRUE(first->WaitReady());
  TempDir other;
  CommandResult busy =
      RunCommand({BinDir() + "/daemon/policyd", "--socket", other.Join("s.sock"), "--data-dir",
                  other.Join("data"), "--metrics-listen", "127.0.0.1:" + std::to_string(port_)});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.err.find("cannot listen on 127.0.0.1:" + std::to_string(port_)), std::string::npos)
      << busy.err;
}

TEST_F(MetricsTest, OnlyTheThreeEndpointsAreServed) {
  auto daemon = Start();
  ASSERT_TRUE(daemon->WaitReady());
  EXPECT_EQ(HttpGet(port_, "/metrics").content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(HttpGet(port_, "/").status, 404);
  EXPECT_EQ(HttpGet(port_, "/metricsz").status, 404);
  EXPECT_EQ(HttpGet(port_, "/healthz").body, "ok health=serving\n");
}

TEST_F(MetricsTest, TheHttpUnixSocketServesTheSameEndpoints) {
  const std::string http_socket = dir_.Join("http.sock");
  auto daemon = Start({"--http-socket", http_socket});
  ASSERT_TRUE(daemon->WaitReady());
  ASSERT_TRUE(daemon->Connect().GetOrgPolicy("org-1"));
  httplib::Client unix_client(http_socket);
  unix_client.set_address_family(AF_UNIX);
  unix_client.set_read_timeout(std::chrono::seconds(5));
  httplib::Result metrics = unix_client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics->body.find("\npolicyd_requests_total{kind=\"get_org_policy\",code=\"OK\"} 1\n"),
            std::string::npos)
      << metrics->body;
  for (const char* path : {"/healthz", "/readyz"}) {
    httplib::Result over_unix = unix_client.Get(path);
    ASSERT_TRUE(over_unix) << path;
    const HttpAnswer over_tcp = HttpGet(port_, path);
    EXPECT_EQ(over_unix->status, over_tcp.status) << path;
    EXPECT_EQ(over_unix->body, over_tcp.body) << path;
  }
}

// ---------------------------------------------------------------------------------------------
// Syncing from the fake upstream.

class MetricsSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    token_file_ = dir_.Join("token");
    std::ofstream(token_file_) << "fake-pat-0123456789\n";
    chmod(token_file_.c_str(), 0600);
    for (int i = 0; i < 10; ++i) orgs_.push_back(upstream_.AddOrg("org " + std::to_string(i)));
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[0], {true, false, false}).ok());
  }

  std::unique_ptr<Daemon> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--upstream", upstream_.base_url(), "--token-file", token_file_,        "--poll-interval",
        "200ms",      "--request-timeout",  "2s",           "--metrics-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto d = std::make_unique<Daemon>(
        dir_, args,
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_path_, "WATCHDOG_USEC=400000"});
    port_ = MetricsPort(d->process());
    return d;
  }

  // Makes a sleeping sync loop start its next round now (SIGHUP reloads credentials and wakes
  // it), instead of waiting out a backoff.
  static void WakeSync(Daemon& d) { ASSERT_EQ(kill(d.process().pid(), SIGHUP), 0); }

  // The last STATUS= line policyd sent to NOTIFY_SOCKET so far.
  std::string LastStatusLine() {
    (void)notify_.WaitFor("\x01 never sent", milliseconds(250));  // drains what has arrived
    const std::string& all = notify_.all();
    const std::size_t at = all.rfind("STATUS=");
    if (at == std::string::npos) return "";
    const std::size_t end = all.find('\n', at);
    return all.substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
  }

  // What each surface says the health is, as one line per surface; all say `want` when every
  // line ends in its name.
  std::string Surfaces(Daemon& d) {
    std::string out;
    Result<Client> client = Client::Connect(d.socket());
    Result<ServerStatus> status = client ? client->GetStatus() : Err(client.error());
    out += "status request: " +
           (status ? std::string(HealthName(status->health)) : status.error().ToString()) + "\n";
    const CommandResult json = d.Ctl({"status", "--json"});
    const std::size_t h = json.out.find("\"health\":\"");
    out += "policyctl status --json: " +
           (h == std::string::npos ? json.out
                                   : json.out.substr(h + 10, json.out.find('"', h + 10) - h - 10)) +
           "\n";
    const CommandResult text = d.Ctl({"status"});
    const std::size_t t = text.out.find("health:");
    out += "policyctl status: " +
           (t == std::string::npos ? text.out
                                   : text.out.substr(t + 17, text.out.find('\n', t) - t - 17)) +
           "\n";
    const HttpAnswer live = HttpGet(port_, "/healthz");
    out += "/healthz " + std::to_string(live.status) + ": " + live.body;
    const HttpAnswer ready = HttpGet(port_, "/readyz");
    out += "/readyz " + std::to_string(ready.status) + ": " + ready.body;
    const std::string line = LastStatusLine();
    std::string first = line.substr(0, line.find_first_of(" ,:"));
    for (char& c : first) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += "STATUS= (\"" + line + "\"): " + first + "\n";
    const Scrape scrape = ScrapeMetrics(port_);
    std::string one;
    for (Health state : kAllHealthStates) {
      const std::string series = "policyd_health{state=\"" + std::string(HealthName(state)) + "\"}";
      if (scrape.Find(series) == 1.0) one += std::string(HealthName(state));
    }
    out += "policyd_health: " + one + "\n";
    return out;
  }

  // Every surface reports `want`: the status request, policyctl status (JSON and text),
  // /healthz (200), /readyz (200 or 503 as IsReady says), STATUS= and policyd_health.
  ::testing::AssertionResult ReportedEverywhere(Daemon& d, Health want) {
    const std::string name(HealthName(want));
    const bool ready =
        want == Health::kServing || want == Health::kStale || want == Health::kDegraded;
    const std::string expected =
        "status request: " + name + "\npolicyctl status --json: " + name +
        "\npolicyctl status: " + name + "\n/healthz 200: ok health=" + name + "\n/readyz " +
        (ready ? "200: ready" : "503: not ready") + " health=" + name + ": ";
    std::string last;
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      last = Surfaces(d);
      const bool status_line = last.find("\"): " + name + "\n") != std::string::npos;
      const bool gauge = last.ends_with("policyd_health: " + name + "\n");
      if (last.starts_with(expected) && status_line && gauge) {
        std::cout << "--- " << name << " ---\n" << last;
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(milliseconds(200));
    }
    return ::testing::AssertionFailure() << "want " << name << " everywhere, got:\n" << last;
  }

  TempDir dir_;
  FakeUpstream upstream_;
  std::string token_file_;
  std::vector<std::string> orgs_;
  std::string notify_path_ = dir_.Join("notify.sock");
  NotifySocket notify_{notify_path_};
  int port_ = 0;
};

TEST_F(MetricsSyncTest, TheLastSyncGaugeMovesWithTheUpstreamAndFreezesWhileItFails) {
  auto daemon = Start({"--max-staleness", "1s"});
  ASSERT_TRUE(WaitFor([&] { return ScrapeMetrics(port_).Get("policyd_store_orgs") == 10; },
                      seconds(10), "the cold start"));
  const Scrape first = ScrapeMetrics(port_);
  EXPECT_EQ(first.Get("policyd_sync_cold_starts_total"), 1);
  EXPECT_GT(first.Get("policyd_last_sync_timestamp_seconds"), 1e9);

  // The upstream changes: the change arrives, the gauge moves, the event is counted.
  upstream_.AddOrg("one more");
  Scrape moved;
  ASSERT_TRUE(WaitFor(
      [&] {
        moved = ScrapeMetrics(port_);
        return moved.Get("policyd_store_orgs") == 11;
      },
      seconds(10), "the new org"));
  EXPECT_GT(moved.Get("policyd_last_sync_timestamp_seconds"),
            first.Get("policyd_last_sync_timestamp_seconds"));
  EXPECT_GE(moved.Get("policyd_sync_events_applied_total"),
            first.Get("policyd_sync_events_applied_total") + 1);
  EXPECT_GT(moved.Get("policyd_sync_successes_total"), first.Get("policyd_sync_successes_total"));
  EXPECT_EQ(moved.Get("policyd_health{state=\"serving\"}"), 1);

  // The upstream fails: the gauge freezes, failures are counted by cause, the data ages, and
  // the daemon turns stale once it is older than max-staleness.
  upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
  Scrape failing;
  ASSERT_TRUE(WaitFor(
      [&] {
        failing = ScrapeMetrics(port_);
        return failing.Get("policyd_sync_failures_total{cause=\"unavailable\"}") >= 2;
      },
      seconds(10), "two failed rounds"));
  std::this_thread::sleep_for(seconds(1));  // let the failures go on (the gauge must not move)
  Scrape later;
  ASSERT_TRUE(WaitFor(
      [&] {
        later = ScrapeMetrics(port_);
        return later.Get("policyd_health{state=\"stale\"}") == 1;
      },
      seconds(10), "stale"));
  EXPECT_EQ(later.Get("policyd_last_sync_timestamp_seconds"),
            failing.Get("policyd_last_sync_timestamp_seconds"));
  EXPECT_EQ(later.Get("policyd_sync_successes_total"), failing.Get("policyd_sync_successes_total"));
  EXPECT_GT(later.Get("policyd_sync_attempts_total"), failing.Get("policyd_sync_attempts_total"));
  EXPECT_GT(later.Get("policyd_data_age_seconds"), 1.0);
  EXPECT_GE(later.Get("policyd_sync_consecutive_failures"), 2);
  EXPECT_EQ(later.Get("policyd_sync_failures_total{cause=\"auth\"}"), 0);
  // Attempts = successes + failures (each round either).
  double failures = 0;
  for (const auto& [series, v] : later.samples) {
    if (series.starts_with("policyd_sync_failures_total{")) failures += v;
  }
  EXPECT_NEAR(later.Get("policyd_sync_attempts_total"),
              later.Get("policyd_sync_successes_total") + failures, 1);

  // A rejected token is an auth failure.
  upstream_.ClearFaults();
  upstream_.InjectFault(Fault{FaultKind::kWrongToken, Fault::kForever});
  WakeSync(*daemon);
  EXPECT_TRUE(WaitFor(
      [&] { return ScrapeMetrics(port_).Get("policyd_sync_failures_total{cause=\"auth\"}") >= 1; },
      seconds(70), "an auth failure"));

  // It recovers: the gauge moves again.
  upstream_.ClearFaults();
  WakeSync(*daemon);
  EXPECT_TRUE(WaitFor(
      [&] {
        const Scrape s = ScrapeMetrics(port_);
        return s.Get("policyd_last_sync_timestamp_seconds") >
                   later.Get("policyd_last_sync_timestamp_seconds") &&
               s.Get("policyd_health{state=\"serving\"}") == 1;
      },
      seconds(70), "fresh data after the outage"));  // within the backoff ceiling
}

TEST_F(MetricsSyncTest, EveryHealthStateIsReportedAlikeByEverySurface) {
  // starting: an empty store and an upstream that cannot be reached.
  upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
  auto daemon = Start({"--max-staleness", "1s"});
  ASSERT_TRUE(daemon->WaitReady());
  EXPECT_TRUE(ReportedEverywhere(*daemon, Health::kStarting));
  // serving: the upstream answers, the cold start fills the store.
  upstream_.ClearFaults();
  WakeSync(*daemon);
  EXPECT_TRUE(ReportedEverywhere(*daemon, Health::kServing));
  // stale: the upstream fails for longer than max-staleness.
  upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
  EXPECT_TRUE(ReportedEverywhere(*daemon, Health::kStale));
  upstream_.ClearFaults();
  WakeSync(*daemon);
  EXPECT_TRUE(ReportedEverywhere(*daemon, Health::kServing));
  // degraded: the store cannot be written (a file-size limit: every write fails with EFBIG).
  const rlimit tiny{1, RLIM_INFINITY};
  ASSERT_EQ(prlimit(daemon->process().pid(), RLIMIT_FSIZE, &tiny, nullptr), 0) << strerror(errno);
  EXPECT_TRUE(ReportedEverywhere(*daemon, Health::kDegraded));
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(prlimit(daemon->process().pid(), RLIMIT_FSIZE, &unlimited, nullptr), 0);
  WakeSync(*daemon);
  EXPECT_TRUE(ReportedEverywhere(*daemon, Health::kServing));
  EXPECT_GE(ScrapeMetrics(port_).Get("policyd_sync_failures_total{cause=\"store_write\"}"), 1);
  ASSERT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  // refusing: the same store, failing closed, with the upstream down.
  upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
  daemon = Start({"--max-staleness", "1s", "--refuse-when-stale"});
  ASSERT_TRUE(daemon->WaitReady());
  EXPECT_TRUE(ReportedEverywhere(*daemon, Health::kRefusing));
  EXPECT_EQ(daemon->Connect().GetOrgPolicy(orgs_[0]).error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace policyd::testing_support
