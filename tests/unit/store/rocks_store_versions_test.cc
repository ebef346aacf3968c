// RocksStore and IndexedStore: entry versions (inside the org values and the instance record,
// codec v3): written with the rows they describe by Apply and Replace (a version alone rewrites
// its entry's row), read by Read with versions and by ForEachEntry, removed with their org, and
// checked before anything is written.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "store/codec.h"
#include "store/indexed_store.h"
#include "store_test_util.h"

namespace policyd {
namespace {

SourceVersion V(std::int64_t seconds, std::string type = "org", std::string id = "a",
                std::uint64_t seq = 1) {
  return SourceVersion{Timestamp{seconds, 5}, EventStream{std::move(type), std::move(id)}, seq};
}

struct Entry {
  OrgRecord org;
  OrgDomains domains;
  SourceVersion version;
  friend bool operator==(const Entry&, const Entry&) = default;
};

struct Entries {
  bool has_instance = false;
  InstanceRecord instance;
  InstanceDomains instance_domains;
  SourceVersion instance_version;
  std::vector<Entry> orgs;
};

Entries Walk(const Store& store) {
  Entries out;
  Status s = store.ForEachEntry(
      [&out](const InstanceRecord& instance, const InstanceDomains& domains,
             const SourceVersion& version) {
        out.has_instance = true;
        out.instance = instance;
        out.instance_domains = domains;
        out.instance_version = version;
        return Status::Ok();
      },
      [&out](const OrgRecord& org, const OrgDomains& domains, const SourceVersion& version) {
        out.orgs.push_back(Entry{org, domains, version});
        return Status::Ok();
      });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class RocksStoreVersionsTest : public testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(tmp_.path());
    ASSERT_NE(store_, nullptr);
  }

  // Reads the versions of `ids` (and the instance's) with one batch.
  std::vector<SourceVersion> Versions(const std::vector<std::string>& ids,
                                      SourceVersion* instance = nullptr) {
    LookupBatch batch;
    batch.set_with_versions(true);
    for (const std::string& id : ids) batch.Add(id);
    Status s = store_->Read(batch);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<SourceVersion> out;
    for (std::size_t i = 0; i < ids.size() && s.ok(); ++i) out.push_back(batch.version(i));
    if (instance != nullptr && s.ok()) *instance = batch.instance_version();
    return out;
  }

  TempDir tmp_;
  std::unique_ptr<RocksStore> store_;
};

TEST_F(RocksStoreVersionsTest, ApplyWritesVersionsThatReadBackAndUnknownOnesAreZero) {
  StoreChange change;
  change.instance = Instance();
  change.instance_version = V(10, "instance", "inst-1", 3);
  change.put_orgs = {Org("a", 1), Org("b")};
  change.put_org_domains = {OrgDomains{"c", {{"c.com", true, true}}, 4}};
  change.put_orgs.push_back(Org("c"));
  change.org_versions = {{"a", V(11)}, {"c", V(12, "org", "c", 4)}};
  ASSERT_TRUE(store_->Apply(change, At(1)).ok());

  SourceVersion instance;
  EXPECT_EQ(Versions({"a", "b", "c", "nobody"}, &instance),
            (std::vector<SourceVersion>{V(11), {}, V(12, "org", "c", 4), {}}));
  EXPECT_EQ(instance, V(10, "instance", "inst-1", 3));
}

TEST_F(RocksStoreVersionsTest, AVersionOnlyChangeIsWrittenAndARemovedOrgTakesItsVersionAlong) {
  StoreChange first;
  first.instance = Instance();
  first.put_orgs = {Org("a", 1)};
  first.org_versions = {{"a", V(11)}};
  ASSERT_TRUE(store_->Apply(first, At(1)).ok());
  // The same rows with a newer version: only the version changes, which is no state change.
  first.org_versions = {{"a", V(20)}};
  ASSERT_TRUE(store_->Apply(first, At(2)).ok());
  EXPECT_EQ(Versions({"a"}), std::vector<SourceVersion>{V(20)});
  EXPECT_EQ(store_->Meta().value().last_change, At(1));
  // A new policy with the same version: a state change.
  first.put_orgs = {Org("a", 2)};
  ASSERT_TRUE(store_->Apply(first, At(3)).ok());
  EXPECT_EQ(Versions({"a"}), std::vector<SourceVersion>{V(20)});
  EXPECT_EQ(store_->Meta().value().last_change, At(3));
  EXPECT_EQ(DumpStore(*store_).orgs, std::vector<OrgRecord>{Org("a", 2)});

  StoreChange removal;
  removal.removed_orgs = {"a"};
  ASSERT_TRUE(store_->Apply(removal, At(4)).ok());
  StoreChange again;
  again.put_orgs = {Org("a")};
  ASSERT_TRUE(store_->Apply(again, At(5)).ok());
  EXPECT_EQ(Versions({"a"}), std::vector<SourceVersion>{SourceVersion{}});
}

TEST_F(RocksStoreVersionsTest, ADomainOnlyChangeRaisesTheVersionOfTheOrg) {
  StoreChange first;
  first.instance = Instance();
  first.put_orgs = {Org("a", 1), Org("b")};
  first.org_versions = {{"a", V(11)}, {"b", V(12, "org", "b")}};
  ASSERT_TRUE(store_->Apply(first, At(1)).ok());

  // "a": a new domain list and a newer version, and no put of the org itself.
  StoreChange domains;
  domains.put_org_domains = {OrgDomains{"a", {{"a.com", true, true}}, 5}};
  domains.org_versions = {{"a", V(20, "org", "a", 5)}};
  ASSERT_TRUE(store_->Apply(domains, At(2)).ok());
  EXPECT_EQ(Versions({"a", "b"}),
            (std::vector<SourceVersion>{V(20, "org", "a", 5), V(12, "org", "b")}));
  const Dump dump = DumpStore(*store_);
  ASSERT_EQ(dump.orgs.size(), 2u);
  EXPECT_EQ(dump.orgs[0], Org("a", 1));  // the policy is kept as it was
  StoreMeta meta = store_->Meta().value();
  EXPECT_EQ(meta.org_count, 2u);
  EXPECT_EQ(meta.custom_policy_count, 1u);
  EXPECT_EQ(meta.last_change, At(2));

  // The same list again with a still newer version: the version alone changes, which is written
  // but is no state change (last_change stays).
  domains.org_versions = {{"a", V(30, "org", "a", 6)}};
  ASSERT_TRUE(store_->Apply(domains, At(3)).ok());
  EXPECT_EQ(Versions({"a"}), std::vector<SourceVersion>{V(30, "org", "a", 6)});
  meta = store_->Meta().value();
  EXPECT_EQ(meta.last_change, At(2));
  EXPECT_EQ(Walk(*store_).orgs[0].version, V(30, "org", "a", 6));

  // A domain list of an org that does not exist is still refused, its version with it.
  StoreChange unknown;
  unknown.put_org_domains = {OrgDomains{"nobody", {{"n.com", true, true}}, 1}};
  unknown.org_versions = {{"nobody", V(40)}};
  EXPECT_EQ(store_->Apply(unknown, At(4)).code(), Code::kInvalidArgument);
  EXPECT_EQ(Versions({"nobody"}), std::vector<SourceVersion>{SourceVersion{}});
}

TEST_F(RocksStoreVersionsTest, AnInstanceVersionAloneRewritesTheInstanceRecord) {
  StoreChange first;
  first.instance = Instance();
  first.instance_version = V(10, "instance", "inst-1", 3);
  ASSERT_TRUE(store_->Apply(first, At(1)).ok());

  StoreChange domains;  // an instance-domain event: the domains and the version, no record
  domains.instance_domains = InstanceDomains{{"inst.example"}, 4};
  domains.instance_version = V(11, "instance", "inst-1", 4);
  ASSERT_TRUE(store_->Apply(domains, At(2)).ok());
  SourceVersion instance;
  Versions({}, &instance);
  EXPECT_EQ(instance, V(11, "instance", "inst-1", 4));
  EXPECT_EQ(DumpStore(*store_).instance, Instance());

  StoreChange version_only;
  version_only.instance_version = V(12, "instance", "inst-1", 5);
  ASSERT_TRUE(store_->Apply(version_only, At(3)).ok());
  Versions({}, &instance);
  EXPECT_EQ(instance, V(12, "instance", "inst-1", 5));
  EXPECT_EQ(store_->Meta().value().last_change, At(2));  // a version alone is no state change

  // A new record without a version keeps the stored version.
  StoreChange record;
  record.instance = Instance(9);
  ASSERT_TRUE(store_->Apply(record, At(4)).ok());
  Versions({}, &instance);
  EXPECT_EQ(instance, V(12, "instance", "inst-1", 5));
  EXPECT_EQ(DumpStore(*store_).instance, Instance(9));
}

// A damaged instance row: a version alone cannot be added to it (DATA_LOSS, nothing written),
// while a change that gives a new record overwrites it.
TEST_F(RocksStoreVersionsTest, ADamagedInstanceRowIsOverwrittenByANewRecordOnly) {
  StoreChange first;
  first.instance = Instance();
  ASSERT_TRUE(store_->Apply(first, At(1)).ok());
  store_.reset();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), tmp_.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "instance", "\x03garbage").ok());
  }
  store_ = OpenStore(tmp_.path());
  ASSERT_NE(store_, nullptr);
  StoreChange version_only;
  version_only.instance_version = V(12, "instance", "inst-1", 5);
  EXPECT_EQ(store_->Apply(version_only, At(2)).code(), Code::kDataLoss);
  StoreChange record = version_only;
  record.instance = Instance(3);
  ASSERT_TRUE(store_->Apply(record, At(3)).ok());
  SourceVersion instance;
  Versions({}, &instance);
  EXPECT_EQ(instance, V(12, "instance", "inst-1", 5));
  EXPECT_EQ(DumpStore(*store_).instance, Instance(3));
}

// The version lives in the instance record: without an instance default stored or given, an
// instance version has nowhere to go (store.h) and reads as zero; nothing else is affected.
TEST(RocksStoreVersionsNoInstanceTest, AnInstanceVersionWithoutAnInstanceIsNotKept) {
  TempDir tmp;
  std::unique_ptr<RocksStore> store = OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  StoreChange change;
  change.instance_domains = InstanceDomains{{"inst.example"}, 4};
  change.instance_version = V(11, "instance", "inst-1", 4);
  ASSERT_TRUE(store->Apply(change, At(1)).ok());
  LookupBatch batch;
  batch.set_with_versions(true);
  batch.set_with_domains(true);
  ASSERT_TRUE(store->Read(batch).ok());
  EXPECT_EQ(batch.instance(), nullptr);
  EXPECT_EQ(batch.instance_version(), SourceVersion{});
  EXPECT_EQ(batch.instance_domains().names, std::vector<std::string>{"inst.example"});
}

TEST_F(RocksStoreVersionsTest, BadVersionsAreRefusedWithNothingWritten) {
  StoreChange base;
  base.instance = Instance();
  base.put_orgs = {Org("a")};
  ASSERT_TRUE(store_->Apply(base, At(1)).ok());
  const StoreMeta before = store_->Meta().value();

  StoreChange not_put;  // "a" exists but is not put by this change
  not_put.org_versions = {{"a", V(5)}};
  StoreChange twice;
  twice.put_orgs = {Org("b")};
  twice.org_versions = {{"b", V(5)}, {"b", V(6)}};
  StoreChange bad_nanos;
  bad_nanos.put_orgs = {Org("b")};
  bad_nanos.org_versions = {{"b", SourceVersion{Timestamp{1, 1'000'000'000}, {}, 0}}};
  StoreChange id_without_type;
  id_without_type.instance_version = SourceVersion{Timestamp{1, 0}, EventStream{"", "x"}, 1};
  for (const StoreChange* change : {&not_put, &twice, &bad_nanos, &id_without_type}) {
    Status s = store_->Apply(*change, At(9));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  }
  EXPECT_EQ(store_->Meta().value(), before);
  EXPECT_EQ(Versions({"a", "b"}), (std::vector<SourceVersion>{{}, {}}));
}

TEST_F(RocksStoreVersionsTest, ReplaceWritesEveryEntrysVersionAndDropsTheOldOnes) {
  StoreChange old;
  old.instance = Instance();
  old.put_orgs = {Org("gone")};
  old.org_versions = {{"gone", V(99)}};
  ASSERT_TRUE(store_->Apply(old, At(1)).ok());

  Snapshot snapshot;
  snapshot.instance = Instance(2);
  snapshot.orgs = {Org("b"), Org("a", 1)};
  snapshot.version = V(50, "", "", 0);
  ASSERT_TRUE(store_->Replace(snapshot, "", "test", At(2)).ok());
  SourceVersion instance;
  EXPECT_EQ(Versions({"a", "b", "gone"}, &instance),
            (std::vector<SourceVersion>{V(50, "", "", 0), V(50, "", "", 0), {}}));
  EXPECT_EQ(instance, V(50, "", "", 0));

  snapshot.org_versions = {V(7, "org", "b", 2), V(8)};  // one per org, in snapshot order
  snapshot.instance_version = V(9, "instance", "inst-1", 1);
  ASSERT_TRUE(store_->Replace(snapshot, "", "test", At(3)).ok());
  EXPECT_EQ(Versions({"a", "b"}, &instance),
            (std::vector<SourceVersion>{V(8), V(7, "org", "b", 2)}));
  EXPECT_EQ(instance, V(9, "instance", "inst-1", 1));

  snapshot.org_versions = {V(1)};  // not one per org
  EXPECT_EQ(store_->Replace(snapshot, "", "test", At(4)).code(), Code::kInvalidArgument);
}

TEST_F(RocksStoreVersionsTest, ForEachEntryJoinsEachOrgWithItsDomainsAndVersion) {
  EXPECT_FALSE(Walk(*store_).has_instance);
  StoreChange change;
  change.instance = Instance();
  change.instance_domains = InstanceDomains{{"inst.example"}, 3};
  change.instance_version = V(30, "instance", "inst-1", 3);
  change.put_orgs = {Org("a", 1), Org("b"), Org("c"), Org("d")};
  change.put_org_domains = {OrgDomains{"b", {{"b.com", true, true}}, 2},
                            OrgDomains{"d", {{"d.com", false, false}}, 7}};
  change.org_versions = {{"a", V(11)}, {"d", V(14, "org", "d", 7)}};
  ASSERT_TRUE(store_->Apply(change, At(1)).ok());

  const Entries all = Walk(*store_);
  ASSERT_TRUE(all.has_instance);
  EXPECT_EQ(all.instance, Instance());
  EXPECT_EQ(all.instance_domains.names, std::vector<std::string>{"inst.example"});
  EXPECT_EQ(all.instance_version, V(30, "instance", "inst-1", 3));
  const std::vector<Entry> want = {
      {Org("a", 1), OrgDomains{"a", {}, 0}, V(11)},
      {Org("b"), OrgDomains{"b", {{"b.com", true, true}}, 2}, {}},
      {Org("c"), OrgDomains{"c", {}, 0}, {}},
      {Org("d"), OrgDomains{"d", {{"d.com", false, false}}, 7}, V(14, "org", "d", 7)},
  };
  EXPECT_EQ(all.orgs, want);

  // A visitor's error stops the walk and is returned.
  int visited = 0;
  Status s = store_->ForEachEntry(
      nullptr, [&visited](const OrgRecord&, const OrgDomains&, const SourceVersion&) {
        return ++visited == 2 ? Status::NotFound("stop") : Status::Ok();
      });
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(visited, 2);
}

TEST_F(RocksStoreVersionsTest, AnIndexedStoreReadsVersionsFromRocksDb) {
  StoreChange change;
  change.instance = Instance();
  change.put_orgs = {Org("a", 1)};
  change.org_versions = {{"a", V(11)}};
  ASSERT_TRUE(store_->Apply(change, At(1)).ok());
  std::mutex mu;
  std::condition_variable cv;
  bool loaded = false;
  std::unique_ptr<Store> indexed = WithMemoryIndex(std::move(store_), [&](const IndexLoad&) {
    std::lock_guard lock(mu);
    loaded = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return loaded; });
  }
  LookupBatch batch;
  batch.set_with_versions(true);
  batch.Add("a");
  ASSERT_TRUE(indexed->Read(batch).ok());
  EXPECT_EQ(batch.version(0), V(11));
  EXPECT_TRUE(batch.org(0).known);
  EXPECT_EQ(Walk(*indexed).orgs.size(), 1u);
}

// What a v3 store holds: no "version:" or "instance-version" rows, whatever wrote the versions.
TEST_F(RocksStoreVersionsTest, NoVersionRowsAreWritten) {
  StoreChange change;
  change.instance = Instance();
  change.instance_version = V(10, "instance", "inst-1", 3);
  change.put_orgs = {Org("a", 1), Org("b")};
  change.put_org_domains = {OrgDomains{"b", {{"b.com", true, true}}, 4}};
  change.org_versions = {{"a", V(11)}, {"b", V(12, "org", "b", 4)}};
  ASSERT_TRUE(store_->Apply(change, At(1)).ok());
  Snapshot snapshot;
  snapshot.instance = Instance(2);
  snapshot.orgs = {Org("c")};
  snapshot.version = V(50);
  ASSERT_TRUE(store_->Replace(snapshot, "", "test", At(2)).ok());
  ASSERT_TRUE(store_->Apply(change, At(3)).ok());
  store_.reset();

  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), tmp_.path(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  ASSERT_TRUE(it->status().ok());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "org:a"), keys.end());
  for (const std::string& key : keys) {
    EXPECT_FALSE(key.starts_with("version:")) << key;
    EXPECT_NE(key, "instance-version");
  }
}

TEST(SourceVersionCodecTest, RoundTripsAndRefusesDamage) {
  std::string bytes;
  const SourceVersion v = V(-5, "instance", std::string(kMaxIdLength, 'x'), 1ull << 63);
  EncodeSourceVersion(v, &bytes);
  SourceVersion back;
  ASSERT_TRUE(DecodeSourceVersion(bytes, &back).ok());
  EXPECT_EQ(back, v);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeSourceVersion(bytes.substr(0, n), &back).code(), Code::kDataLoss) << n;
  }
  EXPECT_EQ(DecodeSourceVersion(bytes + "x", &back).code(), Code::kDataLoss);
  std::string v2 = bytes;
  v2[0] = 2;
  EXPECT_EQ(DecodeSourceVersion(v2, &back).code(), Code::kDataLoss);
  EncodeSourceVersion(SourceVersion{{}, EventStream{"", "id"}, 0}, &bytes);
  EXPECT_EQ(DecodeSourceVersion(bytes, &back).code(), Code::kDataLoss);
}

}  // namespace
}  // namespace policyd
