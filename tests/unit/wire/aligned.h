// Test helper: a frame body (without the length prefix) in 8-byte aligned storage, as server and
// client hand it to the decoders.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "wire/frame.h"

namespace policyd::testing_support {

class Aligned {
 public:
  explicit Aligned(std::span<const std::uint8_t> bytes) : words_((bytes.size() + 7) / 8 + 1) {
    std::memcpy(words_.data(), bytes.data(), bytes.size());
    size_ = bytes.size();
  }
  // A vector is either a whole frame or a body: say which (FrameBody, or Aligned(Bytes(v))).
  explicit Aligned(const std::vector<std::uint8_t>&) = delete;
  std::span<const std::uint8_t> span() const {
    return {reinterpret_cast<const std::uint8_t*>(words_.data()), size_};
  }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_ = 0;
};

// The bytes of `v` as they are.
inline std::span<const std::uint8_t> Bytes(const std::vector<std::uint8_t>& v) { return v; }

// The body of frame `frame`: everything after its length prefix, unchecked.
inline Aligned FrameBody(const std::vector<std::uint8_t>& frame) {
  return Aligned(std::span<const std::uint8_t>(frame).subspan(kFrameHeaderBytes));
}

// Splits the one length-prefixed frame `bytes` holds into its aligned body, checking its header.
inline Aligned Body(const std::vector<std::uint8_t>& bytes) {
  EXPECT_GE(bytes.size(), kFrameHeaderBytes);
  Result<std::uint32_t> n = DecodeFrameLength(bytes.data(), kDefaultMaxFrameBytes);
  EXPECT_TRUE(n.has_value());
  if (!n) return Aligned(std::span<const std::uint8_t>());
  EXPECT_EQ(*n + kFrameHeaderBytes, bytes.size());
  return Aligned({bytes.data() + kFrameHeaderBytes, *n});
}

}  // namespace policyd::testing_support
