#include "server/frame_buffer.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <cstring>

#include "wire/frame.h"

namespace policyd {

namespace {

// explicit_bzero, also for an empty range (whose pointer may be null, which it must not get).
void Wipe(void* bytes, std::size_t n) {
  if (n > 0) explicit_bzero(bytes, n);
}

}  // namespace

FrameBuffer::FrameBuffer(std::uint32_t max_frame_bytes)
    : max_frame_bytes_(max_frame_bytes), data_(kInitialBytes) {}

std::span<std::uint8_t> FrameBuffer::WritableTail() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    last_length_ = 0;
    last_aligned_ = false;
    if (data_.size() > kKeepBytes) Reallocate(kInitialBytes);
    if (aligned_.size() * sizeof(std::uint64_t) > kKeepBytes) {
      Wipe(aligned_.data(), aligned_.size() * sizeof(std::uint64_t));
      std::vector<std::uint64_t>().swap(aligned_);
    }
  }
  if (end_ == data_.size()) {
    Compact();
    // Still full: the buffered start of a frame fills it. Next() has checked that frame's length
    // against the maximum, so growing up to one maximal frame is always enough.
    if (end_ == data_.size()) {
      const std::size_t cap = std::max(kInitialBytes, kFrameHeaderBytes + max_frame_bytes_);
      Reallocate(std::min(data_.size() * 2, cap));
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
  last_begin_ = begin_;
  last_length_ = *length;
  begin_ += kFrameHeaderBytes + *length;
  const std::uint8_t* body = head + kFrameHeaderBytes;
  last_aligned_ = reinterpret_cast<std::uintptr_t>(body) % 8 != 0;
  if (!last_aligned_) return std::span(body, *length);
  if (aligned_.size() < *length / 8 + 1) {
    Wipe(aligned_.data(), aligned_.size() * sizeof(std::uint64_t));
    aligned_.assign(*length / 8 + 1, 0);
  }
  std::memcpy(aligned_.data(), body, *length);
  return std::span(reinterpret_cast<const std::uint8_t*>(aligned_.data()), *length);
}

void FrameBuffer::WipeLast() {
  if (last_length_ == 0) return;
  Wipe(data_.data() + last_begin_, kFrameHeaderBytes + last_length_);
  if (last_aligned_) Wipe(aligned_.data(), last_length_);
  last_length_ = 0;
  last_aligned_ = false;
}

void FrameBuffer::Compact() {
  const std::size_t pending = end_ - begin_;
  std::memmove(data_.data(), data_.data() + begin_, pending);
  // The moved bytes' old places beyond the new end still hold copies.
  Wipe(data_.data() + pending, end_ - pending);
  end_ = pending;
  begin_ = 0;
  last_length_ = 0;
  last_aligned_ = false;
}

void FrameBuffer::Reallocate(std::size_t size) {
  std::vector<std::uint8_t> next(size);
  std::memcpy(next.data(), data_.data() + begin_, end_ - begin_);
  Wipe(data_.data(), data_.size());
  data_.swap(next);
  end_ -= begin_;
  begin_ = 0;
  last_length_ = 0;
  last_aligned_ = false;
}

}  // namespace policyd
