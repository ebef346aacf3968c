// RocksStore: stores of format v2 (entry versions in "version:<id>" and "instance-version" rows of
// their own) and v1 (also no verified-domain index). A writable open migrates them in place to v3
// (each version folded into its org value or instance record), keeping every version, also after
// a migration that an earlier crash interrupted; a read-only open reads them as they are.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/codec.h"
#include "store/keys.h"
#include "store/multi_get.h"
#include "store_test_util.h"

namespace policyd {
namespace {

namespace keys = store_keys;

SourceVersion V(std::int64_t seconds, std::string id = "a", std::uint64_t seq = 1) {
  return SourceVersion{Timestamp{seconds, 5}, EventStream{"org", std::move(id)}, seq};
}

// One entry as Store::ForEachEntry shows it.
struct Entry {
  OrgRecord org;
  OrgDomains domains;
  SourceVersion version;
  friend bool operator==(const Entry&, const Entry&) = default;
};

struct Entries {
  std::optional<InstanceRecord> instance;
  SourceVersion instance_version;
  std::vector<Entry> orgs;
  friend bool operator==(const Entries&, const Entries&) = default;
};

Entries Walk(const Store& store) {
  Entries out;
  Status s = store.ForEachEntry(
      [&out](const InstanceRecord& instance, const InstanceDomains&, const SourceVersion& v) {
        out.instance = instance;
        out.instance_version = v;
        return Status::Ok();
      },
      [&out](const OrgRecord& org, const OrgDomains& domains, const SourceVersion& v) {
        out.orgs.push_back(Entry{org, domains, v});
        return Status::Ok();
      });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// The v2 form of a v3 entry row: the same fields without the version body, version byte 2.
std::string V2Row(std::string v3, const SourceVersion& version) {
  v3.resize(v3.size() - VersionBodySize(version));
  v3[0] = static_cast<char>(kCodecV2);
  return v3;
}

// Every key and value of the (closed) store in `dir`.
std::map<std::string, std::string> Rows(const std::string& dir) {
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, std::string> rows;
  if (!db) return rows;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rows[it->key().ToString()] = it->value().ToString();
  }
  EXPECT_TRUE(it->status().ok());
  return rows;
}

// Which orgs of a v2 store an interrupted migration had already rewritten as v3, and what else
// the store holds, for MakeV2.
struct V2Options {
  std::vector<std::string> migrated;             // rows left as v3, without their version row
  std::vector<std::string> orphan_version_rows;  // "version:<id>" of ids without an org row
  std::string format = std::string(keys::kFormatV2);
};

// Turns the (closed) v3 store in `dir` into what a v2 binary wrote: every org value and the
// instance record as v2, each version in a row of its own (none for a zero version, as a v2 binary
// that never got one left it), format v2; except for what `options` says.
void MakeV2(const std::string& dir, const V2Options& options = {}) {
  const std::map<std::string, std::string> rows = Rows(dir);
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch batch;
  std::string bytes;
  for (const auto& [key, value] : rows) {
    SourceVersion version;
    std::string version_key;
    std::string_view id;
    if (keys::ParseOrgKey(key, &id)) {
      if (std::find(options.migrated.begin(), options.migrated.end(), id) !=
          options.migrated.end()) {
        continue;
      }
      bool has_policy = false;
      PolicyRecord policy;
      ASSERT_TRUE(DecodeOrgValue(value, &has_policy, &policy, &version).ok());
      keys::AppendOrgVersionKey(id, &version_key);
    } else if (key == keys::kInstanceKey) {
      InstanceRecord instance;
      ASSERT_TRUE(DecodeInstanceRecord(value, &instance, &version).ok());
      version_key = keys::kInstanceVersionKey;
    } else {
      continue;
    }
    ASSERT_TRUE(batch.Put(key, V2Row(value, version)).ok());
    if (version == SourceVersion{}) continue;
    EncodeSourceVersion(version, &bytes);
    ASSERT_TRUE(batch.Put(version_key, bytes).ok());
  }
  EncodeSourceVersion(V(99, "orphan"), &bytes);
  for (const std::string& key : options.orphan_version_rows) {
    ASSERT_TRUE(batch.Put(key, bytes).ok());
  }
  ASSERT_TRUE(batch.Put(ToSlice(keys::kFormatKey), options.format).ok());
  if (options.format == keys::kFormatV1) {
    ASSERT_TRUE(
        batch.DeleteRange(ToSlice(keys::kDomainIndexPrefix), ToSlice(keys::kDomainIndexEnd)).ok());
  }
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &batch).ok());
}

bool HasVersionRows(const std::map<std::string, std::string>& rows) {
  for (const auto& [key, value] : rows) {
    if (key.starts_with(keys::kOrgVersionPrefix) || key == keys::kInstanceVersionKey) return true;
  }
  return false;
}

class RocksStoreMigrateTest : public testing::Test {
 protected:
  // A store with the instance and orgs a (own policy, version), b (no version: zero), c (domains
  // and a version) and d (own policy, version), closed.
  void SetUp() override {
    std::unique_ptr<RocksStore> store = OpenStore(tmp_.path());
    ASSERT_NE(store, nullptr);
    StoreChange change;
    change.instance = Instance();
    change.instance_version = SourceVersion{Timestamp{10, 0}, EventStream{"instance", "IAM"}, 3};
    change.put_orgs = {Org("a", 1), Org("b"), Org("c"), Org("d", 4)};
    change.put_org_domains = {OrgDomains{"c", {{"c.com", true, true}}, 7}};
    change.org_versions = {{"a", V(11)}, {"c", V(12, "c", 7)}, {"d", V(13, "d", 4)}};
    ASSERT_TRUE(store->Apply(change, At(1)).ok());
    before_ = Walk(*store);
    meta_ = store->Meta().value();
    ASSERT_EQ(before_.orgs.size(), 4u);
    ASSERT_EQ(before_.orgs[0].version, V(11));
  }

  // Opens the store for writing and checks that it is a v3 store holding what SetUp() wrote.
  void ExpectMigrated() {
    std::unique_ptr<RocksStore> store = OpenStore(tmp_.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(Walk(*store), before_);
    EXPECT_EQ(store->Meta().value(), meta_);
    LookupBatch batch;
    batch.set_with_versions(true);
    for (const char* id : {"a", "b", "c", "d"}) batch.Add(id);
    ASSERT_TRUE(store->Read(batch).ok());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(batch.version(i), before_.orgs[i].version) << batch.id(i);
    }
    EXPECT_EQ(batch.instance_version(), before_.instance_version);
    store.reset();
    const std::map<std::string, std::string> rows = Rows(tmp_.path());
    EXPECT_EQ(rows.at(std::string(keys::kFormatKey)), keys::kFormatV3);
    EXPECT_FALSE(HasVersionRows(rows));
    for (const char* key : {"org:a", "org:b", "org:c", "org:d", "instance"}) {
      EXPECT_EQ(rows.at(key)[0], static_cast<char>(kCodecV3)) << key;
    }
  }

  TempDir tmp_;
  Entries before_;
  StoreMeta meta_;
};

TEST_F(RocksStoreMigrateTest, MakeV2WritesTheOldLayout) {
  MakeV2(tmp_.path());
  const std::map<std::string, std::string> rows = Rows(tmp_.path());
  EXPECT_EQ(rows.at(std::string(keys::kFormatKey)), keys::kFormatV2);
  EXPECT_EQ(rows.at("org:a")[0], static_cast<char>(kCodecV2));
  EXPECT_EQ(rows.at("instance")[0], static_cast<char>(kCodecV2));
  EXPECT_TRUE(rows.contains("version:a"));
  EXPECT_FALSE(rows.contains("version:b"));  // zero: a v2 binary had written none
  EXPECT_TRUE(rows.contains("instance-version"));
}

TEST_F(RocksStoreMigrateTest, AWritableOpenMigratesAV2StoreKeepingEveryVersion) {
  MakeV2(tmp_.path());
  ExpectMigrated();
  ExpectMigrated();  // and opening the v3 store again changes nothing
}

// A migration is written in batches, the format key last: a crash leaves a v2 store in which some
// org rows are v3 already (with their version, their version rows deleted in the same batch).
// The next open migrates it again; orphaned version rows (no org) are dropped too.
TEST_F(RocksStoreMigrateTest, AMigrationThatACrashInterruptedIsDoneAgain) {
  MakeV2(tmp_.path(), V2Options{{"a", "c"}, {"version:0-before-all", "version:bb", "version:zz"}});
  std::map<std::string, std::string> rows = Rows(tmp_.path());
  ASSERT_EQ(rows.at("org:a")[0], static_cast<char>(kCodecV3));
  ASSERT_EQ(rows.at("org:b")[0], static_cast<char>(kCodecV2));
  ASSERT_FALSE(rows.contains("version:a"));
  ASSERT_TRUE(rows.contains("version:d"));
  ExpectMigrated();
  rows = Rows(tmp_.path());
  EXPECT_FALSE(rows.contains("version:zz"));
}

TEST_F(RocksStoreMigrateTest, AV1StoreMigratesToV3WithTheIndexAndTheVersions) {
  MakeV2(tmp_.path(), V2Options{{}, {}, std::string(keys::kFormatV1)});
  ASSERT_FALSE(Rows(tmp_.path()).contains("verified-domain:c.com"));
  ExpectMigrated();
  std::unique_ptr<RocksStore> store = OpenStore(tmp_.path());
  ASSERT_NE(store, nullptr);
  LookupBatch batch;
  batch.Add("a");
  const std::size_t j = batch.AddClaimQuery("c.com", "a");
  ASSERT_TRUE(store->Read(batch).ok());
  ASSERT_EQ(batch.claims(j).size(), 1u);
  EXPECT_EQ(batch.claims(j)[0].org_id, "c");
}

TEST_F(RocksStoreMigrateTest, AReadOnlyOpenOfAV2StoreReadsTheVersionRows) {
  MakeV2(tmp_.path());
  StoreOptions options;
  options.read_only = true;
  std::unique_ptr<RocksStore> ro = OpenStore(tmp_.path(), options);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(Walk(*ro), before_);
  LookupBatch batch;
  batch.set_with_versions(true);
  batch.set_with_domains(true);
  for (const char* id : {"a", "b", "c", "d", "nobody"}) batch.Add(id);
  const std::size_t j = batch.AddClaimQuery("c.com", "a");  // a v2 store has the index
  ASSERT_TRUE(ro->Read(batch).ok());
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(batch.version(i), before_.orgs[i].version);
  EXPECT_EQ(batch.version(4), SourceVersion{});
  EXPECT_FALSE(batch.org(4).known);
  EXPECT_EQ(batch.instance_version(), before_.instance_version);
  EXPECT_EQ(batch.domains(2).domains.size(), 1u);
  EXPECT_EQ(batch.claims(j).size(), 1u);
  EXPECT_EQ(ro->Apply(StoreChange{}, At(5)).code(), Code::kFailedPrecondition);
  ro.reset();
  const std::map<std::string, std::string> rows = Rows(tmp_.path());
  EXPECT_EQ(rows.at(std::string(keys::kFormatKey)), keys::kFormatV2);  // nothing was written
  EXPECT_TRUE(HasVersionRows(rows));
}

// A version row that does not decode stops the migration (DATA_LOSS at open, as for any damaged
// row); the store is left a v2 store, never half-trusted.
TEST_F(RocksStoreMigrateTest, ADamagedVersionRowFailsTheOpenAndLeavesTheStoreV2) {
  MakeV2(tmp_.path());
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), tmp_.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "version:d", "\x01garbage").ok());
  }
  Result<std::unique_ptr<RocksStore>> store = RocksStore::Open(tmp_.path(), StoreOptions{});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kDataLoss) << store.error().ToString();
  EXPECT_NE(store.error().message().find("version of org d"), std::string::npos)
      << store.error().ToString();
  EXPECT_EQ(Rows(tmp_.path()).at(std::string(keys::kFormatKey)), keys::kFormatV2);
}

}  // namespace
}  // namespace policyd
