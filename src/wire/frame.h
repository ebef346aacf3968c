// Framing on the unix socket: a 4-byte little-endian length N, then N bytes of one FlatBuffer.
//
// Pure. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace policyd {

inline constexpr std::size_t kFrameHeaderBytes = 4;
inline constexpr std::uint32_t kDefaultMaxFrameBytes = 64 * 1024;
// Smallest frame a FlatBuffer can be: root offset + file identifier.
inline constexpr std::uint32_t kMinFrameBytes = 8;

// Reads the body length from the first kFrameHeaderBytes of `header`.
// Errors: INVALID_ARGUMENT when the length is below kMinFrameBytes;
//         RESOURCE_EXHAUSTED when it exceeds `max_frame_bytes`.
Result<std::uint32_t> DecodeFrameLength(const std::uint8_t* header, std::uint32_t max_frame_bytes);

// Writes `length` as the 4-byte little-endian header at `out`.
void EncodeFrameLength(std::uint8_t* out, std::uint32_t length);

// Appends one frame, the length header then `body`, to `out`.
void AppendFrame(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> body);

}  // namespace policyd
