// SourceVersion: where one entry of the state (the instance entry, or one org with its policy and
// domains) stands in the upstream's history: the position of the last upstream event applied to
// any of its rows. The store keeps one per entry, written in the same batch as the rows (fleet
// mode orders its bucket writes by it); fleet/source_version.h explains the order and the rules
// built on it.
//
// Pure. Plain value; thread-compatible.
#pragma once

#include <compare>
#include <cstdint>

#include "base/timestamp.h"
#include "model/event_stream.h"

namespace policyd {

struct SourceVersion {
  Timestamp date;              // creationDate of the last upstream event applied; zero: unknown
  EventStream stream{};        // that event's stream; unknown for snapshot or API-read state
  std::uint64_t sequence = 0;  // its sequence in `stream`

  friend bool operator==(const SourceVersion&, const SourceVersion&) = default;
};

// The total order of versions: lexicographic on (date, stream type, stream id, sequence). Less
// means `a` is older than `b`; equal only when every field is equal.
inline std::strong_ordering CompareSourceVersion(const SourceVersion& a, const SourceVersion& b) {
  if (auto c = a.date <=> b.date; c != 0) return c;
  // Equal dates: within one stream the sequence decides; across streams the names break the tie
  // (the same on every host), which keeps the order total.
  if (auto c = a.stream.type <=> b.stream.type; c != 0) return c;
  if (auto c = a.stream.id <=> b.stream.id; c != 0) return c;
  return a.sequence <=> b.sequence;
}

}  // namespace policyd
