#include "server/frame_buffer.h"

#include <algorithm>
#include <cstring>

#include "wire/frame.h"

namespace policyd {

FrameBuffer::FrameBuffer(std::uint32_t max_frame_bytes)
    : max_frame_bytes_(max_frame_bytes), data_(kInitialBytes) {}

std::span<std::uint8_t> FrameBuffer::WritableTail() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (data_.size() > kKeepBytes) std::vector<std::uint8_t>(kInitialBytes).swap(data_);
    if (aligned_.size() * sizeof(std::uint64_t) > kKeepBytes)
      std::vector<std::uint64_t>().swap(aligned_);
  }
  if (end_ == data_.size()) {
    Compact();
    // Still full: the buffered start of a frame fills it. Next() has checked that frame's length
    // against the maximum, so growing up to one maximal frame is always enough.
    if (end_ == data_.size()) {
      const std::size_t cap = std::max(kInitialBytes, kFrameHeaderBytes + max_frame_bytes_);
      data_.resize(std::min(data_.size() * 2, cap));
    }
  }
  return {data_.data() + end_, data_.size() - end_};
}

Result<std::span<const std::uint8_t>> FrameBuffer::Next() {
  if (Pending() < kFrameHeaderBytes) return std::span<const std::uint8_t>();
  const std::uint8_t* head = data_.data() + begin_;
  Result<std::uint32_t> length = DecodeFrameLength(head, max_frame_bytes_);
  if (!length) return Err(length.error());
  if (Pending() < kFrameHeaderBytes + *length) return std::span<const std::uint8_t>();
  begin_ += kFrameHeaderBytes + *length;
  const std::uint8_t* body = head + kFrameHeaderBytes;
  if (reinterpret_cast<std::uintptr_t>(body) % 8 == 0) return std::span(body, *length);
  aligned_.resize(*length / 8 + 1);
  std::memcpy(aligned_.data(), body, *length);
  return std::span(reinterpret_cast<const std::uint8_t*>(aligned_.data()), *length);
}

void FrameBuffer::Compact() {
  std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

}  // namespace policyd
