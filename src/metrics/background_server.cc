#include "metrics/background_server.h"

#include <sys/socket.h>

#include <chrono>
#include <string>

#include "metrics/endpoints.h"

namespace policyd::metrics {

void ConfigureServer(httplib::Server& server) {
  server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_read_timeout(std::chrono::seconds(5));
  server.set_write_timeout(std::chrono::seconds(5));
}

Result<int> BindAndServe(httplib::Server& server, std::string_view flag, std::string_view address,
                         std::thread* thread) {
  Result<ListenAddress> parsed = ParseListenAddress(address);
  if (!parsed) return Err(parsed.error().WithContext(flag));
  const int port = parsed->port == 0
                       ? server.bind_to_any_port(parsed->host)
                       : (server.bind_to_port(parsed->host, parsed->port) ? parsed->port : -1);
  if (port <= 0) {
    return Err(Status::FailedPrecondition(std::string(flag) + ": cannot listen on " +
                                          std::string(address) +
                                          " (address in use, or not an address of this host)"));
  }
  *thread = std::thread([&server] { server.listen_after_bind(); });
  return port;
}

void StopServing(httplib::Server& server, std::thread& thread) {
  if (!thread.joinable()) return;
  // stop() only takes effect once the listening loop runs; it starts an instant after binding.
  for (int i = 0; i < 1000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server.stop();
  thread.join();
}

}  // namespace policyd::metrics
