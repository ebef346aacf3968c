// IndexedStore::Meta(): the StoreMeta it reports is published with the lookup index, so a status
// never reports a change (cursor, counts, times) that lookups cannot see yet; loaded with the
// index; kept when a write fails or its meta cannot be read back.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/forwarding_store.h"
#include "store/indexed_store.h"
#include "unit/store/indexed_over.h"
#include "unit/store/store_test_util.h"

namespace policyd {
namespace {

// Forwards to a real store; Meta() fails while fail_meta is set.
class MetaSwitchStore final : public ForwardingStore {
 public:
  explicit MetaSwitchStore(std::unique_ptr<Store> base)
      : ForwardingStore(*base), base_(std::move(base)) {}
  std::atomic<bool> fail_meta{false};

  Result<StoreMeta> Meta() const override {
    if (fail_meta.load()) return Err(Status::Internal("meta: injected read error"));
    return base_->Meta();
  }

 private:
  std::unique_ptr<Store> base_;
};

using IndexedMeta = IndexedOver<MetaSwitchStore>;

// Change `n`: the instance default and a group of orgs at sequence n, and cursor "n".
StoreChange ChangeNumber(std::uint64_t n) {
  StoreChange change;
  change.instance = Instance(n);
  for (int i = 0; i < 32; ++i) change.put_orgs.push_back(Org("g-" + std::to_string(i), n));
  change.cursor = std::to_string(n);
  return change;
}

// The sequence of the instance default a lookup sees (0: none).
std::uint64_t LookupSequence(const Store& store, LookupBatch& batch) {
  batch.Clear();
  batch.Add("g-0");
  if (!store.Read(batch).ok() || batch.instance() == nullptr) return 0;
  return batch.instance()->policy.details.sequence;
}

std::uint64_t CursorNumber(const StoreMeta& meta) {
  return meta.cursor.empty() ? 0 : std::stoull(meta.cursor);
}

// The regression test for a status showing a cursor ahead of the lookups (CI's ASan stage, in
// kinds_differential_test): Meta() used to read RocksDB, which takes each write just before the
// index does. A reader hammers Meta() then Read() while changes and replaces land; whenever the
// meta's cursor says change n, the lookup that follows must see change n (or a newer one). On the
// old code it saw hundreds to thousands of such lookups per run, in every run; one reader (not
// more) keeps the writer from waiting on readers descheduled inside a read on a busy 2-core box.
TEST(IndexedStoreMetaTest, MetaNeverReportsAChangeLookupsCannotSeeYet) {
  TempDir dir;
  IndexedMeta store(dir.path());
  ASSERT_TRUE(store.load().status.ok()) << store.load().status.ToString();
  constexpr int kReaders = 1;
  std::atomic<bool> done{false};
  std::atomic<int> running{0};
  std::atomic<int> ahead{0};
  std::atomic<int> errors{0};
  std::atomic<std::int64_t> checks{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      LookupBatch batch;
      running.fetch_add(1);
      while (!done.load()) {
        Result<StoreMeta> meta = store->Meta();
        if (!meta) {
          errors.fetch_add(1);
          continue;
        }
        if (LookupSequence(*store, batch) < CursorNumber(*meta)) ahead.fetch_add(1);
        checks.fetch_add(1);
      }
    });
  }
  // The readers in their loops before the first write (they start at once: no deadline needed).
  while (running.load() < kReaders) std::this_thread::yield();
  Status written;
  for (std::uint64_t n = 1; n <= 3000 && written.ok(); ++n) {
    if (n % 10 == 0) {
      Snapshot snapshot{Instance(n), {Org("g-0", n)}};
      written = store->Replace(snapshot, std::to_string(n), "test", At(1));
    } else {
      written = store->Apply(ChangeNumber(n), At(1));
    }
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(ahead.load(), 0) << "of " << checks.load() << " status-then-lookup checks";
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(checks.load(), 0);
}

TEST(IndexedStoreMetaTest, AfterTheLoadMetaIsTheStoredOne) {
  TempDir dir;
  StoreMeta stored;
  IndexedMeta store(dir.path(), [&stored](Store& base) {
    StoreChange change = ChangeNumber(7);
    change.synced_at = At(9);
    ASSERT_TRUE(base.Apply(change, At(8)).ok());
    Result<StoreMeta> meta = base.Meta();
    ASSERT_TRUE(meta.has_value());
    stored = *meta;
  });
  ASSERT_TRUE(store.load().status.ok());
  Result<StoreMeta> meta = store->Meta();
  ASSERT_TRUE(meta.has_value()) << meta.error().ToString();
  EXPECT_EQ(*meta, stored);
  EXPECT_EQ(meta->cursor, "7");
  EXPECT_EQ(meta->org_count, 32u);
  EXPECT_EQ(meta->last_sync, At(9));
}

TEST(IndexedStoreMetaTest, EachWriteIsInMetaWhenItReturns) {
  TempDir dir;
  IndexedMeta store(dir.path());
  ASSERT_TRUE(store.load().status.ok());
  ASSERT_TRUE(store->Apply(ChangeNumber(1), At(5)).ok());
  Result<StoreMeta> meta = store->Meta();
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->cursor, "1");
  EXPECT_EQ(meta->org_count, 32u);
  EXPECT_EQ(meta->last_change, At(5));

  Snapshot snapshot{Instance(2), {Org("a", 2), Org("b")}};
  ASSERT_TRUE(store->Replace(snapshot, "2", "snapshot:x", At(6)).ok());
  meta = store->Meta();
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->cursor, "2");
  EXPECT_EQ(meta->source, "snapshot:x");
  EXPECT_EQ(meta->org_count, 2u);
  EXPECT_EQ(meta->custom_policy_count, 1u);
  EXPECT_EQ(meta->last_change, At(6));
}

TEST(IndexedStoreMetaTest, ARejectedWriteKeepsThePublishedMeta) {
  TempDir dir;
  IndexedMeta store(dir.path());
  ASSERT_TRUE(store.load().status.ok());
  ASSERT_TRUE(store->Apply(ChangeNumber(1), At(5)).ok());
  const Result<StoreMeta> before = store->Meta();
  ASSERT_TRUE(before.has_value());
  StoreChange bad = ChangeNumber(2);
  bad.put_orgs.push_back(Org("g-0"));  // the same org twice: INVALID_ARGUMENT
  EXPECT_FALSE(store->Apply(bad, At(6)).ok());
  const Result<StoreMeta> after = store->Meta();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after, *before);
}

// A write that succeeded but whose meta cannot be read back: lookups see the write, Meta() keeps
// the last published meta (behind the lookups, never ahead of them) until a later write publishes
// a newer one.
TEST(IndexedStoreMetaTest, AMetaThatCannotBeReadBackKeepsTheLastPublishedOne) {
  TempDir dir;
  IndexedMeta store(dir.path());
  ASSERT_TRUE(store.load().status.ok());
  ASSERT_TRUE(store->Apply(ChangeNumber(1), At(5)).ok());
  store.base().fail_meta.store(true);
  ASSERT_TRUE(store->Apply(ChangeNumber(2), At(6)).ok());
  Result<StoreMeta> meta = store->Meta();
  ASSERT_TRUE(meta.has_value()) << meta.error().ToString();
  EXPECT_EQ(meta->cursor, "1");
  LookupBatch batch;
  EXPECT_EQ(LookupSequence(*store, batch), 2u);

  store.base().fail_meta.store(false);
  ASSERT_TRUE(store->Apply(ChangeNumber(3), At(7)).ok());
  meta = store->Meta();
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->cursor, "3");
  EXPECT_EQ(meta->last_change, At(7));
}

}  // namespace
}  // namespace policyd
