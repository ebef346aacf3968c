// Observability: connects the metrics endpoints (metrics/endpoints.h) to the running daemon —
// the status they report, the counters behind it, the --metrics-listen HTTP listener. The
// systemd STATUS= line (daemon/main.cc) and the status request use the same ServingState and
// wording (metrics::HealthSummary), so every surface agrees.
//
// Lifecycle: construct after the Server (and Syncer); StartListener() may come before
// Server::Start() (/readyz answers 503 until the server accepts, Server::accepting()),
// Stop() (or destroy) before the Server, Syncer and Store go away.
//
// Thread-safety: CurrentStatus() and endpoints() from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "http/router.h"
#include "metrics/endpoints.h"
#include "metrics/http_listener.h"
#include "server/server.h"
#include "server/serving_state.h"
#include "store/store.h"
#include "sync/syncer.h"

namespace policyd {

struct ObservabilityOptions {
  std::string version;
  std::string rocksdb_version;
  std::string data_dir;  // measured on disk for policyd_store_size_bytes
  std::chrono::milliseconds max_staleness{0};
  // Adds counters of other parts (the webhook listener's) to a status; may be empty.
  std::function<void(DaemonCounters&)> more_counters;
};

// Adds the sync loop's counters to `out` (for ServerOptions::more_counters).
void AddSyncCounters(const Syncer& syncer, DaemonCounters& out);

// Adds GET /metrics, /healthz and /readyz, answered by `endpoints`, to the HTTP socket's
// router. `endpoints` must outlive the router.
void AddObservabilityRoutes(const metrics::Endpoints& endpoints, http::Router& router);

// Bytes of the regular files under `dir` (recursively); nullopt if it cannot be listed.
std::optional<std::uint64_t> DirectoryBytes(const std::string& dir);

class Observability {
 public:
  // `syncer` may be null (no upstream). Everything must outlive this object.
  Observability(const Store& store, const ServingState& state, const Clock& clock,
                const Server& server, const Syncer* syncer, ObservabilityOptions options);
  ~Observability();

  // The status with counters: what /metrics, /healthz, /readyz and STATUS= report.
  // Errors: the store's, when its bookkeeping cannot be read.
  Result<ServerStatus> CurrentStatus() const;
  // For any HTTP server that serves /metrics, /healthz and /readyz (e.g. the HTTP unix socket).
  const metrics::Endpoints& endpoints() const { return endpoints_; }

  // Serves the endpoints on `address` (HOST:PORT); errors as MetricsHttpListener::Start().
  Status StartListener(const std::string& address);
  int listener_port() const { return listener_ ? listener_->port() : 0; }
  void Stop();

 private:
  const Store& store_;
  const ServingState& state_;
  const Clock& clock_;
  const Server& server_;
  const Syncer* syncer_;
  const ObservabilityOptions options_;
  metrics::Endpoints endpoints_;
  std::unique_ptr<metrics::MetricsHttpListener> listener_;
};

}  // namespace policyd
