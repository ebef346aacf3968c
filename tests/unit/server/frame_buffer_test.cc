#include "server/frame_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "wire/frame.h"

namespace policyd {
namespace {

// Feeds `bytes` into `buffer` in pieces of at most `piece` bytes, as reads would, and collects
// every complete frame body in order.
std::vector<std::vector<std::uint8_t>> Feed(FrameBuffer& buffer,
                                            const std::vector<std::uint8_t>& bytes,
                                            std::size_t piece,
                                            std::size_t* max_capacity = nullptr) {
  std::vector<std::vector<std::uint8_t>> frames;
  std::size_t at = 0;
  for (;;) {
    for (;;) {
      Result<std::span<const std::uint8_t>> f = buffer.Next();
      EXPECT_TRUE(f.has_value());
      if (!f || f->empty()) break;
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f->data()) % 8, 0u) << "misaligned body";
      frames.emplace_back(f->begin(), f->end());
    }
    if (at == bytes.size()) return frames;
    std::span<std::uint8_t> tail = buffer.WritableTail();
    EXPECT_FALSE(tail.empty());
    const std::size_t n = std::min({piece, tail.size(), bytes.size() - at});
    std::memcpy(tail.data(), bytes.data() + at, n);
    buffer.Commit(n);
    at += n;
    if (max_capacity != nullptr) *max_capacity = std::max(*max_capacity, buffer.Capacity());
  }
}

std::vector<std::uint8_t> Body(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i);
  return b;
}

TEST(FrameBufferTest, FramesSplitAnywhereComeOutWholeAlignedAndInOrder) {
  std::vector<std::vector<std::uint8_t>> bodies;
  std::vector<std::uint8_t> stream;
  for (std::size_t i = 0; i < 60; ++i) {
    bodies.push_back(Body(8 + (i * 37) % 700, static_cast<std::uint8_t>(i)));
    AppendFrame(stream, bodies.back());
  }
  for (std::size_t piece : {1u, 3u, 7u, 64u, 1000u, 100000u}) {
    FrameBuffer buffer(64 * 1024);
    EXPECT_EQ(Feed(buffer, stream, piece), bodies) << "pieces of " << piece;
    EXPECT_EQ(buffer.Pending(), 0u);
  }
}

TEST(FrameBufferTest, ADeclaredLengthCostsNothingUntilTheBytesArrive) {
  FrameBuffer buffer(16u << 20);
  std::vector<std::uint8_t> header(4);
  EncodeFrameLength(header.data(), 16u << 20);  // the largest frame allowed, declared
  std::vector<std::uint8_t> start = header;
  start.resize(4 + 100, 0xAB);
  EXPECT_TRUE(Feed(buffer, start, 4096).empty());
  EXPECT_EQ(buffer.Capacity(), FrameBuffer::kInitialBytes);
  EXPECT_EQ(buffer.Pending(), 104u);
}

TEST(FrameBufferTest, GrowsToOneMaximalFrameAtMostAndShrinksOnceDrained) {
  const std::uint32_t max = 100 * 1024;
  FrameBuffer buffer(max);
  std::vector<std::uint8_t> stream;
  AppendFrame(stream, Body(max, 1));
  AppendFrame(stream, Body(max, 2));
  std::size_t peak = 0;
  EXPECT_EQ(Feed(buffer, stream, 8192, &peak).size(), 2u);
  EXPECT_LE(peak, 4 + max);
  EXPECT_GE(peak, 4 + max);  // a whole maximal frame had to fit
  (void)buffer.WritableTail();
  EXPECT_EQ(buffer.Capacity(), FrameBuffer::kInitialBytes);
}

TEST(FrameBufferTest, BadLengthsAreErrors) {
  struct Case {
    std::uint32_t length;
    Code code;
  };
  for (const Case& c :
       {Case{0, Code::kInvalidArgument}, Case{7, Code::kInvalidArgument},
        Case{1025, Code::kResourceExhausted}, Case{0xFFFFFFFFu, Code::kResourceExhausted}}) {
    FrameBuffer buffer(1024);
    std::span<std::uint8_t> tail = buffer.WritableTail();
    EncodeFrameLength(tail.data(), c.length);
    buffer.Commit(4);
    Result<std::span<const std::uint8_t>> f = buffer.Next();
    ASSERT_FALSE(f.has_value()) << c.length;
    EXPECT_EQ(f.error().code(), c.code) << c.length;
    EXPECT_EQ(buffer.Capacity(), FrameBuffer::kInitialBytes);
  }
}

TEST(FrameBufferTest, ExactlyTheMaximumIsAccepted) {
  FrameBuffer buffer(1024);
  std::vector<std::uint8_t> stream;
  AppendFrame(stream, Body(1024, 9));
  ASSERT_EQ(Feed(buffer, stream, 512).size(), 1u);
}

bool AllZero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

TEST(FrameBufferTest, WipeLastZeroesTheFrameInPlaceAndItsAlignedCopy) {
  FrameBuffer buffer(1024);
  std::vector<std::uint8_t> stream;
  AppendFrame(stream, Body(8, 1));   // body at offset 4: copied to be aligned
  AppendFrame(stream, Body(24, 2));  // body at offset 16: read in place
  std::span<std::uint8_t> tail = buffer.WritableTail();
  std::memcpy(tail.data(), stream.data(), stream.size());
  buffer.Commit(stream.size());
  for (std::uint8_t seed : {1, 2}) {
    Result<std::span<const std::uint8_t>> f = buffer.Next();
    ASSERT_TRUE(f.has_value());
    const std::vector<std::uint8_t> body(f->begin(), f->end());
    EXPECT_EQ(body, Body(f->size(), seed));
    buffer.WipeLast();
    EXPECT_TRUE(AllZero(*f)) << "frame " << int{seed};
  }
}

TEST(FrameBufferTest, MovingAnIncompleteFrameLeavesNoCopyBehind) {
  FrameBuffer buffer(8192);
  std::vector<std::uint8_t> stream;
  AppendFrame(stream, Body(4000, 3));
  AppendFrame(stream, Body(200, 4));
  std::span<std::uint8_t> tail = buffer.WritableTail();
  ASSERT_EQ(tail.size(), FrameBuffer::kInitialBytes);
  std::memcpy(tail.data(), stream.data(), tail.size());
  buffer.Commit(tail.size());
  ASSERT_EQ(buffer.Next()->size(), 4000u);  // not wiped: the move must not keep it either
  ASSERT_TRUE(buffer.Next()->empty());
  const std::size_t pending = buffer.Pending();
  tail = buffer.WritableTail();  // moves the start of the second frame to the front
  EXPECT_EQ(tail.size(), FrameBuffer::kInitialBytes - pending);
  EXPECT_TRUE(AllZero(tail));
}

TEST(FrameBufferTest, GrowingLeavesTheReceivedBytesIntact) {
  FrameBuffer buffer(64 * 1024);
  std::vector<std::uint8_t> stream;
  AppendFrame(stream, Body(20000, 5));
  AppendFrame(stream, Body(100, 6));
  const std::vector<std::vector<std::uint8_t>> frames = Feed(buffer, stream, 3000);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], Body(20000, 5));
  EXPECT_EQ(frames[1], Body(100, 6));
}

}  // namespace
}  // namespace policyd
