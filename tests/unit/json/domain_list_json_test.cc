// The domain-list responses: ListOrgDomains (zitadel.org.v1.Domain) and ListInstanceDomains
// (zitadel.instance.v1.Domain), as grpc-gateway's protojson writes them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json/upstream_json.h"

namespace policyd {
namespace {

using ::testing::StartsWith;

// The ListOrgDomains response (docs: "Search Domains"), plus unknown fields; false and the
// UNSPECIFIED validation type omitted as protojson does.
constexpr std::string_view kOrgDomainsBody =
    R"({"details":{"totalResult":"3","processedSequence":"99","viewTimestamp":"2025-03-01T09:12:44Z"},)"
    R"("result":[)"
    R"({"orgId":"42","details":{"sequence":"5","creationDate":"2025-02-11T08:00:01.5Z",)"
    R"("changeDate":"2025-02-11T08:00:01.5Z","resourceOwner":"42"},"domainName":"acme.com",)"
    R"("isVerified":true,"isPrimary":true,"validationType":"DOMAIN_VALIDATION_TYPE_DNS"},)"
    R"({"orgId":"42","domainName":"login.acme.com","isVerified":true,"validationType":2},)"
    R"({"org_id":"42","domain_name":"pending.acme.net","is_verified":false,"is_primary":null,)"
    R"("newField":{"a":[1]}}]})";

// The ListInstanceDomains response (docs: "List Instance Domains").
constexpr std::string_view kInstanceDomainsBody =
    R"({"details":{"totalResult":"2","processedSequence":"7"},"sortingColumn":"DOMAIN_FIELD_NAME_DOMAIN",)"
    R"("result":[{"details":{"sequence":"3","resourceOwner":"1"},"domain":"zitadel.example.com",)"
    R"("primary":true,"generated":true},{"domain":"login.example.com","future":[]}]})";

struct BadCase {
  std::string body;
  std::string_view message;  // the error message starts with this
};

template <typename Parse>
void ExpectEveryTruncationFails(std::string_view body, Parse parse) {
  for (std::size_t n = 0; n < body.size(); ++n) {
    auto result = parse(body.substr(0, n));
    ASSERT_FALSE(result.has_value()) << "prefix of " << n << " bytes parsed: " << body.substr(0, n);
    EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  }
}

Result<OrgDomainPage> ParseOrg42(std::string_view body) {
  return ParseListOrgDomainsResponse(body, "42");
}

TEST(ListOrgDomainsResponseTest, ParsesNamesFlagsAndTheTotal) {
  Result<OrgDomainPage> page = ParseOrg42(kOrgDomainsBody);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->total, 3u);
  EXPECT_EQ(page->domains, (std::vector<OrgDomain>{{"acme.com", true, true},
                                                   {"login.acme.com", true, false},
                                                   {"pending.acme.net", false, false}}));
}

TEST(ListOrgDomainsResponseTest, AbsentResultAndTotalMeanEmpty) {
  for (std::string_view body : {R"({})", R"({"details":null,"result":null})",
                                R"({"details":{"totalResult":"0"},"result":[]})"}) {
    Result<OrgDomainPage> page = ParseOrg42(body);
    ASSERT_TRUE(page.has_value()) << body << ": " << page.error().ToString();
    EXPECT_EQ(*page, OrgDomainPage{}) << body;
  }
  // orgId may be absent (protojson omits empty strings).
  Result<OrgDomainPage> page = ParseOrg42(R"({"result":[{"domainName":"a.com"}]})");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->domains, (std::vector<OrgDomain>{{"a.com", false, false}}));
}

TEST(ListOrgDomainsResponseTest, RejectsMalformedEntriesWithAJsonPath) {
  const std::vector<BadCase> cases = {
      {R"({"details":{"totalResult":"x"}})", "details.totalResult: expected an unsigned"},
      {R"({"result":{}})", "result: expected an array, got an object"},
      {R"({"result":[1]})", "result[0]: expected an object, got a number"},
      {R"({"result":[{"domainName":"a.com"},{"orgId":"42"}]})",
       "result[1]: missing \"domainName\""},
      {R"({"result":[{"domainName":""}]})", "result[0]: missing \"domainName\""},
      {R"({"result":[{"domainName":"a b.com"}]})",
       "result[0].domainName: \"a b.com\": domain name contains whitespace"},
      {R"({"result":[{"domainName":")" + std::string(254, 'a') + R"("}]})",
       "result[0].domainName: \"aaaa"},
      {R"({"result":[{"domainName":7}]})", "result[0].domainName: expected a string"},
      {R"({"result":[{"domainName":"a.com","isVerified":"yes"}]})",
       "result[0].isVerified: expected a boolean"},
      {R"({"result":[{"domainName":"a.com","isPrimary":1}]})",
       "result[0].isPrimary: expected a boolean"},
      {R"({"result":[{"domainName":"a.com","domainName":"b.com"}]})",
       "result[0].domainName: duplicate field"},
      {R"({"result":[{"domainName":"a.com","orgId":"43"}]})",
       "result[0].orgId: a domain of org \"43\" in the list of org \"42\""},
      {R"({"result":[]}])", "top level: "},
  };
  for (const BadCase& c : cases) {
    Result<OrgDomainPage> page = ParseOrg42(c.body);
    ASSERT_FALSE(page.has_value()) << c.body;
    EXPECT_EQ(page.error().code(), Code::kInvalidArgument) << c.body;
    EXPECT_THAT(page.error().message(), StartsWith(std::string(c.message))) << c.body;
  }
}

TEST(ListOrgDomainsResponseTest, EveryTruncationIsAnError) {
  ExpectEveryTruncationFails(kOrgDomainsBody, ParseOrg42);
}

TEST(ListInstanceDomainsResponseTest, ParsesNamesAndTheTotal) {
  Result<InstanceDomainPage> page = ParseListInstanceDomainsResponse(kInstanceDomainsBody);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->total, 2u);
  EXPECT_EQ(page->names, (std::vector<std::string>{"zitadel.example.com", "login.example.com"}));
  Result<InstanceDomainPage> empty = ParseListInstanceDomainsResponse(R"({"details":{}})");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, InstanceDomainPage{});
}

TEST(ListInstanceDomainsResponseTest, RejectsMalformedEntriesWithAJsonPath) {
  const std::vector<BadCase> cases = {
      {R"({"result":[{"domainName":"a.com"}]})", "result[0]: missing \"domain\""},
      {R"({"result":[{"domain":"a\tb"}]})", "result[0].domain: \"a\\tb\": domain name contains"},
      {R"({"result":[{"domain":"a.com","primary":"true"}]})",
       "result[0].primary: expected a boolean"},
      {R"({"result":[{"domain":"a.com","generated":{}}]})",
       "result[0].generated: expected a boolean"},
      {R"({"result":[null]})", "result[0]: expected an object, got null"},
      {R"({"details":{"totalResult":"-1"}})", "details.totalResult: expected an unsigned"},
  };
  for (const BadCase& c : cases) {
    Result<InstanceDomainPage> page = ParseListInstanceDomainsResponse(c.body);
    ASSERT_FALSE(page.has_value()) << c.body;
    EXPECT_EQ(page.error().code(), Code::kInvalidArgument) << c.body;
    EXPECT_THAT(page.error().message(), StartsWith(std::string(c.message))) << c.body;
  }
}

TEST(ListInstanceDomainsResponseTest, EveryTruncationIsAnError) {
  ExpectEveryTruncationFails(kInstanceDomainsBody, ParseListInstanceDomainsResponse);
}

}  // namespace
}  // namespace policyd
