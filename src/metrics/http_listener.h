// MetricsHttpListener: serves the observability endpoints (metrics/endpoints.h) over plain HTTP
// on a TCP address (`--metrics-listen 127.0.0.1:9464`), with cpp-httplib on two threads of its
// own, apart from the serving threads, so a slow scraper never delays a lookup.
//
// Lifecycle: Start() binds (errors are reported there, before the daemon says READY) and begins
// serving; Stop() (also run by the destructor) closes the socket and joins the threads.
//
// Thread-safety: Start()/Stop() from one thread; `endpoints` must outlive the listener.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "metrics/endpoints.h"

namespace policyd::metrics {

class MetricsHttpListener {
 public:
  explicit MetricsHttpListener(const Endpoints& endpoints);
  ~MetricsHttpListener();
  MetricsHttpListener(const MetricsHttpListener&) = delete;
  MetricsHttpListener& operator=(const MetricsHttpListener&) = delete;

  // Binds `address` and serves in the background. Errors: INVALID_ARGUMENT for a bad address,
  // FAILED_PRECONDITION when it cannot be bound (in use, not a local address).
  Status Start(std::string_view address);
  void Stop();
  // The port actually bound (useful with port 0); 0 before Start().
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace policyd::metrics
