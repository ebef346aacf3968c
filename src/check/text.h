// Text rules shared by the checks (check/check.h): UTF-8 validity, control characters and
// whitespace in values that come from a client. Internal to check/.
//
// Pure. Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace policyd::check_text {

// The number of code points in `s` if it is valid UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF), else nullopt.
std::optional<std::size_t> Utf8Chars(std::string_view s);

// True if `s` holds a control character: C0 (below 0x20), DEL, or C1 (U+0080..U+009F, encoded
// C2 80..C2 9F). Such bytes never occur in upstream names and would corrupt logs and JSON.
bool HasControl(std::string_view s);

// True if `s` starts or ends with a space. The upstream trims names before storing them, so a
// value with one can never match; saying so beats a confusing "not found".
bool HasEdgeSpace(std::string_view s);

// The parts of `s` around its last '@'; `found` false (and `local` = `s`) when it has none.
struct AtSplit {
  bool found = false;
  std::string_view local;   // before the last '@'
  std::string_view domain;  // after it
};
AtSplit SplitAtLastAt(std::string_view s);

}  // namespace policyd::check_text
