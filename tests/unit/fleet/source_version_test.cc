#include "fleet/source_version.h"

#include <gtest/gtest.h>

#include <vector>

namespace policyd::fleet {
namespace {

using std::strong_ordering;

const Timestamp kD1{1740820364, 123456000};
const Timestamp kD1Later{1740820364, 123456001};
const Timestamp kD2{1740820400, 0};

// Every combination of a few dates, streams and sequences, including unknown ones.
std::vector<SourceVersion> AllVersions() {
  const std::vector<Timestamp> dates = {{}, kD1, kD1Later, kD2};
  const std::vector<EventStream> streams = {
      {}, {"iam", "IAM"}, {"instance", "IAM"}, {"instance", "300000000000000001"}, {"org", "42"}};
  const std::vector<std::uint64_t> sequences = {0, 1, 5, 1000};
  std::vector<SourceVersion> out;
  for (const Timestamp& d : dates) {
    for (const EventStream& s : streams) {
      for (std::uint64_t q : sequences) out.push_back({d, s, q});
    }
  }
  return out;
}

TEST(SourceVersionTest, NewerDateWinsWhateverTheStreamAndSequence) {
  // An instance that moved from ("iam", "IAM") to ("instance", <id>): the new stream restarts
  // at 1, yet its event is newer.
  const SourceVersion old_stream{kD1, {"iam", "IAM"}, 1000};
  const SourceVersion new_stream{kD2, {"instance", "300000000000000001"}, 1};
  EXPECT_EQ(CompareSourceVersion(old_stream, new_stream), strong_ordering::less);
  EXPECT_EQ(CompareSourceVersion(new_stream, old_stream), strong_ordering::greater);
  EXPECT_EQ(CompareSourceVersion({kD1, {"org", "42"}, 9}, {kD1Later, {"org", "42"}, 3}),
            strong_ordering::less);
}

TEST(SourceVersionTest, SameDateAndStreamComparesSequences) {
  EXPECT_EQ(CompareSourceVersion({kD1, {"org", "42"}, 4}, {kD1, {"org", "42"}, 5}),
            strong_ordering::less);
  EXPECT_EQ(CompareSourceVersion({kD1, {"org", "42"}, 5}, {kD1, {"org", "42"}, 5}),
            strong_ordering::equal);
  EXPECT_EQ(CompareSourceVersion({kD1, {}, 6}, {kD1, {}, 5}), strong_ordering::greater);
}

TEST(SourceVersionTest, SameDateOtherStreamsBreakTheTieByStreamName) {
  // ("instance", "IAM") sorts after ("iam", "IAM") whatever the sequences.
  EXPECT_EQ(CompareSourceVersion({kD1, {"iam", "IAM"}, 1000}, {kD1, {"instance", "IAM"}, 1}),
            strong_ordering::less);
  EXPECT_EQ(CompareSourceVersion({kD1, {"instance", "IAM"}, 1}, {kD1, {"instance", "1"}, 9}),
            strong_ordering::greater);
  // A known stream sorts after an unknown one (a snapshot's state at the same date).
  EXPECT_EQ(CompareSourceVersion({kD1, {}, 0}, {kD1, {"org", "42"}, 1}), strong_ordering::less);
}

TEST(SourceVersionTest, IsATotalOrderConsistentWithEquality) {
  const std::vector<SourceVersion> all = AllVersions();
  for (const SourceVersion& a : all) {
    for (const SourceVersion& b : all) {
      const strong_ordering ab = CompareSourceVersion(a, b);
      const strong_ordering ba = CompareSourceVersion(b, a);
      ASSERT_EQ(ab == strong_ordering::equal, a == b);
      ASSERT_EQ(ab == strong_ordering::less, ba == strong_ordering::greater);
      if (a.date != b.date) {
        ASSERT_EQ(ab, a.date <=> b.date);
      }
      if (a.date == b.date && a.stream == b.stream) {
        ASSERT_EQ(ab, a.sequence <=> b.sequence);
      }
    }
  }
  // Transitivity over every triple.
  for (const SourceVersion& a : all) {
    for (const SourceVersion& b : all) {
      if (CompareSourceVersion(a, b) != strong_ordering::less) continue;
      for (const SourceVersion& c : all) {
        if (CompareSourceVersion(b, c) == strong_ordering::less) {
          ASSERT_EQ(CompareSourceVersion(a, c), strong_ordering::less);
        }
      }
    }
  }
}

TEST(SourceVersionTest, PublisherWritesOnlyStrictlyNewer) {
  const SourceVersion v{kD1, {"org", "42"}, 5};
  EXPECT_FALSE(PublisherShouldWrite(v, v));
  EXPECT_FALSE(PublisherShouldWrite(v, {kD1, {"org", "42"}, 4}));
  EXPECT_TRUE(PublisherShouldWrite(v, {kD1, {"org", "42"}, 6}));
  EXPECT_TRUE(PublisherShouldWrite({}, v));
  EXPECT_FALSE(PublisherShouldWrite({kD2, {"org", "42"}, 1}, v));
}

TEST(SourceVersionTest, FollowerAppliesEqualOrNewer) {
  const SourceVersion v{kD1, {"org", "42"}, 5};
  EXPECT_TRUE(FollowerShouldApply(v, v));
  EXPECT_TRUE(FollowerShouldApply(v, {kD2, {}, 0}));
  EXPECT_FALSE(FollowerShouldApply(v, {kD1, {"org", "42"}, 4}));
  EXPECT_FALSE(FollowerShouldApply(v, {}));
}

}  // namespace
}  // namespace policyd::fleet
