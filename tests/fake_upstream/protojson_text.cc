#include "fake_upstream/protojson_text.h"

#include <charconv>
#include <cstdio>

namespace policyd::testing_support {
namespace {

// Howard Hinnant's civil_from_days.
void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

// ".5" -> fraction digits in protojson's 3/6/9 groups; "" for 0.
std::string Fraction(std::int64_t nanos) {
  if (nanos == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(nanos));
  std::string s(buf);
  if (nanos % 1'000'000 == 0) return s.substr(0, 4);
  if (nanos % 1'000 == 0) return s.substr(0, 7);
  return s;
}

}  // namespace

std::string FormatDuration(std::int64_t nanos) {
  const bool negative = nanos < 0;
  // Magnitude without overflow for INT64_MIN.
  const auto abs =
      negative ? 0 - static_cast<std::uint64_t>(nanos) : static_cast<std::uint64_t>(nanos);
  std::string out = negative ? "-" : "";
  out += std::to_string(abs / 1'000'000'000);
  out += Fraction(static_cast<std::int64_t>(abs % 1'000'000'000));
  return out + "s";
}

std::optional<std::int64_t> ParseDuration(std::string_view text) {
  if (!text.ends_with('s')) return std::nullopt;
  text.remove_suffix(1);
  const bool negative = text.starts_with('-');
  if (negative) text.remove_prefix(1);
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && (frac.empty() || frac.size() > 9))) {
    return std::nullopt;
  }
  std::int64_t seconds = 0;
  std::int64_t nanos = 0;
  const auto digits = [](std::string_view s, std::int64_t& v) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end == s.data() + s.size() && s.find_first_of("+-") == s.npos;
  };
  if (!digits(whole, seconds) || seconds > 315'576'000'000) return std::nullopt;
  if (!frac.empty()) {
    if (!digits(frac, nanos)) return std::nullopt;
    for (std::size_t i = frac.size(); i < 9; ++i) nanos *= 10;
  }
  const std::int64_t total = seconds * 1'000'000'000 + nanos;
  return negative ? -total : total;
}

std::string FormatKindTimestamp(Timestamp t) {
  std::int64_t days = t.seconds / 86400;
  std::int64_t rem = t.seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(days, y, m, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y),
                m, d, static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return std::string(buf) + Fraction(t.nanos) + "Z";
}

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string SortedJsonObject(const std::map<std::string, std::string>& entries) {
  std::string out = "{";
  for (const auto& [key, value] : entries) {
    if (out.size() > 1) out += ',';
    AppendQuoted(out, key);
    out += ':';
    out += value;
  }
  return out + "}";
}

}  // namespace policyd::testing_support
