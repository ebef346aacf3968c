// Fuzzes what a follower reads from the fleet bucket: a key (up to the first '\n') and its value
// (the rest). Keys that parse must format back to the same bytes (the escaping is canonical);
// values that decode must pass the field checks, re-encode, and decode again to the same value.
// Anything else must be refused with an error, never a crash.
#include <cstdint>
#include <string_view>

#include "fleet/keys.h"
#include "fleet/values.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view key_bytes = input.substr(0, newline);
  const std::string_view value_bytes = input.substr(newline + 1);

  auto key = policyd::fleet::ParseKey(key_bytes);
  if (!key) return 0;
  auto formatted = policyd::fleet::FormatKey(*key);
  if (!formatted || *formatted != key_bytes) __builtin_trap();

  auto value = policyd::fleet::DecodeValue(*key, value_bytes);
  if (!value) return 0;
  if (!policyd::fleet::CheckValue(*key, *value).ok()) __builtin_trap();
  auto again = policyd::fleet::EncodeValue(*key, *value);
  if (!again) __builtin_trap();
  auto back = policyd::fleet::DecodeValue(*key, *again);
  if (!back || !(*back == *value)) __builtin_trap();
  return 0;
}
