#include "sync/cursor.h"

#include <gtest/gtest.h>

namespace policyd {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

Event Ev(std::string id, std::uint64_t seq, Timestamp at) {
  Event e;
  e.type = "org.added";
  e.aggregate_type = "org";
  e.aggregate_id = std::move(id);
  e.sequence = seq;
  e.creation_date = at;
  return e;
}

TEST(SyncCursorTest, StartsBeforeTheNewestEventByTheOverlap) {
  SyncCursor c = SyncCursor::StartingAt(Timestamp{100, 5}, 2 * kSecond);
  ASSERT_TRUE(c.from().has_value());
  EXPECT_EQ(*c.from(), (Timestamp{98, 5}));
  EXPECT_FALSE(SyncCursor::StartingAt(std::nullopt, kSecond).from().has_value());
}

TEST(SyncCursorTest, RemembersEventsInsideTheOverlapAndForgetsOlderOnes) {
  SyncCursor c;
  std::vector<Event> page = {Ev("a", 1, {100, 0}), Ev("b", 1, {100, 0}), Ev("a", 2, {103, 0})};
  c.Advance(page, 2 * kSecond);
  EXPECT_EQ(*c.from(), (Timestamp{101, 0}));
  EXPECT_TRUE(c.Seen(page[2]));
  EXPECT_TRUE(c.Seen(page[0]));   // an older sequence of an aggregate still in the window
  EXPECT_FALSE(c.Seen(page[1]));  // b's only event is before `from`: it cannot come back
  EXPECT_EQ(c.seen_count(), 1u);
  // A late event inside the window with the same date as a seen one is not mistaken for it.
  EXPECT_FALSE(c.Seen(Ev("c", 1, {103, 0})));
}

TEST(SyncCursorTest, SameKeyIsSeenWhateverItsDate) {
  SyncCursor c;
  c.Advance({Ev("a", 7, {100, 0})}, 10 * kSecond);
  EXPECT_TRUE(c.Seen(Ev("a", 7, {100, 0})));
  EXPECT_FALSE(c.Seen(Ev("a", 8, {100, 0})));
}

TEST(SyncCursorTest, FromNeverMovesBackwards) {
  SyncCursor c;
  c.Advance({Ev("a", 1, {200, 0})}, kSecond);
  c.Advance({Ev("b", 1, {150, 0})}, kSecond);  // a late, older event
  EXPECT_EQ(*c.from(), (Timestamp{199, 0}));
  EXPECT_EQ(c.newest(), (Timestamp{200, 0}));
}

TEST(SyncCursorTest, EncodeDecodeRoundTrips) {
  SyncCursor c;
  c.Advance({Ev("a b", 1, {100, 5}), Ev("x", 18446744073709551615u, {101, 999999999})},
            5 * kSecond);
  Result<SyncCursor> d = SyncCursor::Decode(c.Encode());
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(*d, c);
  Result<SyncCursor> empty = SyncCursor::Decode(SyncCursor().Encode());
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->from().has_value());
}

// A store written by a policyd that kept no domains has a v1 cursor: refusing it makes the syncer
// do one cold start, which fetches the domains.
TEST(SyncCursorTest, DecodeRefusesACursorOfAVersionWithoutDomains) {
  SyncCursor c;
  c.Advance({Ev("a", 1, {100, 5})}, kSecond);
  std::string v1 = c.Encode();
  ASSERT_TRUE(v1.starts_with("v5 "));
  v1[1] = '1';
  Result<SyncCursor> d = SyncCursor::Decode(v1);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), Code::kInvalidArgument);
  EXPECT_NE(d.error().message().find("kept no domains"), std::string::npos) << d.error().ToString();
}

// A store written by a policyd that compared sequences across event streams may have ignored
// every change of an instance after its stream switched: refusing its v2 cursor makes the syncer
// do one cold start, which reads the state again.
TEST(SyncCursorTest, DecodeRefusesACursorOfAVersionThatComparedStreams) {
  SyncCursor c;
  c.Advance({Ev("a", 1, {100, 5})}, kSecond);
  std::string v2 = c.Encode();
  v2[1] = '2';
  Result<SyncCursor> d = SyncCursor::Decode(v2);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), Code::kInvalidArgument);
  EXPECT_NE(d.error().message().find("event streams"), std::string::npos) << d.error().ToString();
}

// A store written by a policyd that kept only the domain policy: refusing its v3 cursor makes the
// syncer do one cold start, which fetches every other kind.
TEST(SyncCursorTest, DecodeRefusesACursorOfAVersionWithOnlyTheDomainPolicy) {
  SyncCursor c;
  c.Advance({Ev("a", 1, {100, 5})}, kSecond);
  std::string v3 = c.Encode();
  v3[1] = '3';
  Result<SyncCursor> d = SyncCursor::Decode(v3);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("only the domain policy"), std::string::npos)
      << d.error().ToString();
}

// A store written by a policyd that kept every kind but no IdP links of login policies: its v4
// cursor is refused too, so one cold start fetches the links and the IdPs.
TEST(SyncCursorTest, DecodeRefusesACursorOfAVersionWithoutIdpLinks) {
  SyncCursor c;
  c.Advance({Ev("a", 1, {100, 5})}, kSecond);
  std::string v4 = c.Encode();
  v4[1] = '4';
  Result<SyncCursor> d = SyncCursor::Decode(v4);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("no IdP links"), std::string::npos) << d.error().ToString();
}

TEST(SyncCursorTest, DecodeRejectsAnythingElse) {
  for (std::string bad : {"", "v6 - 0.0 0\n", "v5 - 0.0 1\n", "v5 x 0.0 0\n", "v5 - 0.0 0\nzz",
                          "v5 1.1000000000 0.0 0\n", "v5 - 0.0 1\n1.0\torg\tid\tnotanumber\n",
                          "v5 - 0.0 1\n1.0\torg\tid\n"}) {
    EXPECT_FALSE(SyncCursor::Decode(bad).has_value()) << bad;
  }
  SyncCursor c;
  c.Advance({Ev("a", 1, {100, 5})}, kSecond);
  const std::string good = c.Encode();
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(SyncCursor::Decode(good.substr(0, n)).has_value()) << n;
  }
}

TEST(SyncCursorTest, ABurstKeepsTheCursorSmallEnoughForTheStore) {
  SyncCursor c;
  std::vector<Event> burst;
  for (int i = 0; i < 5000; ++i) {
    burst.push_back(Ev("300000000000" + std::to_string(100000 + i), 3,
                       Timestamp{100, static_cast<std::int32_t>(i * 1000)}));
  }
  c.Advance(burst, 2 * kSecond);
  EXPECT_LE(c.Encode().size(), SyncCursor::kMaxEncodedBytes);
  EXPECT_GT(*c.from(), (Timestamp{98, 0}));  // moved past the dropped aggregates
  EXPECT_TRUE(c.Seen(burst.back()));         // the newest are still recognised
  Result<SyncCursor> d = SyncCursor::Decode(c.Encode());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, c);
}

TEST(SyncCursorTest, AddNanosCarriesAcrossSeconds) {
  EXPECT_EQ(AddNanos({10, 500'000'000}, -600'000'000), (Timestamp{9, 900'000'000}));
  EXPECT_EQ(AddNanos({10, 900'000'000}, 200'000'000), (Timestamp{11, 100'000'000}));
  EXPECT_EQ(AddNanos({10, 0}, -2 * kSecond), (Timestamp{8, 0}));
}

}  // namespace
}  // namespace policyd
