// How an HTTP exchange with the upstream turns into a Status: HTTP status codes, libcurl error
// codes and the Retry-After header. This is the table documented in upstream/upstream.h.
// Internal to src/upstream/.
//
// `request` is what the message names, e.g. "GET /admin/v1/policies/domain" (never a token).
//
// Pure (no I/O; "now" is an argument). Thread-safe.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/timestamp.h"

namespace policyd::upstream_internal {

// "<request>: HTTP 403 (code 7: No matching permissions found (AUTH-5mWD2))": the status and
// what the error body says, if it says anything (ParseErrorBody).
std::string DescribeHttpAnswer(std::string_view request, long http_status, std::string_view body);

// The Status for a non-2xx HTTP answer. The error body's code and message (json/upstream_json.h
// ParseErrorBody) are quoted when there are any.
//   401 UNAUTHENTICATED (with `credentials_hint`, e.g. "check the token file /etc/x"),
//   403 PERMISSION_DENIED (the service user needs IAM_OWNER_VIEWER), 404 NOT_FOUND,
//   429 RESOURCE_EXHAUSTED, 400 INVALID_ARGUMENT (the upstream refused the request),
//   408 and 5xx UNAVAILABLE, anything else (3xx: redirects are not followed) INTERNAL.
Status StatusFromHttp(std::string_view request, long http_status, std::string_view body,
                      std::string_view credentials_hint);

// The Status for a failed libcurl transfer; `detail` is libcurl's error buffer (may be empty).
//   OPERATION_TIMEDOUT                                   DEADLINE_EXCEEDED
//   TLS errors (SSL_*, PEER_FAILED_VERIFICATION, ...)    UNAVAILABLE, mentioning TLS and --ca-file
//   resolve/connect/send/recv errors, GOT_NOTHING, PARTIAL_FILE (a body cut short),
//   WEIRD_SERVER_REPLY, UNSUPPORTED_PROTOCOL (e.g. an HTTP/0.9 answer), HTTP2*,
//   anything unlisted                                    UNAVAILABLE
//   WRITE_ERROR with body_too_large, FILESIZE_EXCEEDED   INTERNAL (response over the size cap)
//   BAD_CONTENT_ENCODING                                 INTERNAL (malformed response)
//   OUT_OF_MEMORY                                        RESOURCE_EXHAUSTED
//   URL_MALFORMAT                                        INVALID_ARGUMENT
Status StatusFromCurl(std::string_view request, CURLcode code, std::string_view detail,
                      bool body_too_large, std::size_t max_body_bytes);

// True for the libcurl codes that mean TLS setup or verification failed.
bool IsTlsError(CURLcode code);

// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, relative to `now`. A date in
// the past is 0 s. nullopt when the value is neither. Values are capped at one day.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, Timestamp now);

}  // namespace policyd::upstream_internal
