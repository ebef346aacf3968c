#include "http/http_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "http/bounded_task_queue.h"

namespace policyd::http {
namespace {

// httplib::Server serving a listening socket made elsewhere.
class AdoptingServer final : public httplib::Server {
 public:
  // Takes ownership of `fd`, a listening socket in blocking mode.
  void Adopt(int fd) { svr_sock_ = fd; }
  // Stops the accept loop; returns the adopted descriptor (INVALID_SOCKET if none).
  int Release() { return svr_sock_.exchange(INVALID_SOCKET); }
};

HttpRequest ToRequest(const httplib::Request& in) {
  HttpRequest out;
  out.method = in.method;
  out.path = in.path;
  out.query.insert(in.params.begin(), in.params.end());
  out.headers.insert(in.headers.begin(), in.headers.end());
  out.body = in.body;
  return out;
}

void Write(HttpResponse reply, httplib::Response& out) {
  out.status = reply.status;
  for (const auto& [name, value] : reply.headers) out.set_header(name.c_str(), value);
  out.set_content(std::move(reply.body), reply.content_type.c_str());
}

}  // namespace

struct HttpServer::Impl {
  Impl(const Router& r, HttpServerOptions o) : router(r), options(std::move(o)) {}

  const Router& router;
  const HttpServerOptions options;
  AdoptingServer server;
  std::thread thread;
  int listen_fd = -1;  // ours; httplib accepts on a duplicate of it
  struct stat socket_file {};
  std::atomic<bool> stopping{false};
  bool accept_loop_ok = true;  // written by `thread`, read after joining it
};

HttpServer::HttpServer(const Router& router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  Impl& impl = *impl_;
  Result<int> fd = ListenUnixSocket(impl.options.socket);
  if (!fd) return fd.error().WithContext("http-socket");
  impl.listen_fd = *fd;
  lstat(impl.options.socket.path.c_str(), &impl.socket_file);
  // httplib's accept loop expects a blocking socket (an EAGAIN would end it). It gets a
  // duplicate: if the loop ever ends by itself it closes that one, and ours stays valid for
  // Stop() to shut down.
  const int flags = fcntl(*fd, F_GETFL);
  const int theirs = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
  if (flags < 0 || fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || theirs < 0) {
    Status s = Status::Internal("http-socket: cannot set up " + impl.options.socket.path);
    if (theirs >= 0) close(theirs);
    close(*fd);
    unlink(impl.options.socket.path.c_str());
    impl.listen_fd = -1;
    return s;
  }

  AdoptingServer& server = impl.server;
  const HttpServerOptions& o = impl.options;
  server.new_task_queue = [&o] {
    return new BoundedTaskQueue(o.threads, o.max_queued_connections);
  };
  server.set_read_timeout(o.read_timeout);
  server.set_write_timeout(o.write_timeout);
  server.set_keep_alive_timeout(o.keep_alive_timeout.count());
  server.set_keep_alive_max_count(o.keep_alive_max_requests);
  server.set_payload_max_length(o.max_body_bytes);
  const httplib::Server::Handler handler = [&router = impl.router](const httplib::Request& req,
                                                                   httplib::Response& res) {
    Write(router.Dispatch(ToRequest(req)), res);
  };
  // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3), but
  // httplib 0.11.4 would read a POST/PUT/PATCH/DELETE body until the client closes (or the read
  // timeout): answer those before it tries. Requests with a body go through the method handlers
  // below, after httplib has read the body (up to max_body_bytes, else 413).
  server.set_pre_routing_handler([handler](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    handler(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Every method httplib parses goes to the Router, which answers 404/405 as the upstream does.
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Patch(".*", handler);
  server.Delete(".*", handler);
  server.Options(".*", handler);
  const httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&,
                                                           httplib::Response& res) {
    // Called for every status >= 400: fill in only what httplib answered by itself.
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    Write(ErrorForHttpStatus(res.status), res);
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(on_error);
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr) { Write(ErrorForHttpStatus(500), res); });
  server.Adopt(theirs);
  impl.thread = std::thread([&impl] {
    impl.accept_loop_ok = impl.server.listen_after_bind();
    if (!impl.accept_loop_ok && !impl.stopping) {
      spdlog::error(
          "http-socket {}: accepting connections failed ({}); the HTTP endpoint is "
          "down until policyd restarts",
          impl.options.socket.path, strerror(errno));
    }
  });
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  if (impl.listen_fd < 0) return;
  impl.stopping = true;
  const int theirs = impl.server.Release();
  // Wakes the accept loop (accept() fails on a shut-down socket), which then sees it released.
  shutdown(impl.listen_fd, SHUT_RDWR);
  impl.thread.join();
  // A loop that ended by itself (an accept error) has closed its descriptor already.
  if (impl.accept_loop_ok && theirs >= 0) close(theirs);
  close(impl.listen_fd);
  impl.listen_fd = -1;
  // Remove the file only if it is still ours (not one a newer daemon made since).
  struct stat now {};
  if (lstat(impl.options.socket.path.c_str(), &now) == 0 && now.st_ino == impl.socket_file.st_ino &&
      now.st_dev == impl.socket_file.st_dev) {
    unlink(impl.options.socket.path.c_str());
  }
}

}  // namespace policyd::http
