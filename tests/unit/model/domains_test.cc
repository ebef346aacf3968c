#include "model/domains.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace policyd {
namespace {

TEST(DomainsTest, SameDomainIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(SameDomain("Acme.COM", "acme.com"));
  EXPECT_TRUE(SameDomain("", ""));
  EXPECT_FALSE(SameDomain("acme.com", "acme.co"));
  EXPECT_FALSE(SameDomain("acme.com", "acme.con"));
  EXPECT_FALSE(SameDomain("\xc3\x84.com", "\xc3\xa4.com"));  // Ä and ä: bytes differ, no folding
}

TEST(DomainsTest, ValidateDomainNameChecksLengthAndCharacters) {
  EXPECT_TRUE(ValidateDomainName("d", "a").ok());
  EXPECT_TRUE(ValidateDomainName("d", std::string(kMaxDomainLength, 'a')).ok());
  EXPECT_TRUE(ValidateDomainName("d",
                                 "b\xc3\xbc"
                                 "cher.example")
                  .ok());  // UTF-8 is allowed
  struct Case {
    std::string name;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"", "d: domain name is empty"},
      {std::string(kMaxDomainLength + 1, 'a'), "d: domain name is longer than 253 bytes"},
      {"a b", "whitespace"},
      {"a\tb", "whitespace"},
      {std::string("a\0b", 3), "control character"},
      {"a\x7f", "control character"},
  };
  for (const Case& c : cases) {
    Status s = ValidateDomainName("d", c.name);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
  }
}

TEST(DomainsTest, ValidateOrgDomainsChecksTheListsRules) {
  EXPECT_TRUE(ValidateOrgDomains("o", {}).ok());
  EXPECT_TRUE(ValidateOrgDomains(
                  "o", {{"a.com", true, true}, {"b.com", false, false}, {"c.com", true, false}})
                  .ok());
  struct Case {
    std::vector<OrgDomain> domains;
    const char* message;
  };
  std::vector<OrgDomain> too_many(kMaxDomainsPerList + 1);
  for (std::size_t i = 0; i < too_many.size(); ++i) too_many[i].name = std::to_string(i) + ".com";
  const std::vector<Case> cases = {
      {{{"a.com", true, true}, {"b.com", true, true}}, "o: two primary domains, a.com and b.com"},
      {{{"a.com", false, true}}, "o: primary domain a.com is not verified"},
      {{{"a.com", true, false}, {"x.com", false, false}, {"A.Com", false, false}},
       "o: domain a.com appears more than once"},
      {{{"", true, false}}, "o: domain name is empty"},
      {too_many, "o: 1001 domains, more than the 1000"},
  };
  for (const Case& c : cases) {
    Status s = ValidateOrgDomains("o", c.domains);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << c.message;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
  }
  std::vector<OrgDomain> at_limit(kMaxDomainsPerList);
  for (std::size_t i = 0; i < at_limit.size(); ++i) at_limit[i].name = std::to_string(i) + ".com";
  EXPECT_TRUE(ValidateOrgDomains("o", at_limit).ok());
}

TEST(DomainsTest, ValidateInstanceDomainsRefusesDuplicatesAndBadNames) {
  EXPECT_TRUE(ValidateInstanceDomains("i", {"a.com", "b.com"}).ok());
  EXPECT_EQ(ValidateInstanceDomains("i", {"a.com", "A.COM"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidateInstanceDomains("i", {"a com"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(
      ValidateInstanceDomains("i", std::vector<std::string>(kMaxDomainsPerList + 1, "x")).code(),
      Code::kInvalidArgument);
}

}  // namespace
}  // namespace policyd
