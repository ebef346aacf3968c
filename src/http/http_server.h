// HttpServer: serves a Router over HTTP/1.1 on a unix socket, with cpp-httplib.
//
// The socket is made by the same code as the lookup socket (server/unix_socket.h): created
// under a restrictive umask and chmod'ed before listen(), so it has its final mode before anyone
// can connect; a stale socket file is replaced, a live one (another daemon answering) refused.
// cpp-httplib 0.11.4 cannot adopt a listening descriptor through its public API, so a thin
// subclass hands it ours (its protected listening-socket member) and runs its accept loop.
//
// Limits: `threads` workers answer requests; at most `max_queued_connections` accepted
// connections wait for one (then accepting pauses and clients wait in the listen backlog);
// each read and write on a connection times out; a connection serves at most
// `keep_alive_max_requests` requests and is closed after `keep_alive_timeout` idle; request
// bodies over `max_body_bytes` are 413, request lines and headers over 8 KiB (the library's
// build limit) 414 / 400. Every error the library makes itself gets a google.rpc.Status body.
// Handlers see the request body (HttpRequest::body: the Connect calls of connect/connect_api.h
// have one; the REST reads have none); a request that announces none is answered without
// waiting for one.
// A client that trickles bytes within the read timeout holds a worker; the socket's file
// permissions decide who may connect at all.
//
// Lifecycle: Start() binds and serves on a thread of its own; Stop() (also run by the
// destructor) stops accepting, lets the workers finish the requests they have (a connection
// idling in keep-alive ends within keep_alive_timeout), closes the socket and removes its file
// if it is still the one Start() made.
//
// Thread-safety: Start()/Stop() from one thread. The Router must outlive the server and be
// complete before Start(); its handlers run on the worker threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "base/status.h"
#include "http/router.h"
#include "server/unix_socket.h"

namespace policyd::http {

struct HttpServerOptions {
  UnixSocketOptions socket;  // path, mode, owner, group, backlog
  std::size_t threads = 4;
  std::size_t max_queued_connections = 64;
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
  std::chrono::seconds keep_alive_timeout{2};
  std::size_t keep_alive_max_requests = 100;
  std::size_t max_body_bytes = 16 * 1024;  // REST reads have none, Connect requests a few bytes
};

class HttpServer {
 public:
  HttpServer(const Router& router, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket and begins serving. Errors as ListenUnixSocket (INVALID_ARGUMENT: bad path;
  // FAILED_PRECONDITION: not a socket, or in use; INTERNAL: a system call failed), with the
  // context "http-socket". Call at most once.
  Status Start();
  // Idempotent; a no-op before Start().
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace policyd::http
