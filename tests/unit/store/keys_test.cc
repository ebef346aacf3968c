#include "store/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace policyd {
namespace {

namespace keys = store_keys;

TEST(StoreKeysTest, LayoutIsTheDocumentedV3Layout) {
  EXPECT_EQ(keys::kFormatKey, "meta:format");
  EXPECT_EQ(keys::kFormatV1, "policyd-store-v1");
  EXPECT_EQ(keys::kFormatV2, "policyd-store-v2");
  EXPECT_EQ(keys::kFormatV3, "policyd-store-v3");
  std::string index_key;
  keys::AppendDomainIndexKey("Acme.COM", &index_key);
  EXPECT_EQ(index_key, "verified-domain:acme.com");
  EXPECT_TRUE(index_key >= keys::kDomainIndexPrefix && index_key < keys::kDomainIndexEnd);
  EXPECT_EQ(keys::kMetaKey, "meta:state");
  EXPECT_EQ(keys::kInstanceKey, "instance");
  EXPECT_EQ(keys::OrgKey("123456789"), "org:123456789");
}

TEST(StoreKeysTest, OrgKeyIntoReplacesAndAppendOrgKeyAppends) {
  std::string key = "something long that was there before";
  keys::OrgKeyInto("a", &key);
  EXPECT_EQ(key, "org:a");
  keys::AppendOrgKey("b", &key);
  EXPECT_EQ(key, "org:aorg:b");
}

TEST(StoreKeysTest, ParseOrgKeyReturnsTheIdOnlyForOrgKeys) {
  std::string_view id;
  ASSERT_TRUE(keys::ParseOrgKey("org:42:x", &id));
  EXPECT_EQ(id, "42:x");
  EXPECT_FALSE(keys::ParseOrgKey("instance", &id));
  EXPECT_FALSE(keys::ParseOrgKey("meta:state", &id));
  EXPECT_FALSE(keys::ParseOrgKey("or", &id));
}

TEST(StoreKeysTest, EveryOrgKeyLiesInTheOrgRangeAndNoOtherKeyDoes) {
  // Ids are 1..200 bytes without control characters; probe the extremes of that alphabet.
  const std::vector<std::string> ids = {" ",
                                        "~",
                                        "\x7f\x7f",
                                        "\xff",
                                        "\xff\xff\xff",
                                        "0",
                                        "org;",
                                        std::string(200, '\xff'),
                                        std::string(200, ' ')};
  for (const std::string& id : ids) {
    const std::string key = keys::OrgKey(id);
    EXPECT_GE(key, keys::kOrgPrefix) << id;
    EXPECT_LT(key, keys::kOrgEnd) << id;
  }
  for (std::string_view other : {keys::kFormatKey, keys::kMetaKey, keys::kInstanceKey}) {
    EXPECT_TRUE(other < keys::kOrgPrefix || other >= keys::kOrgEnd) << other;
  }
}

TEST(StoreKeysTest, OrgKeyOrderIsIdByteOrder) {
  std::vector<std::string> ids = {"b", "a", "ab", "\xff", "A", "a\x80", "10", "9"};
  std::vector<std::string> key_list;
  for (const auto& id : ids) key_list.push_back(keys::OrgKey(id));
  std::sort(ids.begin(), ids.end());
  std::sort(key_list.begin(), key_list.end());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(key_list[i], keys::OrgKey(ids[i]));
}

}  // namespace
}  // namespace policyd
