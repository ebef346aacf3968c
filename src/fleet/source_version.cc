#include "fleet/source_version.h"

namespace policyd::fleet {

std::strong_ordering CompareSourceVersion(const SourceVersion& a, const SourceVersion& b) {
  if (auto c = a.date <=> b.date; c != 0) return c;
  // Equal dates: within one stream the sequence decides; across streams the names break the tie
  // (the same on every host), which keeps the order total.
  if (auto c = a.stream.type <=> b.stream.type; c != 0) return c;
  if (auto c = a.stream.id <=> b.stream.id; c != 0) return c;
  return a.sequence <=> b.sequence;
}

}  // namespace policyd::fleet
