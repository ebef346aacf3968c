#include "follow/cursor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sync/cursor.h"

namespace policyd::follow {
namespace {

TEST(FleetCursorTest, EncodesTheDocumentedTextForm) {
  const FleetCursor c{"policyd", 1700000000123456789, 42};
  EXPECT_EQ(c.Encode(), "fleet v1 policyd 1700000000123456789 42");
}

TEST(FleetCursorTest, RoundTrips) {
  for (const FleetCursor& c :
       std::vector<FleetCursor>{{"policyd", 1, 0},
                                {"A-b_9", 1700000000123456789, 18446744073709551615u},
                                {std::string(kMaxBucketNameLength, 'x'), 9223372036854775807, 7}}) {
    Result<FleetCursor> back = FleetCursor::Decode(c.Encode());
    ASSERT_TRUE(back) << c.Encode() << ": " << back.error().ToString();
    EXPECT_EQ(*back, c);
  }
}

TEST(FleetCursorTest, RefusesAnythingItDoesNotWrite) {
  const std::vector<std::string> bad = {
      "",
      "v3 - 0 0\n",
      "fleet v2 policyd 1 1",
      "fleet v1 policyd 1",
      "fleet v1 policyd 1 1 1",
      "fleet v1 policyd 1 1\n",
      "fleet v1 policyd 1  1",
      "fleet v1  1 1",
      "fleet v1 pol.icyd 1 1",
      "fleet v1 pol icyd 1 1",
      "fleet v1 " + std::string(kMaxBucketNameLength + 1, 'x') + " 1 1",
      "fleet v1 policyd 0 1",
      "fleet v1 policyd -1 1",
      "fleet v1 policyd +1 1",
      "fleet v1 policyd 01 1",
      "fleet v1 policyd 1 01",
      "fleet v1 policyd 1 -1",
      "fleet v1 policyd 1 0x1",
      "fleet v1 policyd 9223372036854775808 1",
      "fleet v1 policyd 1 18446744073709551616",
      " fleet v1 policyd 1 1",
      "FLEET V1 policyd 1 1",
  };
  for (const std::string& text : bad) {
    Result<FleetCursor> c = FleetCursor::Decode(text);
    ASSERT_FALSE(c) << "accepted: " << text;
    EXPECT_EQ(c.error().code(), Code::kInvalidArgument) << text;
  }
}

TEST(FleetCursorTest, DirectSyncAndFleetCursorsRefuseEachOther) {
  const std::string fleet = FleetCursor{"policyd", 1700000000123456789, 42}.Encode();
  EXPECT_FALSE(SyncCursor::Decode(fleet));
  const std::string direct =
      SyncCursor::StartingAt(Timestamp{1740820364, 0}, 2'000'000'000).Encode();
  ASSERT_TRUE(SyncCursor::Decode(direct));
  EXPECT_FALSE(FleetCursor::Decode(direct));
}

TEST(PlanStartTest, DecidesColdOrWarm) {
  const std::int64_t created = 1700000000123456789;
  const BucketPosition bucket{"policyd", created, 10, 50};
  auto cursor = [&](std::uint64_t rev) { return FleetCursor{"policyd", created, rev}.Encode(); };
  struct Case {
    const char* name;
    std::string stored;
    BucketPosition bucket;
    bool cold;
    std::uint64_t from;
  };
  const std::vector<Case> cases = {
      {"no cursor", "", bucket, true, 0},
      {"a direct sync's cursor", SyncCursor::StartingAt(Timestamp{1740820364, 0}, 0).Encode(),
       bucket, true, 0},
      {"garbage", "fleet v1 policyd x 1", bucket, true, 0},
      {"another bucket", FleetCursor{"other", created, 20}.Encode(), bucket, true, 0},
      {"a recreated bucket", FleetCursor{"policyd", created - 1, 20}.Encode(), bucket, true, 0},
      {"beyond the last revision", cursor(51), bucket, true, 0},
      {"at the last revision", cursor(50), bucket, false, 51},
      {"inside the stream", cursor(20), bucket, false, 21},
      {"before the first stored revision (compacted)", cursor(3), bucket, false, 4},
      {"an empty bucket's cursor", cursor(0), BucketPosition{"policyd", created, 0, 0}, false, 1},
      {"a revision with no successor", cursor(18446744073709551615u),
       BucketPosition{"policyd", created, 1, 18446744073709551615u}, true, 0},
  };
  for (const Case& c : cases) {
    const StartPlan plan = PlanStart(c.stored, c.bucket);
    EXPECT_EQ(plan.cold, c.cold) << c.name << ": " << plan.reason;
    if (!c.cold) {
      EXPECT_EQ(plan.from_revision, c.from) << c.name;
    }
    EXPECT_FALSE(plan.reason.empty()) << c.name;
  }
}

}  // namespace
}  // namespace policyd::follow
