#include "publish/bucket_view.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <iostream>

#include "fleet/values.h"
#include "fleet_generated.h"

namespace policyd::publish {
namespace {

SourceVersion V(std::int64_t seconds, const std::string& id) {
  return SourceVersion{Timestamp{seconds, 0}, EventStream{"org", id}, 3};
}

nats::KvEntry Entry(std::string key, std::string value, std::uint64_t revision,
                    nats::KvOp op = nats::KvOp::kPut) {
  nats::KvEntry e;
  e.key = std::move(key);
  e.value = std::move(value);
  e.revision = revision;
  e.op = op;
  return e;
}

std::string OrgValue(const std::string& id, std::int64_t seconds) {
  const fleet::FleetKey key{fleet::KeyKind::kOrg, id};
  return fleet::EncodeValue(
             key, fleet::FleetValue{V(seconds, id), fleet::OrgEntry{OrgRecord{id, std::nullopt},
                                                                    OrgDomains{id, {}, 0, {}}}})
      .value();
}

TEST(SummariseTest, DecodesValuesAndClassifiesTheRest) {
  const std::string value = OrgValue("42", 100);
  std::optional<KeyState> s = Summarise(Entry("domain.org.42", value, 7), nullptr);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (KeyState{7, KeyState::Kind::kValue, V(100, "42"), ValueHash(value)}));

  s = Summarise(Entry("domain.org.42", "", 8, nats::KvOp::kDelete), nullptr);
  EXPECT_EQ(s->kind, KeyState::Kind::kDeleted);
  EXPECT_EQ(s->revision, 8u);
  s = Summarise(Entry("domain.org.42", "", 8, nats::KvOp::kPurge), nullptr);
  EXPECT_EQ(s->kind, KeyState::Kind::kDeleted);

  s = Summarise(Entry("domain.org.42", "garbage", 9), nullptr);
  EXPECT_EQ(s->kind, KeyState::Kind::kUnreadable);
  EXPECT_EQ(s->value_hash, ValueHash("garbage"));
  // A valid value under another org's key is refused like garbage.
  s = Summarise(Entry("domain.org.43", value, 9), nullptr);
  EXPECT_EQ(s->kind, KeyState::Kind::kUnreadable);

  // A schema major this policyd does not know.
  {
    flatbuffers::FlatBufferBuilder fbb;
    const fleet::fb::Timestamp date(1, 0);
    auto version = fleet::fb::CreateSourceVersion(fbb, &date);
    auto org = fleet::fb::CreateOrgEntry(fbb, fbb.CreateString("42"));
    fleet::fb::ValueBuilder b(fbb);
    b.add_schema_major(fleet::kSchemaMajor + 1);
    b.add_version(version);
    b.add_entry_type(fleet::fb::Entry::OrgEntry);
    b.add_entry(org.Union());
    fbb.Finish(b.Finish(), "PDFL");
    const std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    s = Summarise(Entry("domain.org.42", bytes, 10), nullptr);
    EXPECT_EQ(s->kind, KeyState::Kind::kNewerSchema);
  }

  EXPECT_FALSE(Summarise(Entry("other.key", "x", 1), nullptr).has_value());
  EXPECT_FALSE(Summarise(Entry("domain.org.a=2", value, 1), nullptr).has_value());
}

TEST(BucketViewTest, KeepsTheLatestRevisionOfEachKey) {
  BucketView view("heartbeat.me");
  view.Observe(Entry("domain.org.1", OrgValue("1", 200), 5));
  view.Observe(Entry("domain.org.1", OrgValue("1", 100), 3));  // older revision: ignored
  EXPECT_EQ(view.Find("domain.org.1")->version, V(200, "1"));
  view.Set("domain.org.1", KeyState{6, KeyState::Kind::kDeleted, {}, 0});
  EXPECT_EQ(view.Find("domain.org.1")->kind, KeyState::Kind::kDeleted);
  EXPECT_FALSE(view.Find("domain.org.2").has_value());
}

TEST(BucketViewTest, GivesBackEveryVersionExactly) {
  BucketView view("heartbeat.me");
  const std::vector<std::pair<std::string, SourceVersion>> cases = {
      {"domain.org.1", SourceVersion{Timestamp{5, 6}, EventStream{"org", "1"}, 7}},
      {"domain.org.2", SourceVersion{Timestamp{5, 6}, EventStream{"org", "3"}, 7}},
      {"domain.org.4", SourceVersion{Timestamp{5, 6}, EventStream{"iam", "4"}, 7}},
      {"domain.org.a=2Eb", SourceVersion{Timestamp{5, 6}, EventStream{"org", "a.b"}, 7}},
      {"domain.org.5", SourceVersion{Timestamp{5, 6}, {}, 0}},
      {"domain.org.6", SourceVersion{Timestamp{5, 6}, EventStream{"org", ""}, 1}},
      {"domain.instance", SourceVersion{Timestamp{5, 6}, EventStream{"instance", "i"}, 2}},
      {"heartbeat.me", SourceVersion{Timestamp{5, 6}, {}, 0}},
  };
  std::uint64_t revision = 0;
  for (const auto& [key, version] : cases) {
    const KeyState state{++revision, KeyState::Kind::kValue, version, revision * 11};
    view.Set(key, state);
    EXPECT_EQ(view.Find(key), state) << key;
  }
}

TEST(BucketViewTest, KeepsOnlyItsOwnHeartbeatAndFleetKeys) {
  BucketView view("heartbeat.me");
  const fleet::FleetValue hb{SourceVersion{Timestamp{5, 0}, {}, 0},
                             fleet::Heartbeat{"other", Timestamp{5, 0}, "iam", "1"}};
  view.Observe(Entry("heartbeat.other",
                     fleet::EncodeValue({fleet::KeyKind::kHeartbeat, "other"}, hb).value(), 1));
  view.Observe(Entry("not.a.fleet.key", "x", 2));
  EXPECT_EQ(view.size(), 0u);
  view.Observe(Entry("heartbeat.me", "whatever", 3));
  EXPECT_EQ(view.size(), 1u);
}

TEST(BucketViewTest, AFullPassFindsTheOrgKeysItDidNotTouch) {
  BucketView view("heartbeat.me");
  view.Observe(Entry("domain.org.1", OrgValue("1", 100), 1));
  view.Observe(Entry("domain.org.2", OrgValue("2", 100), 2));
  view.Observe(Entry("domain.org.3", "", 3, nats::KvOp::kDelete));  // deleted: not listed
  view.Observe(Entry("domain.org.4", "garbage", 4));                // unreadable: not listed
  view.BeginPass();
  view.Touch("domain.org.1");
  view.Touch("domain.org.99");  // unknown key: nothing happens
  EXPECT_EQ(view.UntouchedOrgKeys(), std::vector<std::string>{"domain.org.2"});
  view.Observe(Entry("domain.org.5", OrgValue("5", 100), 5));  // new during the pass
  EXPECT_EQ(view.UntouchedOrgKeys(), std::vector<std::string>{"domain.org.2"});
  view.BeginPass();  // a new pass forgets the old touches
  std::vector<std::string> all = view.UntouchedOrgKeys();
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::string>{"domain.org.1", "domain.org.2", "domain.org.5"}));
  EXPECT_FALSE(view.caught_up());
  view.SetCaughtUp();
  EXPECT_TRUE(view.caught_up());
  view.Clear();
  EXPECT_FALSE(view.caught_up());
  EXPECT_EQ(view.size(), 0u);
}

std::string KindValue(PolicyKind kind, const std::string& id, std::int64_t seconds,
                      bool tombstone) {
  fleet::KindEntry entry{kind, id, std::nullopt};
  if (!tombstone) entry.policy = EmptyKindPolicy(kind);
  return fleet::EncodeValue({fleet::KeyKind::kKindOrg, id, kind}, {V(seconds, id), entry}).value();
}

TEST(BucketViewTest, KindKeysAreOrgKeysAndTombstonesAreKnown) {
  BucketView view("heartbeat.me");
  const std::string row = KindValue(PolicyKind::kLogin, "7", 100, false);
  const std::string tombstone = KindValue(PolicyKind::kLabelPreview, "7", 101, true);
  view.Observe(Entry("login.org.7", row, 1));
  view.Observe(Entry("label-preview.org.7", tombstone, 2));
  view.Observe(Entry("privacy.org.8", "", 3, nats::KvOp::kDelete));
  EXPECT_EQ(*view.Find("login.org.7"),
            (KeyState{1, KeyState::Kind::kValue, V(100, "7"), ValueHash(row), false}));
  EXPECT_EQ(*view.Find("label-preview.org.7"),
            (KeyState{2, KeyState::Kind::kValue, V(101, "7"), ValueHash(tombstone), true}));
  EXPECT_EQ(view.Find("privacy.org.8")->kind, KeyState::Kind::kDeleted);
  view.BeginPass();
  view.Touch("login.org.7");
  EXPECT_EQ(view.UntouchedOrgKeys(), std::vector<std::string>{"label-preview.org.7"});
}

// The figure docs/fleet.md quotes: heap bytes per key of the view (ZITADEL-like 18-digit ids,
// versions on the org's own stream).
TEST(BucketViewTest, MemoryPerKey) {
  constexpr int kKeys = 100'000;
  const std::string value = OrgValue("300000000000000000", 100);
  std::vector<nats::KvEntry> entries;
  entries.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) {
    const std::string id = std::to_string(300000000000000000ll + i);
    entries.push_back(
        Entry("domain.org." + id, OrgValue(id, 100), static_cast<std::uint64_t>(i + 1)));
  }
  const std::size_t before = mallinfo2().uordblks;
  {
    BucketView view("heartbeat.me");
    for (const nats::KvEntry& e : entries) view.Observe(e);
    const std::size_t after = mallinfo2().uordblks;
    ASSERT_EQ(view.size(), static_cast<std::size_t>(kKeys));
    const double per_key = static_cast<double>(after - before) / kKeys;
    std::cerr << "[ info ] bucket view: " << per_key << " heap bytes per key, "
              << (after - before) / (1 << 20) << " MiB for " << kKeys << " keys\n";
    EXPECT_LT(per_key, 200.0);
  }
}

}  // namespace
}  // namespace policyd::publish
