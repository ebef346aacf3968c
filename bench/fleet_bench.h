// The fleet section of the benchmark (issue #13): real policyd processes in fleet mode on this
// machine. One publisher (`--upstream` on tests/fake_upstream, `--publish-to` Debian's
// nats-server, webhook wake-up on) and F = 1, 10, 50 followers (`--follow`), added in steps.
// At each F:
//   * upstream requests per minute at rest (the fake upstream counts every request; only the
//     publisher polls it, at the default 5 s interval);
//   * change-to-every-follower latency: an org's policy is changed upstream and a signed webhook
//     delivery wakes the publisher; the followers are polled (one lookup each, in turn) until
//     every one answers the new policy byte for byte. Measured from the publisher's write (the
//     time nats-server stored the org's new value, read by a watcher of the bucket the
//     benchmark holds) and from the upstream change;
//   * RSS of each follower (median and max) and of the publisher.
// At F = 50 also the latency from an upstream change without the webhook (polling alone).
// Then a second publisher loads a snapshot of `cold_orgs` orgs into another bucket, and a new
// follower with an empty data dir is timed from its start until it holds every org (its cold
// start reads the whole bucket), with its RSS after.
//
// Every child is registered for Cleanup() (bench_support.h). Runs on the calling thread plus a
// bucket-watcher thread and the fake upstream's server threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace policyd::bench {

struct FleetOptions {
  std::string policyd;      // the binary
  std::string nats_server;  // the nats-server binary
  std::string dir;          // scratch directory
  int orgs = 1000;          // orgs upstream for the F rows
  std::vector<int> followers = {1, 10, 50};
  int samples = 40;          // webhook latency samples per F
  int polling_samples = 12;  // polling-only samples at the largest F
  double rest_seconds = 30;  // window for upstream requests at rest
  int cold_orgs = 100'000;
};

struct LatencyStats {
  int samples = 0;
  double p50_ms = -1, p99_ms = -1, max_ms = -1;
};

struct FleetRow {
  int followers = 0;
  double requests_per_minute = -1;  // upstream requests at rest
  double rest_seconds = 0;
  LatencyStats from_write;   // publisher's write -> every follower answers it
  LatencyStats from_change;  // upstream change (webhook wake-up) -> every follower
  double sweep_ms = 0;       // one polling pass over every follower (the resolution)
  long follower_rss_kb_median = -1, follower_rss_kb_max = -1;
  long publisher_rss_kb = -1;
};

struct FleetResults {
  std::string error;  // non-empty: the measurement stopped, and why (rows so far are kept)
  int orgs = 0;
  std::vector<FleetRow> rows;
  int polling_followers = 0;
  LatencyStats polling_from_change;  // no webhook, --poll-interval 5s (the default)
  LatencyStats polling_from_write;
  // Samples where a follower answered more than a second after the write (at most 3): which
  // follower, and the end of its log.
  std::vector<std::string> late;
  // Cold start of a follower from a bucket of cold_orgs orgs.
  int cold_orgs = 0;
  double publish_s = -1;     // publisher start (snapshot load) -> every key in the bucket
  double cold_ready_s = -1;  // follower start -> READY=1
  double cold_start_s = -1;  // follower start -> it holds every org
  long cold_rss_kb = -1;     // after the cold start and one lookup of every org
  double warm_ready_s = -1;  // the same follower restarted on its store -> READY=1
  long warm_rss_kb = -1;     // after the restart and one lookup of every org
  std::uint64_t bucket_messages = 0;
};

FleetResults MeasureFleet(const FleetOptions& options);

// The markdown section ("## Fleet mode").
std::string FleetReport(const FleetResults& r, const FleetOptions& options);

}  // namespace policyd::bench
