// HttpTransport: one libcurl easy handle, reused for every request so that connections are kept
// alive, with policyd's fixed settings: TLS verification always on (plus optional extra trust
// anchors), no redirects, http/https only, bounded response size, timeouts. Internal to
// src/upstream/.
//
// Extra trust anchors (`ca_file`) are *added* to the system's: libcurl first loads its default
// CA bundle/path into the connection's X509_STORE, then CURLOPT_SSL_CTX_FUNCTION adds the
// certificates of `ca_file` to that store. (CURLOPT_CAINFO would replace the system bundle.)
// libcurl's shared CA-store cache is switched off when `ca_file` is set, so the additions never
// leak into, or depend on, a cached store.
//
// Thread-safety: Perform() from one thread at a time; request_count() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policyd::upstream_internal {

inline constexpr std::size_t kDefaultMaxBodyBytes = 64 * 1024 * 1024;

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};
  std::string user_agent = "policyd";
  std::string ca_file;  // extra trust anchors (PEM, one or more certificates); empty: none
  std::size_t max_body_bytes = kDefaultMaxBodyBytes;
  // Tests only: replaces libcurl's built-in CA bundle (CURLOPT_CAINFO) so that a test can stand
  // in for "the system's trust store". Empty: libcurl's default.
  std::string default_ca_bundle_for_testing;
};

struct HttpRequest {
  std::string_view method = "GET";  // "GET" or "POST"
  std::string url;                  // absolute
  std::string_view description;     // for messages: "GET /admin/v1/policies/domain"
  std::string_view content_type;    // POST only, e.g. "application/json"
  std::string_view body;            // POST only; must outlive Perform()
  std::string_view bearer_token;    // "Authorization: Bearer <token>" unless empty
  std::string_view org_id;          // "x-zitadel-orgid: <org_id>" unless empty (no CR/LF)
};

struct HttpResponse {
  long status = 0;  // the final HTTP status code
  std::string body;
  std::optional<std::string> retry_after;  // the Retry-After header, if any
};

class HttpTransport {
 public:
  // Sets up the handle. Errors: INVALID_ARGUMENT when `ca_file` cannot be read or holds no PEM
  // certificate; INTERNAL when libcurl cannot be initialised or lacks a needed feature (e.g. it
  // is not built with OpenSSL, which the ca_file mechanism needs).
  static Result<std::unique_ptr<HttpTransport>> Create(const TransportOptions& options);

  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Performs one request. Any HTTP status is a success here (the caller maps it); a failed
  // transfer is an error as upstream_internal::StatusFromCurl maps it. Counts the request.
  // The bearer token is wiped from this object's buffers afterwards.
  Result<HttpResponse> Perform(const HttpRequest& request);

  // Makes the transfer in progress and every later Perform() fail at once with CANCELLED.
  // Thread-safe (for shutdown).
  void Abort();

  // Requests attempted so far (whatever their outcome).
  std::uint64_t request_count() const { return request_count_.load(std::memory_order_relaxed); }

 private:
  struct State;
  explicit HttpTransport(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
  std::atomic<std::uint64_t> request_count_{0};
};

// Calls curl_global_init once per process (thread-safe). Returns its result.
Status InitCurlOnce();

}  // namespace policyd::upstream_internal
