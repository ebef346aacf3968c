#include "daemon/toml_guard.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace policyd {

bool TomlMisclassifiesCodePoint(char32_t c) {
  // toml++ 3.3 splits U+00A0..U+FEFF into blocks of 0x3FA code points; blocks 0, 11 and 63 hold
  // whitespace but have no case in its switch, so every other code point in them falls into
  // `default: TOML_UNREACHABLE`.
  if (c < 0xA0 || c > 0xFEFF || c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
  const std::uint32_t block = (static_cast<std::uint32_t>(c) - 0xA0) / 0x3FA;
  return block == 0 || block == 11 || block == 63;
}

Status CheckTomlCodePoints(std::string_view text) {
  int line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead == '\n') ++line;
    if (lead < 0xC0) continue;
    // Decoded leniently (overlong forms included): anything that could reach toml++ as one of
    // the code points counts.
    const int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
    char32_t c = lead & (0x3F >> extra);
    int seen = 0;
    while (seen < extra && i + 1 < text.size() &&
           (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      c = (c << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F);
      ++seen;
    }
    if (seen == extra && TomlMisclassifiesCodePoint(c)) {
      char code[16];
      std::snprintf(code, sizeof code, "%04X", static_cast<unsigned>(c));
      return Status::InvalidArgument(
          "line " + std::to_string(line) + ": character U+" + code +
          " cannot be read safely by this build's TOML library (toml++ 3.3); write it as \\u" +
          code + " inside a \"...\" string, or leave it out");
    }
  }
  return Status::Ok();
}

}  // namespace policyd
