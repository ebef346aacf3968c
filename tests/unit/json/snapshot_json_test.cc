#include "json/snapshot_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "unit/json/json_mutations.h"

namespace policyd {
namespace {

using ::testing::HasSubstr;

PolicyRecord Record(PolicyFlags flags, std::uint64_t sequence, std::string owner) {
  return PolicyRecord{
      flags, Details{sequence, {1739260801, 500'000'000}, {1740820364, 0}, std::move(owner)}};
}

Snapshot SmallSnapshot() {
  Snapshot s;
  s.instance.id = "I";
  s.instance.policy = Record({false, true, true}, 5, "I");
  s.orgs.push_back({"A", Record({true, false, false}, 17, "A")});
  s.orgs.push_back({"B", std::nullopt});
  return s;
}

constexpr std::string_view kSmallSnapshotJson =
    R"({"instance":{"id":"I","policy":{"details":{"sequence":"5",)"
    R"("creationDate":"2025-02-11T08:00:01.500Z","changeDate":"2025-03-01T09:12:44Z",)"
    R"("resourceOwner":"I"},"isDefault":true,"validateOrgDomains":true,)"
    R"("smtpSenderAddressMatchesInstanceDomain":true}},"orgs":[)"
    "\n"
    R"({"id":"A","policy":{"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z",)"
    R"("changeDate":"2025-03-01T09:12:44Z","resourceOwner":"A"},"userLoginMustBeDomain":true}},)"
    "\n"
    R"({"id":"B"})"
    "\n]}\n";

TEST(SnapshotJsonTest, FormatsOneOrgPerLine) {
  EXPECT_EQ(FormatSnapshot(SmallSnapshot()), kSmallSnapshotJson);
}

TEST(SnapshotJsonTest, StreamingWriterMatchesFormatSnapshot) {
  const Snapshot s = SmallSnapshot();
  std::string dump;
  std::string chunk;
  AppendSnapshotBegin(chunk, s.instance);
  dump += chunk;
  for (std::size_t i = 0; i < s.orgs.size(); ++i) {
    chunk.clear();  // the caller may flush between calls
    AppendSnapshotOrg(chunk, s.orgs[i], i == 0);
    dump += chunk;
  }
  chunk.clear();
  AppendSnapshotEnd(chunk);
  dump += chunk;
  EXPECT_EQ(dump, kSmallSnapshotJson);
}

TEST(SnapshotJsonTest, FormatsNoOrgsAsAnEmptyLine) {
  Snapshot s = SmallSnapshot();
  s.orgs.clear();
  const std::string json = FormatSnapshot(s);
  EXPECT_THAT(json, testing::EndsWith(R"(}},"orgs":[)"
                                      "\n]}\n"));
  Result<Snapshot> parsed = ParseSnapshot(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, s);
  EXPECT_EQ(FormatSnapshot(*parsed), json);
}

TEST(SnapshotJsonTest, WritesTheInstancePolicyAsTheDefaultOwnedByTheInstance) {
  Snapshot s;
  s.instance.id = "300000000000000001";
  EXPECT_EQ(FormatSnapshot(s), R"({"instance":{"id":"300000000000000001","policy":{"details":)"
                               R"({"resourceOwner":"300000000000000001"},"isDefault":true}},)"
                               R"("orgs":[)"
                               "\n]}\n");
  // A resource owner that is set is written as it is.
  s.instance.policy.details.resource_owner = "other";
  EXPECT_THAT(FormatSnapshot(s), HasSubstr(R"("resourceOwner":"other"},"isDefault":true)"));
}

TEST(SnapshotJsonTest, RoundTripsBothWays) {
  const Snapshot s = SmallSnapshot();
  Result<Snapshot> parsed = ParseSnapshot(FormatSnapshot(s));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, s);

  parsed = ParseSnapshot(kSmallSnapshotJson);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(FormatSnapshot(*parsed), kSmallSnapshotJson);
}

TEST(SnapshotJsonTest, AcceptsHandWrittenVariants) {
  // Pretty-printed, fields in any order, unknown fields, no isDefault on the instance, orgs
  // absent or null, an org policy of null.
  Result<Snapshot> parsed = ParseSnapshot(R"(
    {
      "comment": "written by hand",
      "orgs": [
        {"policy": {"userLoginMustBeDomain": true}, "id": "A", "note": [1, 2]},
        {"id": "B", "policy": null}
      ],
      "instance": {"policy": {"details": {"resourceOwner": "I"}}, "id": "I"}
    }
  )");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->instance.id, "I");
  EXPECT_EQ(parsed->instance.policy.details.resource_owner, "I");
  ASSERT_EQ(parsed->orgs.size(), 2u);
  EXPECT_EQ(parsed->orgs[0].id, "A");
  ASSERT_TRUE(parsed->orgs[0].policy.has_value());
  EXPECT_TRUE(parsed->orgs[0].policy->flags.user_login_must_be_domain);
  EXPECT_EQ(parsed->orgs[1], (OrgRecord{"B", std::nullopt}));

  for (std::string_view json : {R"({"instance":{"id":"I","policy":{}}})",
                                R"({"instance":{"id":"I","policy":{}},"orgs":null})",
                                R"({"instance":{"id":"I","policy":{}},"orgs":[]})"}) {
    parsed = ParseSnapshot(json);
    ASSERT_TRUE(parsed.has_value()) << json << ": " << parsed.error().ToString();
    EXPECT_TRUE(parsed->orgs.empty());
  }
}

TEST(SnapshotJsonTest, KeepsTheInstanceDetailsAsGiven) {
  Result<Snapshot> parsed = ParseSnapshot(
      R"({"instance":{"id":"I","policy":{"details":{"sequence":"4"},"isDefault":true}}})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->instance.policy.details, (Details{4, {}, {}, ""}));
}

TEST(SnapshotJsonTest, RejectsInvalidSnapshotsWithAJsonPath) {
  struct Case {
    std::string json;
    std::string_view message;
  };
  const std::string kInstance = R"("instance":{"id":"I","policy":{}})";
  const Case kCases[] = {
      {"", "top level: malformed JSON"},
      {"[]", "top level: expected an object, got an array"},
      {"{}", R"(top level: missing "instance")"},
      {R"({"orgs":[]})", R"(top level: missing "instance")"},
      {R"({"instance":[]})", "instance: expected an object, got an array"},
      {R"({"instance":null})", "instance: expected an object, got null"},
      {R"({"instance":{"policy":{}}})", R"(instance: missing "id")"},
      {R"({"instance":{"id":"I"}})", R"(instance: missing "policy")"},
      {R"({"instance":{"id":"I","policy":null}})", "instance.policy: expected an object, got null"},
      {R"({"instance":{"id":"","policy":{}}})", "instance.id: instance id is empty"},
      {R"({"instance":{"id":7,"policy":{}}})", "instance.id: expected a string, got a number"},
      {R"({"instance":{"id":")" + std::string(201, '1') + R"(","policy":{}}})",
       "instance.id: instance id is longer than 200 bytes"},
      {R"({"instance":{"id":"I\u0001","policy":{}}})",
       "instance.id: instance id contains a control character"},
      {R"({"instance":{"id":"I","policy":{"details":{"sequence":"x"}}}})",
       "instance.policy.details.sequence: expected a uint64"},
      {"{" + kInstance + "," + kInstance + "}", "instance: duplicate field"},
      {"{" + kInstance + R"(,"orgs":{}})", "orgs: expected an array, got an object"},
      {"{" + kInstance + R"(,"orgs":["A"]})", "orgs[0]: expected an object, got a string"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A"},{}]})", R"(orgs[1]: missing "id")"},
      {"{" + kInstance + R"(,"orgs":[{"id":""}]})", "orgs[0].id: org id is empty"},
      {"{" + kInstance + R"(,"orgs":[{"id":null}]})", "orgs[0].id: expected a string, got null"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A","id":"B"}]})", "orgs[0].id: duplicate field"},
      {"{" + kInstance + R"(,"orgs":[{"id":"B"},{"id":"A"},{"id":"B"},{"id":"A"}]})",
       R"(orgs[2].id: duplicate org id "B" (first at orgs[0]))"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A"},{"id":"B"},{"id":"C"},{"id":"B"},{"id":"A"}]})",
       R"(orgs[3].id: duplicate org id "B" (first at orgs[1]))"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A"},{"id":"B","policy":{"isDefault":true}}]})",
       "orgs[1].policy.isDefault: an org's own policy cannot be the default; an org that uses "
       "the instance default must omit \"policy\""},
      {"{" + kInstance + R"(,"orgs":[{"id":"A","policy":[]}]})",
       "orgs[0].policy: expected an object, got an array"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A","policy":{"details":{"changeDate":"x"}}}]})",
       "orgs[0].policy.details.changeDate: invalid timestamp"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A"},]})", "malformed JSON"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A"} {"id":"B"}]})", "malformed JSON"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A"}})", "malformed JSON"},
      {"{" + kInstance + R"(,"orgs":[{"id":"A","x":[}]})", "malformed JSON"},
      {"{" + kInstance + R"(} {})", "top level: unexpected content after the JSON value"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.json);
    Result<Snapshot> parsed = ParseSnapshot(c.json);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.message));
  }
}

TEST(SnapshotJsonTest, RejectsEveryTruncationOfAValidSnapshot) {
  const std::string json(kSmallSnapshotJson);
  // The final newline is whitespace; every shorter prefix cuts into the document.
  for (std::size_t n = 0; n + 1 < json.size(); ++n) {
    EXPECT_FALSE(ParseSnapshot(json.substr(0, n)).has_value()) << json.substr(0, n);
  }
}

// Random byte edits of a valid snapshot with unknown fields: whatever simdjson's fully validating
// DOM parser rejects, ours must reject too.
TEST(SnapshotJsonTest, RejectsWhateverAValidatingParserRejects) {
  const std::string base =
      R"({"version":1,"instance":{"id":"I","policy":{"details":{"sequence":"5"},"isDefault":true}},)"
      R"("orgs":[{"id":"A","policy":{"userLoginMustBeDomain":true,"x":[1,{"y":null}]}},)"
      R"({"id":"B","extra":[true,false,-1.5e3,"s\n"]},{"id":"C","policy":null}]})";
  ASSERT_TRUE(ParseSnapshot(base).has_value());
  const int rejected_by_dom = ExpectRejectsWhatTheDomParserRejects(
      base, 7, 20'000, [](const std::string& json) { return ParseSnapshot(json).has_value(); });
  EXPECT_GT(rejected_by_dom, 10'000);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(SnapshotJsonTest, ExampleFileIsExactlyWhatFormatSnapshotWrites) {
  const std::string text = ReadFile(std::string(POLICYD_EXAMPLES_DIR) + "/snapshot.json");
  ASSERT_FALSE(text.empty());
  Result<Snapshot> parsed = ParseSnapshot(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->instance.id, "300000000000000001");
  EXPECT_EQ(parsed->instance.policy.flags, (PolicyFlags{false, true, true}));
  ASSERT_EQ(parsed->orgs.size(), 5u);
  EXPECT_TRUE(parsed->orgs[0].policy.has_value());
  EXPECT_TRUE(parsed->orgs[0].policy->flags.user_login_must_be_domain);
  EXPECT_FALSE(parsed->orgs[1].policy.has_value());
  EXPECT_TRUE(parsed->orgs[2].policy.has_value());
  EXPECT_EQ(parsed->instance_domains.names.size(), 2u);
  ASSERT_EQ(parsed->org_domains.size(), 4u);
  EXPECT_EQ(parsed->org_domains[0].org_id, parsed->orgs[0].id);
  EXPECT_TRUE(ValidateOrgDomains("example", parsed->org_domains[0].domains).ok());
  EXPECT_EQ(FormatSnapshot(*parsed), text);
}

Snapshot WithDomains() {
  Snapshot s = SmallSnapshot();
  s.orgs.push_back({"C", std::nullopt});
  s.org_domains = {
      {"A", {{"acme.com", true, true}, {"acme.org", false, false}, {"a.example.com", true, false}}},
      {"C", {{"c.example.com", true, true}}}};
  s.instance_domains.names = {"zitadel.example.com", "mail.example.com"};
  return s;
}

TEST(SnapshotJsonTest, FormatsDomainsWithTheUpstreamsFieldNames) {
  EXPECT_EQ(
      FormatSnapshot(WithDomains()),
      R"({"instance":{"id":"I","policy":{"details":{"sequence":"5",)"
      R"("creationDate":"2025-02-11T08:00:01.500Z","changeDate":"2025-03-01T09:12:44Z",)"
      R"("resourceOwner":"I"},"isDefault":true,"validateOrgDomains":true,)"
      R"("smtpSenderAddressMatchesInstanceDomain":true}},)"
      R"("instanceDomains":[{"domain":"zitadel.example.com"},{"domain":"mail.example.com"}],)"
      R"("orgs":[)"
      "\n"
      R"({"id":"A","policy":{"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z",)"
      R"("changeDate":"2025-03-01T09:12:44Z","resourceOwner":"A"},"userLoginMustBeDomain":true},)"
      R"("domains":[{"domainName":"acme.com","isVerified":true,"isPrimary":true},)"
      R"({"domainName":"acme.org"},{"domainName":"a.example.com","isVerified":true}]},)"
      "\n"
      R"({"id":"B"},)"
      "\n"
      R"({"id":"C","domains":[{"domainName":"c.example.com","isVerified":true,"isPrimary":true}]})"
      "\n]}\n");
}

TEST(SnapshotJsonTest, DomainsRoundTripAndAreOptional) {
  const Snapshot s = WithDomains();
  Result<Snapshot> parsed = ParseSnapshot(FormatSnapshot(s));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, s);
  // Absent, null or empty lists are no domains; unknown fields, nulls and snake_case are fine.
  parsed = ParseSnapshot(
      R"({"instance":{"id":"I","policy":{}},"instanceDomains":null,"orgs":[)"
      R"({"id":"A","domains":[]},{"id":"B","domains":null},)"
      R"({"id":"C","domains":[{"domain_name":"c.com","is_verified":true,"isPrimary":null,)"
      R"("orgId":"C","validationType":"DOMAIN_VALIDATION_TYPE_DNS"}]}]})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_TRUE(parsed->instance_domains.names.empty());
  ASSERT_EQ(parsed->org_domains.size(), 1u);
  EXPECT_EQ(parsed->org_domains[0], (OrgDomains{"C", {{"c.com", true, false}}, 0}));
  parsed =
      ParseSnapshot(R"({"instanceDomains":[{"domain":"i.com","primary":true,"generated":true}],)"
                    R"("instance":{"id":"I","policy":{}}})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->instance_domains.names, (std::vector<std::string>{"i.com"}));
}

TEST(SnapshotJsonTest, RejectsBadDomainsWithAJsonPath) {
  struct Case {
    std::string json;
    std::string_view message;
  };
  const std::string kHead = R"({"instance":{"id":"I","policy":{}},"orgs":[{"id":"A","domains":)";
  const std::string kTail = "}]}";
  std::string many = "[";
  for (std::size_t i = 0; i <= kMaxDomainsPerList; ++i) {
    many +=
        (i == 0 ? "" : ",") + std::string(R"({"domainName":"d)") + std::to_string(i) + R"(.com"})";
  }
  many += "]";
  const Case kCases[] = {
      {kHead + R"({})" + kTail, "orgs[0].domains: expected an array, got an object"},
      {kHead + R"([{}])" + kTail, R"(orgs[0].domains[0]: missing "domainName")"},
      {kHead + R"([{"domainName":""}])" + kTail,
       "orgs[0].domains[0].domainName: domain: domain name is empty"},
      {kHead + R"([{"domainName":"a b"}])" + kTail, "whitespace or a control character"},
      {kHead + R"([{"domainName":")" + std::string(254, 'x') + R"("}])" + kTail,
       "longer than 253 bytes"},
      {kHead + R"([{"domainName":"a.com","isVerified":"yes"}])" + kTail,
       "orgs[0].domains[0].isVerified: expected a boolean, got a string"},
      {kHead + R"([{"domainName":"a.com","isPrimary":true}])" + kTail,
       "orgs[0].domains[0].isPrimary: a primary domain must be verified"},
      {kHead +
           R"([{"domainName":"a.com","isVerified":true,"isPrimary":true},)"
           R"({"domainName":"b.com","isVerified":true,"isPrimary":true}])" +
           kTail,
       "orgs[0].domains[1].isPrimary: a second primary domain"},
      {kHead + R"([{"domainName":"b.com"},{"domainName":"a.com"},{"domainName":"A.com"}])" + kTail,
       R"(orgs[0].domains[2].domainName: duplicate domain "A.com" (first at [1]))"},
      {kHead + many + kTail, "orgs[0].domains: more than 1000 domains"},
      {R"({"instance":{"id":"I","policy":{}},"instanceDomains":[{"domain":"x.com"},{"domain":"X.com"}]})",
       R"(instanceDomains[1].domain: duplicate domain "X.com" (first at [0]))"},
      {R"({"instance":{"id":"I","policy":{}},"instanceDomains":[{"primary":true}]})",
       R"(instanceDomains[0]: missing "domain")"},
      {R"({"instance":{"id":"I","policy":{}},"instanceDomains":["x.com"]})",
       "instanceDomains[0]: expected an object, got a string"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.json.substr(0, 200));
    Result<Snapshot> parsed = ParseSnapshot(c.json);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.message));
  }
}

TEST(SnapshotJsonTest, StreamingWriterWritesDomainsLikeFormatSnapshot) {
  const Snapshot s = WithDomains();
  std::string out;
  AppendSnapshotBegin(out, s.instance, s.instance_domains.names);
  AppendSnapshotOrg(out, s.orgs[0], true, s.org_domains[0].domains);
  AppendSnapshotOrg(out, s.orgs[1], false);
  AppendSnapshotOrg(out, s.orgs[2], false, s.org_domains[1].domains);
  AppendSnapshotEnd(out);
  EXPECT_EQ(out, FormatSnapshot(s));
}

TEST(SnapshotJsonTest, ParsesABigGeneratedSnapshot) {
  constexpr std::size_t kOrgs = 200'000;
  Snapshot s;
  s.instance.id = "300000000000000001";
  s.instance.policy = Record({false, true, true}, 5, s.instance.id);
  s.orgs.reserve(kOrgs);
  for (std::size_t i = 0; i < kOrgs; ++i) {
    OrgRecord org{std::to_string(300000000000100000 + i), std::nullopt};
    if (i % 4 == 0) {
      org.policy = Record({i % 8 == 0, true, false}, i, org.id);
      org.policy->details.change_date.nanos = static_cast<std::int32_t>(i);
    }
    s.orgs.push_back(std::move(org));
  }
  const std::string json = FormatSnapshot(s);
  Result<Snapshot> parsed = ParseSnapshot(json);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->orgs.size(), kOrgs);
  EXPECT_TRUE(*parsed == s);
  EXPECT_TRUE(FormatSnapshot(*parsed) == json);

  // A duplicate near the end is still found, with both positions.
  s.orgs.back().id = s.orgs[7].id;
  parsed = ParseSnapshot(FormatSnapshot(s));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_THAT(parsed.error().message(),
              HasSubstr("orgs[" + std::to_string(kOrgs - 1) + "].id: duplicate org id \"" +
                        s.orgs[7].id + "\" (first at orgs[7])"));
}

}  // namespace
}  // namespace policyd

namespace policyd {
namespace {

KindPolicy KindWith(PolicyKind kind, std::string owner, std::uint64_t sequence) {
  KindPolicy p = EmptyKindPolicy(kind);
  p.details = Details{sequence, {1739260801, 0}, {1740820364, 0}, std::move(owner)};
  return p;
}

Snapshot SnapshotWithKinds() {
  Snapshot s = SmallSnapshot();
  KindPolicy complexity = KindWith(PolicyKind::kPasswordComplexity, "I", 3);
  complexity.fields[0].number = 8;
  s.kind_rows.push_back({"", complexity, {}});
  KindPolicy login = KindWith(PolicyKind::kLogin, "I", 4);
  login.fields[FindKindField(SpecOf(PolicyKind::kLogin), "passwordCheckLifetime")].number =
      864'000'000'000'000;
  s.kind_rows.push_back({"", login, {}});
  KindPolicy lockout = KindWith(PolicyKind::kLockout, "A", 9);
  lockout.fields[0].number = 5;
  s.kind_rows.push_back({"A", lockout, {}});
  return s;
}

TEST(SnapshotJsonTest, CarriesEveryPolicyKindUnderPolicies) {
  const Snapshot s = SnapshotWithKinds();
  const std::string text = FormatSnapshot(s);
  EXPECT_THAT(text,
              HasSubstr(R"(InstanceDomain":true},"policies":{"passwordComplexity":{"details":)"));
  EXPECT_THAT(text, HasSubstr(R"("minLength":"8","isDefault":true},"login":{)"));
  EXPECT_THAT(text, HasSubstr(R"("passwordCheckLifetime":"864000s")"));
  EXPECT_THAT(text, HasSubstr(R"(,"policies":{"lockout":{"details":{"sequence":"9",)"));
  EXPECT_THAT(text, HasSubstr(R"("maxPasswordAttempts":"5"}}})"));  // no isDefault for an org
  Result<Snapshot> parsed = ParseSnapshot(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, s);
  EXPECT_EQ(FormatSnapshot(*parsed), text);
  // Without kinds nothing changes: today's snapshots read and write as before.
  EXPECT_EQ(FormatSnapshot(SmallSnapshot()), kSmallSnapshotJson);
  // The streaming writer writes the same.
  std::string streamed;
  const KindPolicy* instance_kinds[] = {&s.kind_rows[1].policy, &s.kind_rows[0].policy};
  const KindPolicy* org_kinds[] = {&s.kind_rows[2].policy};
  AppendSnapshotBegin(streamed, s.instance, {}, instance_kinds);
  AppendSnapshotOrg(streamed, s.orgs[0], true, {}, org_kinds);
  AppendSnapshotOrg(streamed, s.orgs[1], false);
  AppendSnapshotEnd(streamed);
  EXPECT_EQ(streamed, text);
}

TEST(SnapshotJsonTest, PoliciesAcceptNewerKindsAndRefuseWrongOnes) {
  const std::string head = R"({"instance":{"id":"I","policy":{},"policies":)";
  Result<Snapshot> ok = ParseSnapshot(
      head + R"({"lockout":{"maxOtpAttempts":"2"},"someNewKind":{"x":[1]}}},"orgs":[{"id":"A",)"
             R"("policies":{"privacy":{"tosLink":"https://t"}}}]})");
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  ASSERT_EQ(ok->kind_rows.size(), 2u);
  EXPECT_EQ(ok->kind_rows[0].org_id, "");
  EXPECT_EQ(ok->kind_rows[0].policy.kind, PolicyKind::kLockout);
  EXPECT_EQ(ok->kind_rows[1].org_id, "A");  // given after "policies" would work too
  EXPECT_EQ(ok->kind_rows[1].policy.fields[0].text, "https://t");

  struct Case {
    std::string json;
    std::string_view message;
  };
  const Case cases[] = {
      {head + R"({"domain":{}}},"orgs":[]})", "instance.policies.domain"},
      {head + R"({"lockout":{},"lockout":{}}},"orgs":[]})", "duplicate"},
      {head + R"([]},"orgs":[]})", "instance.policies"},
      {head + R"({}},"orgs":[{"id":"A","policies":{"label":{"isDefault":true}}}]})",
       "orgs[0].policies.label.isDefault"},
      {head + R"({}},"orgs":[{"id":"A","policies":{"login":{"mfaInitSkipLifetime":"x"}}}]})",
       "orgs[0].policies.login.mfaInitSkipLifetime"},
  };
  for (const Case& c : cases) {
    Result<Snapshot> parsed = ParseSnapshot(c.json);
    ASSERT_FALSE(parsed.has_value()) << c.json;
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.message)) << c.json;
  }
}

}  // namespace
}  // namespace policyd
