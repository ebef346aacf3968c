// Test support: real policyd processes in fleet mode (issue #13), each in its own temp directory
// (socket, data dir, log), for integration tests and the benchmark.
//
//   NatsCluster nats;                        // support/nats_server.h, random loopback ports
//   ASSERT_TRUE(nats.Start());
//   FleetDaemon pub(FleetDaemon::Publisher(nats.Urls(), upstream.base_url(), "pub-a"));
//   FleetDaemon follower(FleetDaemon::Follower(nats.Urls()));
//   ASSERT_TRUE(pub.Start());
//   ASSERT_TRUE(follower.Start());           // serving; then WaitUntilAnswersMatch(...)
//   follower.Stop();  ASSERT_TRUE(follower.Start());   // a restart on the same data dir
//
// A publisher runs `policyd --upstream URL --token-file FILE --publish-to URLS --publisher-id ID`
// (or `--snapshot FILE` instead of the upstream); a follower `policyd --follow URLS`. Both also
// get `--metrics-listen 127.0.0.1:0` (the port is read from the log at each start), the bucket
// (`--nats-bucket`) when one is set, and the options' `extra` flags. The token file holds the
// fake upstream's default PAT (mode 0600).
//
// Fleet metrics are read from the Prometheus endpoint; their names are collected in
// `fleet_metrics` below, the one place to follow a rename.
//
// Thread-safety: none; use from the test's thread.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "support/http_scrape.h"
#include "support/process.h"

namespace policyd::testing_support {

namespace fleet_metrics {
// Counters since the process started, and gauges; see model/fleet_status.h for their meaning.
inline constexpr char kColdStarts[] = "policyd_fleet_cold_starts_total";
inline constexpr char kValuesApplied[] = "policyd_fleet_values_applied_total";
inline constexpr char kValuesSkipped[] = "policyd_fleet_values_skipped_total";
inline constexpr char kValuesRefused[] = "policyd_fleet_values_refused_total";
inline constexpr char kWrites[] = "policyd_fleet_writes_total";
inline constexpr char kCursor[] = "policyd_fleet_cursor";
inline constexpr char kCaughtUp[] = "policyd_fleet_caught_up";
}  // namespace fleet_metrics

// "a,b,c".
std::string JoinUrls(const std::vector<std::string>& urls);

struct FleetDaemonOptions {
  enum class Role { kPublisher, kFollower };
  Role role = Role::kFollower;
  std::vector<std::string> nats_urls;
  std::string bucket;  // empty: policyd's default ("policyd")
  // Publisher: its id (--publisher-id; empty: policyd's default, the host name), and its source:
  // the upstream's base URL (with --poll-interval) or a snapshot file.
  std::string publisher_id;
  std::string upstream_url;
  std::string snapshot;
  std::string poll_interval = "200ms";
  std::vector<std::string> extra;  // further flags
  std::vector<std::string> env;    // further environment variables ("NAME=value")
};

class FleetDaemon {
 public:
  static FleetDaemonOptions Publisher(std::vector<std::string> nats_urls, std::string upstream_url,
                                      std::string publisher_id);
  static FleetDaemonOptions Follower(std::vector<std::string> nats_urls);

  // Makes the temp directory; starts nothing.
  explicit FleetDaemon(FleetDaemonOptions options);
  ~FleetDaemon();  // SIGKILLs a process still running; removes the directory
  FleetDaemon(const FleetDaemon&) = delete;
  FleetDaemon& operator=(const FleetDaemon&) = delete;

  // The command line Start runs (for tests of refused configurations: RunCommand it).
  std::vector<std::string> Argv() const;
  // Starts policyd (again, on the same data dir, after Stop), waits until its socket answers a
  // status request and reads its metrics port from the log.
  ::testing::AssertionResult Start();
  // Sends `signal` and waits for the exit; returns the exit code (-signal if killed), or -1000
  // when it did not exit in time. No-op (0) when not running.
  int Stop(int signal = SIGTERM);
  bool Running();

  const FleetDaemonOptions& options() const { return options_; }
  const std::string& socket() const { return socket_; }
  std::string data_dir() const { return dir_.Join("data"); }
  const TempDir& dir() const { return dir_; }
  pid_t pid() const;
  int metrics_port() const { return metrics_port_; }
  std::string Log() const;

  // One scrape of /metrics (status 0 when not running).
  Scrape Metrics() const;
  // The value of an unlabelled series, nullopt when not exposed or not running.
  std::optional<double> Metric(const std::string& series) const;
  // policyctl with --socket set.
  CommandResult Ctl(std::vector<std::string> args) const;
  // GetStatus over the socket.
  Result<ServerStatus> Status() const;

 private:
  FleetDaemonOptions options_;
  TempDir dir_;
  std::string socket_;
  std::string token_file_;
  std::unique_ptr<ChildProcess> process_;
  int metrics_port_ = 0;
};

// Waits until `condition` holds for every daemon of `daemons`.
::testing::AssertionResult WaitForAll(const std::vector<FleetDaemon*>& daemons,
                                      const std::function<bool(FleetDaemon&)>& condition,
                                      std::chrono::milliseconds timeout, const std::string& what);

}  // namespace policyd::testing_support
