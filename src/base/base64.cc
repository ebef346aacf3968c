#include "base/base64.h"

#include <cstdint>

namespace policyd {

std::string Base64EncodeNoPad(std::string_view bytes, Base64Alphabet alphabet) {
  const char* digits = alphabet == Base64Alphabet::kUrl
                           ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                           : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  const auto byte = [&bytes](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out += digits[(n >> shift) & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t n = byte(i) << 16;
  if (rest == 2) n |= byte(i + 1) << 8;
  out += digits[(n >> 18) & 63];
  out += digits[(n >> 12) & 63];
  if (rest == 2) out += digits[(n >> 6) & 63];
  return out;
}

}  // namespace policyd
