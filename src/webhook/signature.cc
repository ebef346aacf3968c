#include "webhook/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <optional>
#include <vector>

namespace policyd::webhook {
namespace {

constexpr std::size_t kMacBytes = 32;  // SHA-256
using Mac = std::array<unsigned char, kMacBytes>;

Mac ComputeMac(std::int64_t t, std::string_view body, std::string_view key) {
  const std::string message = std::to_string(t) + "." + std::string(body);
  Mac mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length);
  return mac;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly 64 hex digits, else nothing (a shorter or longer MAC can never match).
std::optional<Mac> ParseMac(std::string_view hex) {
  if (hex.size() != 2 * kMacBytes) return std::nullopt;
  Mac mac{};
  for (std::size_t i = 0; i < kMacBytes; ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    mac[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return mac;
}

// A plain decimal number of at most 18 digits (no sign, no spaces).
std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || text[0] == '-') {
    return std::nullopt;
  }
  return value;
}

struct ParsedHeader {
  std::optional<std::int64_t> t;
  std::vector<Mac> signatures;
};

// ZITADEL's parseSignatureHeader: split on ",", each part on "=" into exactly two pieces.
bool ParseHeader(std::string_view header, ParsedHeader& out) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = std::min(header.find(',', start), header.size());
    const std::string_view part = header.substr(start, comma - start);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos || part.find('=', eq + 1) != std::string_view::npos) {
      return false;
    }
    const std::string_view name = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    if (name == "t") {
      if (out.t) return false;
      out.t = ParseTimestamp(value);
      if (!out.t) return false;
    } else if (name == "v1") {
      if (std::optional<Mac> mac = ParseMac(value)) out.signatures.push_back(*mac);
    }
    if (comma == header.size()) return true;
    start = comma + 1;
  }
}

}  // namespace

std::string_view SignatureCheckName(SignatureCheck check) {
  switch (check) {
    case SignatureCheck::kValid:
      return "valid";
    case SignatureCheck::kMissing:
      return "missing";
    case SignatureCheck::kMalformed:
      return "malformed";
    case SignatureCheck::kNoSignature:
      return "no v1 signature";
    case SignatureCheck::kNoMatch:
      return "no matching signature";
    case SignatureCheck::kOutsideTolerance:
      return "timestamp outside tolerance";
  }
  return "unknown";
}

SignatureCheck VerifySignature(std::string_view header, std::string_view body, std::string_view key,
                               std::int64_t now, std::chrono::seconds tolerance) {
  if (header.empty()) return SignatureCheck::kMissing;
  if (header.size() > kMaxSignatureHeaderBytes) return SignatureCheck::kMalformed;
  ParsedHeader parsed;
  if (!ParseHeader(header, parsed) || !parsed.t) return SignatureCheck::kMalformed;
  if (parsed.signatures.empty()) return SignatureCheck::kNoSignature;
  const Mac expected = ComputeMac(*parsed.t, body, key);
  bool matched = false;
  // Every candidate is compared, so the time taken does not say which one matched.
  for (const Mac& candidate : parsed.signatures) {
    matched |= CRYPTO_memcmp(candidate.data(), expected.data(), kMacBytes) == 0;
  }
  if (!matched) return SignatureCheck::kNoMatch;
  const std::int64_t skew = now > *parsed.t ? now - *parsed.t : *parsed.t - now;
  if (skew > tolerance.count()) return SignatureCheck::kOutsideTolerance;
  return SignatureCheck::kValid;
}

std::string ComputeSignatureHeader(std::int64_t t, std::string_view body,
                                   std::initializer_list<std::string_view> keys) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string header = "t=" + std::to_string(t);
  for (std::string_view key : keys) {
    header += ",v1=";
    for (unsigned char byte : ComputeMac(t, body, key)) {
      header += kDigits[byte >> 4];
      header += kDigits[byte & 0xf];
    }
  }
  return header;
}

}  // namespace policyd::webhook
