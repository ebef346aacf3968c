// The follower and the generic policy kinds' keys (issue #14 item 8) against a real nats-server:
// the test writes <kind>.instance and <kind>.org.<id> itself (no publisher) and reads the
// follower's RocksStore. Cold load, live rows and tombstones, a row read before its org, an org's
// removal, hostile kind values, a warm restart.
#include "follower_test_util.h"
#include "support/kind_samples.h"

namespace policyd::follow::test {
namespace {

using policyd::test::SampleKindPolicy;

std::uint64_t PutKind(BucketWriter& w, PolicyKind kind, const std::string& org,
                      std::int64_t version, std::uint32_t salt = 0, bool tombstone = false) {
  fleet::KindEntry entry{kind, org, std::nullopt};
  if (!tombstone) entry.policy = SampleKindPolicy(kind, salt, org.empty() ? kInstanceId : org);
  return w.Put({org.empty() ? KeyKind::kKindInstance : KeyKind::kKindOrg, org, kind},
               {Version(version, org.empty() ? kInstanceId : org), entry});
}

class FollowerKindsTest : public FollowerTest {
 protected:
  struct KindState {
    bool known = false;
    const KindPolicy* policy = nullptr;
    SourceVersion version;
  };
  // Org `org`'s row of `kind` (empty: the default), read into batch_.
  KindState ReadKind(PolicyKind kind, const std::string& org) {
    batch_.Clear();
    batch_.set_kinds(KindSet::AllStored());
    batch_.set_with_versions(true);
    id_ = org;
    if (!org.empty()) batch_.Add(id_);
    Status s = store_->Read(batch_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (org.empty()) return {true, batch_.kind_default(kind), batch_.kind_default_version(kind)};
    return {batch_.org(0).known, batch_.kind_policy(0, kind), batch_.kind_version(0, kind)};
  }
  std::size_t RowCount() {
    std::size_t n = 0;
    EXPECT_TRUE(store_
                    ->ForEachKindRow([&](const KindRow&, bool has_policy) {
                      n += has_policy ? 1 : 0;
                      return Status::Ok();
                    })
                    .ok());
    return n;
  }

  LookupBatch batch_;
  std::string id_;
};

TEST_F(FollowerKindsTest, ColdLoadAndLiveRowsTombstonesAndRemovals) {
  // A local row the bucket does not have is dropped by the cold start.
  SeedDirectSyncStore({"10", "local-1"});
  StoreChange local;
  local.put_kind_rows.push_back({PolicyKind::kLockout, "local-1",
                                 SampleKindPolicy(PolicyKind::kLockout, 1, "local-1"),
                                 Version(1600000000, "local-1")});
  // Org 10 is in the bucket, its notification row is not.
  local.put_kind_rows.push_back({PolicyKind::kNotification, "10",
                                 SampleKindPolicy(PolicyKind::kNotification, 1, "10"),
                                 Version(1600000000, "10")});
  ASSERT_TRUE(store_->Apply(local, Now()).ok());

  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {"zitadel.example.com"});
  for (PolicyKind kind : fleet::kBucketKinds) PutKind(w, kind, "", 1700000100);
  w.Org("10", 1700000200, true);
  w.Org("11", 1700000300, false);
  PutKind(w, PolicyKind::kLogin, "10", 1700000210, 1);
  PutKind(w, PolicyKind::kLabelPreview, "10", 1700000211, 2);
  PutKind(w, PolicyKind::kPrivacy, "11", 1700000310, 0, true);  // a tombstone
  const std::uint64_t last = w.Heartbeat("pub-1", Timestamp{Now().seconds, 0});
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, last));

  EXPECT_EQ(RowCount(), 8u + 2);  // every default, org 10's two rows
  EXPECT_FALSE(ReadKind(PolicyKind::kLockout, "local-1").known);
  const KindState notification = ReadKind(PolicyKind::kNotification, "10");
  EXPECT_TRUE(notification.known);
  EXPECT_EQ(notification.policy, nullptr);
  for (PolicyKind kind : fleet::kBucketKinds) {
    const KindState def = ReadKind(kind, "");
    ASSERT_NE(def.policy, nullptr) << fleet::KindKeyName(kind);
    EXPECT_EQ(*def.policy, SampleKindPolicy(kind, 0, kInstanceId));
    EXPECT_EQ(def.version, Version(1700000100, kInstanceId));
  }
  KindState login = ReadKind(PolicyKind::kLogin, "10");
  ASSERT_NE(login.policy, nullptr);
  EXPECT_EQ(*login.policy, SampleKindPolicy(PolicyKind::kLogin, 1, "10"));
  EXPECT_EQ(login.version, Version(1700000210, "10"));
  EXPECT_EQ(ReadKind(PolicyKind::kPrivacy, "11").policy, nullptr);  // falls back

  // Live: a changed row, an older one (skipped), an own row removed, a default changed.
  PutKind(w, PolicyKind::kLogin, "10", 1700000220, 5);
  PutKind(w, PolicyKind::kLabelPreview, "10", 1700000100, 6);  // older than the store's
  PutKind(w, PolicyKind::kPasswordAge, "11", 1700000320, 7);
  const std::uint64_t removed = PutKind(w, PolicyKind::kPasswordAge, "11", 1700000330, 0, true);
  const std::uint64_t def = PutKind(w, PolicyKind::kLockout, "", 1700000400, 8);
  ASSERT_TRUE(WaitCursor(*f, std::max(removed, def)));
  login = ReadKind(PolicyKind::kLogin, "10");
  ASSERT_NE(login.policy, nullptr);
  EXPECT_EQ(*login.policy, SampleKindPolicy(PolicyKind::kLogin, 5, "10"));
  const KindState preview = ReadKind(PolicyKind::kLabelPreview, "10");
  ASSERT_NE(preview.policy, nullptr);
  EXPECT_EQ(*preview.policy, SampleKindPolicy(PolicyKind::kLabelPreview, 2, "10"));
  const KindState age = ReadKind(PolicyKind::kPasswordAge, "11");
  EXPECT_EQ(age.policy, nullptr);
  EXPECT_EQ(age.version, Version(1700000330, "11"));  // the tombstone keeps its version
  EXPECT_EQ(*ReadKind(PolicyKind::kLockout, "").policy,
            SampleKindPolicy(PolicyKind::kLockout, 8, kInstanceId));
  EXPECT_GE(f->Status().values_skipped, 1u);

  // The org removed: its marker first, then its kind keys' markers.
  w.Delete("domain.org.10");
  w.Delete("login.org.10");
  const std::uint64_t gone = w.Delete("label-preview.org.10");
  ASSERT_TRUE(WaitCursor(*f, gone));
  EXPECT_FALSE(ReadKind(PolicyKind::kLogin, "10").known);
  EXPECT_EQ(RowCount(), 8u);
  EXPECT_EQ(f->Status().values_refused, 0u);
}

TEST_F(FollowerKindsTest, ARowReadBeforeItsOrgIsHeldAndAppliedWithTheOrg) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {});
  PutKind(w, PolicyKind::kLogin, "", 1700000100);
  PutKind(w, PolicyKind::kLabel, "20", 1700000150, 3);  // org 20 is not in the bucket yet
  std::uint64_t last = w.Heartbeat("pub-1", Timestamp{Now().seconds, 0});
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, last));
  EXPECT_FALSE(ReadKind(PolicyKind::kLabel, "20").known);
  EXPECT_EQ(f->counters().kind_rows_held.load(), 1u);
  // Live too: org 21's row before org 21.
  PutKind(w, PolicyKind::kPrivacy, "21", 1700000160, 4);
  last = PutKind(w, PolicyKind::kPrivacy, "22", 1700000160, 4);
  ASSERT_TRUE(WaitCursor(*f, last));
  EXPECT_EQ(f->counters().kind_rows_held.load(), 3u);
  EXPECT_FALSE(ReadKind(PolicyKind::kPrivacy, "21").known);
  // The orgs arrive: each with its held row, in the org's batch.
  w.Org("20", 1700000140, false);
  w.Org("21", 1700000140, false);
  ASSERT_TRUE(WaitCursor(*f, w.Delete("domain.org.22")));  // removed: its held row is dropped
  last = w.Org("22", 1700000170, false);  // a put over the marker (a test writer, not a
                                          // publisher): the dropped row does not come back
  ASSERT_TRUE(WaitCursor(*f, last));
  KindState label = ReadKind(PolicyKind::kLabel, "20");
  ASSERT_NE(label.policy, nullptr);
  EXPECT_EQ(*label.policy, SampleKindPolicy(PolicyKind::kLabel, 3, "20"));
  EXPECT_EQ(label.version, Version(1700000150, "20"));
  ASSERT_NE(ReadKind(PolicyKind::kPrivacy, "21").policy, nullptr);
  const KindState dropped = ReadKind(PolicyKind::kPrivacy, "22");
  EXPECT_TRUE(dropped.known);
  EXPECT_EQ(dropped.policy, nullptr);
}

TEST_F(FollowerKindsTest, HostileKindValuesAreRefusedAndTheStoreKeepsItsRows) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {});
  w.Org("10", 1700000200, false);
  PutKind(w, PolicyKind::kLogin, "10", 1700000210, 1);
  std::uint64_t last = PutKind(w, PolicyKind::kLogin, "", 1700000100, 2);
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, last));
  ASSERT_NE(ReadKind(PolicyKind::kLogin, "10").policy, nullptr);

  // Garbage, a label row under a login key, a row under another org's key, an unknown kind's
  // key, a marker on a default.
  const std::string label =
      fleet::EncodeValue({KeyKind::kKindOrg, "10", PolicyKind::kLabel},
                         {Version(1700000300, "10"),
                          fleet::KindEntry{PolicyKind::kLabel, "10",
                                           SampleKindPolicy(PolicyKind::kLabel, 1, "10")}})
          .value();
  // One at a time: with history 1 a value superseded before the follower read it is gone.
  auto each = [&](std::uint64_t revision) { return WaitCursor(*f, revision); };
  ASSERT_TRUE(each(w.Raw("login.org.10", "garbage")));
  ASSERT_TRUE(each(w.Raw("login.org.10", label)));
  ASSERT_TRUE(each(w.Raw("label.org.11", label)));
  ASSERT_TRUE(each(w.Raw("password-strength.org.10", label)));
  ASSERT_TRUE(each(w.Delete("login.instance")));
  // A damaged label row under the login key (refused whether or not the damage decodes).
  last = w.Raw("login.org.10", std::string(label).replace(label.size() / 2, 4, "\xff\xff\xff\xff"));
  ASSERT_TRUE(each(last));
  EXPECT_EQ(f->Status().values_refused, 6u);
  EXPECT_EQ(f->counters().refused_by_reason[static_cast<std::size_t>(RefusalReason::kKey)], 1u);
  EXPECT_EQ(f->counters().refused_by_reason[static_cast<std::size_t>(RefusalReason::kMarker)], 1u);
  const KindState login = ReadKind(PolicyKind::kLogin, "10");
  ASSERT_NE(login.policy, nullptr);  // unchanged
  EXPECT_EQ(*login.policy, SampleKindPolicy(PolicyKind::kLogin, 1, "10"));
  EXPECT_NE(ReadKind(PolicyKind::kLogin, "").policy, nullptr);

  // A cold start over the same bucket: the refused row keeps the local one.
  f->Stop();
  StoreChange reset;
  reset.cursor = "";  // no fleet cursor: the next start is a cold one
  ASSERT_TRUE(store_->Apply(reset, Now()).ok());
  f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, last));
  EXPECT_EQ(f->Status().cold_starts, 1u);
  ASSERT_NE(ReadKind(PolicyKind::kLogin, "10").policy, nullptr);
}

TEST_F(FollowerKindsTest, AWarmRestartResumesKindKeysFromItsCursor) {
  BucketWriter w(server_.Urls());
  ASSERT_TRUE(w.ok());
  w.Instance(1700000100, {});
  for (int i = 0; i < 20; ++i) {
    w.Org(std::to_string(100 + i), 1700000200, false);
    PutKind(w, PolicyKind::kPasswordComplexity, std::to_string(100 + i), 1700000200, i);
  }
  std::uint64_t last = w.Heartbeat("pub-1", Timestamp{Now().seconds, 0});
  std::unique_ptr<Follower> f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, last));
  f->Stop();
  f.reset();
  PutKind(w, PolicyKind::kPasswordComplexity, "105", 1700000300, 50);
  last = PutKind(w, PolicyKind::kPasswordComplexity, "106", 1700000300, 0, true);
  f = StartFollower();
  ASSERT_TRUE(WaitCursor(*f, last));
  EXPECT_EQ(f->Status().cold_starts, 0u);
  EXPECT_EQ(f->counters().messages_read.load(), 2u);  // only what came after the cursor
  EXPECT_EQ(*ReadKind(PolicyKind::kPasswordComplexity, "105").policy,
            SampleKindPolicy(PolicyKind::kPasswordComplexity, 50, "105"));
  EXPECT_EQ(ReadKind(PolicyKind::kPasswordComplexity, "106").policy, nullptr);
}

}  // namespace
}  // namespace policyd::follow::test
