// Router: HTTP requests to handlers by method and path, independent of any HTTP library.
//
// The HTTP unix socket (http/http_server.h) turns each parsed request into an HttpRequest,
// asks Dispatch() for the HttpResponse and writes it; everything in between is plain functions
// that tests call directly. Routes are added once, before serving: the upstream-compatible
// policy reads (http/compat_routes.h) and whatever else wants to answer on the same socket.
//
// Routing errors are answered as the upstream's grpc-gateway answers them, with a
// google.rpc.Status body: a path no route has is 404 {"code":5,"message":"Not Found"}; a path
// some route has, with another method, is 405 {"code":12,"message":"Method Not Allowed"}.
//
// Thread-safety: Add() before serving, from one thread; Dispatch() from any number of threads
// at once (handlers must allow that).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace policyd::http {

// Orders header names case-insensitively (ASCII), as HTTP compares them.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

struct HttpRequest {
  std::string method;  // as received, upper case: "GET", "HEAD", "POST", ...
  std::string path;    // percent-decoded, without the query string
  std::multimap<std::string, std::string> query;  // decoded parameters, in the order sent
  std::multimap<std::string, std::string, CaseInsensitiveLess> headers;
  // Filled by Dispatch(): the values of the matched route's "{name}" segments.
  std::vector<std::pair<std::string, std::string>> path_params;
  // The request body as received (empty when none was sent); the server bounds its size.
  std::string body;

  // The first value of the header / query parameter `name`, or nullopt when absent.
  std::optional<std::string_view> Header(std::string_view name) const;
  std::optional<std::string_view> QueryParam(std::string_view name) const;
  // The value of the path segment "{name}" of the matched route ("" when there is none).
  std::string_view PathParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/-Length
  std::string body;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

class Router {
 public:
  // Adds a route for `method` (upper case; a GET route also answers HEAD, whose body the server
  // drops) and `pattern`, an absolute path whose segments are literal text or "{name}": one
  // non-empty segment, bound into HttpRequest::path_params. Routes are tried in the order added.
  void Add(std::string method, std::string_view pattern, Handler handler);

  // The answer to `request`: the first route whose method and pattern match, else the routing
  // errors above.
  HttpResponse Dispatch(HttpRequest request) const;

  // A copy of the handler of the first route added with exactly `method` and `pattern` (the
  // strings given to Add(), "{name}" segments included), or an empty Handler when there is none:
  // for front ends that answer the same reads in another protocol (connect/connect_api.h). The
  // caller fills HttpRequest::path_params itself.
  Handler Find(std::string_view method, std::string_view pattern) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for a parameter
    Handler handler;
  };
  // Whether `path` (split into segments) matches `route`; binds its parameters into `params`.
  static bool Matches(const Route& route, const std::vector<std::string_view>& path,
                      std::vector<std::pair<std::string, std::string>>& params);

  std::vector<Route> routes_;
};

// A google.rpc.Status answer for an HTTP status that the HTTP library produced itself (a request
// it could not parse: 400, a request line or body over the limits: 414, 413, ...), so every
// error the socket sends has the upstream's error body.
HttpResponse ErrorForHttpStatus(int status);

}  // namespace policyd::http
