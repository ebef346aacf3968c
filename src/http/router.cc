#include "http/router.h"

#include <algorithm>

#include "http/compat_json.h"

namespace policyd::http {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "/a/b/c" -> {"a", "b", "c"}; "/" -> {""}; a trailing slash gives a last empty segment, so
// "/a/b/" does not match "/a/b" (the upstream's gateway answers it 404 as well).
std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return segments;
    path.remove_prefix(slash + 1);
  }
}

bool IsParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

HttpResponse StatusResponse(int http_status, Code code, std::string_view text) {
  HttpResponse response;
  response.status = http_status;
  response.body = FormatStatusBody(code, text);
  return response;
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return Lower(x) < Lower(y); });
}

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> HttpRequest::QueryParam(std::string_view name) const {
  const auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string_view HttpRequest::PathParam(std::string_view name) const {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return {};
}

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  std::vector<std::string> segments;
  for (std::string_view s : Split(pattern)) segments.emplace_back(s);
  routes_.push_back(Route{std::move(method), std::move(segments), std::move(handler)});
}

bool Router::Matches(const Route& route, const std::vector<std::string_view>& path,
                     std::vector<std::pair<std::string, std::string>>& params) {
  if (route.segments.size() != path.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& want = route.segments[i];
    if (!IsParameter(want)) {
      if (want != path[i]) return false;
    } else if (path[i].empty()) {
      return false;
    } else {
      params.emplace_back(want.substr(1, want.size() - 2), path[i]);
    }
  }
  return true;
}

HttpResponse Router::Dispatch(HttpRequest request) const {
  const std::vector<std::string_view> path = Split(request.path);
  // HEAD is GET without the body (the server drops it), as the upstream's gateway does.
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  // Only absolute paths name a route (not "*" of OPTIONS *, nor an empty path).
  if (!request.path.starts_with('/')) return StatusResponse(404, Code::kNotFound, "Not Found");
  bool path_known = false;
  std::vector<std::pair<std::string, std::string>> params;
  for (const Route& route : routes_) {
    if (!Matches(route, path, params)) continue;
    path_known = true;
    if (route.method != method) continue;
    request.path_params = std::move(params);
    return route.handler(request);
  }
  if (path_known) return StatusResponse(405, Code::kUnimplemented, "Method Not Allowed");
  return StatusResponse(404, Code::kNotFound, "Not Found");
}

Handler Router::Find(std::string_view method, std::string_view pattern) const {
  const std::vector<std::string_view> want = Split(pattern);
  for (const Route& route : routes_) {
    if (route.method == method &&
        std::equal(route.segments.begin(), route.segments.end(), want.begin(), want.end())) {
      return route.handler;
    }
  }
  return {};
}

HttpResponse ErrorForHttpStatus(int status) {
  switch (status) {
    case 400:
      return StatusResponse(400, Code::kInvalidArgument, "Bad Request");
    case 404:
      return StatusResponse(404, Code::kNotFound, "Not Found");
    case 405:
      return StatusResponse(405, Code::kUnimplemented, "Method Not Allowed");
    case 413:
      return StatusResponse(413, Code::kResourceExhausted, "Payload Too Large");
    case 414:
      return StatusResponse(414, Code::kResourceExhausted, "URI Too Long");
    default:
      break;
  }
  if (status >= 500) return StatusResponse(status, Code::kInternal, "Internal Server Error");
  return StatusResponse(status, Code::kInvalidArgument, "Bad Request");
}

}  // namespace policyd::http
