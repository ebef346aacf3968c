// The hot path's counting cells and the quantile estimate `policyctl top` uses.
#include "metrics/cells.h"

#include <gtest/gtest.h>

#include <thread>

#include "metrics/quantile.h"

namespace policyd::metrics {
namespace {

TEST(SingleWriterCounterTest, AddsAndIsReadFromAnotherThread) {
  SingleWriterCounter c;
  std::thread writer([&c] {
    for (int i = 0; i < 100'000; ++i) c.Add();
    c.Add(5);
  });
  writer.join();
  EXPECT_EQ(c.Load(), 100'005u);
}

TEST(LatencyCellsTest, AValueOnABoundLandsInThatBucketAndAboveTheLastInInf) {
  struct Case {
    std::uint64_t ns;
    std::size_t bucket;
  };
  const Case cases[] = {
      {0, 0},     {1'000, 0},          {1'001, 1},          {2'000, 1},
      {4'999, 2}, {1'000'000'000, 18}, {1'000'000'001, 19}, {~std::uint64_t{0} / 4, 19}};
  for (const Case& c : cases) {
    LatencyCells cells;
    cells.Record(c.ns, 3);
    LatencyHistogram h;
    cells.AddTo(h);
    ASSERT_EQ(h.counts.size(), kLatencyBoundsNs.size() + 1);
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
      EXPECT_EQ(h.counts[i], i == c.bucket ? 3u : 0u) << c.ns << " bucket " << i;
    }
    EXPECT_EQ(h.sum_ns, 3 * c.ns);
  }
}

TEST(LatencyCellsTest, AddToSumsSeveralThreadsCells) {
  LatencyCells a, b;
  a.Record(1'500, 2);
  b.Record(1'500, 1);
  b.Record(3'000'000, 1);
  LatencyHistogram h;
  a.AddTo(h);
  b.AddTo(h);
  EXPECT_EQ(h.counts[1], 3u);
  EXPECT_EQ(h.counts[11], 1u);
  EXPECT_EQ(h.Total(), 4u);
  EXPECT_EQ(h.sum_ns, 4'500u + 3'000'000u);
}

TEST(HistogramQuantileTest, InterpolatesInsideTheBucketLikePromQL) {
  const std::vector<std::uint64_t> bounds = {1000, 2000, 5000};
  struct Case {
    std::vector<std::uint64_t> counts;
    double q;
    std::optional<double> want;
  };
  const Case cases[] = {
      {{10, 0, 0, 0}, 0.5, 500.0},        // first bucket starts at 0
      {{0, 10, 0, 0}, 0.5, 1500.0},       // halfway through (1000, 2000]
      {{5, 5, 0, 0}, 0.5, 1000.0},        // exactly the first bucket's top
      {{0, 0, 10, 0}, 0.9, 4700.0},       // 2000 + 0.9 * 3000
      {{0, 0, 0, 4}, 0.99, 5000.0},       // above the last bound: the last bound
      {{0, 0, 0, 0}, 0.5, std::nullopt},  // nothing observed
      {{1, 2, 3}, 0.5, std::nullopt},     // sizes do not match
      {{100, 0, 0, 1}, 1.0, 5000.0},      // the maximum is in +Inf
      {{3, 1, 0, 0}, 0.0, 0.0},           // q = 0: the lower edge
  };
  for (const Case& c : cases) {
    std::optional<double> got = HistogramQuantile(bounds, c.counts, c.q);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.q;
    if (got) {
      EXPECT_DOUBLE_EQ(*got, *c.want) << c.q;
    }
  }
}

}  // namespace
}  // namespace policyd::metrics
