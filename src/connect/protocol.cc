#include "connect/protocol.h"

#include <algorithm>
#include <array>

#include "base/base64.h"
#include "base/http_status.h"
#include "json/policy_json.h"

namespace policyd::connect {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "charset=utf-8" (quotes and case as HTTP allows), the only parameter a JSON request may have.
bool IsUtf8Charset(std::string_view parameter) {
  const std::size_t eq = parameter.find('=');
  if (eq == std::string_view::npos || !EqualsIgnoreCase(Trim(parameter.substr(0, eq)), "charset")) {
    return false;
  }
  std::string_view value = Trim(parameter.substr(eq + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return EqualsIgnoreCase(value, "utf-8") || EqualsIgnoreCase(value, "utf8");
}

constexpr std::array<std::string_view, 17> kCodeNames = {
    "unknown",   "canceled",       "unknown",           "invalid_argument",   "deadline_exceeded",
    "not_found", "already_exists", "permission_denied", "resource_exhausted", "failed_precondition",
    "aborted",   "out_of_range",   "unimplemented",     "internal",           "unavailable",
    "data_loss", "unauthenticated"};

}  // namespace

std::string_view ContentType(Codec codec) {
  return codec == Codec::kJson ? "application/json" : "application/proto";
}

std::optional<Codec> UnaryCodec(std::string_view content_type) {
  const std::size_t semicolon = content_type.find(';');
  const std::string_view type = Trim(content_type.substr(0, semicolon));
  if (EqualsIgnoreCase(type, "application/proto")) {
    if (semicolon != std::string_view::npos) return std::nullopt;
    return Codec::kProto;
  }
  if (!EqualsIgnoreCase(type, "application/json")) return std::nullopt;
  if (semicolon != std::string_view::npos && !IsUtf8Charset(content_type.substr(semicolon + 1))) {
    return std::nullopt;
  }
  return Codec::kJson;
}

std::string_view ConnectCodeName(Code code) {
  const auto n = static_cast<std::size_t>(code);
  return n < kCodeNames.size() ? kCodeNames[n] : "unknown";
}

std::string FormatErrorBody(const Error& error) {
  std::string out = "{\"code\":\"";
  out += ConnectCodeName(error.code);
  out += '"';
  if (!error.message.empty()) {
    out += ",\"message\":";
    AppendJsonString(out, error.message);
  }
  if (!error.details.empty()) {
    out += ",\"details\":[";
    for (std::size_t i = 0; i < error.details.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"type\":";
      AppendJsonString(out, error.details[i].type);
      out += ",\"value\":\"" +
             Base64EncodeNoPad(error.details[i].value, Base64Alphabet::kStandard) + "\"}";
    }
    out += ']';
  }
  return out + "}";
}

int ErrorHttpStatus(const Error& error) {
  // The spec's table (https://connectrpc.com/docs/protocol#error-codes) is grpc-gateway's.
  return error.http_status != 0 ? error.http_status : HttpStatusFromCode(error.code);
}

std::optional<Error> CheckRequestHeaders(const RequestHeaders& headers) {
  if (headers.protocol_version && *headers.protocol_version != "1") {
    return Error{Code::kInvalidArgument, "connect-protocol-version must be \"1\": got \"" +
                                             std::string(*headers.protocol_version) + "\""};
  }
  if (headers.content_encoding) {
    const std::string_view encoding = Trim(*headers.content_encoding);
    if (!encoding.empty() && !EqualsIgnoreCase(encoding, "identity") &&
        !EqualsIgnoreCase(encoding, "gzip") && !EqualsIgnoreCase(encoding, "br")) {
      return Error{Code::kUnimplemented, "unknown compression \"" + std::string(encoding) +
                                             "\": supported are identity, gzip and br"};
    }
  }
  if (headers.timeout_ms) {
    const std::string_view t = *headers.timeout_ms;
    if (t.empty() || t.size() > 10 ||
        !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Error{Code::kInvalidArgument,
                   "connect-timeout-ms must be 1 to 10 digits: got \"" + std::string(t) + "\""};
    }
  }
  return std::nullopt;
}

}  // namespace policyd::connect
