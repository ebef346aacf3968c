#include "upstream/http_errors.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "json/upstream_json.h"

namespace policyd::upstream_internal {
namespace {

constexpr std::chrono::seconds kMaxRetryAfter{24 * 60 * 60};

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

}  // namespace

std::string DescribeHttpAnswer(std::string_view request, long http_status, std::string_view body) {
  std::string out = std::string(request) + ": HTTP " + std::to_string(http_status);
  std::optional<UpstreamErrorBody> error = ParseErrorBody(body);
  if (!error) return out;
  out += " (";
  if (!error->code.empty()) {
    out += "code " + error->code;
    if (!error->message.empty()) out += ": ";
  }
  out += error->message;
  out += ')';
  return out;
}

Status StatusFromHttp(std::string_view request, long http_status, std::string_view body,
                      std::string_view credentials_hint) {
  const std::string what = DescribeHttpAnswer(request, http_status, body);
  switch (http_status) {
    case 401:
      return Status::Unauthenticated(what + ": the upstream rejected the credentials; " +
                                     std::string(credentials_hint));
    case 403:
      return Status::PermissionDenied(
          what + ": the service user lacks a role (it needs IAM_OWNER_VIEWER on the instance)");
    case 404:
      return Status::NotFound(what);
    case 429:
      return Status::ResourceExhausted(what + ": rate limited");
    case 400:
      return Status::InvalidArgument(what + ": the upstream refused the request");
    case 408:
      return Status::Unavailable(what);
    default:
      break;
  }
  if (http_status >= 500 && http_status <= 599) return Status::Unavailable(what);
  if (http_status >= 300 && http_status <= 399) {
    return Status::Internal(what + ": unexpected redirect (not followed; check the upstream URL)");
  }
  return Status::Internal(what + ": unexpected HTTP status");
}

bool IsTlsError(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

Status StatusFromCurl(std::string_view request, CURLcode code, std::string_view detail,
                      bool body_too_large, std::size_t max_body_bytes) {
  std::string what = std::string(request) + ": ";
  what += detail.empty() ? curl_easy_strerror(code) : Trim(detail);
  if ((code == CURLE_WRITE_ERROR && body_too_large) || code == CURLE_FILESIZE_EXCEEDED) {
    return Status::Internal(std::string(request) + ": response body larger than " +
                            std::to_string(max_body_bytes) + " bytes");
  }
  if (IsTlsError(code)) {
    return Status::Unavailable(
        what +
        " (TLS failure: if the upstream's certificate is issued by a private CA, pass "
        "that CA's certificate with --ca-file)");
  }
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status{Code::kDeadlineExceeded, what};
    case CURLE_BAD_CONTENT_ENCODING:
      return Status::Internal(what + " (malformed response)");
    case CURLE_OUT_OF_MEMORY:
      return Status::ResourceExhausted(what);
    case CURLE_URL_MALFORMAT:
      return Status::InvalidArgument(what);
    case CURLE_PARTIAL_FILE:
      return Status::Unavailable(what + " (the response was cut short)");
    case CURLE_GOT_NOTHING:
      return Status::Unavailable(what + " (the connection closed without an answer)");
    default:
      return Status::Unavailable(what);
  }
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, Timestamp now) {
  const std::string trimmed = Trim(value);
  if (trimmed.empty()) return std::nullopt;
  if (std::all_of(trimmed.begin(), trimmed.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t seconds = 0;
    const auto [end, error] =
        std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), seconds);
    if (error == std::errc::result_out_of_range) return kMaxRetryAfter;
    if (error != std::errc() || end != trimmed.data() + trimmed.size()) return std::nullopt;
    return std::min(std::chrono::seconds(static_cast<std::int64_t>(std::min<std::uint64_t>(
                        seconds, static_cast<std::uint64_t>(kMaxRetryAfter.count())))),
                    kMaxRetryAfter);
  }
  // curl_getdate understands the three HTTP-date forms (IMF-fixdate, RFC 850, asctime).
  const time_t date = curl_getdate(trimmed.c_str(), nullptr);
  if (date == -1) return std::nullopt;
  const std::int64_t delta = static_cast<std::int64_t>(date) - now.seconds;
  if (delta <= 0) return std::chrono::seconds(0);
  return std::min(std::chrono::seconds(delta), kMaxRetryAfter);
}

}  // namespace policyd::upstream_internal
