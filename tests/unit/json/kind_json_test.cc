#include "json/kind_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "support/kind_samples.h"

namespace policyd {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kDetails =
    R"({"sequence":"12","creationDate":"2025-03-01T09:12:44Z","changeDate":"2025-03-02T10:00:00.500Z","resourceOwner":"300000000000000001"})";

Details SomeDetails() {
  return Details{12, Timestamp{1740820364, 0}, Timestamp{1740909600, 500'000'000},
                 "300000000000000001"};
}

KindPolicy Policy(PolicyKind kind) {
  KindPolicy p = EmptyKindPolicy(kind);
  p.details = SomeDetails();
  return p;
}

void Set(KindPolicy& p, std::string_view field, std::uint64_t number) {
  const int i = FindKindField(SpecOf(p.kind), field);
  ASSERT_GE(i, 0) << field;
  p.fields[i].number = number;
}

void SetText(KindPolicy& p, std::string_view field, std::string text) {
  const int i = FindKindField(SpecOf(p.kind), field);
  ASSERT_GE(i, 0) << field;
  p.fields[i].text = std::move(text);
}

std::string Json(const KindPolicy& p, bool is_default) {
  std::string out;
  AppendKindPolicyJson(out, p, is_default);
  return out;
}

// The instance defaults of ZITADEL v4 (cmd/defaults.yaml), as its admin GETs show them.
TEST(KindJsonTest, WritesTheUpstreamsDefaultsByteForByte) {
  KindPolicy complexity = Policy(PolicyKind::kPasswordComplexity);
  Set(complexity, "minLength", 8);
  for (auto f : {"hasUppercase", "hasLowercase", "hasNumber", "hasSymbol"}) Set(complexity, f, 1);
  EXPECT_EQ(
      Json(complexity, true),
      "{\"details\":" + std::string(kDetails) +
          R"(,"minLength":"8","hasUppercase":true,"hasLowercase":true,"hasNumber":true,"hasSymbol":true,"isDefault":true})");

  EXPECT_EQ(Json(Policy(PolicyKind::kPasswordAge), true),
            "{\"details\":" + std::string(kDetails) + R"(,"isDefault":true})");
  EXPECT_EQ(Json(Policy(PolicyKind::kLockout), false),
            "{\"details\":" + std::string(kDetails) + "}");

  KindPolicy login = Policy(PolicyKind::kLogin);
  for (auto f : {"allowUsernamePassword", "allowRegister", "allowExternalIdp",
                 "allowDomainDiscovery", "passwordlessType"}) {
    Set(login, f, 1);
  }
  Set(login, "passwordCheckLifetime", 864000ull * 1'000'000'000);
  Set(login, "externalLoginCheckLifetime", 864000ull * 1'000'000'000);
  Set(login, "mfaInitSkipLifetime", 2592000ull * 1'000'000'000);
  Set(login, "secondFactorCheckLifetime", 64800ull * 1'000'000'000);
  Set(login, "multiFactorCheckLifetime", 43200ull * 1'000'000'000);
  login.fields[FindKindField(SpecOf(PolicyKind::kLogin), "secondFactors")].list = {1, 2};
  login.fields[FindKindField(SpecOf(PolicyKind::kLogin), "multiFactors")].list = {1};
  EXPECT_EQ(
      Json(login, true),
      "{\"details\":" + std::string(kDetails) +
          R"(,"allowUsernamePassword":true,"allowRegister":true,"allowExternalIdp":true,"passwordlessType":"PASSWORDLESS_TYPE_ALLOWED","isDefault":true,"passwordCheckLifetime":"864000s","externalLoginCheckLifetime":"864000s","mfaInitSkipLifetime":"2592000s","secondFactorCheckLifetime":"64800s","multiFactorCheckLifetime":"43200s","secondFactors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"],"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"allowDomainDiscovery":true})");

  KindPolicy privacy = Policy(PolicyKind::kPrivacy);
  SetText(privacy, "docsLink", "https://zitadel.com/docs");
  EXPECT_EQ(Json(privacy, true), "{\"details\":" + std::string(kDetails) +
                                     R"(,"isDefault":true,"docsLink":"https://zitadel.com/docs"})");

  KindPolicy notification = Policy(PolicyKind::kNotification);
  Set(notification, "passwordChange", 1);
  EXPECT_EQ(Json(notification, true), "{\"details\":" + std::string(kDetails) +
                                          R"(,"isDefault":true,"passwordChange":true})");

  KindPolicy label = Policy(PolicyKind::kLabel);
  SetText(label, "primaryColor", "#5469d4");
  SetText(label, "backgroundColor", "#fafafa");
  SetText(label, "warnColor", "#cd3d56");
  SetText(label, "fontColor", "#000000");
  SetText(label, "primaryColorDark", "#2073c4");
  SetText(label, "backgroundColorDark", "#111827");
  SetText(label, "warnColorDark", "#ff3b5b");
  SetText(label, "fontColorDark", "#ffffff");
  Set(label, "themeMode", 1);
  EXPECT_EQ(
      Json(label, true),
      "{\"details\":" + std::string(kDetails) +
          R"(,"primaryColor":"#5469d4","isDefault":true,"warnColor":"#cd3d56","backgroundColor":"#fafafa","fontColor":"#000000","primaryColorDark":"#2073c4","backgroundColorDark":"#111827","warnColorDark":"#ff3b5b","fontColorDark":"#ffffff","themeMode":"THEME_MODE_AUTO"})");
}

TEST(KindJsonTest, GetResponsesCarryTheDeprecatedIsDefaultWhereTheUpstreamHasIt) {
  const KindPolicy lockout = Policy(PolicyKind::kLockout);
  const std::string object = Json(lockout, true);
  EXPECT_EQ(FormatKindGetResponse(lockout, true, true),
            "{\"policy\":" + object + ",\"isDefault\":true}");
  EXPECT_EQ(FormatKindGetResponse(lockout, true, false), "{\"policy\":" + object + "}");
  EXPECT_EQ(FormatKindGetResponse(lockout, false, true),
            "{\"policy\":" + Json(lockout, false) + "}");
  const KindPolicy privacy = Policy(PolicyKind::kPrivacy);  // no deprecated field
  EXPECT_EQ(FormatKindGetResponse(privacy, true, true), "{\"policy\":" + Json(privacy, true) + "}");
}

TEST(KindJsonTest, DurationsAreWrittenAsProtojsonDoes) {
  const auto text = [](std::int64_t nanos) {
    std::string out;
    AppendProtoDuration(out, nanos);
    return out;
  };
  EXPECT_EQ(text(0), "0s");
  EXPECT_EQ(text(864000ll * 1'000'000'000), "864000s");
  EXPECT_EQ(text(1'500'000'000), "1.500s");
  EXPECT_EQ(text(1'000'500'000), "1.000500s");
  EXPECT_EQ(text(1), "0.000000001s");
  EXPECT_EQ(text(-1), "-0.000000001s");
  EXPECT_EQ(text(-2'000'000'000), "-2s");
  EXPECT_EQ(text(std::numeric_limits<std::int64_t>::max()), "9223372036.854775807s");
  EXPECT_EQ(text(std::numeric_limits<std::int64_t>::min()), "-9223372036.854775808s");
}

TEST(KindJsonTest, DurationsParseBackAndBadOnesAreRefused) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    auto nanos = static_cast<std::int64_t>(rng());
    if (i % 3 == 0) nanos %= 100'000'000'000;
    if (i % 5 == 0) nanos = nanos / 1'000'000 * 1'000'000;
    std::string text;
    AppendProtoDuration(text, nanos);
    auto parsed = ParseProtoDuration(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(*parsed, nanos) << text;
  }
  EXPECT_EQ(ParseProtoDuration("1.5s").value(), 1'500'000'000);
  for (std::string_view bad : {"", "s", "1", "1.s", ".5s", "1.5", "+1s", "1.0000000001s", "1e3s",
                               "9223372037s", "9223372036.854775808s", "--1s", " 1s", "0x10s"}) {
    EXPECT_FALSE(ParseProtoDuration(bad)) << bad;
  }
}

TEST(KindJsonTest, EveryKindRoundTripsThroughItsJson) {
  std::mt19937_64 rng(11);
  for (PolicyKind kind : kGenericKinds) {
    for (int round = 0; round < 50; ++round) {
      KindPolicy p = Policy(kind);
      const KindSpec& spec = SpecOf(kind);
      for (std::size_t i = 0; i < spec.fields.size(); ++i) {
        FieldValue& v = p.fields[i];
        switch (spec.fields[i].type) {
          case FieldType::kBool:
            v.number = rng() % 2;
            break;
          case FieldType::kUint64:
            v.number = round % 2 ? rng() : rng() % 100;
            break;
          case FieldType::kDuration:
            v.number = static_cast<std::uint64_t>(static_cast<std::int64_t>(rng() % 1'000'000) *
                                                  1'000'000);
            break;
          case FieldType::kString:
            v.text = round % 3 ? "x\"\\\n\xc3\xa9" + std::to_string(rng() % 1000) : "";
            break;
          case FieldType::kEnum:
            v.number = rng() % spec.fields[i].enum_spec->values.size();
            break;
          case FieldType::kEnumList:
            for (std::uint64_t n = rng() % 4; n > 0; --n) {
              v.list.push_back(
                  static_cast<std::uint32_t>(rng() % spec.fields[i].enum_spec->values.size()));
            }
            break;
          case FieldType::kIdpLinks:
            v.links = test::SampleLinks(spec.fields[i], rng() % 1000, rng() % 4);
            break;
        }
      }
      const bool is_default = round % 2 == 0;
      auto parsed = ParseKindPolicyJson(kind, Json(p, is_default));
      ASSERT_TRUE(parsed) << parsed.error().message();
      EXPECT_EQ(parsed->policy, p) << Json(p, is_default);
      EXPECT_EQ(parsed->is_default, is_default);
      auto response = ParseKindGetResponse(kind, FormatKindGetResponse(p, is_default, true));
      ASSERT_TRUE(response) << response.error().message();
      EXPECT_EQ(response->policy, p);
      EXPECT_EQ(response->is_default, is_default);
    }
  }
}

TEST(KindJsonTest, InputAcceptsWhatProtojsonAccepts) {
  auto parsed = ParseKindPolicyJson(
      PolicyKind::kLogin,
      R"({"force_mfa":true,"passwordlessType":1,"unknown":{"deep":[1,2,{"x":null}]},)"
      R"("secondFactors":["SECOND_FACTOR_TYPE_OTP_SMS",3],"passwordCheckLifetime":"1.5s",)"
      R"("defaultRedirectUri":null,"details":{"sequence":7,"resource_owner":"o1"}})");
  ASSERT_TRUE(parsed) << parsed.error().message();
  const KindSpec& spec = SpecOf(PolicyKind::kLogin);
  EXPECT_EQ(parsed->policy.fields[FindKindField(spec, "forceMfa")].number, 1u);
  EXPECT_EQ(parsed->policy.fields[FindKindField(spec, "passwordlessType")].number, 1u);
  EXPECT_EQ(parsed->policy.fields[FindKindField(spec, "secondFactors")].list,
            (std::vector<std::uint32_t>{4, 3}));
  EXPECT_EQ(parsed->policy.fields[FindKindField(spec, "passwordCheckLifetime")].number,
            1'500'000'000u);
  EXPECT_EQ(parsed->policy.details.sequence, 7u);
  EXPECT_EQ(parsed->policy.details.resource_owner, "o1");
}

TEST(KindJsonTest, BadInputIsRefusedWithItsPath) {
  struct Case {
    PolicyKind kind;
    std::string_view json;
    std::string_view message;
  };
  const Case cases[] = {
      {PolicyKind::kLogin, R"({"secondFactors":["SECOND_FACTOR_TYPE_PASSKEY"]})",
       "secondFactors[0]: unknown SecondFactorType value"},
      {PolicyKind::kLogin, R"({"passwordlessType":7})", "passwordlessType: unknown"},
      {PolicyKind::kLogin, R"({"mfaInitSkipLifetime":"forever"})", "mfaInitSkipLifetime"},
      {PolicyKind::kLogin, R"({"mfaInitSkipLifetime":5})", "mfaInitSkipLifetime"},
      {PolicyKind::kPasswordAge, R"({"maxAgeDays":"-1"})", "maxAgeDays"},
      {PolicyKind::kPasswordAge, R"({"maxAgeDays":"1","max_age_days":"2"})", "duplicate"},
      {PolicyKind::kNotification, R"({"passwordChange":"yes"})", "passwordChange"},
      {PolicyKind::kPrivacy, R"({"tosLink":1})", "tosLink"},
      {PolicyKind::kPrivacy, R"([])", "top level"},
      {PolicyKind::kPrivacy, R"({"tosLink":"a"} x)", ""},
      {PolicyKind::kLabel, R"({"details":{"sequence":"x"}})", "details.sequence"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseKindPolicyJson(c.kind, c.json);
    ASSERT_FALSE(parsed) << c.json;
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.message)) << c.json;
  }
  std::string huge = R"({"tosLink":")" + std::string(kMaxKindStringLength + 1, 'a') + "\"}";
  EXPECT_FALSE(ParseKindPolicyJson(PolicyKind::kPrivacy, huge));
  EXPECT_FALSE(ParseKindGetResponse(PolicyKind::kPrivacy, R"({"isDefault":true})"));
}

}  // namespace
}  // namespace policyd
