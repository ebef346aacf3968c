// The rows of the generic policy kinds in the RocksDB store and behind the in-memory index:
// Apply/Read/Replace/ForEachKindRow round trips of every kind, tombstones, org removal,
// validation, reopening, and the two stores answering alike.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <set>

#include "store/indexed_store.h"
#include "unit/store/kind_test_util.h"
#include "unit/store/store_test_util.h"

namespace policyd {
namespace {

KindRowChange Row(PolicyKind kind, std::string org, std::optional<KindPolicy> policy,
                  std::optional<SourceVersion> version = std::nullopt) {
  return KindRowChange{kind, std::move(org), std::move(policy), std::move(version)};
}

// Opens a RocksStore in `dir`, wrapped with the index when `indexed` (waiting for its load).
std::unique_ptr<Store> OpenKindStore(const std::string& dir, bool indexed) {
  std::unique_ptr<RocksStore> base = OpenStore(dir);
  if (!indexed || base == nullptr) return base;
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<IndexLoad> load;
  };
  auto wait = std::make_shared<Wait>();
  std::unique_ptr<Store> store = WithMemoryIndex(std::move(base), [wait](const IndexLoad& load) {
    std::lock_guard lock(wait->mu);
    wait->load = load;
    wait->cv.notify_all();
  });
  std::unique_lock lock(wait->mu);
  wait->cv.wait(lock, [&] { return wait->load.has_value(); });
  EXPECT_TRUE(wait->load->status.ok()) << wait->load->status.ToString();
  return store;
}

class KindRowsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    store_ = OpenKindStore(dir_.path(), GetParam());
    ASSERT_NE(store_, nullptr);
    StoreChange base;
    base.instance = Instance();
    for (const char* id : {"a", "a:1", "b", "c"}) base.put_orgs.push_back(Org(id));
    ASSERT_TRUE(store_->Apply(base, At(1)).ok());
  }
  void Reopen() {
    store_.reset();
    store_ = OpenKindStore(dir_.path(), GetParam());
    ASSERT_NE(store_, nullptr);
  }

  // Every default, every row of org "a", and kinds 1, 3 and 8 of "a:1" (an id that shares a
  // prefix with "a"), each with its own version.
  StoreChange Full() const {
    StoreChange change;
    std::uint64_t n = 10;
    for (PolicyKind k : StoredGenericKinds()) {
      change.put_kind_rows.push_back(Row(k, "", SeededPolicy(k, n, "inst-1"), KindVersion(n)));
      ++n;
      change.put_kind_rows.push_back(Row(k, "a", SeededPolicy(k, n, "a"), KindVersion(n)));
      ++n;
    }
    for (PolicyKind k :
         {PolicyKind::kPasswordComplexity, PolicyKind::kLockout, PolicyKind::kLabelPreview}) {
      change.put_kind_rows.push_back(Row(k, "a:1", SeededPolicy(k, n, "a:1"), KindVersion(n)));
      ++n;
    }
    return change;
  }
  // What ForEachKindRow() should visit after Full().
  static std::vector<SeenKindRow> FullRows(const StoreChange& change) {
    std::vector<SeenKindRow> out;
    for (const KindRowChange& r : change.put_kind_rows) {
      if (r.org_id.empty()) out.push_back({KindRow{"", *r.policy, *r.version}, true});
    }
    for (const char* id : {"a", "a:1"}) {
      for (const KindRowChange& r : change.put_kind_rows) {
        if (r.org_id == id) out.push_back({KindRow{id, *r.policy, *r.version}, true});
      }
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(KindRowsTest, EveryKindRoundTripsThroughApplyReadAndForEachKindRow) {
  const StoreChange change = Full();
  ASSERT_TRUE(store_->Apply(change, At(2)).ok());
  const std::vector<SeenKindRow> want = FullRows(change);
  EXPECT_EQ(KindRows(*store_), want);
  EXPECT_EQ(ReadKinds(*store_, {"a", "a:1"}, /*versions=*/true), want);
  // Without versions: the same policies, versions zero.
  std::vector<SeenKindRow> no_versions = want;
  for (SeenKindRow& r : no_versions) r.row.version = {};
  EXPECT_EQ(ReadKinds(*store_, {"a", "a:1"}, /*versions=*/false), no_versions);
  // Orgs without rows, unknown orgs: nothing of their own; only the kinds asked for are read.
  LookupBatch batch;
  batch.set_kinds(KindSet::Of(PolicyKind::kLockout));
  batch.Add("b");
  batch.Add("nobody");
  batch.Add("a");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.kind_policy(0, PolicyKind::kLockout), nullptr);
  EXPECT_EQ(batch.kind_policy(1, PolicyKind::kLockout), nullptr);
  ASSERT_NE(batch.kind_policy(2, PolicyKind::kLockout), nullptr);
  EXPECT_EQ(*batch.kind_policy(2, PolicyKind::kLockout),
            SeededPolicy(PolicyKind::kLockout, 15, "a"));
  EXPECT_EQ(batch.kind_policy(2, PolicyKind::kLogin), nullptr);  // not asked for
  EXPECT_EQ(batch.kind_default(PolicyKind::kLogin), nullptr);
  ASSERT_NE(batch.kind_default(PolicyKind::kLockout), nullptr);
  EXPECT_EQ(batch.org(2).known, true);  // the domain policy is read as before
}

TEST_P(KindRowsTest, AChangeStampsLastChangeAndAVersionAloneDoesNot) {
  ASSERT_TRUE(store_->Apply(Full(), At(2)).ok());
  StoreChange version_only;
  version_only.put_kind_rows.push_back(
      Row(PolicyKind::kLockout, "a", SeededPolicy(PolicyKind::kLockout, 15, "a"), KindVersion(99)));
  ASSERT_TRUE(store_->Apply(version_only, At(3)).ok());
  EXPECT_EQ(store_->Meta()->last_change, At(2));
  EXPECT_EQ(ReadKinds(*store_, {"a"}, true)[8 + 2].row.version, KindVersion(99));
  StoreChange content;
  content.put_kind_rows.push_back(
      Row(PolicyKind::kLockout, "a", SeededPolicy(PolicyKind::kLockout, 99, "a")));
  ASSERT_TRUE(store_->Apply(content, At(4)).ok());
  EXPECT_EQ(store_->Meta()->last_change, At(4));
  // The version was kept (none given).
  EXPECT_EQ(ReadKinds(*store_, {"a"}, true)[8 + 2].row.version, KindVersion(99));
  StoreChange same_default;
  same_default.put_kind_rows.push_back(
      Row(PolicyKind::kLogin, "", SeededPolicy(PolicyKind::kLogin, 16, "inst-1")));
  ASSERT_TRUE(store_->Apply(same_default, At(5)).ok());
  EXPECT_EQ(store_->Meta()->last_change, At(4));
}

TEST_P(KindRowsTest, ARemovedRowKeepsItsVersionUntilTheOrgGoes) {
  ASSERT_TRUE(store_->Apply(Full(), At(2)).ok());
  StoreChange remove;
  remove.put_kind_rows.push_back(Row(PolicyKind::kLabel, "a", std::nullopt, KindVersion(500)));
  remove.put_kind_rows.push_back(Row(PolicyKind::kLogin, "b", std::nullopt, KindVersion(501)));
  remove.put_kind_rows.push_back(Row(PolicyKind::kLogin, "c", std::nullopt));  // nothing to keep
  ASSERT_TRUE(store_->Apply(remove, At(3)).ok());
  EXPECT_EQ(store_->Meta()->last_change, At(3));

  LookupBatch batch;
  batch.set_kinds(KindSet::Of(PolicyKind::kLabel));
  batch.set_with_versions(true);
  batch.Add("a");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.kind_policy(0, PolicyKind::kLabel), nullptr);
  EXPECT_EQ(batch.kind_version(0, PolicyKind::kLabel), KindVersion(500));
  ASSERT_NE(batch.kind_default(PolicyKind::kLabel), nullptr);  // what it falls back to

  std::vector<SeenKindRow> rows = KindRows(*store_);
  auto find = [&](const std::string& org, PolicyKind k) -> const SeenKindRow* {
    for (const SeenKindRow& r : rows)
      if (r.row.org_id == org && r.row.policy.kind == k) return &r;
    return nullptr;
  };
  ASSERT_NE(find("a", PolicyKind::kLabel), nullptr);
  EXPECT_FALSE(find("a", PolicyKind::kLabel)->has_policy);
  EXPECT_EQ(find("a", PolicyKind::kLabel)->row.version, KindVersion(500));
  ASSERT_NE(find("b", PolicyKind::kLogin), nullptr);
  EXPECT_EQ(find("b", PolicyKind::kLogin)->row.version, KindVersion(501));
  EXPECT_EQ(find("c", PolicyKind::kLogin), nullptr);
  EXPECT_EQ(ReadKinds(*store_, {"a", "a:1", "b", "c"}, true).size(), rows.size());

  // Removing the orgs drops every row of theirs, tombstones included; re-adding one in the same
  // change starts it without rows.
  StoreChange gone;
  gone.removed_orgs = {"a", "b"};
  gone.put_orgs.push_back(Org("b"));
  ASSERT_TRUE(store_->Apply(gone, At(4)).ok());
  rows = KindRows(*store_);
  for (const SeenKindRow& r : rows) {
    EXPECT_NE(r.row.org_id, "a");
    EXPECT_NE(r.row.org_id, "b");
  }
  EXPECT_EQ(rows.size(), StoredGenericKinds().size() + 3);  // defaults and a:1's
  EXPECT_EQ(ReadKinds(*store_, {"a", "a:1", "b"}, true), rows);
}

TEST_P(KindRowsTest, InvalidChangesWriteNothing) {
  ASSERT_TRUE(store_->Apply(Full(), At(2)).ok());
  const std::vector<SeenKindRow> before = KindRows(*store_);
  const Dump orgs_before = DumpStore(*store_);
  const KindPolicy lockout = SeededPolicy(PolicyKind::kLockout, 1, "b");
  KindPolicy bad_enum = SeededPolicy(PolicyKind::kLogin, 1, "b");
  bool has_enum = false;
  for (std::size_t i = 0; i < SpecOf(PolicyKind::kLogin).fields.size(); ++i) {
    if (SpecOf(PolicyKind::kLogin).fields[i].type == FieldType::kEnum) {
      bad_enum.fields[i].number = 999;
      has_enum = true;
    }
  }
  ASSERT_TRUE(has_enum);
  KindPolicy short_fields = lockout;
  short_fields.fields.pop_back();
  KindPolicy bad_nanos = lockout;
  bad_nanos.details.change_date.nanos = 1'000'000'000;
  std::vector<std::vector<KindRowChange>> bad = {
      {Row(PolicyKind::kDomain, "b", lockout)},
      {Row(static_cast<PolicyKind>(9), "b", lockout)},
      {Row(PolicyKind::kLogin, "b", lockout)},  // a policy of another kind
      {Row(PolicyKind::kLogin, "b", bad_enum)},
      {Row(PolicyKind::kLockout, "b", short_fields)},
      {Row(PolicyKind::kLockout, "b", bad_nanos)},
      {Row(PolicyKind::kLockout, "", std::nullopt)},  // a default cannot be removed
      {Row(PolicyKind::kLockout, "b", lockout), Row(PolicyKind::kLockout, "b", lockout)},
      {Row(PolicyKind::kLockout, "nobody", lockout)},
      {Row(PolicyKind::kLockout, "", lockout), Row(PolicyKind::kLockout, "", lockout)},
      {Row(PolicyKind::kLockout, std::string(1, '\x01'), lockout)},
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    StoreChange change;
    change.put_orgs.push_back(Org("new-org", 5));
    change.put_kind_rows = bad[i];
    const Status s = store_->Apply(change, At(3));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << i << ": " << s.ToString();
  }
  // A row of an org the same change removes.
  StoreChange removed;
  removed.removed_orgs = {"b"};
  removed.put_kind_rows.push_back(Row(PolicyKind::kLockout, "b", lockout));
  EXPECT_EQ(store_->Apply(removed, At(3)).code(), Code::kInvalidArgument);
  EXPECT_EQ(KindRows(*store_), before);
  EXPECT_EQ(DumpStore(*store_), orgs_before);
  EXPECT_EQ(store_->Meta()->last_change, At(2));
  // The same row for an org put by the same change is fine.
  StoreChange ok;
  ok.put_orgs.push_back(Org("new-org"));
  ok.put_kind_rows.push_back(
      Row(PolicyKind::kLockout, "new-org", SeededPolicy(PolicyKind::kLockout, 1, "new-org")));
  EXPECT_TRUE(store_->Apply(ok, At(3)).ok());
}

TEST_P(KindRowsTest, ReplaceReplacesEveryKindRow) {
  ASSERT_TRUE(store_->Apply(Full(), At(2)).ok());
  Snapshot snapshot{Instance(), {Org("b"), Org("z")}};
  snapshot.kind_rows.push_back(
      KindRow{"", SeededPolicy(PolicyKind::kPrivacy, 70, "inst-1"), KindVersion(70)});
  snapshot.kind_rows.push_back(
      KindRow{"z", SeededPolicy(PolicyKind::kLabel, 71, "z"), KindVersion(71)});
  snapshot.kind_rows.push_back(
      KindRow{"b", SeededPolicy(PolicyKind::kNotification, 72, "b"), KindVersion(72)});
  snapshot.kind_rows.push_back(
      KindRow{"z", SeededPolicy(PolicyKind::kLogin, 73, "z"), KindVersion(73)});
  // Invalid first: a row of an org the snapshot lacks; nothing changes.
  Snapshot bad = snapshot;
  bad.kind_rows.push_back(KindRow{"a", SeededPolicy(PolicyKind::kLogin, 1, "a"), {}});
  EXPECT_EQ(store_->Replace(bad, "c", "s", At(3)).code(), Code::kInvalidArgument);
  Snapshot twice = snapshot;
  twice.kind_rows.push_back(snapshot.kind_rows[1]);
  EXPECT_EQ(store_->Replace(twice, "c", "s", At(3)).code(), Code::kInvalidArgument);
  EXPECT_EQ(KindRows(*store_), FullRows(Full()));

  ASSERT_TRUE(store_->Replace(snapshot, "c", "s", At(3)).ok());
  const std::vector<SeenKindRow> want = {
      {snapshot.kind_rows[0], true},
      {snapshot.kind_rows[2], true},
      {snapshot.kind_rows[3], true},  // kLogin (4) before kLabel (7)
      {snapshot.kind_rows[1], true},
  };
  EXPECT_EQ(KindRows(*store_), want);
  EXPECT_EQ(ReadKinds(*store_, {"a", "b", "z"}, true), want);
  Reopen();
  EXPECT_EQ(KindRows(*store_), want);
  EXPECT_EQ(ReadKinds(*store_, {"a", "b", "z"}, true), want);
}

TEST_P(KindRowsTest, ReopeningKeepsEveryRow) {
  const StoreChange change = Full();
  ASSERT_TRUE(store_->Apply(change, At(2)).ok());
  StoreChange tomb;
  tomb.put_kind_rows.push_back(Row(PolicyKind::kLockout, "a", std::nullopt, KindVersion(600)));
  ASSERT_TRUE(store_->Apply(tomb, At(3)).ok());
  const std::vector<SeenKindRow> before = KindRows(*store_);
  Reopen();
  EXPECT_EQ(KindRows(*store_), before);
  EXPECT_EQ(ReadKinds(*store_, {"a", "a:1"}, true), before);
  EXPECT_EQ(ReadKinds(*store_, {"a", "a:1"}, false).size(), before.size() - 1);  // no tombstone
}

// A reused batch keeps answering right when the ids, kinds and presence change between reads.
TEST_P(KindRowsTest, AReusedBatchForgetsWhatTheLastReadFound) {
  ASSERT_TRUE(store_->Apply(Full(), At(2)).ok());
  LookupBatch batch;
  batch.set_kinds(KindSet::Of(PolicyKind::kLabel));
  batch.Add("a");
  ASSERT_TRUE(store_->Read(batch).ok());
  ASSERT_NE(batch.kind_policy(0, PolicyKind::kLabel), nullptr);
  batch.Clear();
  EXPECT_EQ(batch.kind_policy(0, PolicyKind::kLabel), nullptr);
  batch.Add("b");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.kind_policy(0, PolicyKind::kLabel), nullptr);
  batch.Clear();
  batch.Add("a:1");
  batch.Add("a");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.kind_policy(0, PolicyKind::kLabel), nullptr);
  ASSERT_NE(batch.kind_policy(1, PolicyKind::kLabel), nullptr);
  EXPECT_EQ(*batch.kind_policy(1, PolicyKind::kLabel), SeededPolicy(PolicyKind::kLabel, 23, "a"));
}

INSTANTIATE_TEST_SUITE_P(Stores, KindRowsTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Indexed" : "Rocks"; });

// Random changes (and a replace now and then) applied to a RocksStore and to an indexed one:
// both answer every read alike (the index's from memory when it holds every kind asked, from
// RocksDB with versions or the label preview), and agree with ForEachKindRow. Then an index
// loaded from the result answers alike too.
TEST(KindRowsSameAnswersTest, RocksAndIndexedAnswerAlikeUnderRandomChanges) {
  TempDir rocks_dir;
  TempDir indexed_dir;
  std::unique_ptr<Store> rocks = OpenKindStore(rocks_dir.path(), false);
  std::unique_ptr<Store> indexed = OpenKindStore(indexed_dir.path(), true);
  ASSERT_NE(rocks, nullptr);
  ASSERT_NE(indexed, nullptr);
  std::mt19937_64 rng(14);
  const std::vector<PolicyKind> kinds = StoredGenericKinds();
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back("org-" + std::to_string(i));
  std::sort(ids.begin(), ids.end());  // ForEachKindRow's order
  LookupBatch reused;
  LookupBatch fresh;
  for (int step = 1; step <= 200; ++step) {
    std::set<std::string> known;
    for (const OrgRecord& o : DumpStore(*rocks).orgs) known.insert(o.id);
    Status a;
    Status b;
    if (step % 50 == 0) {
      Snapshot snapshot{Instance(step), {}};
      for (const std::string& id : ids)
        if (rng() % 2 == 0) snapshot.orgs.push_back(Org(id));
      for (PolicyKind k : kinds) {
        if (rng() % 2 == 0)
          snapshot.kind_rows.push_back(
              KindRow{"", SeededPolicy(k, rng() % 50, "inst-1"), KindVersion(step)});
        for (const OrgRecord& o : snapshot.orgs)
          if (rng() % 10 == 0)
            snapshot.kind_rows.push_back(
                KindRow{o.id, SeededPolicy(k, rng() % 50, o.id), KindVersion(step)});
      }
      a = rocks->Replace(snapshot, "c", "s", At(step));
      b = indexed->Replace(snapshot, "c", "s", At(step));
    } else {
      StoreChange change;
      std::set<std::string> named;
      for (int i = 0; i < 2; ++i) change.removed_orgs.push_back(ids[rng() % ids.size()]);
      for (int i = 0; i < 3; ++i) {
        const std::string& id = ids[rng() % ids.size()];
        if (named.insert(id).second) change.put_orgs.push_back(Org(id));
      }
      std::set<std::pair<std::string, PolicyKind>> rows;
      for (int i = 0; i < 8; ++i) {
        const PolicyKind k = kinds[rng() % kinds.size()];
        std::string id = rng() % 5 == 0 ? "" : ids[rng() % ids.size()];
        const bool exists =
            id.empty() || named.contains(id) ||
            (known.contains(id) && std::find(change.removed_orgs.begin(), change.removed_orgs.end(),
                                             id) == change.removed_orgs.end());
        if (!exists || !rows.insert({id, k}).second) continue;
        std::optional<KindPolicy> policy;
        if (id.empty() || rng() % 4 != 0) policy = SeededPolicy(k, rng() % 50, id);
        std::optional<SourceVersion> version;
        if (rng() % 2 == 0) version = KindVersion(step);
        change.put_kind_rows.push_back(Row(k, id, policy, version));
      }
      a = rocks->Apply(change, At(step));
      b = indexed->Apply(change, At(step));
    }
    ASSERT_TRUE(a.ok()) << "step " << step << ": " << a.ToString();
    ASSERT_TRUE(b.ok()) << "step " << step << ": " << b.ToString();
    const std::vector<SeenKindRow> all = KindRows(*rocks);
    ASSERT_EQ(KindRows(*indexed), all) << "step " << step;
    ASSERT_EQ(ReadKinds(*rocks, ids, true), all) << "step " << step;
    ASSERT_EQ(ReadKinds(*indexed, ids, true), all) << "step " << step;
    ASSERT_EQ(ReadKinds(*indexed, ids, false), ReadKinds(*rocks, ids, false)) << "step " << step;
    // The answer kinds alone: the index answers them from memory (one reused batch, as a
    // connection reuses one), all at once and a random subset.
    const std::vector<SeenKindRow> answers = WithoutPreview(ReadKinds(*rocks, ids, false));
    ASSERT_EQ(ReadKindSet(*indexed, ids, AnswerKindSet(), reused), answers) << "step " << step;
    KindSet some;
    for (PolicyKind k : kGenericKinds)
      if (rng() % 3 == 0) some.insert(k);
    ASSERT_EQ(ReadKindSet(*indexed, ids, some, reused), ReadKindSet(*rocks, ids, some, fresh))
        << "step " << step;
  }
  const std::vector<SeenKindRow> without_versions = ReadKinds(*rocks, ids, false);
  indexed.reset();
  std::unique_ptr<Store> loaded = OpenKindStore(indexed_dir.path(), true);
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(ReadKinds(*loaded, ids, false), without_versions);
  EXPECT_EQ(ReadKinds(*loaded, ids, true), KindRows(*rocks));
  // The index loaded from the store answers from memory what RocksDB holds.
  EXPECT_EQ(ReadKindSet(*loaded, ids, AnswerKindSet(), reused), WithoutPreview(without_versions));
}

}  // namespace
}  // namespace policyd
