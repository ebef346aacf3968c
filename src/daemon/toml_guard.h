// A guard in front of toml++ 3.3 (Debian's libtomlplusplus), whose generated
// is_non_ascii_horizontal_whitespace() reaches __builtin_unreachable, i.e. undefined behaviour,
// for most code points in U+00A1..U+0499, U+2C5E..U+3057 and U+FB26..U+FEFE whenever the parser
// asks whether one is whitespace: outside strings, in quoted keys, after a line-ending backslash
// (upstream marzer/tomlplusplus#190 and #295, fixed after 3.4 by #305). fuzz_config found it.
// Config text is checked here before toml++ sees it, so such a file is a clear config error
// instead of undefined behaviour in the daemon.
//
// Pure: no I/O.
#pragma once

#include <string_view>

#include "base/status.h"

namespace policyd {

// True for the code points toml++ 3.3 cannot classify as whitespace or not without undefined
// behaviour (mirrors the generated function's block table).
bool TomlMisclassifiesCodePoint(char32_t c);

// OK, or INVALID_ARGUMENT naming the line (from 1) and code point of the first such character in
// `text` (UTF-8; malformed sequences are left to toml++, which rejects them) and how to write it
// instead (a \uXXXX escape in a "..." string).
Status CheckTomlCodePoints(std::string_view text);

}  // namespace policyd
