// RocksStore and IndexedStore: org and instance domains (Apply, Replace, ReadDomains, Read with
// domains), their validation and their removal with the org.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "store/codec.h"
#include "store/indexed_store.h"
#include "store/keys.h"
#include "store_test_util.h"

namespace policyd {
namespace {

namespace keys = store_keys;

const std::vector<OrgDomain> kAcme = {{"acme.com", true, true}, {"acme.org", false, false}};

OrgDomains Domains(std::string org, std::vector<OrgDomain> domains, std::uint64_t seq = 0) {
  return OrgDomains{std::move(org), std::move(domains), seq};
}

class RocksStoreDomainsTest : public testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(tmp_.path());
    ASSERT_NE(store_, nullptr);
    StoreChange change;
    change.instance = Instance();
    change.put_orgs = {Org("a"), Org("b", 1)};
    ASSERT_TRUE(store_->Apply(change, At(1)).ok());
  }

  DomainSet ReadDomains(std::string_view org) {
    DomainSet set;
    Status s = store_->ReadDomains(org, set);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return set;
  }

  Timestamp LastChange() { return store_->Meta().value_or(StoreMeta{}).last_change; }

  TempDir tmp_;
  std::unique_ptr<RocksStore> store_;
};

TEST_F(RocksStoreDomainsTest, ApplyStoresAndReplacesAnOrgsWholeListAndTheInstances) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 5)};
  change.instance_domains = InstanceDomains{{"zitadel.example.com"}, 3};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  EXPECT_EQ(ReadDomains("a"), (DomainSet{kAcme, {"zitadel.example.com"}}));
  EXPECT_EQ(ReadDomains("b"), (DomainSet{{}, {"zitadel.example.com"}}));
  EXPECT_EQ(LastChange(), At(10));

  change = StoreChange{};
  change.put_org_domains = {Domains("a", {{"acme.org", true, true}}, 6)};
  ASSERT_TRUE(store_->Apply(change, At(20)).ok());
  EXPECT_EQ(ReadDomains("a").org, (std::vector<OrgDomain>{{"acme.org", true, true}}));
  EXPECT_EQ(ReadDomains("a").instance, (std::vector<std::string>{"zitadel.example.com"}));
}

TEST_F(RocksStoreDomainsTest, ReadWithDomainsReturnsListsAndSequences) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 5)};
  change.instance_domains = InstanceDomains{{"i.example.com"}, 3};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.Add("a");
  batch.Add("b");
  batch.Add("unknown");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.domains(0).domains, kAcme);
  EXPECT_EQ(batch.domains(0).sequence, 5u);
  EXPECT_TRUE(batch.domains(1).domains.empty());
  EXPECT_EQ(batch.domains(1).sequence, 0u);
  EXPECT_TRUE(batch.domains(2).domains.empty());
  EXPECT_EQ(batch.instance_domains(), (InstanceDomains{{"i.example.com"}, 3}));
  EXPECT_TRUE(batch.org(0).known);  // the policy views are filled as always
  EXPECT_TRUE(batch.org(1).own_policy != nullptr);
  // Clear() keeps the setting; reading again with fewer domains leaves nothing stale.
  change = StoreChange{};
  change.put_org_domains = {Domains("a", {}, 0)};
  ASSERT_TRUE(store_->Apply(change, At(11)).ok());
  batch.Clear();
  batch.Add("a");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_TRUE(batch.domains(0).domains.empty());
}

TEST_F(RocksStoreDomainsTest, AnEmptyListWithASequenceKeepsTheSequenceWithoutOneDeletesTheRow) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 5)};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  change.put_org_domains = {Domains("a", {}, 8)};
  ASSERT_TRUE(store_->Apply(change, At(11)).ok());
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.Add("a");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_TRUE(batch.domains(0).domains.empty());
  EXPECT_EQ(batch.domains(0).sequence, 8u);

  change.put_org_domains = {Domains("a", {}, 0)};
  ASSERT_TRUE(store_->Apply(change, At(12)).ok());
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.domains(0).sequence, 0u);
  EXPECT_EQ(LastChange(), At(12));
  // Deleting what is not there changes nothing.
  ASSERT_TRUE(store_->Apply(change, At(13)).ok());
  EXPECT_EQ(LastChange(), At(12));
}

TEST_F(RocksStoreDomainsTest, RewritingTheSameListIsNoChange) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 5)};
  change.instance_domains = InstanceDomains{{"i.example.com"}, 3};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  ASSERT_TRUE(store_->Apply(change, At(20)).ok());
  EXPECT_EQ(LastChange(), At(10));
}

TEST_F(RocksStoreDomainsTest, RemovingAnOrgRemovesItsDomainsAlsoWhenReAddedInTheSameChange) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 5), Domains("b", {{"b.com", true, true}}, 2)};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());

  change = StoreChange{};
  change.removed_orgs = {"a", "b"};
  change.put_orgs = {Org("b")};  // removed and added again: a new org without domains
  ASSERT_TRUE(store_->Apply(change, At(20)).ok());
  EXPECT_TRUE(ReadDomains("a").org.empty());
  EXPECT_TRUE(ReadDomains("b").org.empty());
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.Add("a");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.domains(0).sequence, 0u);  // the row is gone, not emptied

  // Re-added with new domains in one change: the new list wins.
  change = StoreChange{};
  change.removed_orgs = {"b"};
  change.put_orgs = {Org("b")};
  change.put_org_domains = {Domains("b", {{"new-b.com", false, false}}, 9)};
  ASSERT_TRUE(store_->Apply(change, At(30)).ok());
  EXPECT_EQ(ReadDomains("b").org, (std::vector<OrgDomain>{{"new-b.com", false, false}}));
}

TEST_F(RocksStoreDomainsTest, DomainsOfAnOrgThatDoesNotExistAfterTheChangeAreRefused) {
  StoreChange change;
  change.put_org_domains = {Domains("never-seen", kAcme)};
  Status s = store_->Apply(change, At(10));
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("never-seen does not exist"), std::string::npos) << s.ToString();

  change.removed_orgs = {"a"};
  change.put_org_domains = {Domains("a", kAcme)};
  EXPECT_EQ(store_->Apply(change, At(10)).code(), Code::kInvalidArgument);
  EXPECT_TRUE(ReadDomains("a").org.empty());
  EXPECT_EQ(LastChange(), At(1));  // nothing was written

  // An org created by the same change may get domains.
  change = StoreChange{};
  change.put_orgs = {Org("c")};
  change.put_org_domains = {Domains("c", kAcme)};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  EXPECT_EQ(ReadDomains("c").org, kAcme);
}

TEST_F(RocksStoreDomainsTest, BadListsAreInvalidArgumentWithNothingWritten) {
  std::vector<OrgDomain> too_many;
  for (std::size_t i = 0; i <= kMaxDomainsPerList; ++i) {
    too_many.push_back({"d" + std::to_string(i) + ".example.com", false, false});
  }
  struct Case {
    const char* name;
    StoreChange change;
    const char* message;
  };
  std::vector<Case> cases;
  auto org_case = [&](const char* name, std::vector<OrgDomain> domains, const char* message) {
    StoreChange c;
    c.put_orgs = {Org("a", 2)};  // would change the org row too
    c.put_org_domains = {Domains("a", std::move(domains))};
    cases.push_back({name, std::move(c), message});
  };
  org_case("Empty name", {{"", false, false}}, "domain name is empty");
  org_case("Whitespace", {{"acme .com", true, false}}, "whitespace or a control character");
  org_case("Control", {{"acme\n.com", true, false}}, "whitespace or a control character");
  org_case("Too long", {{std::string(254, 'x'), true, false}}, "longer than 253 bytes");
  org_case("Duplicate", {{"acme.com", true, false}, {"ACME.com", false, false}},
           "domain acme.com appears more than once");
  org_case("Two primaries", {{"a.com", true, true}, {"b.com", true, true}},
           "two primary domains, a.com and b.com");
  org_case("Primary unverified", {{"a.com", false, true}}, "primary domain a.com is not verified");
  org_case("Too many", too_many, "1001 domains, more than the 1000");
  {
    StoreChange c;
    c.put_org_domains = {Domains("a", kAcme), Domains("a", kAcme)};
    cases.push_back({"Org twice", std::move(c), "domains of org a given more than once"});
  }
  {
    StoreChange c;
    c.put_org_domains = {Domains("", kAcme)};
    cases.push_back({"Bad org id", std::move(c), "org id is empty"});
  }
  {
    StoreChange c;
    c.instance_domains = InstanceDomains{{"x.com", "X.COM"}, 1};
    cases.push_back({"Instance duplicate", std::move(c), "domain x.com appears more than once"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status s = store_->Apply(c.change, At(50));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(LastChange(), At(1));
  EXPECT_EQ(ReadDomains("a"), DomainSet{});
}

TEST_F(RocksStoreDomainsTest, ReplaceWritesTheSnapshotsDomainsAndDropsAllOthers) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 5), Domains("b", {{"b.com", true, true}}, 2)};
  change.instance_domains = InstanceDomains{{"old.example.com"}, 3};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());

  Snapshot s{Instance(), {Org("b"), Org("c")}};
  s.org_domains = {Domains("c", {{"c.com", true, true}}, 4)};
  ASSERT_TRUE(store_->Replace(s, "", "snap", At(20)).ok());
  EXPECT_EQ(ReadDomains("a"), DomainSet{});
  EXPECT_EQ(ReadDomains("b"), DomainSet{});
  EXPECT_EQ(ReadDomains("c").org, (std::vector<OrgDomain>{{"c.com", true, true}}));
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.Add("c");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_EQ(batch.domains(0).sequence, 4u);

  s.instance_domains = InstanceDomains{{"new.example.com"}, 0};
  ASSERT_TRUE(store_->Replace(s, "", "snap", At(30)).ok());
  EXPECT_EQ(ReadDomains("c").instance, (std::vector<std::string>{"new.example.com"}));
}

TEST_F(RocksStoreDomainsTest, ReplaceRefusesDomainsOfOrgsNotInTheSnapshotAndBadLists) {
  Snapshot s{Instance(), {Org("b")}};
  s.org_domains = {Domains("a", kAcme)};
  Status st = store_->Replace(s, "", "snap", At(20));
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("org a is not one of the snapshot's orgs"), std::string::npos);
  s.org_domains = {Domains("b", {{"b.com", false, true}})};
  EXPECT_EQ(store_->Replace(s, "", "snap", At(20)).code(), Code::kInvalidArgument);
  s.org_domains.clear();
  s.instance_domains.names = {"bad name"};
  EXPECT_EQ(store_->Replace(s, "", "snap", At(20)).code(), Code::kInvalidArgument);
  EXPECT_EQ(LastChange(), At(1));
}

TEST_F(RocksStoreDomainsTest, ReadDomainsOfAnUnknownOrInvalidOrgGivesTheInstancesOnly) {
  StoreChange change;
  change.instance_domains = InstanceDomains{{"i.example.com"}, 3};
  change.put_org_domains = {Domains("a", kAcme, 1)};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  DomainSet set{{{"left-over.com", true, true}}, {"left-over.example.com", "x"}};
  const std::string too_long(201, 'x');
  for (std::string_view org : {std::string_view("unknown"), std::string_view(""),
                               std::string_view("bad\nid"), std::string_view(too_long)}) {
    ASSERT_TRUE(store_->ReadDomains(org, set).ok());
    EXPECT_EQ(set, (DomainSet{{}, {"i.example.com"}})) << org;
  }
}

TEST_F(RocksStoreDomainsTest, ADamagedDomainRowIsDataLossAndOffersNothing) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 1)};
  change.instance_domains = InstanceDomains{{"i.example.com"}, 3};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  store_.reset();
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), tmp_.path(), &db).ok());
    std::string key;
    keys::AppendOrgDomainsKey("a", &key);
    EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), key, std::string("\x01\x02", 2)).ok());
    delete db;
  }
  store_ = OpenStore(tmp_.path());
  ASSERT_NE(store_, nullptr);
  DomainSet set;
  Status s = store_->ReadDomains("a", set);
  EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("org domains"), std::string::npos) << s.ToString();
  EXPECT_EQ(set, DomainSet{});
  EXPECT_TRUE(store_->ReadDomains("b", set).ok());  // other orgs are unaffected
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.Add("a");
  EXPECT_EQ(store_->Read(batch).code(), Code::kDataLoss);
}

TEST_F(RocksStoreDomainsTest, DomainsSurviveAReopen) {
  StoreChange change;
  change.put_org_domains = {Domains("a", kAcme, 1)};
  change.instance_domains = InstanceDomains{{"i.example.com"}, 3};
  ASSERT_TRUE(store_->Apply(change, At(10)).ok());
  ASSERT_TRUE(store_->Flush().ok());
  store_.reset();
  store_ = OpenStore(tmp_.path());
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(ReadDomains("a"), (DomainSet{kAcme, {"i.example.com"}}));
}

// The in-memory index keeps no domains: IndexedStore reads them from RocksDB, before and after
// its index is loaded, and a write reaches both.
TEST(IndexedStoreDomainsTest, DomainsComeFromRocksDbBeforeAndAfterTheIndexLoads) {
  TempDir tmp;
  std::unique_ptr<RocksStore> base = OpenStore(tmp.path());
  ASSERT_NE(base, nullptr);
  Snapshot s{Instance(), {Org("a"), Org("b")}};
  s.org_domains = {Domains("a", kAcme)};
  s.instance_domains = InstanceDomains{{"i.example.com"}, 0};
  ASSERT_TRUE(base->Replace(s, "", "snap", At(1)).ok());
  std::mutex mu;
  std::condition_variable cv;
  bool loaded = false;
  std::unique_ptr<Store> store = WithMemoryIndex(std::move(base), [&](const IndexLoad&) {
    std::lock_guard lock(mu);
    loaded = true;
    cv.notify_all();
  });
  DomainSet set;
  ASSERT_TRUE(store->ReadDomains("a", set).ok());
  EXPECT_EQ(set, (DomainSet{kAcme, {"i.example.com"}}));
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return loaded; });
  }
  StoreChange change;
  change.put_org_domains = {Domains("b", {{"b.com", true, true}}, 7)};
  ASSERT_TRUE(store->Apply(change, At(2)).ok());
  ASSERT_TRUE(store->ReadDomains("b", set).ok());
  EXPECT_EQ(set.org, (std::vector<OrgDomain>{{"b.com", true, true}}));
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.Add("b");
  ASSERT_TRUE(store->Read(batch).ok());
  EXPECT_EQ(batch.domains(0).sequence, 7u);
  EXPECT_TRUE(batch.org(0).known);
}

}  // namespace
}  // namespace policyd
