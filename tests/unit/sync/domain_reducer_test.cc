// The domain half of the reducer: org.domain.* and instance.domain.* events (through Reduce, as
// the syncer calls it), their replay idempotence and the store change they make.
#include "sync/domain_reducer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sync/reducer.h"

namespace policyd {
namespace {

Event Ev(std::string type, std::string aggregate_id, std::uint64_t seq, std::string domain) {
  Event e;
  e.type = std::move(type);
  e.aggregate_type = e.type.starts_with("org") ? "org" : "instance";
  e.aggregate_id = std::move(aggregate_id);
  e.resource_owner = e.aggregate_id;
  e.sequence = seq;
  e.creation_date = Timestamp{1700000000 + static_cast<std::int64_t>(seq), 0};
  e.domain = std::move(domain);
  return e;
}

WorkingSet KnownOrg(const std::string& id) {
  WorkingSet set;
  set.orgs[id].exists = true;
  return set;
}

using Domains = std::vector<OrgDomain>;

TEST(DomainReducerTest, AddedVerifiedPrimarySetRemovedFollowTheUpstream) {
  WorkingSet set = KnownOrg("o");
  const WorkingSet::Org& org = set.orgs["o"];
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 3, "acme.com"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(org.domains, (Domains{{"acme.com", false, false}}));
  EXPECT_EQ(org.domains_sequence, 3u);
  EXPECT_TRUE(org.domains_touched);
  EXPECT_FALSE(org.touched);  // the org row itself is unchanged

  EXPECT_EQ(Reduce(Ev("org.domain.verified", "o", 4, "ACME.com"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(org.domains, (Domains{{"acme.com", true, false}}));
  EXPECT_EQ(Reduce(Ev("org.domain.primary.set", "o", 5, "acme.com"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(org.domains, (Domains{{"acme.com", true, true}}));

  // A new primary clears the previous one.
  (void)Reduce(Ev("org.domain.added", "o", 6, "acme.org"), set);
  (void)Reduce(Ev("org.domain.verified", "o", 7, "acme.org"), set);
  EXPECT_EQ(Reduce(Ev("org.domain.primary.set", "o", 8, "acme.org"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(org.domains, (Domains{{"acme.com", true, false}, {"acme.org", true, true}}));

  EXPECT_EQ(Reduce(Ev("org.domain.removed", "o", 9, "acme.com"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(org.domains, (Domains{{"acme.org", true, true}}));
  EXPECT_EQ(org.domains_sequence, 9u);
  // Removing the primary leaves the org without one; removing an unknown domain changes nothing
  // but the sequence.
  (void)Reduce(Ev("org.domain.removed", "o", 10, "acme.org"), set);
  EXPECT_TRUE(org.domains.empty());
  EXPECT_EQ(Reduce(Ev("org.domain.removed", "o", 11, "never.com"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(org.domains_sequence, 11u);
}

TEST(DomainReducerTest, AddingADomainTwiceKeepsOneEntryAndItsState) {
  WorkingSet set = KnownOrg("o");
  (void)Reduce(Ev("org.domain.added", "o", 1, "a.com"), set);
  (void)Reduce(Ev("org.domain.verified", "o", 2, "a.com"), set);
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 3, "A.COM"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.orgs["o"].domains, (Domains{{"a.com", true, false}}));
}

TEST(DomainReducerTest, VerifiedOrPrimaryOfAMissingDomainAddsIt) {
  // Its org.domain.added lies before the retention window the cold start saw.
  WorkingSet set = KnownOrg("o");
  set.orgs["o"].domains = {{"old.com", true, true}};
  EXPECT_EQ(Reduce(Ev("org.domain.verified", "o", 4, "v.com"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(Reduce(Ev("org.domain.primary.set", "o", 5, "p.com"), set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.orgs["o"].domains,
            (Domains{{"old.com", true, false}, {"v.com", true, false}, {"p.com", true, true}}));
}

TEST(DomainReducerTest, EventsAtOrBelowTheListsSequenceHaveNoEffect) {
  WorkingSet set = KnownOrg("o");
  WorkingSet::Org& org = set.orgs["o"];
  org.domains = {{"b.com", true, true}};
  org.domains_sequence = 10;
  org.domains_stream = {"org", "o"};
  for (const Event& e :
       {Ev("org.domain.added", "o", 7, "a.com"), Ev("org.domain.primary.set", "o", 8, "a.com"),
        Ev("org.domain.removed", "o", 10, "b.com")}) {
    EXPECT_EQ(Reduce(e, set), ReduceOutcome::kNoEffect) << e.type;
  }
  EXPECT_EQ(org.domains, (Domains{{"b.com", true, true}}));
  EXPECT_FALSE(org.domains_touched);
}

// Sequences of different streams are never compared: the instance's domain events move from
// ("instance", "IAM") to ("instance", <id>), whose sequences start again at 1. A list of unknown
// stream and sequence (a snapshot, a list read from the API) applies every event.
TEST(DomainReducerTest, EventsOfAnotherStreamOrOnAListOfUnknownStreamApply) {
  WorkingSet set;
  set.instance_domains = {{"old.example.com"}, 40, {"instance", "IAM"}};
  EXPECT_EQ(Reduce(Ev("instance.domain.added", "inst", 1, "new.example.com"), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance_domains.names,
            (std::vector<std::string>{"old.example.com", "new.example.com"}));
  EXPECT_EQ(set.instance_domains.sequence, 1u);
  EXPECT_EQ(set.instance_domains.stream, (EventStream{"instance", "inst"}));
  EXPECT_EQ(Reduce(Ev("instance.domain.added", "inst", 1, "new.example.com"), set),
            ReduceOutcome::kNoEffect);

  WorkingSet org_set = KnownOrg("o");
  WorkingSet::Org& org = org_set.orgs["o"];
  org.domains = {{"b.com", true, true}};
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 3, "a.com"), org_set), ReduceOutcome::kApplied);
  EXPECT_EQ(org.domains, (Domains{{"b.com", true, true}, {"a.com", false, false}}));
  EXPECT_EQ(org.domains_stream, (EventStream{"org", "o"}));
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 3, "a.com"), org_set), ReduceOutcome::kNoEffect);
}

// What a cold start followed by an overlapping poll does: the same events again, any suffix.
TEST(DomainReducerTest, ReplayingAnyOverlapGivesTheSameState) {
  const std::vector<Event> history = {
      Ev("org.added", "o", 1, ""),
      Ev("org.domain.added", "o", 2, "gen.example.com"),
      Ev("org.domain.verified", "o", 3, "gen.example.com"),
      Ev("org.domain.primary.set", "o", 4, "gen.example.com"),
      Ev("org.domain.added", "o", 5, "acme.com"),
      Ev("org.domain.verified", "o", 6, "acme.com"),
      Ev("org.domain.primary.set", "o", 7, "acme.com"),
      Ev("org.domain.removed", "o", 8, "gen.example.com"),
      Ev("org.domain.added", "o", 9, "gen.example.com"),
      Ev("instance.domain.added", "i", 2, "i.example.com"),
      Ev("instance.domain.added", "i", 3, "old.example.com"),
      Ev("instance.domain.removed", "i", 4, "old.example.com"),
  };
  WorkingSet full;
  for (const Event& e : history) (void)Reduce(e, full);
  const Domains expected = {{"acme.com", true, true}, {"gen.example.com", false, false}};
  ASSERT_EQ(full.orgs["o"].domains, expected);
  ASSERT_EQ(full.instance_domains.names, (std::vector<std::string>{"i.example.com"}));
  for (std::size_t from = 0; from < history.size(); ++from) {
    WorkingSet again = full;
    for (std::size_t i = from; i < history.size(); ++i) {
      EXPECT_NE(Reduce(history[i], again), ReduceOutcome::kApplied) << from << " " << i;
    }
    EXPECT_EQ(again.orgs["o"].domains, expected) << from;
    EXPECT_EQ(again.instance_domains, full.instance_domains) << from;
  }
}

TEST(DomainReducerTest, OrgRemovedClearsTheDomainsAndTheStoreChangeDropsThem) {
  WorkingSet set = KnownOrg("o");
  (void)Reduce(Ev("org.domain.added", "o", 2, "a.com"), set);
  EXPECT_EQ(Reduce(Ev("org.removed", "o", 3, ""), set), ReduceOutcome::kApplied);
  EXPECT_TRUE(set.orgs["o"].domains.empty());
  EXPECT_EQ(set.orgs["o"].domains_sequence, 3u);
  // A replayed older domain event is recognised.
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 2, "a.com"), set), ReduceOutcome::kNoEffect);
  const StoreChange change = ToStoreChange(set);
  EXPECT_EQ(change.removed_orgs, (std::vector<std::string>{"o"}));
  EXPECT_TRUE(change.put_org_domains.empty());
}

TEST(DomainReducerTest, ADomainEventProvesItsOrgExists) {
  WorkingSet set;
  set.orgs["o"];  // loaded as unknown
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 2, "a.com"), set), ReduceOutcome::kApplied);
  const StoreChange change = ToStoreChange(set);
  ASSERT_EQ(change.put_orgs.size(), 1u);
  EXPECT_EQ(change.put_orgs[0], (OrgRecord{"o", std::nullopt}));
  ASSERT_EQ(change.put_org_domains.size(), 1u);
  EXPECT_EQ(change.put_org_domains[0],
            (OrgDomains{"o", {{"a.com", false, false}}, 2, {"org", "o"}}));
}

TEST(DomainReducerTest, StoreChangeCarriesOnlyTouchedLists) {
  WorkingSet set = KnownOrg("a");
  set.orgs["b"].exists = true;
  set.orgs["b"].domains = {{"b.com", true, true}};
  set.instance_domains = {{"i.example.com"}, 1};
  (void)Reduce(Ev("org.domain.added", "a", 5, "a.com"), set);
  StoreChange change = ToStoreChange(set);
  EXPECT_TRUE(change.put_orgs.empty());
  ASSERT_EQ(change.put_org_domains.size(), 1u);
  EXPECT_EQ(change.put_org_domains[0].org_id, "a");
  EXPECT_FALSE(change.instance_domains.has_value());

  (void)Reduce(Ev("instance.domain.added", "i", 2, "login.example.com"), set);
  change = ToStoreChange(set);
  ASSERT_TRUE(change.instance_domains.has_value());
  EXPECT_EQ(*change.instance_domains,
            (InstanceDomains{{"i.example.com", "login.example.com"}, 2, {"instance", "i"}}));
}

TEST(DomainReducerTest, InstanceDomainsAddRemoveAndIgnorePrimarySet) {
  WorkingSet set;
  EXPECT_EQ(Reduce(Ev("instance.domain.added", "i", 3, "a.example.com"), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(Reduce(Ev("instance.domain.added", "i", 4, "b.example.com"), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(Reduce(Ev("instance.domain.primary.set", "i", 5, "b.example.com"), set),
            ReduceOutcome::kNoEffect);
  EXPECT_EQ(Reduce(Ev("instance.domain.removed", "i", 6, "A.example.com"), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance_domains, (InstanceDomains{{"b.example.com"}, 6, {"instance", "i"}}));
  EXPECT_EQ(Reduce(Ev("instance.domain.added", "i", 6, "c.example.com"), set),
            ReduceOutcome::kNoEffect);  // replayed
  EXPECT_TRUE(set.instance_domains_touched);
  EXPECT_TRUE(set.orgs.empty());
}

TEST(DomainReducerTest, MalformedDomainsAndFullListsAreSkipped) {
  WorkingSet set = KnownOrg("o");
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 2, ""), set), ReduceOutcome::kInvalid);
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 3, "a b.com"), set), ReduceOutcome::kInvalid);
  EXPECT_EQ(Reduce(Ev("instance.domain.added", "i", 3, std::string(254, 'x')), set),
            ReduceOutcome::kInvalid);
  EXPECT_FALSE(set.orgs["o"].domains_touched);
  EXPECT_FALSE(set.instance_domains_touched);

  WorkingSet::Org& org = set.orgs["o"];
  for (std::size_t i = 0; i < kMaxDomainsPerList; ++i) {
    org.domains.push_back({"d" + std::to_string(i) + ".com", true, false});
  }
  EXPECT_EQ(Reduce(Ev("org.domain.added", "o", 4, "one-more.com"), set), ReduceOutcome::kInvalid);
  EXPECT_EQ(Reduce(Ev("org.domain.primary.set", "o", 5, "one-more.com"), set),
            ReduceOutcome::kInvalid);
  EXPECT_EQ(org.domains.size(), kMaxDomainsPerList);
  EXPECT_TRUE(ValidateOrgDomains("o", org.domains).ok());
  // An existing domain can still change.
  EXPECT_EQ(Reduce(Ev("org.domain.primary.set", "o", 6, "d7.com"), set), ReduceOutcome::kApplied);
}

TEST(DomainReducerTest, EventTypesAreSyncedAndFitTheFilter) {
  const std::vector<std::string>& synced = SyncedEventTypes();
  EXPECT_LE(synced.size(), 30u);  // the upstream's eventTypes limit
  EXPECT_EQ(synced.size(), 19u);
  EXPECT_EQ(DomainEventTypes().size(), 6u);
  for (const std::string& t : DomainEventTypes()) {
    EXPECT_NE(std::find(synced.begin(), synced.end(), t), synced.end()) << t;
  }
  const Event a = Ev("org.domain.verified", "o2", 1, "x.com");
  const Event b = Ev("instance.domain.added", "i", 1, "x.com");
  const Event c = Ev("org.domain.added", "o1", 1, "x.com");
  EXPECT_EQ(OrgsNamedBy({&a, &b, &c}), (std::vector<std::string>{"o1", "o2"}));
  // Only pages with domain events make the syncer load the lists.
  const Event policy = Ev("org.policy.domain.added", "o1", 2, "");
  const Event removed = Ev("org.removed", "o1", 3, "");
  const Event instance_primary = Ev("instance.domain.primary.set", "i", 2, "x.com");
  EXPECT_FALSE(ChangesDomains({&policy, &removed, &instance_primary}));
  EXPECT_TRUE(ChangesDomains({&policy, &b}));
  EXPECT_TRUE(ChangesDomains({&a}));
}

TEST(DomainReducerTest, ListedOrgDomainsBecomeAListTheStoreAccepts) {
  std::vector<OrgDomain> listed = {
      {"a.com", false, false}, {"B.com", true, true},
      {"A.COM", true, false},  // the list changed between pages: merged into the first
      {"c.com", false, true},  // a second primary, and unverified: neither is kept
      {"b.com", false, false},
  };
  EXPECT_EQ(NormalizeListedOrgDomains(listed), 0u);
  EXPECT_EQ(listed, (std::vector<OrgDomain>{
                        {"a.com", true, false}, {"B.com", true, true}, {"c.com", true, false}}));
  EXPECT_TRUE(ValidateOrgDomains("listed", listed).ok());

  std::vector<OrgDomain> empty;
  EXPECT_EQ(NormalizeListedOrgDomains(empty), 0u);
  EXPECT_TRUE(empty.empty());
}

TEST(DomainReducerTest, AnOrgListOverTheLimitKeepsThePrimaryAndTheVerifiedDomains) {
  std::vector<OrgDomain> listed;
  for (std::size_t i = 0; i < kMaxDomainsPerList + 5; ++i) {
    listed.push_back({"d" + std::to_string(i) + ".com", false, false});
  }
  listed.back() = {"primary.com", true, true};
  listed[listed.size() - 2].verified = true;
  EXPECT_EQ(NormalizeListedOrgDomains(listed), 5u);
  ASSERT_EQ(listed.size(), kMaxDomainsPerList);
  EXPECT_EQ(listed[0], (OrgDomain{"primary.com", true, true}));
  EXPECT_TRUE(listed[1].verified);
  EXPECT_EQ(listed[2].name, "d0.com");
  EXPECT_TRUE(ValidateOrgDomains("listed", listed).ok());
}

TEST(DomainReducerTest, ListedInstanceDomainsAreUniqueAndBounded) {
  std::vector<std::string> names = {"a.example.com", "B.example.com", "A.example.com"};
  EXPECT_EQ(NormalizeListedInstanceDomains(names), 0u);
  EXPECT_EQ(names, (std::vector<std::string>{"a.example.com", "B.example.com"}));
  for (std::size_t i = 0; i < kMaxDomainsPerList + 1; ++i) {
    names.push_back("n" + std::to_string(i) + ".example.com");
  }
  EXPECT_EQ(NormalizeListedInstanceDomains(names), 3u);
  EXPECT_EQ(names.size(), kMaxDomainsPerList);
  EXPECT_EQ(names[0], "a.example.com");
  EXPECT_TRUE(ValidateInstanceDomains("listed", names).ok());
}

}  // namespace
}  // namespace policyd
