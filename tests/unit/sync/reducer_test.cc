#include "sync/reducer.h"

#include <gtest/gtest.h>

namespace policyd {
namespace {

Event Ev(std::string type, std::string aggregate_id, std::uint64_t seq, std::int64_t second,
         PolicyPatch patch = {}) {
  Event e;
  e.type = std::move(type);
  e.aggregate_type = e.type.starts_with("org") ? "org" : "instance";
  e.aggregate_id = std::move(aggregate_id);
  e.resource_owner = e.aggregate_id;
  e.sequence = seq;
  e.creation_date = Timestamp{second, 0};
  e.patch = patch;
  return e;
}

WorkingSet WithOrg(const std::string& id, bool exists, std::optional<PolicyRecord> policy = {}) {
  WorkingSet set;
  set.orgs[id] = WorkingSet::Org{exists, std::move(policy), false};
  return set;
}

TEST(ReducerTest, OrgPolicyAddedTreatsMissingKeysAsFalse) {
  WorkingSet set = WithOrg("o", true);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.added", "o", 5, 100, {true, {}, {}}), set),
            ReduceOutcome::kApplied);
  const WorkingSet::Org& org = set.orgs["o"];
  ASSERT_TRUE(org.policy.has_value());
  EXPECT_EQ(org.policy->flags, (PolicyFlags{true, false, false}));
  EXPECT_EQ(org.policy->details.sequence, 5u);
  EXPECT_EQ(org.policy->details.creation_date, (Timestamp{100, 0}));
  EXPECT_EQ(org.policy->details.change_date, (Timestamp{100, 0}));
  EXPECT_EQ(org.policy->details.resource_owner, "o");
  EXPECT_TRUE(org.touched);
}

TEST(ReducerTest, OrgPolicyChangedPatchesOnlyPresentKeysIncludingExplicitFalse) {
  WorkingSet set = WithOrg("o", true);
  (void)Reduce(Ev("org.policy.domain.added", "o", 5, 100, {true, true, true}), set);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.changed", "o", 6, 200, {{}, false, {}}), set),
            ReduceOutcome::kApplied);
  const PolicyRecord& p = *set.orgs["o"].policy;
  EXPECT_EQ(p.flags, (PolicyFlags{true, false, true}));
  EXPECT_EQ(p.details.sequence, 6u);
  EXPECT_EQ(p.details.creation_date, (Timestamp{100, 0}));
  EXPECT_EQ(p.details.change_date, (Timestamp{200, 0}));
}

TEST(ReducerTest, ChangedWithoutARowHasNoEffect) {
  WorkingSet set = WithOrg("o", true);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.changed", "o", 6, 200, {true, {}, {}}), set),
            ReduceOutcome::kNoEffect);
  EXPECT_FALSE(set.orgs["o"].policy.has_value());
  EXPECT_FALSE(set.orgs["o"].touched);
}

TEST(ReducerTest, RemovedPolicyFallsBackButTheOrgStays) {
  WorkingSet set = WithOrg("o", true);
  (void)Reduce(Ev("org.policy.domain.added", "o", 5, 100, {true, {}, {}}), set);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.removed", "o", 7, 300), set), ReduceOutcome::kApplied);
  EXPECT_TRUE(set.orgs["o"].exists);
  EXPECT_FALSE(set.orgs["o"].policy.has_value());
}

TEST(ReducerTest, OrgRemovedTakesItsPolicyAlong) {
  WorkingSet set = WithOrg("o", true);
  (void)Reduce(Ev("org.policy.domain.added", "o", 5, 100, {true, {}, {}}), set);
  EXPECT_EQ(Reduce(Ev("org.removed", "o", 9, 400), set), ReduceOutcome::kApplied);
  EXPECT_FALSE(set.orgs["o"].exists);
  EXPECT_FALSE(set.orgs["o"].policy.has_value());
  StoreChange change = ToStoreChange(set);
  EXPECT_EQ(change.removed_orgs, std::vector<std::string>{"o"});
  EXPECT_TRUE(change.put_orgs.empty());
}

TEST(ReducerTest, OrgAddedMakesAKnownOrgWithoutPolicy) {
  WorkingSet set = WithOrg("o", false);
  EXPECT_EQ(Reduce(Ev("org.added", "o", 1, 10), set), ReduceOutcome::kApplied);
  EXPECT_EQ(Reduce(Ev("org.added", "o", 1, 10), set), ReduceOutcome::kNoEffect);
  StoreChange change = ToStoreChange(set);
  ASSERT_EQ(change.put_orgs.size(), 1u);
  EXPECT_EQ(change.put_orgs[0], (OrgRecord{"o", std::nullopt}));
}

TEST(ReducerTest, InstancePolicyAddedAndChanged) {
  WorkingSet set;
  EXPECT_EQ(Reduce(Ev("instance.policy.domain.added", "inst", 2, 10, {{}, true, {}}), set),
            ReduceOutcome::kApplied);
  ASSERT_TRUE(set.instance.has_value());
  EXPECT_EQ(set.instance->id, "inst");
  EXPECT_EQ(set.instance->policy.flags, (PolicyFlags{false, true, false}));
  EXPECT_EQ(Reduce(Ev("instance.policy.domain.changed", "inst", 3, 20, {true, {}, {}}), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance->policy.flags, (PolicyFlags{true, true, false}));
  EXPECT_EQ(set.instance->policy.details.resource_owner, "inst");
  StoreChange change = ToStoreChange(set);
  ASSERT_TRUE(change.instance.has_value());
  EXPECT_EQ(change.instance->policy.details.sequence, 3u);
}

TEST(ReducerTest, ReplayedEventsAreRecognisedBySequence) {
  WorkingSet set = WithOrg("o", true);
  (void)Reduce(Ev("org.policy.domain.added", "o", 5, 100, {true, {}, {}}), set);
  (void)Reduce(Ev("org.policy.domain.changed", "o", 8, 200, {false, {}, {}}), set);
  const PolicyRecord before = *set.orgs["o"].policy;
  EXPECT_EQ(Reduce(Ev("org.policy.domain.added", "o", 5, 100, {true, {}, {}}), set),
            ReduceOutcome::kNoEffect);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.changed", "o", 8, 200, {false, {}, {}}), set),
            ReduceOutcome::kNoEffect);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.removed", "o", 7, 150), set), ReduceOutcome::kNoEffect);
  EXPECT_EQ(*set.orgs["o"].policy, before);
}

TEST(ReducerTest, LegacyNamesHaveTheSameEffects) {
  WorkingSet set = WithOrg("o", true);
  EXPECT_EQ(Reduce(Ev("org.iam.policy.added", "o", 1, 10, {true, {}, {}}), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(Reduce(Ev("org.iam.policy.changed", "o", 2, 20, {false, {}, {}}), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(set.orgs["o"].policy->flags, (PolicyFlags{false, false, false}));
  EXPECT_EQ(Reduce(Ev("org.iam.policy.removed", "o", 3, 30), set), ReduceOutcome::kApplied);
  EXPECT_FALSE(set.orgs["o"].policy.has_value());
  Event legacy_default = Ev("iam.policy.org.iam.added", "inst", 1, 5, {true, {}, {}});
  legacy_default.aggregate_type = "iam";
  EXPECT_EQ(Reduce(legacy_default, set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance->policy.flags.user_login_must_be_domain, true);
  Event legacy_change = Ev("iam.policy.org.iam.changed", "inst", 2, 6, {false, {}, {}});
  EXPECT_EQ(Reduce(legacy_change, set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance->policy.flags.user_login_must_be_domain, false);
}

// Regression: an instance's domain-policy history moves from the v1 stream ("iam", "IAM") to
// ("instance", "IAM") and then ("instance", <id>), each starting at 1. Comparing sequences across
// streams ignored every change after the first move.
TEST(ReducerTest, EventsOfANewStreamApplyAlthoughTheirSequenceIsLower) {
  WorkingSet set;
  Event legacy = Ev("iam.policy.org.iam.changed", "IAM", 57, 10, {true, {}, {}});
  legacy.aggregate_type = "iam";
  legacy.resource_owner = "inst";
  set.instance = InstanceRecord{"inst", {{}, {3, {1, 0}, {1, 0}, "inst"}, {"instance", "inst"}}};
  EXPECT_EQ(Reduce(legacy, set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance->policy.stream, (EventStream{"iam", "IAM"}));
  EXPECT_EQ(set.instance->id, "inst");  // the resource owner, not the aggregate id "IAM"
  EXPECT_EQ(set.instance->policy.details.resource_owner, "inst");
  EXPECT_EQ(Reduce(legacy, set), ReduceOutcome::kNoEffect);  // a replay of the same stream

  Event renamed = Ev("instance.policy.domain.changed", "IAM", 1, 20, {false, true, {}});
  renamed.resource_owner = "inst";
  EXPECT_EQ(Reduce(renamed, set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance->policy.flags, (PolicyFlags{false, true, false}));
  EXPECT_EQ(set.instance->policy.details.sequence, 1u);
  EXPECT_EQ(set.instance->policy.details.change_date, (Timestamp{20, 0}));
  EXPECT_EQ(set.instance->policy.stream, (EventStream{"instance", "IAM"}));

  const Event by_id = Ev("instance.policy.domain.changed", "inst", 1, 30, {{}, {}, true});
  EXPECT_EQ(Reduce(by_id, set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance->policy.flags, (PolicyFlags{false, true, true}));
  EXPECT_EQ(set.instance->policy.stream, (EventStream{"instance", "inst"}));
  EXPECT_EQ(Reduce(renamed, set), ReduceOutcome::kApplied);  // another stream: in given order
  EXPECT_EQ(ToStoreChange(set).instance->policy.stream, (EventStream{"instance", "IAM"}));
}

// A row read from the upstream's API (a cold start under retention) or a snapshot carries a
// sequence but no stream: an event newer by sequence or by date applies (a new stream numbers
// from 1, but its events come after the row's last change); one newer by neither is a replay of
// what the row already reflects.
TEST(ReducerTest, ARowOfUnknownStreamAppliesEventsNewerBySequenceOrDate) {
  const PolicyRecord from_api{{true, true, true}, {90, {1, 0}, {50, 0}, "o"}};
  WorkingSet set = WithOrg("o", true, from_api);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.changed", "o", 89, 50, {false, {}, {}}), set),
            ReduceOutcome::kNoEffect);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.removed", "o", 90, 50), set), ReduceOutcome::kNoEffect);
  EXPECT_EQ(*set.orgs["o"].policy, from_api);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.changed", "o", 4, 100, {false, {}, {}}), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(set.orgs["o"].policy->stream, (EventStream{"org", "o"}));
  EXPECT_EQ(set.orgs["o"].policy->details.sequence, 4u);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.changed", "o", 4, 100, {false, {}, {}}), set),
            ReduceOutcome::kNoEffect);

  set = WithOrg("o", true, from_api);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.changed", "o", 91, 40, {false, {}, {}}), set),
            ReduceOutcome::kApplied);
  EXPECT_EQ(set.orgs["o"].policy->flags, (PolicyFlags{false, true, true}));
}

TEST(ReducerTest, AnAggregateTypeThatCannotBeStoredIsSkipped) {
  WorkingSet set = WithOrg("o", true);
  Event e = Ev("org.policy.domain.added", "o", 1, 10);
  e.aggregate_type = std::string(201, 'x');
  EXPECT_EQ(Reduce(e, set), ReduceOutcome::kInvalid);
  e.aggregate_type = "";
  EXPECT_EQ(Reduce(e, set), ReduceOutcome::kInvalid);
}

TEST(ReducerTest, QueriesNameTheAggregateTypesOfTheirEventTypes) {
  EXPECT_EQ(AggregateTypesOf(SyncedEventTypes()),
            (std::vector<std::string>{"instance", "org", "iam"}));
  EXPECT_EQ(AggregateTypesOf(OrgPolicyEventTypes()), std::vector<std::string>{"org"});
  EXPECT_EQ(AggregateTypesOf({"iam.policy.org.iam.added", "x"}),
            (std::vector<std::string>{"iam", "x"}));
}

TEST(ReducerTest, InstanceRemovedAsksForAColdStart) {
  WorkingSet set;
  EXPECT_EQ(Reduce(Ev("instance.removed", "inst", 9, 10), set), ReduceOutcome::kResnapshot);
}

TEST(ReducerTest, UnrelatedAndMalformedEventsAreSkipped) {
  WorkingSet set = WithOrg("o", true);
  EXPECT_EQ(Reduce(Ev("org.changed", "o", 2, 10), set), ReduceOutcome::kNoEffect);
  EXPECT_EQ(Reduce(Ev("user.human.added", "u", 2, 10), set), ReduceOutcome::kNoEffect);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.added", "", 2, 10), set), ReduceOutcome::kInvalid);
  EXPECT_EQ(Reduce(Ev("org.policy.domain.added", "a\nb", 2, 10), set), ReduceOutcome::kInvalid);
  EXPECT_EQ(Reduce(Ev("org.added", std::string(201, 'x'), 2, 10), set), ReduceOutcome::kInvalid);
  EXPECT_TRUE(ToStoreChange(set).put_orgs.empty());
}

TEST(ReducerTest, OrgsNamedByListsEachValidOrgOnce) {
  std::vector<Event> events = {Ev("org.added", "b", 1, 1), Ev("org.policy.domain.added", "a", 2, 1),
                               Ev("org.removed", "b", 3, 2),
                               Ev("instance.policy.domain.changed", "inst", 4, 2),
                               Ev("org.added", "", 1, 1)};
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  EXPECT_EQ(OrgsNamedBy(pointers), (std::vector<std::string>{"a", "b"}));
}

TEST(ReducerTest, EventTypeFilterFitsTheUpstreamLimit) {
  EXPECT_LE(SyncedEventTypes().size(), 30u);
  EXPECT_LE(OrgPolicyEventTypes().size(), 30u);
}

// Every applied event raises its entry's version to the event's position; one without effect
// leaves it; a version never goes down, even for an older event of another stream that applies.
TEST(ReducerTest, AppliedEventsRaiseTheirEntrysVersionAndNeverLowerIt) {
  WorkingSet set = WithOrg("o", false);
  ASSERT_EQ(Reduce(Ev("org.added", "o", 1, 10), set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.orgs["o"].version, (SourceVersion{Timestamp{10, 0}, {"org", "o"}, 1}));
  EXPECT_TRUE(set.orgs["o"].version_touched);
  ASSERT_EQ(Reduce(Ev("org.policy.domain.added", "o", 2, 20, {true, {}, {}}), set),
            ReduceOutcome::kApplied);
  ASSERT_EQ(Reduce(Ev("org.policy.domain.removed", "o", 3, 30), set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.orgs["o"].version, (SourceVersion{Timestamp{30, 0}, {"org", "o"}, 3}));
  ASSERT_EQ(Reduce(Ev("org.policy.domain.removed", "o", 3, 30), set), ReduceOutcome::kNoEffect);
  EXPECT_EQ(set.orgs["o"].version, (SourceVersion{Timestamp{30, 0}, {"org", "o"}, 3}));

  // The instance's events span streams: an older-dated event of a new stream applies to the row
  // but the version keeps the newer position.
  ASSERT_EQ(Reduce(Ev("instance.policy.domain.added", "inst", 5, 50, {true, {}, {}}), set),
            ReduceOutcome::kApplied);
  Event other = Ev("instance.policy.domain.changed", "IAM", 1, 40, {false, {}, {}});
  ASSERT_EQ(Reduce(other, set), ReduceOutcome::kApplied);
  EXPECT_EQ(set.instance_version, (SourceVersion{Timestamp{50, 0}, {"instance", "inst"}, 5}));
  EXPECT_TRUE(set.instance_version_touched);
  EXPECT_FALSE(set.instance->policy.flags.user_login_must_be_domain);

  const StoreChange change = ToStoreChange(set);
  ASSERT_EQ(change.org_versions.size(), 1u);
  EXPECT_EQ(change.org_versions[0].first, "o");
  EXPECT_EQ(change.instance_version, set.instance_version);
}

// A removed org's version goes with it (the store deletes the row); an org whose only change is
// its domain list gets its version written with the list.
TEST(ReducerTest, VersionsAreWrittenOnlyForOrgsThatStillExist) {
  WorkingSet set = WithOrg("gone", true);
  set.orgs["d"] = WorkingSet::Org{true, std::nullopt, false};
  ASSERT_EQ(Reduce(Ev("org.removed", "gone", 9, 90), set), ReduceOutcome::kApplied);
  Event domain = Ev("org.domain.added", "d", 4, 95);
  domain.domain = "d.example.com";
  ASSERT_EQ(Reduce(domain, set), ReduceOutcome::kApplied);
  const StoreChange change = ToStoreChange(set);
  EXPECT_EQ(change.removed_orgs, std::vector<std::string>{"gone"});
  ASSERT_EQ(change.org_versions.size(), 1u);
  EXPECT_EQ(change.org_versions[0], (std::pair<std::string, SourceVersion>{
                                        "d", SourceVersion{Timestamp{95, 0}, {"org", "d"}, 4}}));
  ASSERT_EQ(change.put_org_domains.size(), 1u);
}

}  // namespace
}  // namespace policyd

namespace policyd {
namespace {

Event KindEv(std::string type, std::string aggregate_id, std::uint64_t seq, std::int64_t second) {
  return Ev(std::move(type), std::move(aggregate_id), seq, second);
}

TEST(ReducerKindsTest, AnOrgsKindRowsBecomeKindRowChangesWithTheirVersions) {
  WorkingSet set = WithOrg("o", true);
  Event added = KindEv("org.policy.lockout.added", "o", 5, 100);
  added.kind_patch.fields = {{0, FieldValue{3, {}, {}}}};
  ASSERT_EQ(Reduce(added, set), ReduceOutcome::kApplied);
  ASSERT_EQ(Reduce(KindEv("instance.policy.notification.changed", "i", 9, 110), set),
            ReduceOutcome::kNoEffect);  // no default row loaded: nothing to patch
  const StoreChange change = ToStoreChange(set);
  ASSERT_EQ(change.put_kind_rows.size(), 1u);
  const KindRowChange& row = change.put_kind_rows[0];
  EXPECT_EQ(row.kind, PolicyKind::kLockout);
  EXPECT_EQ(row.org_id, "o");
  ASSERT_TRUE(row.policy.has_value());
  EXPECT_EQ(row.policy->fields[0].number, 3u);
  ASSERT_TRUE(row.version.has_value());
  EXPECT_EQ(*row.version, (SourceVersion{Timestamp{100, 0}, {"org", "o"}, 5}));
  // The domain entry is untouched: no org row is rewritten for a kind row.
  EXPECT_TRUE(change.put_orgs.empty());
}

TEST(ReducerKindsTest, AKindEventProvesItsOrgExistsAndOrgRemovalDropsTheRows) {
  WorkingSet set = WithOrg("o", false);
  ASSERT_EQ(Reduce(KindEv("org.policy.privacy.added", "o", 2, 100), set), ReduceOutcome::kApplied);
  EXPECT_TRUE(set.orgs["o"].exists);
  StoreChange change = ToStoreChange(set);
  ASSERT_EQ(change.put_orgs.size(), 1u);
  EXPECT_EQ(change.put_kind_rows.size(), 1u);

  ASSERT_EQ(Reduce(KindEv("org.removed", "o", 3, 200), set), ReduceOutcome::kApplied);
  change = ToStoreChange(set);
  EXPECT_EQ(change.removed_orgs, std::vector<std::string>{"o"});
  EXPECT_TRUE(change.put_kind_rows.empty());  // the store drops them with the org
}

TEST(ReducerKindsTest, InstanceDefaultsAreRowsOfNoOrgAndRemovedOwnRowsKeepTheirVersion) {
  WorkingSet set = WithOrg("o", true);
  ASSERT_EQ(Reduce(KindEv("instance.policy.password.age.added", "i", 4, 100), set),
            ReduceOutcome::kApplied);
  ASSERT_EQ(Reduce(KindEv("org.policy.password.age.added", "o", 5, 110), set),
            ReduceOutcome::kApplied);
  ASSERT_EQ(Reduce(KindEv("org.policy.password.age.removed", "o", 6, 120), set),
            ReduceOutcome::kApplied);
  const StoreChange change = ToStoreChange(set);
  ASSERT_EQ(change.put_kind_rows.size(), 2u);
  EXPECT_EQ(change.put_kind_rows[0].org_id, "");
  EXPECT_TRUE(change.put_kind_rows[0].policy.has_value());
  EXPECT_EQ(change.put_kind_rows[1].org_id, "o");
  EXPECT_FALSE(change.put_kind_rows[1].policy.has_value());  // falls back to the default
  EXPECT_EQ(change.put_kind_rows[1].version->sequence, 6u);
}

TEST(ReducerKindsTest, KindEventsNameTheirOrgsAndAskForKindRows) {
  const Event org_event = KindEv("org.policy.login.secondfactor.added", "o", 1, 1);
  const Event instance_event = KindEv("instance.policy.label.activated", "i", 1, 1);
  const Event domain_event = Ev("org.policy.domain.added", "d", 1, 1);
  EXPECT_EQ(OrgsNamedBy({&org_event, &instance_event, &domain_event}),
            (std::vector<std::string>{"d", "o"}));
  EXPECT_TRUE(ChangesKinds({&instance_event}));
  EXPECT_FALSE(ChangesKinds({&domain_event}));
}

TEST(ReducerKindsTest, LabelAssetsGetTheWorkingSetsAssetPrefix) {
  WorkingSet set = WithOrg("o", true);
  set.asset_prefix = "https://iam.example.com/assets/v1";
  ASSERT_EQ(Reduce(KindEv("org.policy.label.added", "o", 1, 100), set), ReduceOutcome::kApplied);
  Event logo = KindEv("org.policy.label.logo.added", "o", 2, 101);
  logo.kind_patch.store_key = "policy/label/logo-9";
  ASSERT_EQ(Reduce(logo, set), ReduceOutcome::kApplied);
  ASSERT_EQ(Reduce(KindEv("org.policy.label.activated", "o", 3, 102), set),
            ReduceOutcome::kApplied);
  const auto& active = set.orgs["o"].kinds.at(PolicyKind::kLabel);
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->fields[FindKindField(SpecOf(PolicyKind::kLabel), "logoUrl")].text,
            "https://iam.example.com/assets/v1/o/policy/label/logo-9");
  const StoreChange change = ToStoreChange(set);
  ASSERT_EQ(change.put_kind_rows.size(), 2u);  // the preview row and the active row
  EXPECT_EQ(change.put_kind_rows[0].kind, PolicyKind::kLabel);
  EXPECT_EQ(change.put_kind_rows[1].kind, PolicyKind::kLabelPreview);
}

}  // namespace
}  // namespace policyd
