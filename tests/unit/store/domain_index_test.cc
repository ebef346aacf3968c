// The verified-domain index ("verified-domain:<domain>", store/domain_index.h): its value codec,
// how domain-list changes edit it, and that RocksStore and IndexedStore keep it right through
// Apply (verification, removal from one org, org removal, re-spelling), Replace and the in-place
// migration of a v1 store, and answer claim queries from one consistent view.
#include "store/domain_index.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <future>
#include <string>
#include <vector>

#include "store/indexed_store.h"
#include "store/keys.h"
#include "store/multi_get.h"
#include "store_test_util.h"

namespace policyd {
namespace {

namespace keys = store_keys;

OrgDomains List(std::string org, std::vector<OrgDomain> domains, std::uint64_t seq = 1) {
  return OrgDomains{std::move(org), std::move(domains), seq};
}

// ---- the value codec ----

TEST(DomainClaimsCodecTest, RoundTrips) {
  const std::vector<DomainClaim> claims = {{"a", "Acme.com"}, {"b", "acme.com"}};
  std::string bytes;
  EncodeDomainClaims(claims, &bytes);
  std::vector<DomainClaim> back = {{"x", "y"}, {"x", "y"}, {"x", "y"}};
  ASSERT_TRUE(DecodeDomainClaims(bytes, &back).ok());
  EXPECT_EQ(back, claims);
}

TEST(DomainClaimsCodecTest, BadBytesAreDataLossNeverACrash) {
  std::string good;
  EncodeDomainClaims(std::vector<DomainClaim>{{"a", "acme.com"}, {"b", "acme.com"}}, &good);
  std::string unordered;
  EncodeDomainClaims(std::vector<DomainClaim>{{"b", "acme.com"}, {"a", "acme.com"}}, &unordered);
  std::string none;
  EncodeDomainClaims(std::vector<DomainClaim>{}, &none);
  std::string version = good;
  version[0] = 2;
  std::string huge_count = good;
  huge_count[4] = '\x7f';
  std::vector<std::string> bad = {"", version, none, unordered, huge_count, good + "x"};
  for (std::size_t cut = 1; cut < good.size(); ++cut) bad.push_back(good.substr(0, cut));
  for (const std::string& b : bad) {
    std::vector<DomainClaim> out;
    EXPECT_EQ(DecodeDomainClaims(b, &out).code(), Code::kDataLoss) << b.size();
  }
}

// ---- edits ----

std::string Key(std::string_view domain) {
  std::string key;
  keys::AppendDomainIndexKey(domain, &key);
  return key;
}

TEST(DomainIndexRowsTest, KeysAreLowerCaseAndPrintable) {
  EXPECT_EQ(Key("Acme.COM"), "verified-domain:acme.com");
}

TEST(DomainIndexRowsTest, ChangeAddsAndDropsOnlyThisOrgsClaims) {
  DomainIndexRows index;
  const std::vector<OrgDomain> before = {
      {"acme.com", true, false}, {"keep.com", true, false}, {"x.com", false, false}};
  const std::vector<OrgDomain> after = {
      {"keep.com", true, false}, {"new.com", true, false}, {"x.com", false, false}};
  index.Change("b", before, after);
  EXPECT_EQ(index.keys(), (std::vector<std::string>{Key("acme.com"), Key("new.com")}));
  index.Load(Key("acme.com"), {{"a", "acme.com"}, {"b", "acme.com"}});
  index.Finish();
  EXPECT_EQ(index.rows().at(Key("acme.com")), (std::vector<DomainClaim>{{"a", "acme.com"}}));
  EXPECT_EQ(index.rows().at(Key("new.com")), (std::vector<DomainClaim>{{"b", "new.com"}}));
  EXPECT_TRUE(index.changed(Key("acme.com")));
  EXPECT_TRUE(index.changed(Key("new.com")));
}

TEST(DomainIndexRowsTest, UnverifyingAndRespellingAreEdits) {
  DomainIndexRows index;
  const std::vector<OrgDomain> before = {{"acme.com", true, false}, {"beta.com", true, false}};
  const std::vector<OrgDomain> after = {{"ACME.com", true, false}, {"beta.com", false, false}};
  index.Change("a", before, after);
  index.Load(Key("acme.com"), {{"a", "acme.com"}});
  index.Load(Key("beta.com"), {{"a", "beta.com"}});
  index.Finish();
  EXPECT_EQ(index.rows().at(Key("acme.com")), (std::vector<DomainClaim>{{"a", "ACME.com"}}));
  EXPECT_TRUE(index.rows().at(Key("beta.com")).empty());  // deleted
}

TEST(DomainIndexRowsTest, AnUnchangedListTouchesNothing) {
  DomainIndexRows index;
  const std::vector<OrgDomain> same = {{"acme.com", true, true}};
  index.Change("a", same, same);
  EXPECT_TRUE(index.keys().empty());
}

// ---- RocksStore ----

// The claims `store` answers for `domain`, from a Read with one claim query (and org "a").
std::vector<DomainClaim> Claims(const Store& store, std::string_view domain) {
  LookupBatch batch;
  batch.Add("a");
  const std::size_t j = batch.AddClaimQuery(domain, "asker");
  Status s = store.Read(batch);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  std::span<const DomainClaim> got = batch.claims(j);
  return {got.begin(), got.end()};
}

class DomainIndexStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(tmp_.path());
    ASSERT_NE(store_, nullptr);
    StoreChange change;
    change.instance = Instance();
    change.put_orgs = {Org("a"), Org("b"), Org("c")};
    ASSERT_TRUE(store_->Apply(change, At(1)).ok());
  }
  void PutDomains(std::vector<OrgDomains> lists, std::vector<std::string> removed = {}) {
    StoreChange change;
    change.put_org_domains = std::move(lists);
    change.removed_orgs = std::move(removed);
    Status s = store_->Apply(change, At(2));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TempDir tmp_;
  std::unique_ptr<RocksStore> store_;
};

TEST_F(DomainIndexStoreTest, VerifiedDomainsAreIndexedCaseInsensitively) {
  PutDomains({List("a", {{"Acme.com", true, true}, {"pending.com", false, false}})});
  EXPECT_EQ(Claims(*store_, "acme.com"), (std::vector<DomainClaim>{{"a", "Acme.com"}}));
  EXPECT_EQ(Claims(*store_, "ACME.COM"), (std::vector<DomainClaim>{{"a", "Acme.com"}}));
  EXPECT_TRUE(Claims(*store_, "pending.com").empty());
  EXPECT_TRUE(Claims(*store_, "acme.com.").empty());
  EXPECT_TRUE(Claims(*store_, "gmail.com").empty());
}

TEST_F(DomainIndexStoreTest, VerifyingLaterAddsTheClaim) {
  PutDomains({List("a", {{"acme.com", false, false}})});
  EXPECT_TRUE(Claims(*store_, "acme.com").empty());
  PutDomains({List("a", {{"acme.com", true, false}}, 2)});
  EXPECT_EQ(Claims(*store_, "acme.com"), (std::vector<DomainClaim>{{"a", "acme.com"}}));
}

TEST_F(DomainIndexStoreTest, RemovalFromOneOrgKeepsAnothersClaim) {
  PutDomains({List("a", {{"acme.com", true, false}}), List("b", {{"ACME.com", true, false}})});
  EXPECT_EQ(Claims(*store_, "acme.com"),
            (std::vector<DomainClaim>{{"a", "acme.com"}, {"b", "ACME.com"}}));
  PutDomains({List("b", {}, 2)});  // b removes it
  EXPECT_EQ(Claims(*store_, "acme.com"), (std::vector<DomainClaim>{{"a", "acme.com"}}));
  PutDomains({List("a", {{"acme.com", false, false}}, 2)});  // no verified claim is left
  EXPECT_TRUE(Claims(*store_, "acme.com").empty());
}

TEST_F(DomainIndexStoreTest, OrgRemovalDropsItsClaims) {
  PutDomains({List("a", {{"acme.com", true, true}}), List("b", {{"beta.com", true, true}})});
  PutDomains({}, {"a"});
  EXPECT_TRUE(Claims(*store_, "acme.com").empty());
  EXPECT_EQ(Claims(*store_, "beta.com"), (std::vector<DomainClaim>{{"b", "beta.com"}}));
}

TEST_F(DomainIndexStoreTest, ARejectedChangeLeavesTheIndexAlone) {
  PutDomains({List("a", {{"acme.com", true, true}})});
  StoreChange change;  // one good list, one for an org that does not exist: nothing is written
  change.put_org_domains = {List("a", {}, 2), List("zzz", {{"acme.com", true, true}})};
  EXPECT_EQ(store_->Apply(change, At(3)).code(), Code::kInvalidArgument);
  EXPECT_EQ(Claims(*store_, "acme.com"), (std::vector<DomainClaim>{{"a", "acme.com"}}));
}

TEST_F(DomainIndexStoreTest, ReplaceRebuildsTheIndexFromTheSnapshot) {
  PutDomains({List("a", {{"old.com", true, true}})});
  Snapshot snapshot;
  snapshot.instance = Instance();
  snapshot.orgs = {Org("a"), Org("b")};
  snapshot.org_domains = {List("b", {{"acme.com", true, true}, {"later.com", false, false}}),
                          List("a", {{"acme.com", true, false}})};
  ASSERT_TRUE(store_->Replace(snapshot, "cursor", "test", At(5)).ok());
  EXPECT_TRUE(Claims(*store_, "old.com").empty());
  EXPECT_TRUE(Claims(*store_, "later.com").empty());
  EXPECT_EQ(Claims(*store_, "acme.com"),
            (std::vector<DomainClaim>{{"a", "acme.com"}, {"b", "acme.com"}}));
}

TEST_F(DomainIndexStoreTest, ForEachOrgDomainsVisitsEveryListInOrgOrderAndStopsOnError) {
  PutDomains({List("c", {{"c.com", true, true}}), List("a", {{"a.com", false, false}})});
  std::vector<OrgDomains> seen;
  ASSERT_TRUE(store_
                  ->ForEachOrgDomains([&](const OrgDomains& l) {
                    seen.push_back(l);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<OrgDomains>{List("a", {{"a.com", false, false}}),
                                           List("c", {{"c.com", true, true}})}));
  int visits = 0;
  const Status s = store_->ForEachOrgDomains([&](const OrgDomains&) {
    ++visits;
    return Status::Internal("stop");
  });
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(visits, 1);
}

// ---- the v1 store ----

// Turns the store in `dir` (closed) into what a v1 binary wrote: no index, format v1; plus
// `stale` index rows, as a crashed earlier migration could leave behind.
void MakeV1(const std::string& dir, const std::vector<std::string>& stale = {}) {
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch batch;
  ASSERT_TRUE(
      batch.DeleteRange(ToSlice(keys::kDomainIndexPrefix), ToSlice(keys::kDomainIndexEnd)).ok());
  ASSERT_TRUE(batch.Put(ToSlice(keys::kFormatKey), ToSlice(keys::kFormatV1)).ok());
  std::string value;
  EncodeDomainClaims(std::vector<DomainClaim>{{"c", "stale.com"}}, &value);
  for (const std::string& domain : stale) ASSERT_TRUE(batch.Put(Key(domain), value).ok());
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &batch).ok());
}

std::string FormatOf(const std::string& dir) {
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  if (db) {
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), ToSlice(keys::kFormatKey), &value).ok());
  }
  return value;
}

TEST_F(DomainIndexStoreTest, AWritableOpenMigratesAV1StoreInPlace) {
  PutDomains({List("a", {{"acme.com", true, true}, {"x.com", false, false}}),
              List("b", {{"Acme.com", true, false}})});
  const Dump before = DumpStore(*store_);
  store_.reset();
  MakeV1(tmp_.path(), {"stale.com"});
  EXPECT_EQ(FormatOf(tmp_.path()), "policyd-store-v1");
  store_ = OpenStore(tmp_.path());
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Claims(*store_, "acme.com"),
            (std::vector<DomainClaim>{{"a", "acme.com"}, {"b", "Acme.com"}}));
  EXPECT_TRUE(Claims(*store_, "x.com").empty());
  EXPECT_TRUE(Claims(*store_, "stale.com").empty());  // a crashed migration's rows are dropped
  EXPECT_EQ(DumpStore(*store_), before);
  // Closed first: a second (read-only) open of a database that its writer is compacting may
  // miss a table file the writer just deleted.
  store_.reset();
  EXPECT_EQ(FormatOf(tmp_.path()), "policyd-store-v3");  // through v2 (entry versions folded)
}

TEST_F(DomainIndexStoreTest, AReadOnlyOpenOfAV1StoreReadsItButHasNoIndex) {
  PutDomains({List("a", {{"acme.com", true, true}})});
  const Dump before = DumpStore(*store_);
  store_.reset();
  MakeV1(tmp_.path());
  StoreOptions options;
  options.read_only = true;
  std::unique_ptr<RocksStore> ro = OpenStore(tmp_.path(), options);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(DumpStore(*ro), before);
  DomainSet domains;
  EXPECT_TRUE(ro->ReadDomains("a", domains).ok());
  LookupBatch batch;
  batch.Add("a");
  batch.AddClaimQuery("acme.com", "a");
  const Status s = ro->Read(batch);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  LookupBatch plain;
  plain.Add("a");
  EXPECT_TRUE(ro->Read(plain).ok());
  ro.reset();
  EXPECT_EQ(FormatOf(tmp_.path()), "policyd-store-v1");  // read-only: nothing was written
}

// ---- IndexedStore ----

TEST_F(DomainIndexStoreTest, IndexedStoreAnswersClaimsWithPoliciesFromItsIndex) {
  PutDomains({List("a", {{"acme.com", true, true}})});
  store_.reset();
  Result<std::unique_ptr<Store>> base = OpenRocksStore(tmp_.path(), StoreOptions{});
  ASSERT_TRUE(base.has_value());
  std::promise<void> loaded;
  std::unique_ptr<Store> indexed =
      WithMemoryIndex(std::move(*base), [&](const IndexLoad&) { loaded.set_value(); });
  loaded.get_future().wait();
  EXPECT_EQ(Claims(*indexed, "ACME.com"), (std::vector<DomainClaim>{{"a", "acme.com"}}));
  StoreChange change;
  change.put_org_domains = {List("b", {{"beta.com", true, true}})};
  change.put_orgs = {Org("a", 7)};
  ASSERT_TRUE(indexed->Apply(change, At(3)).ok());
  LookupBatch batch;
  batch.Add("a");
  const std::size_t j = batch.AddClaimQuery("beta.com", "a");
  ASSERT_TRUE(indexed->Read(batch).ok());
  ASSERT_NE(batch.org(0).own_policy, nullptr);  // the new policy and the new claim: one state
  EXPECT_EQ(batch.org(0).own_policy->details.sequence, 7u);
  ASSERT_EQ(batch.claims(j).size(), 1u);
  EXPECT_EQ(batch.claims(j)[0].org_id, "b");
}

}  // namespace
}  // namespace policyd
