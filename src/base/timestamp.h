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

}  // namespace policyd
