// A plain HTTP client for the fake upstream's own tests: one connection per request, a bearer
// token, JSON bodies.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "fake_upstream/fake_upstream.h"

namespace policyd::testing_support {

struct HttpResult {
  httplib::Error error = httplib::Error::Unknown;
  int status = 0;
  std::string body;
  httplib::Headers headers;

  bool ok() const { return error == httplib::Error::Success; }
  nlohmann::json Json() const { return nlohmann::json::parse(body); }
};

class TestClient {
 public:
  // Uses the fake's PAT unless `token` is given ("" sends no Authorization header).
  explicit TestClient(const FakeUpstream& fake, std::string token = "fake-pat-0123456789")
      : client_(fake.base_url()), token_(std::move(token)) {
    client_.set_read_timeout(10, 0);
    client_.set_connection_timeout(5, 0);
  }

  httplib::Client& raw() { return client_; }

  HttpResult Get(const std::string& path, httplib::Headers headers = {}) {
    AddAuth(headers);
    return Convert(client_.Get(path, headers));
  }

  HttpResult Post(const std::string& path, const std::string& body,
                  const std::string& content_type = "application/json") {
    return Post(path, body, httplib::Headers{}, content_type);
  }

  HttpResult Post(const std::string& path, const std::string& body, httplib::Headers headers,
                  const std::string& content_type = "application/json") {
    AddAuth(headers);
    return Convert(client_.Post(path, headers, body, content_type));
  }

  HttpResult Send(const std::string& method, const std::string& path, const std::string& body) {
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.set_header("Content-Type", "application/json");
    AddAuth(req.headers);
    return Convert(client_.send(req));
  }

  // POST /admin/v1/events/_search with `query`.
  nlohmann::json Events(const nlohmann::json& query) {
    HttpResult r = Post("/admin/v1/events/_search", query.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.Json() : nlohmann::json::object();
  }

 private:
  void AddAuth(httplib::Headers& headers) const {
    if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  }

  static HttpResult Convert(const httplib::Result& r) {
    HttpResult out;
    out.error = r.error();
    if (r) {
      out.status = r->status;
      out.body = r->body;
      out.headers = r->headers;
    }
    return out;
  }

  httplib::Client client_;
  std::string token_;
};

}  // namespace policyd::testing_support
