#include "wire/frame.h"

#include <algorithm>
#include <string>

namespace policyd {

Result<std::uint32_t> DecodeFrameLength(const std::uint8_t* header, std::uint32_t max_frame_bytes) {
  const std::uint32_t length =
      static_cast<std::uint32_t>(header[0]) | static_cast<std::uint32_t>(header[1]) << 8 |
      static_cast<std::uint32_t>(header[2]) << 16 | static_cast<std::uint32_t>(header[3]) << 24;
  if (length < kMinFrameBytes) {
    return Err(Status::InvalidArgument("frame length " + std::to_string(length) +
                                       " is below the minimum of " +
                                       std::to_string(kMinFrameBytes)));
  }
  if (length > max_frame_bytes) {
    return Err(Status::ResourceExhausted("frame length " + std::to_string(length) +
                                         " exceeds the maximum of " +
                                         std::to_string(max_frame_bytes)));
  }
  return length;
}

void EncodeFrameLength(std::uint8_t* out, std::uint32_t length) {
  out[0] = static_cast<std::uint8_t>(length);
  out[1] = static_cast<std::uint8_t>(length >> 8);
  out[2] = static_cast<std::uint8_t>(length >> 16);
  out[3] = static_cast<std::uint8_t>(length >> 24);
}

void AppendFrame(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> body) {
  const std::size_t at = out.size();
  out.resize(at + kFrameHeaderBytes + body.size());
  EncodeFrameLength(out.data() + at, static_cast<std::uint32_t>(body.size()));
  std::copy(body.begin(), body.end(),
            out.begin() + static_cast<std::ptrdiff_t>(at + kFrameHeaderBytes));
}

}  // namespace policyd
