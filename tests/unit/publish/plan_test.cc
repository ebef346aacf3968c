#include "publish/plan.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sync/cursor.h"

namespace policyd::publish {
namespace {

fleet::SourceVersion V(std::int64_t seconds, std::uint64_t sequence = 1,
                       std::string stream_id = "42") {
  return fleet::SourceVersion{Timestamp{seconds, 0}, EventStream{"org", std::move(stream_id)},
                              sequence};
}

KeyState Value(std::uint64_t revision, fleet::SourceVersion version, std::uint64_t hash = 7) {
  return KeyState{revision, KeyState::Kind::kValue, std::move(version), hash};
}

KeyState Other(std::uint64_t revision, KeyState::Kind kind) {
  return KeyState{revision, kind, {}, 9};
}

Decision Put(std::uint64_t guard) { return {Action::kPut, guard, SkipReason::kNone}; }
Decision Delete(std::uint64_t guard) { return {Action::kDelete, guard, SkipReason::kNone}; }
Decision Skip(SkipReason reason) { return {Action::kSkip, 0, reason}; }

TEST(DecidePutTest, AbsentKeyIsCreatedWithTheNoMessageGuard) {
  EXPECT_EQ(DecidePut(nullptr, Desired{V(100), 7}, false), Put(0));
}

TEST(DecidePutTest, WritesOnlyAStrictlyNewerVersion) {
  const KeyState held = Value(5, V(100, 3));
  EXPECT_EQ(DecidePut(&held, Desired{V(101, 1), 7}, false), Put(5));  // newer date
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 4), 7}, false), Put(5));  // same date, later seq
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 3), 7}, false), Skip(SkipReason::kNotOlder));
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 2), 8}, false), Skip(SkipReason::kNotOlder));
  EXPECT_EQ(DecidePut(&held, Desired{V(99, 9), 8}, true), Skip(SkipReason::kNotOlder));
}

TEST(DecidePutTest, AntiEntropyRewritesAnEqualVersionOnlyWhenTheBytesDiffer) {
  const KeyState held = Value(5, V(100, 3), /*hash=*/7);
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 3), 8}, false), Skip(SkipReason::kNotOlder));
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 3), 8}, true), Put(5));
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 3), 7}, true), Skip(SkipReason::kNotOlder));
  // Equal dates on another stream are not "equal": the stream names order them.
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 3, "43"), 8}, false), Put(5));
  EXPECT_EQ(DecidePut(&held, Desired{V(100, 3, "41"), 8}, true), Skip(SkipReason::kNotOlder));
}

TEST(DecidePutTest, NeverPutsOverADeleteMarker) {
  const KeyState marker = Other(9, KeyState::Kind::kDeleted);
  EXPECT_EQ(DecidePut(&marker, Desired{V(1'000'000), 7}, false), Skip(SkipReason::kMarker));
  EXPECT_EQ(DecidePut(&marker, Desired{V(1'000'000), 7}, true), Skip(SkipReason::kMarker));
}

TEST(DecidePutTest, GarbageCountsAsOlderAndANewerSchemaAsNewer) {
  const KeyState garbage = Other(4, KeyState::Kind::kUnreadable);
  const KeyState newer = Other(4, KeyState::Kind::kNewerSchema);
  EXPECT_EQ(DecidePut(&garbage, Desired{V(0, 0), 7}, false), Put(4));
  EXPECT_EQ(DecidePut(&newer, Desired{V(1'000'000), 7}, true), Skip(SkipReason::kNewerSchema));
}

TEST(DecideDeleteTest, DeletesOnlyUpToTheHorizon) {
  const KeyState held = Value(6, V(100));
  for (bool seen : {false, true}) {
    EXPECT_EQ(DecideDelete(&held, Timestamp{100, 0}, seen), Delete(6));
    EXPECT_EQ(DecideDelete(&held, Timestamp{200, 0}, seen), Delete(6));
    EXPECT_EQ(DecideDelete(&held, Timestamp{99, 999'999'999}, seen),
              Skip(SkipReason::kBeyondHorizon));
    EXPECT_EQ(DecideDelete(&held, Timestamp{}, seen), Skip(SkipReason::kBeyondHorizon));
  }
}

TEST(DecideDeleteTest, LeavesAbsentDeletedForeignAndUnreadableKeysAlone) {
  const KeyState marker = Other(2, KeyState::Kind::kDeleted);
  const KeyState garbage = Other(2, KeyState::Kind::kUnreadable);
  const KeyState newer = Other(2, KeyState::Kind::kNewerSchema);
  const Timestamp far{4'000'000'000, 0};
  for (bool seen : {false, true}) {
    EXPECT_EQ(DecideDelete(&marker, far, seen), Skip(SkipReason::kAbsent));
    EXPECT_EQ(DecideDelete(&garbage, far, seen), Skip(SkipReason::kUnreadable));
    EXPECT_EQ(DecideDelete(&newer, far, seen), Skip(SkipReason::kNewerSchema));
  }
  EXPECT_EQ(DecideDelete(nullptr, far, false), Skip(SkipReason::kAbsent));
}

TEST(DecideDeleteTest, ARemovalItAppliedMarksEvenAKeyNeverWritten) {
  // So that a lagging publisher, which still has the org, can never create the key later.
  EXPECT_EQ(DecideDelete(nullptr, Timestamp{}, true), Delete(0));
}

TEST(SkipReasonTest, EveryReasonHasAName) {
  for (SkipReason r :
       {SkipReason::kNone, SkipReason::kNotOlder, SkipReason::kMarker, SkipReason::kNewerSchema,
        SkipReason::kAbsent, SkipReason::kUnreadable, SkipReason::kBeyondHorizon}) {
    EXPECT_NE(SkipReasonName(r), "unknown");
  }
}

TEST(HorizonTest, FromTheSyncCursor) {
  EXPECT_EQ(HorizonFromCursor("").value(), Horizon{});
  const SyncCursor cursor = SyncCursor::StartingAt(Timestamp{1000, 0}, 2 * kNanosPerSecond);
  Result<Horizon> h = HorizonFromCursor(cursor.Encode());
  ASSERT_TRUE(h.has_value()) << h.error().ToString();
  EXPECT_EQ(h->removed, (Timestamp{1000, 0}));
  // Newest minus the overlap window (from()), minus the margin.
  EXPECT_EQ(h->absent, (Timestamp{998 - kAbsentMarginSeconds, 0}));
  const SyncCursor empty = SyncCursor::StartingAt(std::nullopt, 2 * kNanosPerSecond);
  EXPECT_EQ(HorizonFromCursor(empty.Encode()).value(), Horizon{});
  Result<Horizon> bad = HorizonFromCursor("v9 garbage");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
}

TEST(MsgIdTest, DependsOnEveryInputAndNothingElse) {
  const std::string base = MsgId("domain.org.1", false, V(100, 3), "bytes", 5);
  EXPECT_EQ(base.size(), 32u);
  EXPECT_EQ(base.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(MsgId("domain.org.1", false, V(100, 3), "bytes", 5), base);
  std::set<std::string> ids{
      base,
      MsgId("domain.org.2", false, V(100, 3), "bytes", 5),
      MsgId("domain.org.1", true, V(100, 3), "bytes", 5),
      MsgId("domain.org.1", false, V(101, 3), "bytes", 5),
      MsgId("domain.org.1", false, V(100, 4), "bytes", 5),
      MsgId("domain.org.1", false, V(100, 3, "43"), "bytes", 5),
      MsgId("domain.org.1", false, V(100, 3), "bytez", 5),
      MsgId("domain.org.1", false, V(100, 3), "bytes", 6),
      // Field boundaries count: moving a byte from the key into the value is another id.
      MsgId("domain.org.", false, V(100, 3), "1bytes", 5),
  };
  EXPECT_EQ(ids.size(), 9u);
}

TEST(ValueHashTest, IsFnv1a) {
  EXPECT_EQ(ValueHash(""), 14695981039346656037ull);
  EXPECT_EQ(ValueHash("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_NE(ValueHash("ab"), ValueHash("ba"));
}

TEST(HeartbeatSourceTest, KeepsTheHostOnly) {
  EXPECT_EQ(HeartbeatSource("https://iam.example.com"), "iam.example.com");
  EXPECT_EQ(HeartbeatSource("https://user:secret@iam.example.com:8443/path?token=x#f"),
            "iam.example.com");
  EXPECT_EQ(HeartbeatSource("http://[::1]:8080/x"), "[::1]");
  EXPECT_EQ(HeartbeatSource("iam.example.com/x"), "iam.example.com");
  EXPECT_EQ(HeartbeatSource("http://a@b@host"), "host");
  EXPECT_EQ(HeartbeatSource("https://example.com?x=a@b"), "example.com");
  EXPECT_EQ(HeartbeatSource(""), "");
  EXPECT_EQ(HeartbeatSource("https://" + std::string(300, 'h')).size(), 255u);
}

TEST(SnapshotSourceTest, KeepsTheFileName) {
  EXPECT_EQ(SnapshotSource("/etc/policyd/snapshot.json"), "snapshot.json");
  EXPECT_EQ(SnapshotSource("snapshot.json"), "snapshot.json");
}

}  // namespace
}  // namespace policyd::publish
