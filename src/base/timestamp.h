// Timestamp: a point in wall-clock time, UTC, as seconds + nanos since the Unix epoch.
//
// Compact in the store and on the wire, and formatted exactly like the upstream's protojson
// (json/timestamp.h). A zero Timestamp means "absent".
#pragma once

#include <compare>
#include <cstdint>

namespace policyd {

struct Timestamp {
  std::int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
  std::int32_t nanos = 0;    // [0, 999'999'999]

  bool IsZero() const { return seconds == 0 && nanos == 0; }
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// Nanoseconds since the epoch. Only for wall-clock times (it overflows past the year 2262);
// timestamps from outside go through AddNanos instead.
constexpr std::int64_t ToNanos(Timestamp t) { return t.seconds * kNanosPerSecond + t.nanos; }

// The inverse of ToNanos (nanos kept in [0, 1e9) also before the epoch).
constexpr Timestamp FromNanos(std::int64_t ns) {
  std::int64_t seconds = ns / kNanosPerSecond;
  std::int64_t nanos = ns % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --seconds;
  }
  return {seconds, static_cast<std::int32_t>(nanos)};
}

// `t` moved by `nanos` (either sign), carrying into seconds; safe for any year.
constexpr Timestamp AddNanos(Timestamp t, std::int64_t nanos) {
  std::int64_t total = t.nanos + nanos % kNanosPerSecond;
  std::int64_t seconds = t.seconds + nanos / kNanosPerSecond + total / kNanosPerSecond;
  total %= kNanosPerSecond;
  if (total < 0) {
    total += kNanosPerSecond;
    --seconds;
  }
  return {seconds, static_cast<std::int32_t>(total)};
}

}  // namespace policyd
