// How `policyctl check password` shows an answer: the text for people and the one-line JSON.
#include "cli/check_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "check/password.h"

namespace policyd {
namespace {

// The example snapshot's org 300000000000000042: minLength 12, no symbol needed.
KindValue OrgPolicy() {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kPasswordComplexity);
  p.fields[0].number = 12;  // minLength
  p.fields[1].number = 1;   // hasUppercase
  p.fields[2].number = 1;   // hasLowercase
  p.fields[3].number = 1;   // hasNumber
  p.details.sequence = 18;
  p.details.creation_date = Timestamp{1739261100, 0};  // 2025-02-11T08:05:00Z
  p.details.change_date = Timestamp{1740909600, 250'000'000};
  p.details.resource_owner = "300000000000000042";
  return {p, false};
}

KindValue InstancePolicy() {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kPasswordComplexity);
  p.fields[0].number = 8;
  for (int i = 1; i <= 4; ++i) p.fields[i].number = 1;
  p.details.sequence = 2;
  p.details.resource_owner = "300000000000000001";
  return {p, true};
}

CheckAnswer PasswordAnswer(PasswordRule rule, KindValue policy, std::string org = "42") {
  const PasswordVerdict verdict = VerdictOf(rule);
  CheckAnswer a;
  a.kind = CheckKind::kPassword;
  a.org_id = std::move(org);
  a.org_known = true;
  a.allowed = verdict.allowed;
  a.reason = PasswordCheckReason(rule);
  a.message = std::string(verdict.message);
  a.error_id = std::string(verdict.error_id);
  a.password_complexity = std::move(policy);
  return a;
}

TEST(CheckOutputTest, ARefusedPasswordShowsTheRuleUnderTheUpstreamsErrorIdAndThePolicy) {
  EXPECT_EQ(
      FormatCheckText(PasswordAnswer(PasswordRule::kMinLength, OrgPolicy(), "300000000000000042")),
      "refused: Password is too short\n"
      "reason:  PASSWORD_TOO_SHORT\n"
      "error:   DOMAIN-HuJf6\n"
      "org:     300000000000000042\n"
      "policy:  minLength=12 hasUppercase=true hasLowercase=true hasNumber=true "
      "hasSymbol=false (own policy of 300000000000000042)\n");
  const struct {
    PasswordRule rule;
    const char* lines;
  } rules[] = {
      {PasswordRule::kHasLowercase,
       "refused: Password must contain lower case\nreason:  PASSWORD_NO_LOWERCASE\n"
       "error:   DOMAIN-co3Xw\n"},
      {PasswordRule::kHasUppercase,
       "refused: Password must contain upper case\nreason:  PASSWORD_NO_UPPERCASE\n"
       "error:   DOMAIN-VoaRj\n"},
      {PasswordRule::kHasNumber,
       "refused: Password must contain number\nreason:  PASSWORD_NO_NUMBER\n"
       "error:   DOMAIN-ZBv4H\n"},
      {PasswordRule::kHasSymbol,
       "refused: Password must contain symbol\nreason:  PASSWORD_NO_SYMBOL\n"
       "error:   DOMAIN-ZDLwA\n"},
  };
  for (const auto& r : rules) {
    const std::string text = FormatCheckText(PasswordAnswer(r.rule, InstancePolicy()));
    EXPECT_EQ(text.rfind(r.lines, 0), 0u) << text;
    EXPECT_NE(text.find("policy:  minLength=8 hasUppercase=true hasLowercase=true "
                        "hasNumber=true hasSymbol=true (instance default)\n"),
              std::string::npos)
        << text;
  }
}

TEST(CheckOutputTest, AnAllowedPasswordHasNoErrorLineAndAnUnknownOrgSaysSo) {
  CheckAnswer a = PasswordAnswer(PasswordRule::kNone, InstancePolicy(), "no-such-org");
  a.org_known = false;
  EXPECT_EQ(FormatCheckText(a),
            "allowed: the password meets the password complexity policy\n"
            "reason:  PASSWORD_ALLOWED\n"
            "org:     no-such-org (unknown to policyd)\n"
            "policy:  minLength=8 hasUppercase=true hasLowercase=true hasNumber=true "
            "hasSymbol=true (instance default)\n");
}

TEST(CheckOutputTest, PasswordJsonIsOneLineWithEveryKeyAndTheUpstreamsPolicyJson) {
  const std::string line = FormatCheckJson(PasswordAnswer(PasswordRule::kHasNumber, OrgPolicy()));
  EXPECT_EQ(
      line,
      "{\"allowed\":false,\"reason\":\"PASSWORD_NO_NUMBER\",\"kind\":\"password\","
      "\"orgId\":\"42\",\"orgKnown\":true,\"errorId\":\"DOMAIN-ZBv4H\","
      "\"message\":\"Password must contain number\",\"stale\":false,"
      "\"policy\":{\"details\":{\"sequence\":\"18\",\"creationDate\":\"2025-02-11T08:05:00Z\","
      "\"changeDate\":\"2025-03-02T10:00:00.250Z\",\"resourceOwner\":\"300000000000000042\"},"
      "\"minLength\":\"12\",\"hasUppercase\":true,\"hasLowercase\":true,\"hasNumber\":true}}");
  CheckAnswer allowed = PasswordAnswer(PasswordRule::kNone, InstancePolicy());
  allowed.stale = true;
  const nlohmann::json j = nlohmann::json::parse(FormatCheckJson(allowed));
  EXPECT_EQ(j["allowed"], true);
  EXPECT_EQ(j["reason"], "PASSWORD_ALLOWED");
  EXPECT_EQ(j["errorId"], "");
  EXPECT_EQ(j["message"], "");
  EXPECT_EQ(j["stale"], true);
  EXPECT_EQ(j["policy"]["isDefault"], true);
  EXPECT_EQ(j["policy"]["minLength"], "8");
  EXPECT_EQ(j.size(), 9u);
}

TEST(CheckOutputTest, AnAnswerWithoutThePolicyStillPrints) {
  CheckAnswer a = PasswordAnswer(PasswordRule::kMinLength, OrgPolicy());
  a.password_complexity.reset();
  EXPECT_NE(FormatCheckText(a).find("policy:  (not in the answer)\n"), std::string::npos);
  EXPECT_NE(FormatCheckJson(a).find(",\"policy\":null}"), std::string::npos);
}

TEST(CheckOutputTest, OtherChecksKeepTheirOutput) {
  CheckAnswer a;
  a.kind = CheckKind::kSmtpSender;
  a.allowed = true;
  a.reason = CheckReason::kNotRequired;
  a.message = "any sender";
  a.policy.is_default = true;
  EXPECT_EQ(FormatCheckText(a),
            "allowed: any sender\nreason:  NOT_REQUIRED\npolicy:  userLoginMustBeDomain=false "
            "validateOrgDomains=false smtpSenderAddressMatchesInstanceDomain=false (instance "
            "default)\n");
  EXPECT_EQ(FormatCheckJson(a).rfind("{\"allowed\":true,\"reason\":\"NOT_REQUIRED\","
                                     "\"kind\":\"smtp_sender\",\"orgId\":\"\",\"orgKnown\":false,"
                                     "\"matchedDomain\":\"\",\"message\":\"any sender\",",
                                     0),
            0u);
}

}  // namespace
}  // namespace policyd
