#include "follow/stall_watch.h"

#include <gtest/gtest.h>

namespace policyd::follow {
namespace {

TEST(StallWatchTest, ACursorThatDidNotMoveWhileNewerRevisionsWaitedIsAStall) {
  StallWatch watch;
  EXPECT_FALSE(watch.Check(10, 12));  // the first check only records
  EXPECT_TRUE(watch.Check(10, 12));   // a whole interval, revisions 11 and 12 never came
  EXPECT_FALSE(watch.Check(10, 12));  // starts over after a stall (a new consumer was made)
  EXPECT_TRUE(watch.Check(10, 13));
}

TEST(StallWatchTest, ACaughtUpFollowerIsNeverStalled) {
  StallWatch watch;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(watch.Check(7, 7));
  // A newer revision appears: that is not a stall before a whole interval has passed with it.
  EXPECT_FALSE(watch.Check(7, 8));
  EXPECT_FALSE(watch.Check(8, 8));
}

TEST(StallWatchTest, AFollowerWorkingThroughABacklogIsNeverStalled) {
  StallWatch watch;
  std::uint64_t cursor = 0;
  for (int i = 0; i < 10; ++i) {
    cursor += 1000;  // moves every interval, far behind the bucket
    EXPECT_FALSE(watch.Check(cursor, 1'000'000));
  }
}

}  // namespace
}  // namespace policyd::follow
