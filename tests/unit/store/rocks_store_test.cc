// RocksStore: opening, reopening, refusing what is not ours, reading and walking.
// Apply/Replace semantics are in rocks_store_apply_test.cc.
#include "store/rocks_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "store/keys.h"
#include "store_test_util.h"

namespace policyd {
namespace {

namespace keys = store_keys;

// Writes one key straight into the RocksDB database in `dir`, bypassing the store.
void RawPut(const std::string& dir, std::string_view key, std::string_view value,
            bool create = false) {
  rocksdb::Options options;
  options.create_if_missing = create;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = db->Put(rocksdb::WriteOptions(), rocksdb::Slice(key.data(), key.size()),
              rocksdb::Slice(value.data(), value.size()));
  EXPECT_TRUE(s.ok()) << s.ToString();
  delete db;
}

void CreateEmptyRocksDb(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  delete db;
}

Status OpenStatus(const std::string& dir, StoreOptions options = {}) {
  Result<std::unique_ptr<Store>> store = OpenRocksStore(dir, options);
  return store ? Status::Ok() : store.error();
}

bool Contains(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string::npos;
}

TEST(RocksStoreTest, CreatesAnEmptyStoreInAMissingDirectory) {
  TempDir tmp;
  const std::string dir = tmp.Sub("a/b/store");
  std::unique_ptr<RocksStore> store = OpenStore(dir);
  ASSERT_NE(store, nullptr);
  Result<StoreMeta> meta = store->Meta();
  ASSERT_TRUE(meta) << meta.error().ToString();
  EXPECT_EQ(*meta, StoreMeta{});
  LookupBatch batch;
  batch.Add("org-1");
  ASSERT_TRUE(store->Read(batch).ok());
  EXPECT_EQ(batch.instance(), nullptr);
  EXPECT_FALSE(batch.org(0).known);
  EXPECT_EQ(DumpStore(*store), Dump{});
}

TEST(RocksStoreTest, CreatesAStoreInAnEmptyDirectory) {
  TempDir tmp;
  std::filesystem::create_directory(tmp.Sub("lost+found"));  // as on a fresh ext4 mount point
  EXPECT_NE(OpenStore(tmp.path()), nullptr);
}

TEST(RocksStoreTest, RefusesToCreateWhenCreationIsDisabled) {
  TempDir tmp;
  StoreOptions options;
  options.create_if_missing = false;
  EXPECT_EQ(OpenStatus(tmp.Sub("missing"), options).code(), Code::kFailedPrecondition);
  EXPECT_EQ(OpenStatus(tmp.path(), options).code(), Code::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("CURRENT")));
}

TEST(RocksStoreTest, ReopenKeepsEverything) {
  TempDir tmp;
  Dump before;
  StoreMeta meta_before;
  {
    std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->Replace(Snapshot{Instance(4), {Org("a", 1), Org("b")}}, "c1", "snap.json", At(100))
            .ok());
    StoreChange change;
    change.put_orgs = {Org("c", 9)};
    change.removed_orgs = {"b"};
    change.cursor = "c2";
    change.synced_at = At(150);
    ASSERT_TRUE(store->Apply(change, At(140)).ok());
    before = DumpStore(*store);
    meta_before = store->Meta().value();
  }
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(DumpStore(*store), before);
  EXPECT_EQ(before, DumpOf(Instance(4), {{"a", Policy(1, "a")}, {"c", Policy(9, "c")}}));
  StoreMeta meta = store->Meta().value();
  EXPECT_EQ(meta, meta_before);
  EXPECT_EQ(meta, (StoreMeta{2, 2, true, "c2", "snap.json", At(140), At(150)}));

  LookupBatch batch;
  batch.Add("a");
  batch.Add("b");
  ASSERT_TRUE(store->Read(batch).ok());
  ASSERT_NE(batch.instance(), nullptr);
  EXPECT_EQ(*batch.instance(), Instance(4));
  ASSERT_NE(batch.org(0).own_policy, nullptr);
  EXPECT_EQ(*batch.org(0).own_policy, Policy(1, "a"));
  EXPECT_FALSE(batch.org(1).known);
}

TEST(RocksStoreTest, ReopenAfterFlushKeepsEverything) {
  TempDir tmp;
  {
    std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
    ASSERT_TRUE(store->Replace(Snapshot{Instance(), {Org("a", 1)}}, "c", "s", At(1)).ok());
    ASSERT_TRUE(store->Flush().ok());
  }
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(DumpStore(*store), DumpOf(Instance(), {{"a", Policy(1, "a")}}));
}

TEST(RocksStoreTest, RefusesADirectoryWithForeignFiles) {
  TempDir tmp;
  std::ofstream(tmp.Sub("notes.txt")) << "not a database";
  Status s = OpenStatus(tmp.path());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(Contains(s, "is not a policyd store")) << s.ToString();
  EXPECT_TRUE(Contains(s, "--data-dir")) << s.ToString();
  // Nothing was created next to the foreign file.
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("CURRENT")));
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("LOCK")));
}

TEST(RocksStoreTest, OpensWhatAKilledFirstStartLeftBeforeCurrent) {
  // RocksDB's create writes IDENTITY and CURRENT through "<n>.dbtmp" files: a SIGKILL before
  // CURRENT exists leaves a directory that is still no database, and the next start creates one.
  TempDir tmp;
  for (const char* name : {"000000.dbtmp", "000001.dbtmp", "MANIFEST-000001", "LOCK", "LOG"}) {
    std::ofstream(tmp.Sub(name)) << "partial";
  }
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Replace(Snapshot{Instance(), {Org("a", 1)}}, "c", "s", At(1)).ok());
  EXPECT_EQ(DumpStore(*store), DumpOf(Instance(), {{"a", Policy(1, "a")}}));
}

TEST(RocksStoreTest, RefusesAFileInsteadOfADirectory) {
  TempDir tmp;
  std::ofstream(tmp.Sub("file")) << "x";
  EXPECT_EQ(OpenStatus(tmp.Sub("file")).code(), Code::kFailedPrecondition);
}

TEST(RocksStoreTest, RefusesAForeignRocksDbDatabase) {
  TempDir tmp;
  RawPut(tmp.path(), "user:1", "someone else's data", /*create=*/true);
  Status s = OpenStatus(tmp.path());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(Contains(s, "without the meta:format key")) << s.ToString();
}

TEST(RocksStoreTest, RefusesAnotherFormatVersion) {
  TempDir tmp;
  ASSERT_NE(OpenStore(tmp.path()), nullptr);
  // v1 and v2 are migrated (domain_index_test.cc, rocks_store_migrate_test.cc); a format this
  // binary does not know is refused.
  RawPut(tmp.path(), keys::kFormatKey, "policyd-store-v9");
  Status s = OpenStatus(tmp.path());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(Contains(s, "policyd-store-v9")) << s.ToString();
  EXPECT_TRUE(Contains(s, "policyd-store-v3")) << s.ToString();
  EXPECT_TRUE(Contains(s, "policyd-store-v2")) << s.ToString();
}

TEST(RocksStoreTest, AdoptsAnEmptyDatabaseLeftByAnInterruptedCreate) {
  TempDir tmp;
  CreateEmptyRocksDb(tmp.path());
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Meta().value(), StoreMeta{});
}

TEST(RocksStoreTest, SecondOpenOfTheSameDirectoryFails) {
  TempDir tmp;
  std::unique_ptr<RocksStore> first = OpenStore(tmp.path());
  ASSERT_NE(first, nullptr);
  Status s = OpenStatus(tmp.path());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(Contains(s, "another policyd may be running")) << s.ToString();
  first.reset();
  EXPECT_TRUE(OpenStatus(tmp.path()).ok());
}

TEST(RocksStoreTest, CorruptMetaIsDataLossAtOpen) {
  TempDir tmp;
  ASSERT_NE(OpenStore(tmp.path()), nullptr);
  RawPut(tmp.path(), keys::kMetaKey, "\x01garbage");
  Status s = OpenStatus(tmp.path());
  EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
  EXPECT_TRUE(Contains(s, tmp.path())) << s.ToString();
}

TEST(RocksStoreTest, DamagedDatabaseFilesAreDataLossAtOpen) {
  // CURRENT names the live MANIFEST: damage it, or make it name a file that is not there.
  for (const char* current : {"garbage without newline", "MANIFEST-999999\n"}) {
    SCOPED_TRACE(current);
    TempDir tmp;
    ASSERT_NE(OpenStore(tmp.path()), nullptr);
    std::ofstream(tmp.Sub("CURRENT"), std::ios::trunc) << current;
    Status s = OpenStatus(tmp.path());
    EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
    EXPECT_TRUE(Contains(s, "resync")) << s.ToString();
  }
}

TEST(RocksStoreTest, CorruptOrgRowIsDataLossOnRead) {
  TempDir tmp;
  {
    std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
    ASSERT_TRUE(store->Replace(Snapshot{Instance(), {Org("good", 1)}}, "", "", At(1)).ok());
  }
  RawPut(tmp.path(), keys::OrgKey("bad"), std::string("\x07", 1));
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  LookupBatch batch;
  batch.Add("good");
  batch.Add("bad");
  Status s = store->Read(batch);
  EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
  EXPECT_TRUE(Contains(s, "org record")) << s.ToString();
  EXPECT_EQ(batch.instance(), nullptr);  // nothing half-filled is offered
  EXPECT_FALSE(batch.org(0).known);
  EXPECT_EQ(store->ForEach(nullptr, nullptr).code(), Code::kDataLoss);
  // A full resync repairs it.
  ASSERT_TRUE(store->Replace(Snapshot{Instance(), {Org("bad")}}, "", "", At(2)).ok());
  EXPECT_TRUE(store->Read(batch).ok());
  EXPECT_FALSE(batch.org(0).known);
  EXPECT_TRUE(batch.org(1).known);
}

TEST(RocksStoreTest, ReadFillsEveryView) {
  TempDir tmp;
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_TRUE(
      store->Replace(Snapshot{Instance(2), {Org("own", 5), Org("plain")}}, "", "", At(1)).ok());
  LookupBatch batch;
  for (const char* id : {"own", "plain", "unknown", "own"}) batch.Add(id);
  ASSERT_TRUE(store->Read(batch).ok());
  ASSERT_EQ(batch.size(), 4u);
  ASSERT_NE(batch.instance(), nullptr);
  EXPECT_EQ(*batch.instance(), Instance(2));
  EXPECT_TRUE(batch.org(0).known);
  ASSERT_NE(batch.org(0).own_policy, nullptr);
  EXPECT_EQ(*batch.org(0).own_policy, Policy(5, "own"));
  EXPECT_TRUE(batch.org(1).known);
  EXPECT_EQ(batch.org(1).own_policy, nullptr);
  EXPECT_FALSE(batch.org(2).known);
  EXPECT_EQ(batch.org(2).own_policy, nullptr);
  EXPECT_EQ(*batch.org(3).own_policy, Policy(5, "own"));

  // Reused for a smaller batch: no leftovers from the previous one.
  batch.Clear();
  EXPECT_EQ(batch.instance(), nullptr);
  batch.Add("plain");
  ASSERT_TRUE(store->Read(batch).ok());
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_TRUE(batch.org(0).known);
  EXPECT_EQ(batch.org(0).own_policy, nullptr);
  EXPECT_FALSE(batch.org(1).known);  // out of range: unknown, not a crash

  batch.Clear();  // no orgs at all: just the instance
  ASSERT_TRUE(store->Read(batch).ok());
  EXPECT_NE(batch.instance(), nullptr);
}

TEST(RocksStoreTest, ForEachVisitsTheInstanceThenOrgsInIdOrder) {
  TempDir tmp;
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_TRUE(
      store
          ->Replace(Snapshot{Instance(), {Org("b"), Org("a", 1), Org("\xff"), Org("B"), Org("ab")}},
                    "", "", At(1))
          .ok());
  std::vector<std::string> seen;
  Status s = store->ForEach([&](const InstanceRecord& i) { seen.push_back("instance " + i.id); },
                            [&](const OrgRecord& o) {
                              seen.push_back(o.id + (o.policy ? "+" : ""));
                              return Status::Ok();
                            });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"instance inst-1", "B", "a+", "ab", "b", "\xff"}));
}

TEST(RocksStoreTest, ForEachStopsAtTheFirstVisitorError) {
  TempDir tmp;
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_TRUE(
      store->Replace(Snapshot{Instance(), {Org("a"), Org("b"), Org("c")}}, "", "", At(1)).ok());
  int visits = 0;
  Status s = store->ForEach(nullptr, [&](const OrgRecord& o) {
    ++visits;
    return o.id == "b" ? Status::Internal("stop") : Status::Ok();
  });
  EXPECT_EQ(s, Status::Internal("stop"));
  EXPECT_EQ(visits, 2);
}

// The invariant the writer keeps: the instance default and every org policy carry the same
// sequence. A Read that mixed two batches would see two different sequences.
TEST(RocksStoreTest, ReadSeesOneConsistentStateWhileAWriterApplies) {
  TempDir tmp;
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  constexpr int kOrgs = 80;  // more than RocksDB's internal MultiGet batch of 32 keys
  constexpr std::uint64_t kWrites = 300;
  auto change_for = [](std::uint64_t seq) {
    StoreChange change;
    change.instance = Instance(seq);
    for (int i = 0; i < kOrgs; ++i) change.put_orgs.push_back(Org("org-" + std::to_string(i), seq));
    change.cursor = std::to_string(seq);
    return change;
  };
  ASSERT_TRUE(store->Apply(change_for(1), At(1)).ok());

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<std::uint64_t> max_seen{0};
  std::vector<std::string> ids;
  for (int i = 0; i < kOrgs; ++i) ids.push_back("org-" + std::to_string(i));
  auto reader = [&] {
    LookupBatch batch;
    for (const std::string& id : ids) batch.Add(id);  // Add() keeps views: ids outlive batch
    bool last = false;
    while (!last) {
      last = done.load();
      if (!store->Read(batch).ok() || batch.instance() == nullptr) {
        ++failures;
        continue;
      }
      const std::uint64_t seq = batch.instance()->policy.details.sequence;
      for (int i = 0; i < kOrgs; ++i) {
        const OrgView view = batch.org(i);
        if (view.own_policy == nullptr || view.own_policy->details.sequence != seq) ++failures;
      }
      std::uint64_t prev = max_seen.load();
      while (seq > prev && !max_seen.compare_exchange_weak(prev, seq)) {
      }
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  for (std::uint64_t seq = 2; seq <= kWrites; ++seq) {
    Status s = store->Apply(change_for(seq), At(static_cast<std::int64_t>(seq)));
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      break;
    }
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(max_seen.load(), kWrites);  // the final read saw the final state
  EXPECT_EQ(store->Meta().value().cursor, std::to_string(kWrites));
}

TEST(RocksStoreTest, LookupsOnAHundredThousandOrgsStayCorrect) {
  TempDir tmp;
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  constexpr int kOrgs = 100'000;
  Snapshot snapshot{Instance(), {}};
  snapshot.orgs.reserve(kOrgs);
  for (int i = 0; i < kOrgs; ++i) {
    snapshot.orgs.push_back(i % 3 == 0 ? Org(std::to_string(1'000'000 + i), i)
                                       : Org(std::to_string(1'000'000 + i)));
  }
  ASSERT_TRUE(store->Replace(snapshot, "c", "s", At(1)).ok());
  ASSERT_TRUE(store->Flush().ok());  // so that lookups go through SST files and bloom filters
  StoreMeta meta = store->Meta().value();
  EXPECT_EQ(meta.org_count, static_cast<std::uint64_t>(kOrgs));
  EXPECT_EQ(meta.custom_policy_count, static_cast<std::uint64_t>((kOrgs + 2) / 3));

  std::mt19937 rng(7);
  std::vector<std::string> ids;
  for (int round = 0; round < 20; ++round) {
    ids.clear();
    for (int k = 0; k < 100; ++k) {
      const int i = static_cast<int>(rng() % (kOrgs * 2));  // half of them unknown
      ids.push_back(std::to_string(1'000'000 + i));
    }
    LookupBatch batch;
    for (const std::string& id : ids) batch.Add(id);
    ASSERT_TRUE(store->Read(batch).ok());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const int i = std::stoi(ids[k]) - 1'000'000;
      const OrgView view = batch.org(k);
      ASSERT_EQ(view.known, i < kOrgs) << ids[k];
      ASSERT_EQ(view.own_policy != nullptr, i < kOrgs && i % 3 == 0) << ids[k];
      if (view.own_policy != nullptr) {
        EXPECT_EQ(view.own_policy->details.sequence, static_cast<std::uint64_t>(i));
      }
    }
  }
  std::size_t walked = 0;
  ASSERT_TRUE(store
                  ->ForEach(nullptr,
                            [&](const OrgRecord&) {
                              ++walked;
                              return Status::Ok();
                            })
                  .ok());
  EXPECT_EQ(walked, static_cast<std::size_t>(kOrgs));
}

}  // namespace
}  // namespace policyd
