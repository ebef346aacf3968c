#include "metrics/http_listener.h"

#include <httplib.h>

#include <thread>

#include "metrics/background_server.h"

namespace policyd::metrics {

struct MetricsHttpListener::Impl {
  explicit Impl(const Endpoints& e) : endpoints(e) {}
  const Endpoints& endpoints;
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

MetricsHttpListener::MetricsHttpListener(const Endpoints& endpoints)
    : impl_(std::make_unique<Impl>(endpoints)) {}

MetricsHttpListener::~MetricsHttpListener() { Stop(); }

int MetricsHttpListener::port() const { return impl_->port; }

Status MetricsHttpListener::Start(std::string_view address) {
  httplib::Server& server = impl_->server;
  // Two threads: a scrape and a health probe at once, never more however many clients connect.
  ConfigureServer(server);
  server.Get(R"(/.*)", [this](const httplib::Request& request, httplib::Response& response) {
    std::optional<HttpReply> reply = impl_->endpoints.Answer(request.path);
    if (!reply) {
      response.status = 404;
      response.set_content("not found; try /metrics, /healthz or /readyz\n",
                           "text/plain; charset=utf-8");
      return;
    }
    response.status = reply->status;
    response.set_content(reply->body, reply->content_type.c_str());
  });
  Result<int> port = BindAndServe(server, "metrics-listen", address, &impl_->thread);
  if (!port) return port.error();
  impl_->port = *port;
  return Status::Ok();
}

void MetricsHttpListener::Stop() { StopServing(impl_->server, impl_->thread); }

}  // namespace policyd::metrics
