// Fuzzes the upstream module's parsers of outside bytes that are not JSON: the Retry-After
// header (delay-seconds or an HTTP-date, via curl_getdate), the token file's contents and the
// PEM private key of a service-account key file (OpenSSL). Each must answer within its contract.
#include <chrono>
#include <cstdint>
#include <string_view>

#include "upstream/credentials.h"
#include "upstream/http_errors.h"
#include "upstream/jwt.h"

namespace ui = policyd::upstream_internal;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the parser, so one corpus covers them all.
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      // A fixed "now" keeps runs reproducible: 2025-03-01T00:00:00Z.
      auto delay = ui::ParseRetryAfter(text, policyd::Timestamp{1740787200, 0});
      if (delay && (*delay < std::chrono::seconds(0) || *delay > std::chrono::hours(24))) {
        __builtin_trap();
      }
      break;
    }
    case 1: {
      auto token = ui::ParsePersonalAccessToken(text);
      if (token) {
        if (token->empty() || token->size() > text.size()) __builtin_trap();
        for (char c : *token) {
          const auto byte = static_cast<unsigned char>(c);
          if (byte <= 0x20 || byte == 0x7f) __builtin_trap();  // it goes into an HTTP header
        }
      }
      break;
    }
    case 2:
      (void)ui::LoadRsaPrivateKey(text);
      break;
  }
  return 0;
}
