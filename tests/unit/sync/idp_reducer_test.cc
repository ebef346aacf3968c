// The IdP events' reducer (sync/idp_reducer.h), through Reduce(): the login policy's `idps` as
// ZITADEL's link and IdP template projections make them (/work facts: docs/policy-kinds.md).
#include "sync/idp_reducer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sync/reducer.h"

namespace policyd {
namespace {

constexpr std::string_view kInstance = "100000000000000001";
constexpr std::string_view kOrgA = "200000000000000042";
constexpr std::string_view kOrgB = "200000000000000043";

class IdpReducerTest : public ::testing::Test {
 protected:
  // An event of `type` on the instance (org "") or an org, the next of its stream.
  Event Ev(std::string type, std::string_view org, std::string id,
           std::optional<std::string> name = std::nullopt) {
    Event e;
    e.type = std::move(type);
    e.aggregate_type = org.empty() ? "instance" : "org";
    e.aggregate_id = std::string(org.empty() ? kInstance : org);
    e.resource_owner = e.aggregate_id;
    e.sequence = ++sequence_;
    e.creation_date = Timestamp{1'700'000'000 + static_cast<std::int64_t>(sequence_), 0};
    e.idp_patch = IdpPatch{std::move(id), std::move(name)};
    return e;
  }
  ReduceOutcome Do(const Event& e) { return Reduce(e, set_); }

  // Gives the instance and `orgs` an (empty) login policy.
  void LoginPolicies(std::vector<std::string_view> orgs) {
    set_.instance_kinds.at(PolicyKind::kLogin) = EmptyKindPolicy(PolicyKind::kLogin);
    for (std::string_view org : orgs) {
      WorkingSet::Org& o = set_.orgs[std::string(org)];
      o.exists = true;
      o.kinds.at(PolicyKind::kLogin) = EmptyKindPolicy(PolicyKind::kLogin);
    }
  }
  KindRows& Rows(std::string_view org) {
    return org.empty() ? set_.instance_kinds : set_.orgs.at(std::string(org)).kinds;
  }
  const std::vector<IdpLink>& Links(std::string_view org) {
    static const std::size_t field =
        static_cast<std::size_t>(FindKindField(SpecOf(PolicyKind::kLogin), "idps"));
    return Rows(org).at(PolicyKind::kLogin)->fields[field].links;
  }
  std::vector<IdpLink> Table() {
    const auto& table = set_.instance_kinds.at(PolicyKind::kIdpTable);
    return table ? table->fields[0].links : std::vector<IdpLink>{};
  }
  bool Touched(std::string_view org, PolicyKind kind) {
    return Rows(org).touched[static_cast<std::size_t>(kind)];
  }

  WorkingSet set_;
  std::uint64_t sequence_ = 0;
};

IdpLink L(std::string id, std::string name, std::uint32_t type) {
  return IdpLink{std::move(id), std::move(name), type, {}};
}

TEST(IdpEventsTest, ClassifiesEveryKnownTypeAndNothingElse) {
  for (const std::string& type : IdpEventTypes()) {
    const auto t = ClassifyIdpEvent(type);
    ASSERT_TRUE(t) << type;
    EXPECT_EQ(t->instance, !type.starts_with("org.")) << type;
    EXPECT_FALSE(ClassifyKindEvent(type)) << type << " is also a policy kind event";
  }
  EXPECT_EQ(ClassifyIdpEvent("instance.idp.ldap.v2.added")->type, 4);
  EXPECT_EQ(ClassifyIdpEvent("org.idp.ldap.added")->type, 4);
  EXPECT_EQ(ClassifyIdpEvent("org.idp.jwt.added")->type, 2);
  EXPECT_EQ(ClassifyIdpEvent("iam.idp.oidc.config.added")->action, IdpAction::kTyped);
  EXPECT_EQ(ClassifyIdpEvent("iam.idp.config.added")->id_key, "idpConfigId");
  EXPECT_EQ(ClassifyIdpEvent("org.idp.google.added")->id_key, "id");
  EXPECT_EQ(ClassifyIdpEvent("org.idp.oidc.migrated.google")->type, 10);
  for (std::string_view other :
       {"instance.idp.ldap.added", "org.idp.config.deactivated", "iam.idp.config.reactivated",
        "org.idp.oidc.config.changed", "org.idp.github.removed", "org.policy.login.added",
        "org.idp.", "instance.idp.oidc", "org.idp.oidcx.added", "user.idp.link.added"}) {
    EXPECT_FALSE(ClassifyIdpEvent(other)) << other;
  }
}

TEST_F(IdpReducerTest, ALinkTakesItsIdpsNameAndProtoType) {
  LoginPolicies({kOrgA});
  ASSERT_EQ(Do(Ev("instance.idp.oidc.added", "", "301", "Corp OIDC")), ReduceOutcome::kApplied);
  ASSERT_EQ(Do(Ev("instance.idp.jwt.added", "", "302", "Corp JWT")), ReduceOutcome::kApplied);
  ASSERT_EQ(Do(Ev("instance.idp.google.added", "", "303")), ReduceOutcome::kApplied);
  const Details before = set_.orgs.at(std::string(kOrgA)).kinds.at(PolicyKind::kLogin)->details;
  for (std::string id : {"301", "302", "303", "399"}) {
    ASSERT_EQ(Do(Ev("org.policy.login.idpprovider.added", kOrgA, id)), ReduceOutcome::kApplied);
  }
  // 399 is no IdP the table knows: the upstream's outer join shows its id only.
  EXPECT_EQ(Links(kOrgA), (std::vector<IdpLink>{L("301", "Corp OIDC", 1), L("302", "Corp JWT", 3),
                                                L("303", "", 0), L("399", "", 0)}));
  // Link events do not touch the login row's details (its projection ignores them), only its
  // entry version.
  EXPECT_EQ(Rows(kOrgA).at(PolicyKind::kLogin)->details, before);
  EXPECT_TRUE(Touched(kOrgA, PolicyKind::kLogin));
  EXPECT_EQ(Rows(kOrgA).versions[static_cast<std::size_t>(PolicyKind::kLogin)].sequence, sequence_);
  EXPECT_TRUE(Links("").empty());
  EXPECT_EQ(Table().size(), 3u);
}

TEST_F(IdpReducerTest, LinksAreASetAndNeedALoginRow) {
  LoginPolicies({kOrgA});
  ASSERT_EQ(Do(Ev("instance.policy.login.idpprovider.added", "", "301")), ReduceOutcome::kApplied);
  EXPECT_EQ(Do(Ev("instance.policy.login.idpprovider.added", "", "301")), ReduceOutcome::kNoEffect);
  EXPECT_EQ(Do(Ev("org.policy.login.idpprovider.removed", kOrgA, "301")), ReduceOutcome::kNoEffect);
  EXPECT_EQ(Do(Ev("instance.policy.login.idpprovider.cascade.removed", "", "301")),
            ReduceOutcome::kApplied);
  EXPECT_TRUE(Links("").empty());
  // An org without a login policy of its own, or unknown here, keeps no links.
  set_.orgs[std::string(kOrgB)].exists = true;
  EXPECT_EQ(Do(Ev("org.policy.login.idpprovider.added", kOrgB, "301")), ReduceOutcome::kNoEffect);
  EXPECT_FALSE(set_.orgs.at(std::string(kOrgB)).kinds.at(PolicyKind::kLogin));
  // The upstream's quirk: an old-style instance IdP removal also writes an org event whose
  // aggregate is the instance id.
  Event quirk = Ev("org.policy.login.idpprovider.removed", kOrgA, "301");
  quirk.aggregate_id = std::string(kInstance);
  EXPECT_EQ(Do(quirk), ReduceOutcome::kNoEffect);
  // No id: a malformed event, skipped.
  EXPECT_EQ(Do(Ev("org.policy.login.idpprovider.added", kOrgA, "")), ReduceOutcome::kInvalid);
}

TEST_F(IdpReducerTest, AnInstanceIdpsChangesReachEveryLinkToIt) {
  LoginPolicies({kOrgA, kOrgB});
  Do(Ev("iam.idp.config.added", "", "301", "Old style"));
  for (std::string_view owner : {std::string_view(), kOrgA, kOrgB}) {
    const std::string scope = owner.empty() ? "instance" : "org";
    ASSERT_EQ(Do(Ev(scope + ".policy.login.idpprovider.added", owner, "301")),
              ReduceOutcome::kApplied);
  }
  EXPECT_EQ(Links(kOrgB), (std::vector<IdpLink>{L("301", "Old style", 0)}));
  // Its OIDC configuration makes it an OIDC IdP everywhere.
  ASSERT_EQ(Do(Ev("iam.idp.oidc.config.added", "", "301")), ReduceOutcome::kApplied);
  EXPECT_EQ(Links(kOrgA), (std::vector<IdpLink>{L("301", "Old style", 1)}));
  // A change without a name changes nothing; a rename reaches every link.
  EXPECT_EQ(Do(Ev("iam.idp.config.changed", "", "301")), ReduceOutcome::kNoEffect);
  ASSERT_EQ(Do(Ev("iam.idp.config.changed", "", "301", "Renamed")), ReduceOutcome::kApplied);
  for (std::string_view owner : {std::string_view(), kOrgA, kOrgB}) {
    EXPECT_EQ(Links(owner), (std::vector<IdpLink>{L("301", "Renamed", 1)})) << owner;
  }
  // Removing it removes every link to it, the orgs' too.
  ASSERT_EQ(Do(Ev("iam.idp.config.removed", "", "301")), ReduceOutcome::kApplied);
  for (std::string_view owner : {std::string_view(), kOrgA, kOrgB}) {
    EXPECT_TRUE(Links(owner).empty()) << owner;
  }
  EXPECT_TRUE(Table().empty());
}

TEST_F(IdpReducerTest, MigrationsChangeNameAndTypeAndOrgRemovalsStayInTheOrg) {
  LoginPolicies({kOrgA, kOrgB});
  Do(Ev("org.idp.oidc.added", kOrgA, "401", "A's OIDC"));
  Do(Ev("org.idp.oidc.added", kOrgB, "402", "B's OIDC"));
  Do(Ev("org.policy.login.idpprovider.added", kOrgA, "401"));
  Do(Ev("org.policy.login.idpprovider.added", kOrgB, "402"));
  ASSERT_EQ(Do(Ev("org.idp.oidc.migrated.google", kOrgA, "401", "A's Google")),
            ReduceOutcome::kApplied);
  EXPECT_EQ(Links(kOrgA), (std::vector<IdpLink>{L("401", "A's Google", 0)}));
  // A *.changed event never changes the type.
  ASSERT_EQ(Do(Ev("org.idp.google.changed", kOrgA, "401", "G")), ReduceOutcome::kApplied);
  EXPECT_EQ(Table()[0], (IdpLink{"401", "G", 10, std::string(kOrgA)}));
  // An org IdP's removal: the table entry and that org's link.
  ASSERT_EQ(Do(Ev("org.idp.removed", kOrgB, "402")), ReduceOutcome::kApplied);
  EXPECT_TRUE(Links(kOrgB).empty());
  EXPECT_EQ(Links(kOrgA).size(), 1u);
  // An org's removal takes its IdPs out of the table.
  ASSERT_EQ(Do(Ev("org.removed", kOrgA, "")), ReduceOutcome::kApplied);
  EXPECT_TRUE(Table().empty());
}

TEST_F(IdpReducerTest, ARemovedLoginPolicyLosesItsLinks) {
  LoginPolicies({kOrgA});
  Do(Ev("instance.idp.saml.added", "", "301", "SAML"));
  Do(Ev("org.policy.login.idpprovider.added", kOrgA, "301"));
  Event removed = Ev("org.policy.login.removed", kOrgA, "");
  removed.idp_patch = {};
  ASSERT_EQ(Do(removed), ReduceOutcome::kApplied);
  Event added = Ev("org.policy.login.added", kOrgA, "");
  ASSERT_EQ(Do(added), ReduceOutcome::kApplied);
  EXPECT_TRUE(Links(kOrgA).empty());  // a new policy starts without links
}

TEST_F(IdpReducerTest, ReplayingAStretchInOrderGivesTheSameLinks) {
  LoginPolicies({kOrgA});
  std::vector<Event> history = {
      Ev("instance.idp.oidc.added", "", "301", "One"),
      Ev("org.policy.login.idpprovider.added", kOrgA, "301"),
      Ev("instance.idp.jwt.added", "", "302", "Two"),
      Ev("org.policy.login.idpprovider.added", kOrgA, "302"),
      Ev("org.policy.login.idpprovider.removed", kOrgA, "301"),
      Ev("instance.idp.oidc.changed", "", "301", "One'"),
      Ev("org.policy.login.idpprovider.added", kOrgA, "301"),
      Ev("instance.idp.removed", "", "302"),
  };
  for (const Event& e : history) Do(e);
  const std::vector<IdpLink> once = Links(kOrgA);
  EXPECT_EQ(once, (std::vector<IdpLink>{L("301", "One'", 1)}));
  for (std::size_t from = 0; from < history.size(); ++from) {
    for (std::size_t i = from; i < history.size(); ++i) Do(history[i]);
    EXPECT_EQ(Links(kOrgA), once) << "replayed from event " << from;
  }
}

TEST_F(IdpReducerTest, WhatTheSyncerAsksBeforeAPage) {
  LoginPolicies({kOrgA});
  Do(Ev("instance.idp.oidc.added", "", "301", "Known"));
  const Event link_known = Ev("org.policy.login.idpprovider.added", kOrgA, "301");
  const Event link_unknown = Ev("org.policy.login.idpprovider.added", kOrgA, "309");
  const Event add_new = Ev("instance.idp.jwt.added", "", "310", "New");
  const Event link_new = Ev("instance.policy.login.idpprovider.added", "", "310");
  const Event rename = Ev("instance.idp.oidc.changed", "", "301", "X");
  const std::vector<const Event*> page = {&link_known, &link_unknown, &add_new, &link_new, &rename};
  EXPECT_EQ(UnknownLinkedIdps(page, set_), (std::vector<UnknownIdp>{{std::string(kOrgA), "309"}}));
  EXPECT_EQ(IdpsChangedBy(page), (std::vector<std::string>{"301", "310"}));

  // The owner's login policy, as the upstream answers it, names the unknown IdP.
  AddIdpFromLinks({L("305", "Other", 3), L("309", "Learnt", 3)}, "309", set_);
  EXPECT_EQ(Table().back(), (IdpLink{"309", "Learnt", 2, {}}));
  AddIdpFromLinks({L("308", "Absent", 1)}, "307", set_);  // not in the links: nothing
  EXPECT_EQ(Table().size(), 2u);
  ASSERT_EQ(Do(link_unknown), ReduceOutcome::kApplied);
  EXPECT_EQ(Links(kOrgA).back(), L("309", "Learnt", 3));

  KindPolicy login = EmptyKindPolicy(PolicyKind::kLogin);
  login.fields[static_cast<std::size_t>(FindKindField(SpecOf(PolicyKind::kLogin), "idps"))]
      .links = {L("309", "Learnt", 3)};
  EXPECT_TRUE(LinksAnyOf(login, {"301", "309"}));
  EXPECT_FALSE(LinksAnyOf(login, {"301", "310"}));
}

TEST(IdpTableTest, FromTheLinksOfRowsReadFromTheApi) {
  KindPolicy org_login = EmptyKindPolicy(PolicyKind::kLogin);
  const auto field = static_cast<std::size_t>(FindKindField(SpecOf(PolicyKind::kLogin), "idps"));
  org_login.fields[field].links = {L("301", "OIDC", 1), L("302", "JWT", 3)};
  KindPolicy instance_login = EmptyKindPolicy(PolicyKind::kLogin);
  instance_login.fields[field].links = {L("302", "JWT", 3), L("303", "", 0)};
  std::vector<KindRow> rows = {KindRow{std::string(kOrgA), org_login, {}},
                               KindRow{"", EmptyKindPolicy(PolicyKind::kLockout), {}},
                               KindRow{"", instance_login, {}}};
  const std::optional<KindPolicy> table = IdpTableFromLinks(rows);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->kind, PolicyKind::kIdpTable);
  EXPECT_EQ(table->fields[0].links,
            (std::vector<IdpLink>{L("301", "OIDC", 1), L("302", "JWT", 2), L("303", "", 0)}));
  EXPECT_TRUE(CheckKindPolicy("table", *table).ok());
  EXPECT_FALSE(IdpTableFromLinks({KindRow{"", EmptyKindPolicy(PolicyKind::kLogin), {}}}));
}

}  // namespace
}  // namespace policyd
