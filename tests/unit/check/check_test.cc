// The three local checks, table-driven over every rule and edge: case, trailing dot, empty parts,
// several '@', whitespace and control characters, non-UTF-8, overlong values, verified versus
// unverified domains, primary versus not, known versus unknown orgs.
#include "check/check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace policyd {
namespace {

// The org's domains in every case: primary+verified, verified only, added only.
DomainSet Domains() {
  DomainSet d;
  d.org = {{"acme.com", true, true}, {"Beta.Example", true, false}, {"pending.org", false, false}};
  d.instance = {"x.example", "Mail.Example"};
  return d;
}

DomainPolicy Policy(bool login_must_be_domain, bool validate, bool smtp, bool is_default) {
  DomainPolicy p;
  p.flags = {login_must_be_domain, validate, smtp};
  p.is_default = is_default;
  return p;
}

struct Case {
  std::string name;
  bool flag;  // the flag the check reads (userLoginMustBeDomain, smtp..., validateOrgDomains)
  std::string value;
  bool allowed;
  CheckReason reason;
  std::string matched = "";
  std::string message_has = "";
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string CaseName(const ::testing::TestParamInfo<Case>& param) { return param.param.name; }

void Expect(const Case& c, const CheckDecision& d) {
  EXPECT_EQ(d.allowed, c.allowed) << d.message;
  EXPECT_EQ(CheckReasonName(d.reason), CheckReasonName(c.reason)) << d.message;
  EXPECT_EQ(d.matched_domain, c.matched);
  EXPECT_NE(d.message.find(c.message_has), std::string::npos) << d.message;
  EXPECT_FALSE(d.message.empty());
  for (char ch : d.message) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << d.message;
}

std::string Repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kE = "\xc3\xa9";  // é: two bytes, one character

// ---- login name ----

class LoginNameTest : public ::testing::TestWithParam<Case> {};

TEST_P(LoginNameTest, DecidesAsTheUpstreamWould) {
  const Case& c = GetParam();
  const DomainSet domains = Domains();
  const DomainPolicy policy = Policy(c.flag, false, false, false);
  CheckDecision d;
  DecideLoginName("42", c.value, CheckContext{policy, true, domains}, d);
  Expect(c, d);
  EXPECT_FALSE(d.domain_on_org);  // only domain verification reports it
}

constexpr auto kAllowedDomain = CheckReason::kAllowedVerifiedDomain;
constexpr auto kBare = CheckReason::kAllowedBareUsername;
constexpr auto kBadName = CheckReason::kInvalidLoginName;

INSTANTIATE_TEST_SUITE_P(
    Rules, LoginNameTest,
    ::testing::ValuesIn(std::vector<Case>{
        {"VerifiedPrimaryDomain", true, "alice@acme.com", true, kAllowedDomain, "acme.com",
         "acme.com is a verified domain of org 42"},
        {"DomainCaseIsIgnored", true, "alice@ACME.Com", true, kAllowedDomain, "acme.com"},
        {"UsernameCaseIsKept", true, "Alice@acme.com", true, kAllowedDomain, "acme.com"},
        {"VerifiedNonPrimaryDomainIsAcceptedToo", true, "bob@beta.example", true, kAllowedDomain,
         "Beta.Example"},
        {"SplitAtTheLastAt", true, "alice@home.net@acme.com", true, kAllowedDomain, "acme.com"},
        {"InnerSpaceInUsername", true, "john doe@acme.com", true, kAllowedDomain, "acme.com"},
        {"Utf8Username", true, kE + "ve@acme.com", true, kAllowedDomain, "acme.com"},
        {"UnverifiedDomain", true, "alice@pending.org", false, CheckReason::kDomainNotVerified,
         "pending.org", "not verified"},
        {"DomainNotInOrg", true, "alice@other.com", false, CheckReason::kDomainNotInOrg, "",
         "other.com is not a domain of org 42"},
        {"SubdomainIsAnotherDomain", true, "alice@sub.acme.com", false,
         CheckReason::kDomainNotInOrg},
        {"TrailingDotDoesNotMatch", true, "alice@acme.com.", false, CheckReason::kDomainNotInOrg,
         "", "trailing dot"},
        {"DomainBeforeLastAtDoesNotCount", true, "alice@acme.com@other.com", false,
         CheckReason::kDomainNotInOrg},
        {"NoAt", true, "alice", false, CheckReason::kMissingDomain, "", "no '@'"},
        {"NothingAfterLastAt", true, "alice@", false, CheckReason::kMissingDomain, "",
         "nothing after"},
        {"OnlyAt", true, "@", false, CheckReason::kMissingDomain},
        {"NothingBeforeLastAt", true, "@acme.com", false, CheckReason::kEmptyUsername},
        {"Empty", true, "", false, kBadName, "", "is empty"},
        {"LeadingSpace", true, " alice@acme.com", false, kBadName, "", "space"},
        {"TrailingSpace", true, "alice@acme.com ", false, kBadName, "", "space"},
        {"SpaceBeforeAt", true, "alice @acme.com", false, kBadName, "", "username"},
        {"SpaceInDomain", true, "alice@ac me.com", false, kBadName, "", "domain"},
        {"Tab", true, "alice\t@acme.com", false, kBadName, "", "control"},
        {"Newline", true, "alice@acme.com\n", false, kBadName, "", "control"},
        {"Nul", true, std::string("al\0ce@acme.com", 14), false, kBadName, "", "control"},
        {"Delete", true, "alice\x7f@acme.com", false, kBadName, "", "control"},
        {"C1Control", true, "alice\xc2\x85@acme.com", false, kBadName, "", "control"},
        {"NotUtf8", true, "al\xffice@acme.com", false, kBadName, "", "UTF-8"},
        {"TruncatedUtf8", true, "alice\xc3@acme.com", false, kBadName, "", "UTF-8"},
        {"OverlongUtf8", true, "\xc0\xaf@acme.com", false, kBadName, "", "UTF-8"},
        {"Surrogate", true, "\xed\xa0\x80@acme.com", false, kBadName, "", "UTF-8"},
        {"UsernameOf200Characters", true, Repeat(kE, 200) + "@acme.com", true, kAllowedDomain,
         "acme.com"},
        {"UsernameOf201Characters", true, Repeat(kE, 201) + "@acme.com", false, kBadName, "",
         "200 characters"},
        {"DomainOver253Bytes", true, "a@" + Repeat("a", 254), false, kBadName, "", "253 bytes"},
        {"OverlongInput", true, Repeat("a", kMaxLoginNameBytes + 1), false, kBadName, "", "bytes"},
        // Without the flag the login name is the whole username: '@'s included, no domain check.
        {"BareUsername", false, "alice", true, kBare, "", "userLoginMustBeDomain is off"},
        {"EmailAsUsername", false, "alice@other.com", true, kBare},
        {"EmailWithAnOrgDomain", false, "alice@acme.com", true, kBare},
        {"EmailWithAnUnverifiedDomain", false, "alice@pending.org", true, kBare},
        {"SeveralAts", false, "a@b@c", true, kBare},
        {"BareEmpty", false, "", false, kBadName, "", "is empty"},
        {"BareLeadingSpace", false, " alice", false, kBadName, "", "space"},
        {"BareControl", false, "ali\rce", false, kBadName, "", "control"},
        {"BareNotUtf8", false, "\xfe", false, kBadName, "", "UTF-8"},
        {"Bare200Characters", false, Repeat(kE, 200), true, kBare},
        {"Bare201Characters", false, Repeat(kE, 201), false, kBadName, "", "200 characters"},
    }),
    CaseName);

TEST(LoginNameContextTest, AnUnknownOrgHasNoDomains) {
  const DomainPolicy policy = Policy(true, false, false, true);
  const DomainSet none;
  CheckDecision d;
  DecideLoginName("nope", "alice@acme.com", CheckContext{policy, false, none}, d);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, CheckReason::kDomainNotInOrg);
  EXPECT_NE(d.message.find("unknown to policyd"), std::string::npos) << d.message;
}

TEST(LoginNameContextTest, MessagesSayWhichPolicyDecided) {
  const DomainSet domains = Domains();
  CheckDecision d;
  const DomainPolicy own = Policy(true, false, false, false);
  DecideLoginName("42", "alice", CheckContext{own, true, domains}, d);
  EXPECT_NE(d.message.find("(org 42's own policy)"), std::string::npos) << d.message;
  const DomainPolicy inherited = Policy(false, false, false, true);
  DecideLoginName("42", "alice", CheckContext{inherited, true, domains}, d);
  EXPECT_NE(d.message.find("(the instance default)"), std::string::npos) << d.message;
}

TEST(LoginNameContextTest, ADecisionOverwritesThePreviousOne) {
  const DomainSet domains = Domains();
  const DomainPolicy policy = Policy(true, false, false, false);
  CheckDecision d;
  DecideLoginName("42", "alice@acme.com", CheckContext{policy, true, domains}, d);
  ASSERT_TRUE(d.allowed);
  DecideLoginName("42", "alice@other.com", CheckContext{policy, true, domains}, d);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(d.matched_domain.empty());
  EXPECT_EQ(d.message.find("acme"), std::string::npos) << d.message;
}

// ---- SMTP sender ----

class SmtpSenderTest : public ::testing::TestWithParam<Case> {};

TEST_P(SmtpSenderTest, DecidesAsTheUpstreamWould) {
  const Case& c = GetParam();
  const DomainSet domains = Domains();
  // Only the instance default's flag counts; the org domains never do.
  const DomainPolicy policy = Policy(false, false, c.flag, true);
  CheckDecision d;
  DecideSmtpSender(c.value, CheckContext{policy, false, domains}, d);
  Expect(c, d);
}

constexpr auto kInstanceDomain = CheckReason::kAllowedInstanceDomain;
constexpr auto kNotInstance = CheckReason::kSenderDomainNotInstanceDomain;
constexpr auto kBadAddress = CheckReason::kInvalidAddress;

INSTANTIATE_TEST_SUITE_P(
    Rules, SmtpSenderTest,
    ::testing::ValuesIn(std::vector<Case>{
        {"InstanceDomain", true, "noreply@x.example", true, kInstanceDomain, "x.example",
         "x.example is an instance domain"},
        {"CaseIsIgnored", true, "noreply@MAIL.example", true, kInstanceDomain, "Mail.Example"},
        {"SplitAtTheLastAt", true, "\"a@b\"@x.example", true, kInstanceDomain, "x.example"},
        {"OrgDomainIsNoInstanceDomain", true, "noreply@acme.com", false, kNotInstance, "",
         "acme.com is not an instance domain"},
        {"SubdomainIsAnotherDomain", true, "noreply@mail.x.example", false, kNotInstance},
        {"TrailingDot", true, "noreply@x.example.", false, kNotInstance, "", "trailing dot"},
        {"NoAt", true, "x.example", false, kBadAddress, "", "no '@'"},
        {"NothingBeforeAt", true, "@x.example", false, kBadAddress, "", "before"},
        {"NothingAfterAt", true, "noreply@", false, kBadAddress, "", "after"},
        {"Empty", true, "", false, kBadAddress, "", "empty"},
        {"SurroundingSpace", true, " noreply@x.example", false, kBadAddress, "", "space"},
        {"InnerSpace", true, "no reply@x.example", false, kBadAddress, "", "space"},
        {"Control", true, "noreply@x.example\r\n", false, kBadAddress, "", "control"},
        {"NotUtf8", true, "no\x80reply@x.example", false, kBadAddress, "", "UTF-8"},
        {"Over254Bytes", true, Repeat("a", 245) + "@x.example", false, kBadAddress, "",
         "254 bytes"},
        {"Exactly254Bytes", true, Repeat("a", 244) + "@x.example", true, kInstanceDomain,
         "x.example"},
        {"FlagOffAllowsAnyDomain", false, "noreply@anything.example", true,
         CheckReason::kNotRequired, "", "is off in the instance policy"},
        {"FlagOffStillNeedsAnAddress", false, "noreply", false, kBadAddress, "", "no '@'"},
    }),
    CaseName);

TEST(SmtpSenderContextTest, NoInstanceDomainsRefusesEverySenderWhenRequired) {
  const DomainPolicy policy = Policy(false, false, true, true);
  const DomainSet none;
  CheckDecision d;
  DecideSmtpSender("noreply@x.example", CheckContext{policy, false, none}, d);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, kNotInstance);
}

// ---- domain verification ----

class DomainVerificationTest : public ::testing::TestWithParam<Case> {};

TEST_P(DomainVerificationTest, DecidesAsTheUpstreamWould) {
  const Case& c = GetParam();
  const DomainSet domains = Domains();
  const DomainPolicy policy = Policy(false, c.flag, false, false);
  CheckDecision d;
  DecideDomainVerification("42", c.value, CheckContext{policy, true, domains}, d);
  Expect(c, d);
  EXPECT_EQ(d.domain_on_org, !c.matched.empty());
  EXPECT_EQ(d.domain_verified, c.reason == CheckReason::kDomainAlreadyVerified);
}

constexpr auto kBadDomain = CheckReason::kInvalidDomain;

INSTANTIATE_TEST_SUITE_P(
    Rules, DomainVerificationTest,
    ::testing::ValuesIn(std::vector<Case>{
        {"NewDomainNeedsVerification", true, "new.com", false, CheckReason::kVerificationRequired,
         "", "must pass a DNS or HTTP challenge"},
        {"NewDomainWithoutValidationIsVerifiedAtOnce", false, "new.com", true,
         CheckReason::kNotRequired, "", "verifies it at once"},
        {"AlreadyVerified", true, "acme.com", true, CheckReason::kDomainAlreadyVerified, "acme.com",
         "already has acme.com, verified"},
        {"AlreadyVerifiedNonPrimary", true, "beta.example", true,
         CheckReason::kDomainAlreadyVerified, "Beta.Example"},
        {"AlreadyVerifiedCaseIgnored", false, "ACME.COM", true, CheckReason::kDomainAlreadyVerified,
         "acme.com"},
        {"AddedNotVerified", true, "pending.org", false, CheckReason::kDomainNotVerified,
         "pending.org", "needs its DNS or HTTP challenge"},
        {"AddedNotVerifiedWithoutValidation", false, "pending.org", false,
         CheckReason::kDomainNotVerified, "pending.org", "re-adding"},
        {"TrailingDotIsAnotherName", true, "acme.com.", false, CheckReason::kVerificationRequired},
        {"Empty", true, "", false, kBadDomain, "", "empty"},
        {"AnAddress", true, "alice@acme.com", false, kBadDomain, "", "'@'"},
        {"Space", true, "ac me.com", false, kBadDomain, "", "space"},
        {"Control", true, "acme.com\n", false, kBadDomain, "", "control"},
        {"NotUtf8", true, "acme\xff.com", false, kBadDomain, "", "UTF-8"},
        {"Over253Bytes", true, Repeat("a", 254), false, kBadDomain, "", "253 bytes"},
        {"Exactly253Bytes", false, Repeat("a", 253), true, CheckReason::kNotRequired},
    }),
    CaseName);

// ---- dispatch, validation, names ----

TEST(CheckRequestTest, ValidationWantsAKnownKindAndNoOrgForSmtp) {
  EXPECT_TRUE(ValidateCheckRequest({CheckKind::kLoginName, "42", "a", false}).ok());
  EXPECT_TRUE(ValidateCheckRequest({CheckKind::kDomainVerification, "42", "a", false}).ok());
  EXPECT_TRUE(ValidateCheckRequest({CheckKind::kSmtpSender, "", "a@b", false}).ok());
  EXPECT_EQ(ValidateCheckRequest({CheckKind::kSmtpSender, "42", "a@b", false}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ValidateCheckRequest({CheckKind::kUnspecified, "42", "a", false}).code(),
            Code::kInvalidArgument);
  const Status future = ValidateCheckRequest({static_cast<CheckKind>(9), "42", "a", false});
  EXPECT_EQ(future.code(), Code::kInvalidArgument);
  EXPECT_NE(future.message().find("kind 9"), std::string::npos) << future.message();
}

TEST(CheckRequestTest, DomainsAreReadOnlyWhenTheDecisionNeedsThem) {
  for (bool on : {false, true}) {
    const PolicyFlags flags{on, on, on};
    EXPECT_EQ(CheckNeedsDomains(CheckKind::kLoginName, flags), on);
    EXPECT_EQ(CheckNeedsDomains(CheckKind::kSmtpSender, flags), on);
    EXPECT_TRUE(CheckNeedsDomains(CheckKind::kDomainVerification, flags));
    EXPECT_FALSE(CheckNeedsDomains(CheckKind::kUnspecified, flags));
  }
  // Each kind reads its own flag only.
  EXPECT_FALSE(CheckNeedsDomains(CheckKind::kLoginName, PolicyFlags{false, true, true}));
  EXPECT_FALSE(CheckNeedsDomains(CheckKind::kSmtpSender, PolicyFlags{true, true, false}));
}

TEST(CheckRequestTest, DecideDispatchesByKind) {
  const DomainSet domains = Domains();
  const DomainPolicy policy = Policy(true, true, true, false);
  const CheckContext context{policy, true, domains};
  CheckDecision d;
  Decide({CheckKind::kLoginName, "42", "a@acme.com", false}, context, d);
  EXPECT_EQ(d.reason, CheckReason::kAllowedVerifiedDomain);
  Decide({CheckKind::kSmtpSender, "", "a@x.example", false}, context, d);
  EXPECT_EQ(d.reason, CheckReason::kAllowedInstanceDomain);
  Decide({CheckKind::kDomainVerification, "42", "new.com", false}, context, d);
  EXPECT_EQ(d.reason, CheckReason::kVerificationRequired);
  Decide({CheckKind::kUnspecified, "42", "x", false}, context, d);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, CheckReason::kUnspecified);
}

TEST(CheckNamesTest, EveryReasonAndKindHasItsSchemaName) {
  EXPECT_EQ(CheckReasonName(CheckReason::kAllowedBareUsername), "ALLOWED_BARE_USERNAME");
  EXPECT_EQ(CheckReasonName(CheckReason::kSenderDomainNotInstanceDomain),
            "SENDER_DOMAIN_NOT_INSTANCE_DOMAIN");
  EXPECT_EQ(CheckReasonName(CheckReason::kInvalidDomain), "INVALID_DOMAIN");
  EXPECT_EQ(CheckReasonName(static_cast<CheckReason>(kMaxCheckReason + 1)), "UNSPECIFIED");
  for (std::uint8_t r = 1; r <= kMaxCheckReason; ++r) {
    EXPECT_NE(CheckReasonName(static_cast<CheckReason>(r)), "UNSPECIFIED") << int(r);
  }
  EXPECT_EQ(CheckKindName(CheckKind::kLoginName), "login_name");
  EXPECT_EQ(CheckKindName(CheckKind::kSmtpSender), "smtp_sender");
  EXPECT_EQ(CheckKindName(CheckKind::kDomainVerification), "domain_verification");
  EXPECT_EQ(CheckKindName(static_cast<CheckKind>(7)), "unspecified");
}

}  // namespace
}  // namespace policyd
