// FrameBuffer: the bytes one connection has received, split into length-prefixed frames.
//
// Memory follows what the peer actually sent, never what it declared: a header announcing a
// 64 KiB frame costs nothing until the bytes arrive, and the buffer grows (doubling) only while
// an incomplete frame fills it, up to kFrameHeaderBytes + max_frame_bytes. Once drained, a buffer
// that grew past kKeepBytes is given back, so a connection that once sent a large batch does not
// hold that memory while it idles.
//
// Secrets (a PASSWORD check's password): WipeLast() zeroes the frame Next() returned last, and the
// buffer never leaves a copy of received bytes behind when it moves, grows or shrinks them.
//
// Pure (no I/O, no clock). Not thread-safe: one per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace policyd {

class FrameBuffer {
 public:
  static constexpr std::size_t kInitialBytes = 4096;
  static constexpr std::size_t kKeepBytes = 16 * 1024;

  explicit FrameBuffer(std::uint32_t max_frame_bytes);

  // Where the next read may put bytes; call it only once Next() has no complete frame left, and
  // it is never empty. Commit(n) makes n of those bytes part of the buffer.
  std::span<std::uint8_t> WritableTail();
  void Commit(std::size_t n) { end_ += n; }

  // The next complete frame's body (without the length prefix, 8-byte aligned so that
  // FlatBuffers reads 64-bit fields aligned), valid until the next call on this buffer.
  // Empty: no complete frame is buffered yet. Errors (from DecodeFrameLength): INVALID_ARGUMENT
  // for a length below kMinFrameBytes, RESOURCE_EXHAUSTED above max_frame_bytes; the stream
  // cannot be re-synchronised after either.
  Result<std::span<const std::uint8_t>> Next();

  // Overwrites with zeros the frame Next() returned last (its length prefix, its body and its
  // aligned copy). Call it once that frame has been answered.
  void WipeLast();

  // Bytes received but not yet returned by Next() (the start of an incomplete frame).
  std::size_t Pending() const { return end_ - begin_; }
  std::size_t Capacity() const { return data_.size(); }

 private:
  void Compact();
  // Replaces data_ by a zeroed buffer of `size` bytes holding its [begin_, end_) at 0, then zeroes
  // and frees the old one.
  void Reallocate(std::size_t size);

  std::uint32_t max_frame_bytes_;
  std::vector<std::uint8_t> data_;
  std::size_t begin_ = 0, end_ = 0;
  std::vector<std::uint64_t> aligned_;  // misaligned bodies are copied here
  // The frame Next() returned last: where its prefix starts in data_, its body's length, and
  // whether its body was copied to aligned_.
  std::size_t last_begin_ = 0;
  std::size_t last_length_ = 0;
  bool last_aligned_ = false;
};

}  // namespace policyd
