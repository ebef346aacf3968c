// The observability HTTP endpoints as pure request -> reply functions, independent of any HTTP
// library: whichever server serves them (the --metrics-listen TCP listener in
// metrics/http_listener.h, the HTTP unix socket) maps GET requests here.
//
//   /metrics  Prometheus text exposition of PolicydFamilies (200; 503 when the store cannot be
//             read, with the error).
//   /healthz  liveness: 200 "ok health=<state>" while every serving loop turns; 503 when one is
//             wedged (what systemd's watchdog would restart policyd for).
//   /readyz   readiness: 200 "ready health=<state>: <summary>" when lookups get answers from data
//             (serving, stale, degraded); 503 "not ready health=<state>: <summary>" when they do
//             not (starting: no data yet; refusing: stale and failing closed), or when the store
//             cannot be read. <summary> is the systemd STATUS= line. Also 503 while the lookup
//             socket is not accepting (the listener starts before it, and stays through shutdown).
//
// Thread-safety: Answer() may run on any number of threads at once if the sources may.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "metrics/policyd_metrics.h"
#include "model/store_state.h"

namespace policyd::metrics {

// The one-line summary of a status, as systemd's STATUS= shows it: the health state's name
// first ("serving 10000 orgs (100 with their own policy), last sync 3s ago", "STALE, serving …",
// "DEGRADED (store not writable), serving …", "REFUSING lookups (stale data), holding …",
// "starting: no policy data yet"), then sync failures and the last error when there are any. A
// follower says where from: "serving 10000 orgs (100 with their own policy) from nats bucket
// policyd (connected), last sync 3s ago".
std::string HealthSummary(const ServerStatus& status);

// Whether lookups are answered from data in this state (see /readyz above).
constexpr bool IsReady(Health health) {
  return health == Health::kServing || health == Health::kStale || health == Health::kDegraded;
}

struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
};

struct EndpointSources {
  // The current status with counters; an error when the store cannot be read.
  std::function<Result<ServerStatus>()> status;
  // Whether every serving loop turned lately (liveness).
  std::function<bool()> loops_turning;
  // Build facts and settings; store_bytes is refreshed by `store_bytes` at each scrape.
  MetricsContext context;
  std::function<std::optional<std::uint64_t>()> store_bytes;
  // Whether the lookup socket accepts connections now (readiness); empty: always.
  std::function<bool()> accepting;
};

// "HOST:PORT" split into its parts: an IPv4 literal, "localhost", or an IPv6 literal in
// brackets ("[::1]:9464"); port 0..65535 (0: any free port). Errors: INVALID_ARGUMENT.
struct ListenAddress {
  std::string host;  // without brackets
  int port = 0;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);

class Endpoints {
 public:
  explicit Endpoints(EndpointSources sources) : sources_(std::move(sources)) {}

  // The reply to GET `path` ("/metrics", "/healthz", "/readyz"); nullopt for any other path.
  std::optional<HttpReply> Answer(std::string_view path) const;

 private:
  HttpReply Metrics() const;
  HttpReply Healthz() const;
  HttpReply Readyz() const;

  EndpointSources sources_;
};

}  // namespace policyd::metrics
