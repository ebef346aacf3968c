#include "server/limits.h"

#include <gtest/gtest.h>

#include <limits>

namespace policyd {
namespace {

TEST(PlanFdBudgetTest, RaisesTheSoftLimitOrLowersTheConnectionLimit) {
  constexpr std::uint64_t kInfinity = std::numeric_limits<std::uint64_t>::max();
  struct Case {
    std::uint64_t soft, hard;
    std::size_t wanted, reserved;
    FdBudget want;
  };
  const Case cases[] = {
      {65536, 65536, 4096, 520, {65536, 4096}},    // the unit's LimitNOFILE: room to spare
      {1024, 524288, 4096, 520, {4616, 4096}},     // systemd's default: raise the soft limit
      {1024, kInfinity, 4096, 520, {4616, 4096}},  // unlimited hard limit
      {1024, 1024, 4096, 520, {1024, 504}},        // cannot raise: fewer connections
      {1024, 2048, 4096, 520, {2048, 1528}},       // raise as far as allowed, still fewer
      {256, 256, 4096, 520, {256, 1}},             // absurdly low: still serve one
      {4616, 4616, 4096, 520, {4616, 4096}},       // exactly enough
  };
  for (const Case& c : cases) {
    const FdBudget got = PlanFdBudget(c.soft, c.hard, c.wanted, c.reserved);
    EXPECT_EQ(got.soft_limit, c.want.soft_limit) << c.soft << "/" << c.hard;
    EXPECT_EQ(got.max_connections, c.want.max_connections) << c.soft << "/" << c.hard;
  }
}

TEST(AcceptRetryDelayTest, DoublesFromTenMillisecondsToTheCap) {
  using std::chrono::milliseconds;
  EXPECT_EQ(AcceptRetryDelay(1), milliseconds(10));
  EXPECT_EQ(AcceptRetryDelay(2), milliseconds(20));
  EXPECT_EQ(AcceptRetryDelay(5), milliseconds(160));
  EXPECT_EQ(AcceptRetryDelay(6), kMaxAcceptRetryDelay);
  EXPECT_EQ(AcceptRetryDelay(1'000'000), kMaxAcceptRetryDelay);
  EXPECT_EQ(AcceptRetryDelay(0), milliseconds(10));
}

TEST(BurstCountTest, ReportsTheFirstEventAndTheTotalOnce) {
  BurstCount burst;
  EXPECT_EQ(burst.End(), 0u);
  EXPECT_TRUE(burst.Add());
  EXPECT_FALSE(burst.Add());
  EXPECT_FALSE(burst.Add());
  EXPECT_EQ(burst.count(), 3u);
  EXPECT_EQ(burst.End(), 3u);
  EXPECT_EQ(burst.End(), 0u);
  EXPECT_TRUE(burst.Add());
}

TEST(ReadDeadlineTest, AnIncompleteFrameShortensTheIdleDeadline) {
  using std::chrono::milliseconds;
  const auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  const milliseconds idle(60'000), frame(10'000);
  EXPECT_EQ(ReadDeadline(t0, idle, frame, std::nullopt), t0 + idle);
  EXPECT_EQ(ReadDeadline(t0, idle, frame, t0), t0 + frame);
  // A frame begun long ago: its deadline has passed, however recent the last byte.
  EXPECT_EQ(ReadDeadline(t0, idle, frame, t0 - milliseconds(30'000)), t0 - milliseconds(20'000));
  // The frame timeout never extends the idle one.
  EXPECT_EQ(ReadDeadline(t0, milliseconds(1000), frame, t0), t0 + milliseconds(1000));
}

}  // namespace
}  // namespace policyd
