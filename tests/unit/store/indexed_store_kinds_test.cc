// The generic policy kinds in the in-memory index: answered from memory (not RocksDB), without
// allocating once warm, from the same state as the org rows, loaded at start, and counted in the
// index's memory. (The random "same answers as RocksDB" test is in rocks_store_kinds_test.cc.)
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/forwarding_store.h"
#include "store/indexed_store.h"
#include "store/kind_table.h"
#include "unit/store/indexed_over.h"
#include "unit/store/kind_test_util.h"
#include "unit/store/store_test_util.h"
#include "unit/store/thread_allocations.h"

namespace policyd {
namespace {

// Forwards to a real store and counts the Read() calls that reach it.
class CountingStore final : public ForwardingStore {
 public:
  explicit CountingStore(std::unique_ptr<Store> base)
      : ForwardingStore(*base), base_(std::move(base)) {}
  std::atomic<int>& reads() { return reads_; }

  Status Read(LookupBatch& batch) const override {
    reads_.fetch_add(1);
    return base_->Read(batch);
  }

 private:
  std::unique_ptr<Store> base_;
  mutable std::atomic<int> reads_{0};
};

using IndexedKinds = IndexedOver<CountingStore>;

KindRowChange Row(PolicyKind kind, std::string org, std::optional<KindPolicy> policy) {
  return KindRowChange{kind, std::move(org), std::move(policy), std::nullopt};
}

// The instance, orgs "org-0".."org-<n-1>", every kind's default, and every kind's own row for
// every third org (kLabelPreview too, which the index does not hold).
StoreChange Populated(int n) {
  StoreChange change;
  change.instance = Instance();
  for (int i = 0; i < n; ++i) change.put_orgs.push_back(Org("org-" + std::to_string(i)));
  std::uint64_t seed = 1;
  for (PolicyKind k : StoredGenericKinds()) {
    change.put_kind_rows.push_back(Row(k, "", SeededPolicy(k, seed++, "inst-1")));
    for (int i = 0; i < n; i += 3) {
      const std::string id = "org-" + std::to_string(i);
      change.put_kind_rows.push_back(Row(k, id, SeededPolicy(k, seed++, id)));
    }
  }
  return change;
}

// The row of `kind` that `change` puts for `org_id`.
KindPolicy OwnRow(const StoreChange& change, PolicyKind kind, const std::string& org_id) {
  for (const KindRowChange& c : change.put_kind_rows) {
    if (c.kind == kind && c.org_id == org_id && c.policy) return *c.policy;
  }
  ADD_FAILURE() << "no row of " << org_id;
  return {};
}

std::vector<std::string> Ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("org-" + std::to_string(i));
  ids.push_back("org-unknown");
  return ids;
}

TEST(IndexedStoreKindsTest, AnswersTheKindsFromMemoryAndThePreviewFromRocksDb) {
  TempDir dir;
  IndexedKinds store(dir.path());
  ASSERT_TRUE(store.load().status.ok()) << store.load().status.ToString();
  ASSERT_TRUE(store->Apply(Populated(12), At(1)).ok());
  const std::vector<std::string> ids = Ids(12);
  const int before = store.base().reads().load();
  LookupBatch batch;
  const std::vector<SeenKindRow> answers = ReadKindSet(*store, ids, AnswerKindSet(), batch);
  EXPECT_EQ(store.base().reads().load(), before);  // the index answered
  EXPECT_EQ(answers.size(), 7u + 7u * 4u);
  EXPECT_EQ(answers, WithoutPreview(ReadKinds(*store, ids, false)));
  EXPECT_EQ(store.base().reads().load(), before + 1);  // kLabelPreview asked: RocksDB answered
  ReadKinds(*store, {"org-0"}, true);
  EXPECT_EQ(store.base().reads().load(), before + 2);  // versions asked: RocksDB answered
}

// A warmed-up batch (as a connection keeps one) reads every kind of orgs with and without own
// rows, and of an unknown org, without allocating.
TEST(IndexedStoreKindsTest, AWarmedUpReadWithKindsAllocatesNothing) {
  TempDir dir;
  IndexedKinds store(dir.path());
  ASSERT_TRUE(store->Apply(Populated(12), At(1)).ok());
  const std::vector<std::string> ids = Ids(12);
  LookupBatch batch;
  auto read = [&](KindSet kinds) {
    batch.Clear();
    batch.set_kinds(kinds);
    for (const std::string& id : ids) batch.Add(id);
    return store->Read(batch);
  };
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(read(AnswerKindSet()).ok());
  const std::uint64_t before = ThreadAllocationCount();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(read(AnswerKindSet()).ok());
    ASSERT_TRUE(read(KindSet::Of(PolicyKind::kLogin)).ok());
  }
  EXPECT_EQ(ThreadAllocationCount() - before, 0u);
  // The counter counts: the same read through RocksDB (the preview asked) allocates.
  KindSet with_preview = AnswerKindSet();
  with_preview.insert(PolicyKind::kLabelPreview);
  const std::uint64_t rocks_before = ThreadAllocationCount();
  ASSERT_TRUE(read(with_preview).ok());
  EXPECT_GT(ThreadAllocationCount() - rocks_before, 0u);
  ASSERT_NE(batch.kind_policy(0, PolicyKind::kLogin), nullptr);
  EXPECT_EQ(*batch.kind_policy(0, PolicyKind::kLogin),
            OwnRow(Populated(12), PolicyKind::kLogin, "org-0"));
  EXPECT_EQ(batch.kind_policy(1, PolicyKind::kLogin), nullptr);
}

// A batch keeps the decoded default and decodes it again only when it changed: every change of
// a default reaches a reused batch, and so does a read of the same batch from RocksDB (here of
// another store, whose default differs) between two reads from the index.
TEST(IndexedStoreKindsTest, AReusedBatchSeesEveryChangeOfADefault) {
  TempDir dir_a;
  TempDir dir_b;
  IndexedKinds a(dir_a.path());
  IndexedKinds b(dir_b.path());
  auto set_default = [](IndexedKinds& store, std::uint64_t seed) {
    StoreChange change;
    change.instance = Instance();
    change.put_kind_rows.push_back(
        Row(PolicyKind::kLabel, "", SeededPolicy(PolicyKind::kLabel, seed, "inst-1")));
    return store->Apply(change, At(1));
  };
  KindSet label = KindSet::Of(PolicyKind::kLabel);
  KindSet with_preview = label;
  with_preview.insert(PolicyKind::kLabelPreview);
  LookupBatch batch;
  auto default_of = [&](IndexedKinds& store, KindSet kinds) -> std::optional<KindPolicy> {
    batch.Clear();
    batch.set_kinds(kinds);
    batch.Add("org-x");
    EXPECT_TRUE(store->Read(batch).ok());
    const KindPolicy* p = batch.kind_default(PolicyKind::kLabel);
    return p ? std::optional(*p) : std::nullopt;
  };
  EXPECT_EQ(default_of(a, label), std::nullopt);
  for (std::uint64_t seed : {1, 2, 3}) {
    ASSERT_TRUE(set_default(a, seed).ok());
    EXPECT_EQ(default_of(a, label), SeededPolicy(PolicyKind::kLabel, seed, "inst-1"));
    EXPECT_EQ(default_of(a, label), SeededPolicy(PolicyKind::kLabel, seed, "inst-1"));
  }
  ASSERT_TRUE(set_default(b, 9).ok());
  EXPECT_EQ(default_of(b, with_preview), SeededPolicy(PolicyKind::kLabel, 9, "inst-1"));
  EXPECT_EQ(default_of(a, label), SeededPolicy(PolicyKind::kLabel, 3, "inst-1"));
  EXPECT_EQ(default_of(b, label), SeededPolicy(PolicyKind::kLabel, 9, "inst-1"));
  EXPECT_EQ(default_of(a, label), SeededPolicy(PolicyKind::kLabel, 3, "inst-1"));
}

// Restarting on a store with kind rows loads them: the rows and their memory are counted, and
// reads answer them from memory as RocksDB does.
TEST(IndexedStoreKindsTest, TheLoadIndexesTheKindRowsAndCountsTheirMemory) {
  TempDir with_kinds;
  TempDir without;
  const StoreChange populated = Populated(30);
  StoreChange orgs_only = populated;
  orgs_only.put_kind_rows.clear();
  IndexedKinds a(with_kinds.path(), [&](Store& s) { ASSERT_TRUE(s.Apply(populated, At(1)).ok()); });
  IndexedKinds b(without.path(), [&](Store& s) { ASSERT_TRUE(s.Apply(orgs_only, At(1)).ok()); });
  ASSERT_TRUE(a.load().status.ok()) << a.load().status.ToString();
  EXPECT_EQ(a.load().kind_rows, 7u * 10u);  // every third of 30 orgs, 7 kinds (no preview)
  EXPECT_EQ(b.load().kind_rows, 0u);
  KindTable expected;
  for (const KindRowChange& c : populated.put_kind_rows) {
    if (c.kind != PolicyKind::kLabelPreview) expected.Put(SharedKindRow::Make(c.org_id, *c.policy));
  }
  EXPECT_EQ(a.load().bytes - b.load().bytes, 2 * expected.SlotBytes() + expected.RowBytes());
  const int before = a.base().reads().load();
  LookupBatch batch;
  const std::vector<SeenKindRow> answers = ReadKindSet(*a, Ids(30), AnswerKindSet(), batch);
  EXPECT_EQ(a.base().reads().load(), before);
  EXPECT_EQ(answers, WithoutPreview(ReadKinds(*a, Ids(30), false)));
}

// While each write rewrites a group of orgs' policies and their login rows (and the login
// default) to one new sequence, every read sees one sequence across orgs and kinds.
TEST(IndexedStoreKindsTest, ConcurrentReadsSeeKindsFromTheSameWriteAsTheOrgs) {
  TempDir dir;
  IndexedKinds store(dir.path());
  constexpr int kGroup = 32;
  auto write = [&](std::uint64_t seq) {
    StoreChange change;
    change.instance = Instance(seq);
    for (int i = 0; i < kGroup; ++i) {
      const std::string id = "g-" + std::to_string(i);
      change.put_orgs.push_back(Org(id, seq));
      change.put_kind_rows.push_back(
          Row(PolicyKind::kLogin, id, SeededPolicy(PolicyKind::kLogin, seq, id)));
    }
    change.put_kind_rows.push_back(
        Row(PolicyKind::kLogin, "", SeededPolicy(PolicyKind::kLogin, seq, "inst-1")));
    return store->Apply(change, At(static_cast<std::int64_t>(seq)));
  };
  ASSERT_TRUE(write(1).ok());
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      LookupBatch batch;
      batch.set_kinds(KindSet::Of(PolicyKind::kLogin));
      std::vector<std::string> ids;
      for (int i = 0; i < kGroup; ++i) ids.push_back("g-" + std::to_string(i));
      while (!done.load()) {
        batch.Clear();
        for (const std::string& id : ids) batch.Add(id);
        if (!store->Read(batch).ok()) {
          torn.fetch_add(1);
          continue;
        }
        const std::uint64_t seq = batch.instance()->policy.details.sequence;
        const KindPolicy* def = batch.kind_default(PolicyKind::kLogin);
        if (def == nullptr || def->details.sequence != seq) torn.fetch_add(1);
        for (int i = 0; i < kGroup; ++i) {
          const KindPolicy* own = batch.kind_policy(i, PolicyKind::kLogin);
          const OrgView v = batch.org(i);
          if (own == nullptr || own->details.sequence != seq || v.own_policy == nullptr ||
              v.own_policy->details.sequence != seq) {
            torn.fetch_add(1);
          }
        }
        reads.fetch_add(1);
      }
    });
  }
  for (std::uint64_t seq = 2; seq < 200; ++seq) ASSERT_TRUE(write(seq).ok());
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace policyd
