#include "store/left_right.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace policyd {
namespace {

// A state whose halves are changed one after the other by each write: a reader that ever saw
// them differ would have seen a change half-applied.
struct Pair {
  std::vector<std::int64_t> first, second;
};

TEST(LeftRightTest, ReadersNeverSeeAHalfAppliedChange) {
  LeftRight<Pair> lr;
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> reads{0};
  std::vector<std::thread> readers;
  std::atomic<int> failures{0};
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      std::int64_t last = 0;
      while (!done.load()) {
        lr.Read([&](const Pair& p) {
          const std::int64_t seen = p.first.empty() ? 0 : p.first.back();
          if (p.first != p.second || seen < last) failures.fetch_add(1);
          last = seen;
        });
        reads.fetch_add(1);
      }
    });
  }
  // Keep writing until the readers have overlapped many writes (they may start late).
  std::int64_t k = 0;
  while (k < 20000 || (reads.load() < 20000 && k < 5'000'000)) {
    ++k;
    lr.Write([k](Pair& p) {
      p.first.push_back(k);
      if (p.first.size() > 64) p.first.erase(p.first.begin());
      p.second.push_back(k);
      if (p.second.size() > 64) p.second.erase(p.second.begin());
    });
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(reads.load(), 1000);
  lr.Read([k](const Pair& p) {
    ASSERT_FALSE(p.first.empty());
    EXPECT_EQ(p.first.back(), k);
    EXPECT_EQ(p.first, p.second);
  });
}

TEST(LeftRightTest, ReadReturnsTheFunctionsValue) {
  LeftRight<int> lr;
  lr.Write([](int& v) { v += 41; });
  lr.Write([](int& v) { v += 1; });
  EXPECT_EQ(lr.Read([](const int& v) { return v; }), 42);
}

}  // namespace
}  // namespace policyd
