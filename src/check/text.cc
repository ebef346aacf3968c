#include "check/text.h"

namespace policyd::check_text {

std::optional<std::size_t> Utf8Chars(std::string_view s) {
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    char32_t cp;
    if (c < 0x80) {
      ++i;
      ++chars;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return std::nullopt;  // a continuation byte first, C0/C1 (overlong) or F5..FF
    }
    if (s.size() - i < len) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong 3- and 4-byte forms, UTF-16 surrogates, and code points past U+10FFFF.
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp > 0x10ffff) {
      return std::nullopt;
    }
    i += len;
    ++chars;
  }
  return chars;
}

bool HasControl(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return true;
    }
  }
  return false;
}

bool HasEdgeSpace(std::string_view s) {
  return !s.empty() && (s.front() == ' ' || s.back() == ' ');
}

AtSplit SplitAtLastAt(std::string_view s) {
  const std::size_t at = s.rfind('@');
  if (at == std::string_view::npos) return AtSplit{false, s, {}};
  return AtSplit{true, s.substr(0, at), s.substr(at + 1)};
}

}  // namespace policyd::check_text
