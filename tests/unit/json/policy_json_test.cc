#include "json/policy_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <random>
#include <string>

#include "unit/json/json_mutations.h"

namespace policyd {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Escaped(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonStringTest, EscapesLikeProtojson) {
  using namespace std::string_literals;
  struct Case {
    std::string in;
    std::string_view out;
  };
  const Case kCases[] = {
      {"", R"("")"},
      {"300000000000000042", R"("300000000000000042")"},
      {R"(a"b\c/d)", R"("a\"b\\c/d")"},
      {"\b\f\n\r\t", R"("\b\f\n\r\t")"},
      {"\x01\x1f\x0b"s, R"("\u0001\u001f\u000b")"},
      {"a\0b"s, R"("a\u0000b")"},
      {"\x7f<>&'", "\"\x7f<>&'\""},
      {"é日本🙂", "\"é日本🙂\""},
      {"\u2028\u2029", "\"\u2028\u2029\""},
  };
  for (const Case& c : kCases) EXPECT_EQ(Escaped(c.in), c.out) << c.in;
}

TEST(JsonStringTest, ReplacesEachInvalidUtf8ByteWithReplacementCharacter) {
  const std::string kFffd = "\xEF\xBF\xBD";
  struct Case {
    std::string in;
    std::string out;
  };
  const Case kCases[] = {
      {"\xff", kFffd},
      {"a\x80z", "a" + kFffd + "z"},                        // stray continuation byte
      {"\xc3", kFffd},                                      // truncated at the end
      {"\xc3z", kFffd + "z"},                               // truncated before ASCII
      {"\xc0\xaf", kFffd + kFffd},                          // overlong
      {"\xe0\x80\xaf", kFffd + kFffd + kFffd},              // overlong 3-byte
      {"\xed\xa0\x80", kFffd + kFffd + kFffd},              // surrogate U+D800
      {"\xf4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // above U+10FFFF
      {"\xf0\x9f\x99", kFffd + kFffd + kFffd},              // truncated 4-byte
      {"\xed\x9f\xbf", "\xed\x9f\xbf"},                     // U+D7FF is fine
      {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},             // U+10FFFF is fine
  };
  for (const Case& c : kCases) EXPECT_EQ(Escaped(c.in), "\"" + c.out + "\"");
}

DomainPolicy FullPolicy() {
  DomainPolicy p;
  p.flags = {true, true, true};
  p.is_default = true;
  p.details.sequence = 17;
  p.details.creation_date = {1739260801, 500'000'000};
  p.details.change_date = {1740820364, 123'456'000};
  p.details.resource_owner = "300000000000000042";
  return p;
}

TEST(PolicyJsonTest, EmitsExactBytesInProtoFieldOrder) {
  struct Case {
    const char* name;
    DomainPolicy policy;
    std::string_view json;
  };
  DomainPolicy org_only_login = FullPolicy();
  org_only_login.is_default = false;
  org_only_login.flags = {true, false, false};
  DomainPolicy default_all_false;
  default_all_false.is_default = true;
  default_all_false.details = {3, {1739260801, 0}, {1739260801, 0}, "300000000000000001"};
  DomainPolicy smtp_only;
  smtp_only.flags.smtp_sender_address_matches_instance_domain = true;
  smtp_only.details.resource_owner = "o";
  DomainPolicy validate_only;
  validate_only.flags.validate_org_domains = true;
  validate_only.details.sequence = 18446744073709551615u;
  DomainPolicy change_only;
  change_only.details.change_date = {1740820364, 1};
  const Case kCases[] = {
      {"full", FullPolicy(),
       R"({"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z",)"
       R"("changeDate":"2025-03-01T09:12:44.123456Z","resourceOwner":"300000000000000042"},)"
       R"("userLoginMustBeDomain":true,"isDefault":true,"validateOrgDomains":true,)"
       R"("smtpSenderAddressMatchesInstanceDomain":true})"},
      {"org own, login only", org_only_login,
       R"({"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z",)"
       R"("changeDate":"2025-03-01T09:12:44.123456Z","resourceOwner":"300000000000000042"},)"
       R"("userLoginMustBeDomain":true})"},
      {"default, all false", default_all_false,
       R"({"details":{"sequence":"3","creationDate":"2025-02-11T08:00:01Z",)"
       R"("changeDate":"2025-02-11T08:00:01Z","resourceOwner":"300000000000000001"},)"
       R"("isDefault":true})"},
      {"empty", DomainPolicy{}, R"({"details":{}})"},
      {"smtp only", smtp_only,
       R"({"details":{"resourceOwner":"o"},"smtpSenderAddressMatchesInstanceDomain":true})"},
      {"validate only", validate_only,
       R"({"details":{"sequence":"18446744073709551615"},"validateOrgDomains":true})"},
      {"change date only", change_only,
       R"({"details":{"changeDate":"2025-03-01T09:12:44.000000001Z"}})"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    std::string out = "x";
    AppendDomainPolicyJson(out, c.policy);
    EXPECT_EQ(out, "x" + std::string(c.json));
    EXPECT_EQ(FormatGetPolicyResponse(c.policy), R"({"policy":)" + std::string(c.json) + "}");
  }
}

TEST(PolicyJsonTest, EscapesResourceOwner) {
  DomainPolicy p;
  p.details.resource_owner = "a\"b\n";
  std::string out;
  AppendDomainPolicyJson(out, p);
  EXPECT_EQ(out, R"({"details":{"resourceOwner":"a\"b\n"}})");
}

ParsedPolicy ParseOk(std::string_view json) {
  Result<ParsedPolicy> parsed = ParseDomainPolicyJson(json);
  EXPECT_TRUE(parsed.has_value()) << json << "\n" << parsed.error().ToString();
  return parsed.value_or(ParsedPolicy{});
}

TEST(PolicyJsonTest, ParsesUpstreamBodiesWithUnknownFieldsAndMissingBooleans) {
  // The §1.4 example (the inner object of {"policy":...}), an org without its own policy.
  ParsedPolicy p =
      ParseOk(R"({"details":{"sequence":"3","creationDate":"2025-02-11T08:00:01.5Z",)"
              R"("changeDate":"2025-03-01T09:12:44.123456Z","resourceOwner":"300000000000000001"},)"
              R"("isDefault":true})");
  EXPECT_TRUE(p.is_default);
  EXPECT_EQ(p.record.flags, PolicyFlags{});
  EXPECT_EQ(p.record.details.sequence, 3u);
  EXPECT_EQ(p.record.details.creation_date, (Timestamp{1739260801, 500'000'000}));
  EXPECT_EQ(p.record.details.change_date, (Timestamp{1740820364, 123'456'000}));
  EXPECT_EQ(p.record.details.resource_owner, "300000000000000001");

  // Pretty-printed, any field order, unknown fields of every JSON type at both levels.
  p = ParseOk(R"(
    {
      "smtpSenderAddressMatchesInstanceDomain": true,
      "futureSetting": {"nested": [1, -2.5e3, "x\u00e9", null, true, false, {"a": []}]},
      "details": {
        "resourceOwner": "300000000000000042",
        "changeDate": "2025-03-01T10:12:44+01:00",
        "sequence": "18446744073709551615",
        "resourceOwnerType": "RESOURCE_OWNER_TYPE_ORG",
        "creationDate": "2025-02-11T08:00:01Z"
      },
      "userLoginMustBeDomain": true,
      "someCounter": "12",
      "validateOrgDomains": false
    }
  )");
  EXPECT_FALSE(p.is_default);
  EXPECT_EQ(p.record.flags, (PolicyFlags{true, false, true}));
  EXPECT_EQ(p.record.details.sequence, 18446744073709551615u);
  EXPECT_EQ(p.record.details.change_date, (Timestamp{1740820364, 0}));
  EXPECT_EQ(p.record.details.resource_owner, "300000000000000042");
}

TEST(PolicyJsonTest, AcceptsProtojsonAlternatives) {
  // A plain JSON number for uint64, proto field names, null as "not set", escapes in keys.
  ParsedPolicy p =
      ParseOk(R"({"details":{"sequence":17,"creation_date":"2025-02-11T08:00:01Z",)"
              R"("change_date":null,"resource_owner":"o"},"user_login_must_be_domain":true,)"
              R"("is_default":null,"validate_org_domains":true,)"
              R"("smtp_sender_address_matches_instance_domain":false})");
  EXPECT_FALSE(p.is_default);
  EXPECT_EQ(p.record.flags, (PolicyFlags{true, true, false}));
  EXPECT_EQ(p.record.details.sequence, 17u);
  EXPECT_TRUE(p.record.details.change_date.IsZero());
  EXPECT_EQ(p.record.details.resource_owner, "o");

  // Unknown numbers of any magnitude are valid JSON.
  p = ParseOk(R"({"x":[123456789012345678901234567890,-1e999,0.0e-0,-0,1E+2],"isDefault":true})");
  EXPECT_TRUE(p.is_default);
  p = ParseOk(R"({"\u0069sDefault":true})");
  EXPECT_TRUE(p.is_default);
  p = ParseOk(R"({"details":null})");
  EXPECT_EQ(p.record, PolicyRecord{});
  p = ParseOk(R"({"details":{"sequence":"0"}})");
  EXPECT_EQ(p.record, PolicyRecord{});
  p = ParseOk("{}");
  EXPECT_EQ(p.record, PolicyRecord{});
  p = ParseOk(R"({"details":{"resourceOwner":"a\"b\u0001\ud83d\ude42"}})");
  EXPECT_EQ(p.record.details.resource_owner, "a\"b\x01\xf0\x9f\x99\x82");
}

TEST(PolicyJsonTest, RoundTripsThroughTheEmitter) {
  DomainPolicy policies[4] = {FullPolicy(), DomainPolicy{}, FullPolicy(), FullPolicy()};
  policies[2].flags = {false, true, false};
  policies[2].is_default = false;
  policies[3].details.resource_owner = "ünïcode \"quoted\" \\ \t";
  for (const DomainPolicy& policy : policies) {
    std::string json;
    AppendDomainPolicyJson(json, policy);
    ParsedPolicy parsed = ParseOk(json);
    EXPECT_EQ((DomainPolicy{parsed.record.flags, parsed.is_default, parsed.record.details}),
              policy);
  }
}

TEST(PolicyJsonTest, RejectsMalformedInputWithAJsonPath) {
  struct Case {
    std::string_view json;
    std::string_view message;
  };
  constexpr Case kCases[] = {
      // Not a JSON object.
      {"", "top level: malformed JSON"},
      {"   \n", "top level: malformed JSON"},
      {"[]", "top level: expected an object, got an array"},
      {"42", "top level: expected an object, got a number"},
      {R"("policy")", "top level: expected an object, got a string"},
      {"null", "top level: expected an object, got null"},
      {"true", "top level: expected an object, got a boolean"},
      {"nonsense", "top level: malformed JSON"},
      {"tru", "top level: malformed JSON"},
      {"-", "top level: malformed JSON"},
      {"1.", "top level: malformed JSON"},
      {R"("\q")", "top level: malformed JSON"},
      {R"("open)", "top level: malformed JSON"},
      {"[", "top level: expected an object, got an array"},
      // Wrong types.
      {R"({"isDefault":"true"})", "isDefault: expected a boolean, got a string"},
      {R"({"userLoginMustBeDomain":1})", "userLoginMustBeDomain: expected a boolean, got a number"},
      {R"({"validateOrgDomains":{}})", "validateOrgDomains: expected a boolean, got an object"},
      {R"({"smtpSenderAddressMatchesInstanceDomain":[]})",
       "smtpSenderAddressMatchesInstanceDomain: expected a boolean, got an array"},
      {R"({"details":[]})", "details: expected an object, got an array"},
      {R"({"details":"x"})", "details: expected an object, got a string"},
      {R"({"details":{"resourceOwner":5}})",
       "details.resourceOwner: expected a string, got a number"},
      {R"({"details":{"creationDate":123}})",
       "details.creationDate: expected a string, got a number"},
      {R"({"details":{"sequence":true}})",
       "details.sequence: expected a uint64 as a decimal string"},
      // Bad sequences.
      {R"({"details":{"sequence":"abc"}})",
       R"(details.sequence: expected a uint64 as a decimal string, got "abc")"},
      {R"({"details":{"sequence":"-1"}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":"+1"}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":""}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":" 1"}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":"017"}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":"1.0"}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":"18446744073709551616"}})",
       R"(details.sequence: uint64 out of range: "18446744073709551616")"},
      {R"({"details":{"sequence":"99999999999999999999999"}})", "uint64 out of range"},
      {R"({"details":{"sequence":-1}})", "details.sequence: expected a uint64, got a negative"},
      {R"({"details":{"sequence":1.5}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":1e3}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":18446744073709551616}})",
       "details.sequence: expected a uint64, got a negative, fractional or too large number"},
      {R"({"details":{"sequence":1e999}})", "details.sequence: expected a uint64"},
      {R"({"details":{"sequence":01}})", "details.sequence: malformed JSON"},
      // Bad timestamps.
      {R"({"details":{"creationDate":"2025-13-01T00:00:00Z"}})",
       "details.creationDate: invalid timestamp \"2025-13-01T00:00:00Z\": month out of range"},
      {R"({"details":{"changeDate":"yesterday"}})", "details.changeDate: invalid timestamp"},
      // Duplicates, under either name.
      {R"({"isDefault":true,"isDefault":false})", "isDefault: duplicate field"},
      {R"({"isDefault":true,"is_default":true})", "is_default: duplicate field"},
      {R"({"details":{"sequence":"1","sequence":"2"}})", "details.sequence: duplicate field"},
      // Truncated or otherwise malformed.
      {"{", "malformed JSON"},
      {R"({"details":{"sequence":"1"})", "malformed JSON"},
      {R"({"details":{"sequence":"1)", "malformed JSON"},
      {R"({"isDefault":tr})", "isDefault: malformed JSON"},
      {R"({"isDefault":true,})", "malformed JSON"},
      {R"({"isDefault":true "validateOrgDomains":true})", "malformed JSON"},
      {R"({"isDefault" true})", "malformed JSON"},
      {R"({isDefault:true})", "malformed JSON"},
      {R"({"isDefault":true}})", "top level: unexpected content after the JSON value"},
      {R"({"isDefault":true} {})", "top level: unexpected content after the JSON value"},
      {R"({"isDefault":true} x)", "malformed JSON"},
      {R"({"isDefault":true}])", "malformed JSON"},
      // Malformed JSON inside an unknown field is still malformed.
      {R"({"x":tru})", "x: malformed JSON"},
      {R"({"x":nul})", "x: malformed JSON"},
      {R"({"x":fals})", "x: malformed JSON"},
      {R"({"x":[1,]})", "malformed JSON"},
      {R"({"x":[1 2]})", "malformed JSON"},
      {R"({"x":{"a" 1}})", "malformed JSON"},
      {R"({"x":{"a":1,}})", "malformed JSON"},
      {R"({"x":[}})", "malformed JSON"},
      {R"({"x":"\q"})", "x: malformed JSON"},
      {R"({"x":"\ud800"})", "x: malformed JSON"},
      {R"({"x":01})", "x: malformed JSON"},
      {R"({"x":-})", "x: malformed JSON"},
      {R"({"x":1.})", "x: malformed JSON"},
      {R"({"x":1e})", "x: malformed JSON"},
      {R"({"x":1e+})", "x: malformed JSON"},
      {R"({"x":.5})", "malformed JSON"},
      {R"({"x":+5})", "malformed JSON"},
      {R"({"x":0x5})", "x: malformed JSON"},
      {R"({"x":12a})", "x: malformed JSON"},
      {R"({"x":--1})", "x: malformed JSON"},
      {R"({"x":1.5.5})", "x: malformed JSON"},
      {"{\"x\":\"a\x01\"}", "malformed JSON"},  // unescaped control character
      {"{\"x\":\"\xff\"}", "malformed JSON"},   // invalid UTF-8
      {"{\"\xc3\":1}", "malformed JSON"},       // invalid UTF-8 in a key
      {R"({"x":{"y":[{"z":[1, {"w": tru}]}]}})", "x.y[0].z[1].w: malformed JSON"},
      {R"({"a b":[1,]})", R"(["a b"][1]: malformed JSON)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.json);
    Result<ParsedPolicy> parsed = ParseDomainPolicyJson(c.json);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.message));
  }
}

TEST(PolicyJsonTest, RejectsNestingBeyondTheLimitInUnknownFields) {
  const auto nested = [](int depth) {
    return R"({"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  EXPECT_TRUE(ParseDomainPolicyJson(nested(64)).has_value());
  Result<ParsedPolicy> parsed = ParseDomainPolicyJson(nested(65));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_THAT(parsed.error().message(), HasSubstr("nested too deeply"));
  // Far deeper than any stack would allow if the recursion were unbounded.
  EXPECT_FALSE(ParseDomainPolicyJson(nested(1'000'000)).has_value());
}

TEST(PolicyJsonTest, RejectsEveryTruncationOfAValidDocument) {
  std::string json;
  AppendDomainPolicyJson(json, FullPolicy());
  for (std::size_t n = 0; n < json.size(); ++n) {
    EXPECT_FALSE(ParseDomainPolicyJson(json.substr(0, n)).has_value()) << json.substr(0, n);
  }
  EXPECT_TRUE(ParseDomainPolicyJson(json).has_value());
}

// Random byte edits of a valid document: whatever simdjson's fully validating DOM parser rejects,
// ours must reject too (On Demand alone would skip unread values without checking them).
TEST(PolicyJsonTest, RejectsWhateverAValidatingParserRejects) {
  const std::string base =
      R"({"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z",)"
      R"("resourceOwner":"300000000000000042"},"unknown":[1,2.5,"s",{"k":null,"t":true}],)"
      R"("isDefault":true,"other":{"deep":[false,-3]}})";
  const int rejected_by_dom = ExpectRejectsWhatTheDomParserRejects(
      base, 20251002, 20'000,
      [](const std::string& json) { return ParseDomainPolicyJson(json).has_value(); });
  EXPECT_GT(rejected_by_dom, 10'000);
}

}  // namespace
}  // namespace policyd
