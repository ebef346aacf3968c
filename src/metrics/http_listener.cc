#include "metrics/http_listener.h"

#include <httplib.h>
#include <sys/socket.h>

#include <thread>

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
  Result<ListenAddress> parsed = ParseListenAddress(address);
  if (!parsed) return parsed.error().WithContext("metrics-listen");
  httplib::Server& server = impl_->server;
  // Two threads: a scrape and a health probe at once, never more however many clients connect.
  server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // SO_REUSEADDR only (a restart may bind while old connections linger in TIME_WAIT). Not
  // cpp-httplib's default SO_REUSEPORT, which would let a second daemon bind the same port and
  // silently take half the scrapes.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_read_timeout(std::chrono::seconds(5));
  server.set_write_timeout(std::chrono::seconds(5));
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
  const int port = parsed->port == 0
                       ? server.bind_to_any_port(parsed->host)
                       : (server.bind_to_port(parsed->host, parsed->port) ? parsed->port : -1);
  if (port <= 0) {
    return Status::FailedPrecondition("metrics-listen: cannot listen on " + std::string(address) +
                                      " (address in use, or not an address of this host)");
  }
  impl_->port = port;
  impl_->thread = std::thread([&server] { server.listen_after_bind(); });
  return Status::Ok();
}

void MetricsHttpListener::Stop() {
  if (!impl_->thread.joinable()) return;
  // stop() only takes effect once the listening loop runs; it starts an instant after Start().
  for (int i = 0; i < 1000 && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace policyd::metrics
