// The login-name rule with userLoginMustBeDomain off: a username whose part after the last '@' is a
// domain that ANOTHER org has verified is refused (the upstream's userValidateDomain,
// Errors.User.DomainNotAllowedAsUsername); table-driven over the flag, the '@' split, same versus
// other org, case, and the claims the index gives.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "check/check.h"

namespace policyd {
namespace {

struct ClaimCase {
  std::string name;
  bool flag;  // userLoginMustBeDomain
  std::string value;
  std::vector<DomainClaim> claims;  // what the index holds for the value's domain
  bool allowed;
  CheckReason reason;
  std::string matched = "";
  std::string message_has = "";
};

void PrintTo(const ClaimCase& c, std::ostream* os) { *os << c.name; }

class ClaimedDomainTest : public ::testing::TestWithParam<ClaimCase> {};

TEST_P(ClaimedDomainTest, DecidesAsTheUpstreamWould) {
  const ClaimCase& c = GetParam();
  DomainSet domains;  // the asking org 42's own domains
  domains.org = {{"acme.com", true, true}};
  DomainPolicy policy;
  policy.flags.user_login_must_be_domain = c.flag;
  policy.is_default = true;
  CheckDecision d;
  DecideLoginName("42", c.value, CheckContext{policy, true, domains, c.claims}, d);
  EXPECT_EQ(d.allowed, c.allowed) << d.message;
  EXPECT_EQ(CheckReasonName(d.reason), CheckReasonName(c.reason)) << d.message;
  EXPECT_EQ(d.matched_domain, c.matched);
  EXPECT_NE(d.message.find(c.message_has), std::string::npos) << d.message;
}

constexpr auto kBare = CheckReason::kAllowedBareUsername;
constexpr auto kTaken = CheckReason::kDomainNotAllowedAsUsername;
const DomainClaim kOther{"7", "other.com"};
const DomainClaim kOwn{"42", "own.com"};

INSTANTIATE_TEST_SUITE_P(
    Rules, ClaimedDomainTest,
    ::testing::ValuesIn(std::vector<ClaimCase>{
        {"OtherOrgsVerifiedDomain",
         false,
         "bob@other.com",
         {kOther},
         false,
         kTaken,
         "other.com",
         "other.com is a verified domain of org 7: with userLoginMustBeDomain off (the instance "
         "default) a username may not end in another org's verified domain"},
        {"OwnVerifiedDomain", false, "bob@own.com", {kOwn}, true, kBare},
        {"NobodyVerifiedIt", false, "bob@gmail.com", {}, true, kBare},
        {"NoAtNeedsNoClaim", false, "bob", {}, true, kBare},
        {"CaseIsIgnored", false, "bob@OTHER.Com", {kOther}, false, kTaken, "other.com"},
        {"StoredSpellingIsReported",
         false,
         "bob@other.com",
         {{"7", "Other.COM"}},
         false,
         kTaken,
         "Other.COM"},
        {"SplitAtTheLastAt", false, "a@b@other.com", {kOther}, false, kTaken, "other.com"},
        {"OnlyTheLastAtCounts", false, "a@other.com@gmail.com", {}, true, kBare},
        {"ClaimsOfAnotherDomainAreIgnored", false, "bob@gmail.com", {kOther}, true, kBare},
        {"TrailingDotIsAnotherDomain", false, "bob@other.com.", {kOther}, true, kBare},
        {"SubdomainIsAnotherDomain", false, "bob@sub.other.com", {kOther}, true, kBare},
        {"OwnAndOtherClaimRefuses",
         false,
         "bob@other.com",
         {{"42", "other.com"}, kOther},
         false,
         kTaken,
         "other.com",
         "org 7"},
        {"NothingAfterAt", false, "bob@", {}, true, kBare},
        {"NothingBeforeAt", false, "@other.com", {kOther}, false, kTaken, "other.com"},
        // With the flag on the upstream's check does not run: the name must be on a domain of
        // the org itself, and another org's claim changes nothing.
        {"FlagOnIgnoresClaims",
         true,
         "bob@acme.com",
         {{"7", "acme.com"}},
         true,
         CheckReason::kAllowedVerifiedDomain,
         "acme.com"},
        {"FlagOnOtherDomainIsNotInOrg",
         true,
         "bob@other.com",
         {kOther},
         false,
         CheckReason::kDomainNotInOrg},
        {"InvalidNameBeforeClaims",
         false,
         " bob@other.com",
         {kOther},
         false,
         CheckReason::kInvalidLoginName},
    }),
    [](const ::testing::TestParamInfo<ClaimCase>& p) { return p.param.name; });

TEST(LoginNameClaimedDomainTest, IsThePartAfterTheLastAtWhenItCanBeADomain) {
  EXPECT_EQ(LoginNameClaimedDomain("bob@acme.com"), "acme.com");
  EXPECT_EQ(LoginNameClaimedDomain("a@b@acme.com"), "acme.com");
  EXPECT_EQ(LoginNameClaimedDomain("@acme.com"), "acme.com");
  EXPECT_EQ(LoginNameClaimedDomain("bob"), std::nullopt);
  EXPECT_EQ(LoginNameClaimedDomain("bob@"), std::nullopt);
  EXPECT_EQ(LoginNameClaimedDomain("bob@" + std::string(kMaxDomainLength, 'a')),
            std::string(kMaxDomainLength, 'a'));
  EXPECT_EQ(LoginNameClaimedDomain("bob@" + std::string(kMaxDomainLength + 1, 'a')), std::nullopt);
}

TEST(CheckNamesTest, DomainNotAllowedAsUsernameIsNamedAfterTheUpstreamError) {
  EXPECT_EQ(CheckReasonName(CheckReason::kDomainNotAllowedAsUsername),
            "DOMAIN_NOT_ALLOWED_AS_USERNAME");
  EXPECT_EQ(static_cast<int>(CheckReason::kDomainNotAllowedAsUsername), 15);
}

}  // namespace
}  // namespace policyd
