// ClaimTable: the in-memory verified-domain claims as hashes, and IndexedStore answering claim
// queries from them (and from RocksDB when another org may have the domain), kept through
// Apply, Replace, org removal and the index load.
#include "store/claim_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/indexed_store.h"
#include "store_test_util.h"

namespace policyd {
namespace {

using V = ClaimTable::Verdict;

TEST(ClaimTableTest, FindsNoneOwnOnlyOrOther) {
  ClaimTable t;
  EXPECT_EQ(t.Find("acme.com", "a"), V::kNone);
  const std::vector<OrgDomain> a = {{"Acme.com", true, true}, {"pending.com", false, false}};
  t.AddList("a", a);
  EXPECT_EQ(t.Find("ACME.COM", "a"), V::kOwnOnly);
  EXPECT_EQ(t.Find("acme.com", "b"), V::kOther);
  EXPECT_EQ(t.Find("pending.com", "b"), V::kNone);  // unverified: no claim
  EXPECT_EQ(t.Find("acme.com.", "b"), V::kNone);
  t.AddList("b", std::vector<OrgDomain>{{"acme.com", true, false}});
  EXPECT_EQ(t.Find("acme.com", "a"), V::kOther);
  t.RemoveList("b", std::vector<OrgDomain>{{"acme.com", true, false}});
  EXPECT_EQ(t.Find("acme.com", "a"), V::kOwnOnly);
  t.RemoveList("a", a);
  EXPECT_EQ(t.Find("acme.com", "a"), V::kNone);
  EXPECT_EQ(t.size(), 0u);
  t.RemoveList("a", a);  // not there: a no-op
  EXPECT_EQ(t.size(), 0u);
}

// Many adds and removes, growing and shrinking runs that wrap around the table: every verdict
// matches a plain model.
TEST(ClaimTableTest, AgreesWithAModelUnderChurn) {
  ClaimTable t;
  std::multiset<std::pair<int, int>> model;  // (domain, org)
  std::mt19937 rng(7);
  auto domain = [](int d) { return "d" + std::to_string(d) + ".example"; };
  auto org = [](int o) { return "org-" + std::to_string(o); };
  for (int step = 0; step < 20000; ++step) {
    const int d = static_cast<int>(rng() % 300), o = static_cast<int>(rng() % 5);
    const auto it = model.find({d, o});
    if (rng() % 3 != 0 || it == model.end()) {
      t.Add(ClaimTable::DomainHash(domain(d)), ClaimTable::OrgHash(org(o)));
      model.insert({d, o});
    } else {
      t.Remove(ClaimTable::DomainHash(domain(d)), ClaimTable::OrgHash(org(o)));
      model.erase(it);
    }
    if (step % 97 != 0) continue;
    ASSERT_EQ(t.size(), model.size());
    for (int qd = 0; qd < 300; ++qd) {
      for (int qo = 0; qo < 5; ++qo) {
        V want = V::kNone;
        for (auto m = model.lower_bound({qd, 0}); m != model.end() && m->first == qd; ++m) {
          if (m->second != qo) {
            want = V::kOther;
            break;
          }
          want = V::kOwnOnly;
        }
        ASSERT_EQ(t.Find(domain(qd), org(qo)), want) << step << " " << qd << " " << qo;
      }
    }
  }
}

// ---- IndexedStore ----

class IndexedClaimsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<RocksStore> base = OpenStore(tmp_.path());
    ASSERT_NE(base, nullptr);
    StoreChange change;
    change.instance = Instance();
    change.put_orgs = {Org("a"), Org("b"), Org("c")};
    change.put_org_domains = {{"a", {{"acme.com", true, true}}, 1},
                              {"b", {{"beta.com", true, true}, {"acme.org", false, false}}, 1}};
    ASSERT_TRUE(base->Apply(change, At(1)).ok());
    std::promise<IndexLoad> loaded;
    store_ = WithMemoryIndex(std::move(base), [&](const IndexLoad& l) { loaded.set_value(l); });
    const IndexLoad load = loaded.get_future().get();
    ASSERT_TRUE(load.status.ok()) << load.status.ToString();
  }

  // The claims of the answer to `asker`'s query on `domain`.
  std::vector<std::string> Owners(std::string_view domain, std::string_view asker) {
    LookupBatch batch;
    batch.Add(asker);
    const std::size_t j = batch.AddClaimQuery(domain, asker);
    const Status s = store_->Read(batch);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::string> out;
    for (const DomainClaim& c : batch.claims(j)) out.push_back(c.org_id);
    return out;
  }

  void Put(std::vector<OrgDomains> lists, std::vector<std::string> removed = {}) {
    StoreChange change;
    change.put_org_domains = std::move(lists);
    change.removed_orgs = std::move(removed);
    const Status s = store_->Apply(change, At(2));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TempDir tmp_;
  std::unique_ptr<Store> store_;
};

using Ids = std::vector<std::string>;

TEST_F(IndexedClaimsTest, TheLoadedClaimsAnswerOwnOtherAndNone) {
  EXPECT_EQ(Owners("ACME.com", "c"), Ids{"a"});
  EXPECT_EQ(Owners("acme.com", "a"), Ids{});  // its own claim may be left out
  EXPECT_EQ(Owners("acme.org", "c"), Ids{});  // unverified
  EXPECT_EQ(Owners("gmail.com", "c"), Ids{});
}

TEST_F(IndexedClaimsTest, ApplyKeepsTheClaimsAsTheStoreDoes) {
  Put({{"c", {{"acme.com", true, false}}, 2}});
  EXPECT_EQ(Owners("acme.com", "b"), (Ids{"a", "c"}));
  EXPECT_EQ(Owners("acme.com", "a"), (Ids{"a", "c"}));  // another org: the exact claims
  Put({{"a", {{"acme.com", false, false}}, 2}});        // a un-verifies it: c's claim stays
  EXPECT_EQ(Owners("acme.com", "b"), Ids{"c"});
  EXPECT_EQ(Owners("acme.com", "c"), Ids{});
  Put({}, {"c"});  // the org goes, and its claims with it
  EXPECT_EQ(Owners("acme.com", "b"), Ids{});
  EXPECT_EQ(Owners("beta.com", "a"), Ids{"b"});
}

TEST_F(IndexedClaimsTest, ARemovedAndRelistedOrgHasItsNewListOnly) {
  StoreChange change;
  change.removed_orgs = {"b"};
  change.put_orgs = {Org("b")};
  change.put_org_domains = {{"b", {{"new.com", true, true}}, 3}};
  ASSERT_TRUE(store_->Apply(change, At(3)).ok());
  EXPECT_EQ(Owners("beta.com", "a"), Ids{});
  EXPECT_EQ(Owners("new.com", "a"), Ids{"b"});
}

TEST_F(IndexedClaimsTest, AFailedApplyChangesNoClaim) {
  StoreChange change;  // domains of an org that does not exist: refused, nothing written
  change.put_org_domains = {{"a", {}, 2}, {"zzz", {{"zzz.com", true, true}}, 1}};
  EXPECT_FALSE(store_->Apply(change, At(3)).ok());
  EXPECT_EQ(Owners("acme.com", "c"), Ids{"a"});
  EXPECT_EQ(Owners("zzz.com", "c"), Ids{});
}

TEST_F(IndexedClaimsTest, ReplaceRebuildsTheClaims) {
  Snapshot snapshot;
  snapshot.instance = Instance();
  snapshot.orgs = {Org("a"), Org("b")};
  snapshot.org_domains = {{"b", {{"acme.com", true, true}}, 0}};
  ASSERT_TRUE(store_->Replace(snapshot, "", "test", At(4)).ok());
  EXPECT_EQ(Owners("acme.com", "a"), Ids{"b"});
  EXPECT_EQ(Owners("beta.com", "a"), Ids{});
}

// A writer flips org a's policy and org b's verification of x.com in one change each time; a
// reader asking for both must always see one state: the claim is read from RocksDB (another
// org's), the policy from the index, and they must belong together.
TEST_F(IndexedClaimsTest, ClaimsAndPoliciesComeFromOneState) {
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 300; ++i) {
      StoreChange change;
      change.put_orgs = {Org("a", static_cast<std::uint64_t>(i))};
      change.put_org_domains = {
          {"b", {{"x.com", i % 2 == 1, false}}, static_cast<std::uint64_t>(i + 1)}};
      ASSERT_TRUE(store_->Apply(change, At(10 + i)).ok());
    }
    done = true;
  });
  LookupBatch batch;
  int reads = 0;
  while (!done || reads < 100) {
    batch.Clear();
    batch.Add("a");
    const std::size_t j = batch.AddClaimQuery("x.com", "a");
    ASSERT_TRUE(store_->Read(batch).ok());
    ++reads;
    const PolicyRecord* policy = batch.org(0).own_policy;
    if (policy == nullptr) {  // before the first change: b has no x.com
      EXPECT_EQ(batch.claims(j).size(), 0u);
      continue;
    }
    const bool odd = policy->details.sequence % 2 == 1;
    EXPECT_EQ(batch.claims(j).size(), odd ? 1u : 0u) << policy->details.sequence;
  }
  writer.join();
}

}  // namespace
}  // namespace policyd
