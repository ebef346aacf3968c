#include "resolve/resolve.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace policyd {
namespace {

PolicyRecord Record(PolicyFlags flags, std::uint64_t seq, std::string owner) {
  return PolicyRecord{
      flags, Details{seq, Timestamp{1700000000, 5}, Timestamp{1700000100, 0}, std::move(owner)}};
}

const InstanceRecord kInstance{"inst-1", Record({true, false, true}, 3, "inst-1")};
const PolicyRecord kOrgPolicy = Record({false, true, false}, 9, "org-a");

struct Case {
  std::string name;
  std::string org_id;
  OrgView view;
  const InstanceRecord* instance;
  bool strict;
  // Expectations.
  Code code;
  bool is_default = false;
  bool org_known = false;
  PolicyFlags flags{};
  std::uint64_t sequence = 0;
  std::string resource_owner;
};

std::vector<Case> Cases() {
  return {
      {"OrgWithOwnPolicyGetsItsOwn",
       "org-a",
       {true, &kOrgPolicy},
       &kInstance,
       false,
       Code::kOk,
       false,
       true,
       kOrgPolicy.flags,
       9,
       "org-a"},
      {"OrgWithOwnPolicyStrictGetsItsOwn",
       "org-a",
       {true, &kOrgPolicy},
       &kInstance,
       true,
       Code::kOk,
       false,
       true,
       kOrgPolicy.flags,
       9,
       "org-a"},
      {"OrgWithOwnPolicyAndNoDefaultStillResolves",
       "org-a",
       {true, &kOrgPolicy},
       nullptr,
       false,
       Code::kOk,
       false,
       true,
       kOrgPolicy.flags,
       9,
       "org-a"},
      {"KnownOrgWithoutPolicyFallsBackToDefault",
       "org-b",
       {true, nullptr},
       &kInstance,
       false,
       Code::kOk,
       true,
       true,
       kInstance.policy.flags,
       3,
       "inst-1"},
      {"KnownOrgWithoutPolicyStrictFallsBackToDefault",
       "org-b",
       {true, nullptr},
       &kInstance,
       true,
       Code::kOk,
       true,
       true,
       kInstance.policy.flags,
       3,
       "inst-1"},
      {"UnknownOrgFallsBackLikeUpstream",
       "ghost",
       {false, nullptr},
       &kInstance,
       false,
       Code::kOk,
       true,
       false,
       kInstance.policy.flags,
       3,
       "inst-1"},
      {"UnknownOrgStrictIsNotFound",
       "ghost",
       {false, nullptr},
       &kInstance,
       true,
       Code::kNotFound,
       false,
       false,
       {},
       0,
       ""},
      {"RemovedOrgIsUnknownEvenIfAPolicyPointerLingers",
       "gone",
       {false, &kOrgPolicy},
       &kInstance,
       false,
       Code::kOk,
       true,
       false,
       kInstance.policy.flags,
       3,
       "inst-1"},
      {"NoDefaultStoredIsUnavailable",
       "org-b",
       {true, nullptr},
       nullptr,
       false,
       Code::kUnavailable,
       false,
       false,
       {},
       0,
       ""},
      {"EmptyOrgIdIsInvalid",
       "",
       {false, nullptr},
       &kInstance,
       false,
       Code::kInvalidArgument,
       false,
       false,
       {},
       0,
       ""},
      {"OverlongOrgIdIsInvalid",
       std::string(201, 'x'),
       {false, nullptr},
       &kInstance,
       false,
       Code::kInvalidArgument,
       false,
       false,
       {},
       0,
       ""},
      {"ControlCharacterInOrgIdIsInvalid",
       "a\nb",
       {false, nullptr},
       &kInstance,
       false,
       Code::kInvalidArgument,
       false,
       false,
       {},
       0,
       ""},
      {"MaxLengthOrgIdIsValid",
       std::string(200, 'x'),
       {false, nullptr},
       &kInstance,
       false,
       Code::kOk,
       true,
       false,
       kInstance.policy.flags,
       3,
       "inst-1"},
  };
}

class ResolveOrgPolicyTest : public testing::TestWithParam<Case> {};

TEST_P(ResolveOrgPolicyTest, ResolvesLikeDomainPolicyByOrg) {
  const Case& c = GetParam();
  Result<Resolution> r = ResolveOrgPolicy(c.org_id, c.view, c.instance, c.strict);
  if (c.code != Code::kOk) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), c.code) << r.error().ToString();
    EXPECT_FALSE(r.error().message().empty());
    return;
  }
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->policy.is_default, c.is_default);
  EXPECT_EQ(r->org_known, c.org_known);
  EXPECT_EQ(r->policy.flags, c.flags);
  EXPECT_EQ(r->policy.details.sequence, c.sequence);
  EXPECT_EQ(r->policy.details.resource_owner, c.resource_owner);
}

INSTANTIATE_TEST_SUITE_P(Table, ResolveOrgPolicyTest, testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(ResolveOrgPolicyTest, EachFlagIsTakenFromTheWinningRowIndependently) {
  for (int bits = 0; bits < 8; ++bits) {
    const PolicyFlags flags{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
    const PolicyRecord own = Record(flags, 1, "org");
    const InstanceRecord inst{"i", Record(flags, 2, "i")};
    Result<Resolution> with_own = ResolveOrgPolicy("org", {true, &own}, &kInstance, false);
    ASSERT_TRUE(with_own.has_value());
    EXPECT_EQ(with_own->policy.flags, flags) << bits;
    Result<Resolution> inherited = ResolveOrgPolicy("org", {true, nullptr}, &inst, false);
    ASSERT_TRUE(inherited.has_value());
    EXPECT_EQ(inherited->policy.flags, flags) << bits;
  }
}

TEST(ResolveOrgPolicyTest, DetailsComeFromTheWinningRow) {
  Result<Resolution> own = ResolveOrgPolicy("org-a", {true, &kOrgPolicy}, &kInstance, false);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->policy.details, kOrgPolicy.details);
  Result<Resolution> inherited = ResolveOrgPolicy("org-b", {true, nullptr}, &kInstance, false);
  ASSERT_TRUE(inherited.has_value());
  EXPECT_EQ(inherited->policy.details, kInstance.policy.details);
}

TEST(ResolveDefaultPolicyTest, ResourceOwnerIsTheInstanceId) {
  InstanceRecord inst = kInstance;
  inst.policy.details.resource_owner = "";  // e.g. a snapshot written without it
  Result<DomainPolicy> d = ResolveDefaultPolicy(&inst);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->is_default);
  EXPECT_EQ(d->details.resource_owner, "inst-1");
  EXPECT_EQ(d->flags, inst.policy.flags);
}

TEST(ResolveDefaultPolicyTest, NoInstanceIsUnavailable) {
  Result<DomainPolicy> d = ResolveDefaultPolicy(nullptr);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), Code::kUnavailable);
}

// The hot path reuses one Resolution for every lookup of a connection: whatever the previous
// answer left in it must never leak into the next one.
TEST(ResolveOrgPolicyIntoTest, AReusedResolutionEqualsAFreshOne) {
  const std::vector<Case> cases = Cases();
  Resolution reused;
  for (int round = 0; round < 3; ++round) {
    for (const Case& c : cases) {
      Result<Resolution> fresh = ResolveOrgPolicy(c.org_id, c.view, c.instance, c.strict);
      Status s = ResolveOrgPolicyInto(c.org_id, c.view, c.instance, c.strict, reused);
      ASSERT_EQ(s.ok(), fresh.has_value()) << c.name;
      if (!s.ok()) {
        EXPECT_EQ(s.code(), fresh.error().code()) << c.name;
        continue;
      }
      EXPECT_EQ(reused.policy, fresh->policy) << c.name;
      EXPECT_EQ(reused.org_known, fresh->org_known) << c.name;
    }
  }
}

TEST(CheckOrgLookupTest, RefusesBadIdsAndUnknownOrgsWhenStrict) {
  EXPECT_TRUE(CheckOrgLookup("org-a", true, true).ok());
  EXPECT_TRUE(CheckOrgLookup("org-x", false, false).ok());
  EXPECT_EQ(CheckOrgLookup("org-x", false, true).code(), Code::kNotFound);
  EXPECT_EQ(CheckOrgLookup("", true, false).code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckOrgLookup(std::string(kMaxIdLength + 1, 'a'), true, false).code(),
            Code::kInvalidArgument);
}

TEST(ResolveKindIntoTest, OwnRowWinsElseTheInstanceDefaultElseUnavailable) {
  KindPolicy own;
  own.kind = PolicyKind::kLockout;
  KindPolicy instance_default = own;
  KindResolution out;
  ASSERT_TRUE(ResolveKindInto(PolicyKind::kLockout, &own, &instance_default, out).ok());
  EXPECT_EQ(out.policy, &own);
  EXPECT_FALSE(out.is_default);
  ASSERT_TRUE(ResolveKindInto(PolicyKind::kLockout, nullptr, &instance_default, out).ok());
  EXPECT_EQ(out.policy, &instance_default);
  EXPECT_TRUE(out.is_default);
  ASSERT_TRUE(ResolveKindInto(PolicyKind::kLockout, &own, nullptr, out).ok());
  EXPECT_EQ(out.policy, &own);
  EXPECT_FALSE(out.is_default);
  const Status none = ResolveKindInto(PolicyKind::kLockout, nullptr, nullptr, out);
  EXPECT_EQ(none.code(), Code::kUnavailable);
  EXPECT_NE(none.message().find("lockout"), std::string::npos) << none.message();
}

}  // namespace
}  // namespace policyd
