#include "store/indexed_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "unit/store/store_test_util.h"

namespace policyd {
namespace {

// A store wrapped with the index, and a way to wait until the index is loaded.
class Indexed {
 public:
  explicit Indexed(const std::string& dir, std::function<void(Store&)> before = nullptr) {
    std::unique_ptr<RocksStore> base = OpenStore(dir);
    if (before) before(*base);
    store_ = WithMemoryIndex(std::move(base), [this](const IndexLoad& load) {
      std::lock_guard lock(mu_);
      load_ = load;
      cv_.notify_all();
    });
  }
  IndexLoad WaitLoaded() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return load_.has_value(); });
    return *load_;
  }
  Store& operator*() { return *store_; }
  Store* operator->() { return store_.get(); }

 private:
  std::unique_ptr<Store> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<IndexLoad> load_;
};

// What Read() answers for every org of `dump` plus a few unknown ones, as a Dump.
Dump ReadAll(const Store& store, const Dump& expected_ids) {
  LookupBatch batch;
  for (const OrgRecord& org : expected_ids.orgs) batch.Add(org.id);
  batch.Add("org-never-seen");
  EXPECT_TRUE(store.Read(batch).ok());
  Dump got;
  if (batch.instance() != nullptr) got.instance = *batch.instance();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const OrgView v = batch.org(i);
    if (!v.known) continue;
    got.orgs.push_back(OrgRecord{std::string(batch.id(i)),
                                 v.own_policy ? std::optional(*v.own_policy) : std::nullopt});
  }
  return got;
}

TEST(IndexedStoreTest, LoadsWhatTheStoreHolds) {
  TempDir dir;
  Indexed store(dir.path(), [](Store& base) {
    StoreChange change;
    change.instance = Instance();
    for (int i = 0; i < 1000; ++i)
      change.put_orgs.push_back(Org("org-" + std::to_string(i),
                                    i % 7 == 0 ? std::optional<std::uint64_t>(i) : std::nullopt));
    ASSERT_TRUE(base.Apply(change, At(1)).ok());
  });
  const IndexLoad load = store.WaitLoaded();
  ASSERT_TRUE(load.status.ok()) << load.status.ToString();
  EXPECT_EQ(load.orgs, 1000u);
  EXPECT_GT(load.bytes, 0u);
  const Dump on_disk = DumpStore(*store);
  EXPECT_EQ(ReadAll(*store, on_disk), on_disk);
}

// Random changes and replaces: after each, what lookups see equals what RocksDB holds.
TEST(IndexedStoreTest, StaysEqualToTheStoreUnderRandomChanges) {
  TempDir dir;
  Indexed store(dir.path());
  ASSERT_TRUE(store.WaitLoaded().status.ok());
  std::mt19937_64 rng(7);
  for (int step = 0; step < 300; ++step) {
    if (step % 100 == 99) {
      Snapshot snapshot{Instance(step), {}};
      for (int i = 0; i < 50; ++i)
        snapshot.orgs.push_back(
            Org("org-" + std::to_string(rng() % 400),
                rng() % 3 == 0 ? std::optional<std::uint64_t>(step) : std::nullopt));
      std::sort(snapshot.orgs.begin(), snapshot.orgs.end(),
                [](auto& a, auto& b) { return a.id < b.id; });
      snapshot.orgs.erase(std::unique(snapshot.orgs.begin(), snapshot.orgs.end(),
                                      [](auto& a, auto& b) { return a.id == b.id; }),
                          snapshot.orgs.end());
      ASSERT_TRUE(store->Replace(snapshot, "cursor", "test", At(step)).ok());
    } else {
      StoreChange change;
      if (rng() % 10 == 0) change.instance = Instance(step);
      for (int i = 0; i < 5; ++i)
        change.removed_orgs.push_back("org-" + std::to_string(rng() % 400));
      std::set<std::string> put;
      for (int i = 0; i < 20; ++i) put.insert("org-" + std::to_string(rng() % 400));
      for (const std::string& id : put)
        change.put_orgs.push_back(
            Org(id, rng() % 3 == 0 ? std::optional<std::uint64_t>(step) : std::nullopt));
      ASSERT_TRUE(store->Apply(change, At(step)).ok());
    }
    const Dump on_disk = DumpStore(*store);
    ASSERT_EQ(ReadAll(*store, on_disk), on_disk) << "step " << step;
  }
}

TEST(IndexedStoreTest, ARejectedChangeChangesNeitherStoreNorIndex) {
  TempDir dir;
  Indexed store(dir.path());
  ASSERT_TRUE(store.WaitLoaded().status.ok());
  StoreChange good;
  good.instance = Instance();
  good.put_orgs = {Org("a", 1), Org("b")};
  ASSERT_TRUE(store->Apply(good, At(1)).ok());
  const Dump before = DumpStore(*store);

  StoreChange bad;
  bad.removed_orgs = {"a"};
  bad.put_orgs = {Org("c"), Org("c")};  // the same org twice: INVALID_ARGUMENT
  EXPECT_FALSE(store->Apply(bad, At(2)).ok());
  EXPECT_EQ(DumpStore(*store), before);
  EXPECT_EQ(ReadAll(*store, before), before);
}

// Lookups of a whole group of orgs, while each change rewrites the group's policies to one new
// sequence: every read must see one sequence across the group (one consistent point in time).
TEST(IndexedStoreTest, ConcurrentReadsSeeWholeChanges) {
  TempDir dir;
  Indexed store(dir.path());
  ASSERT_TRUE(store.WaitLoaded().status.ok());
  constexpr int kGroup = 64;
  auto write = [&](std::uint64_t seq) {
    StoreChange change;
    change.instance = Instance(seq);
    for (int i = 0; i < kGroup; ++i) change.put_orgs.push_back(Org("g-" + std::to_string(i), seq));
    return store->Apply(change, At(static_cast<std::int64_t>(seq)));
  };
  ASSERT_TRUE(write(1).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < kGroup; ++i) ids.push_back("g-" + std::to_string(i));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<std::int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      LookupBatch batch;
      while (!done.load()) {
        batch.Clear();
        for (int i = 0; i < kGroup; ++i) batch.Add(ids[i]);
        if (!store->Read(batch).ok()) {
          torn.fetch_add(1);
          continue;
        }
        const std::uint64_t seq = batch.instance()->policy.details.sequence;
        for (int i = 0; i < kGroup; ++i) {
          const OrgView v = batch.org(i);
          if (!v.known || v.own_policy == nullptr || v.own_policy->details.sequence != seq) {
            torn.fetch_add(1);
          }
        }
        reads.fetch_add(1);
      }
    });
  }
  for (std::uint64_t seq = 2; seq < 300; ++seq) ASSERT_TRUE(write(seq).ok());
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace policyd
