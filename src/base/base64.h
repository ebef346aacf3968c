// Base64 encoding without '=' padding (RFC 4648 §3.2), in the standard alphabet (§4: Connect's
// binary error details) or the URL-safe one (§5: JWT segments).
//
// Pure. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace policyd {

enum class Base64Alphabet { kStandard, kUrl };

std::string Base64EncodeNoPad(std::string_view bytes, Base64Alphabet alphabet);

}  // namespace policyd
