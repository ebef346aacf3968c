// The domain rows' keys and value encoding (store/keys.h, store/codec.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "store/codec.h"
#include "store/keys.h"

namespace policyd {
namespace {

namespace keys = store_keys;

std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string EncodedOrg(std::uint64_t seq, const std::vector<OrgDomain>& domains,
                       const EventStream& stream = {}) {
  std::string out;
  EncodeOrgDomains(seq, stream, domains, &out);
  return out;
}

std::string EncodedInstance(std::uint64_t seq, const std::vector<std::string>& names,
                            const EventStream& stream = {}) {
  std::string out;
  EncodeInstanceDomains(seq, stream, names, &out);
  return out;
}

const std::vector<OrgDomain> kSample = {
    {"acme.com", true, true}, {"acme.org", false, false}, {"login.acme.com", true, false}};

TEST(DomainKeysTest, OrgDomainsKeysLieInTheirOwnRange) {
  std::string key;
  keys::AppendOrgDomainsKey("42", &key);
  EXPECT_EQ(key, "domains:42");
  std::string_view id;
  ASSERT_TRUE(keys::ParseOrgDomainsKey(key, &id));
  EXPECT_EQ(id, "42");
  EXPECT_FALSE(keys::ParseOrgDomainsKey("org:42", &id));
  EXPECT_FALSE(keys::ParseOrgDomainsKey(keys::kInstanceDomainsKey, &id));
  EXPECT_EQ(keys::kInstanceDomainsKey, "instance-domains");
  // Neither overlaps the org range or the meta keys, and an org id never escapes the range.
  for (std::string_view id_probe : {"\x20", "a", "\xff\xff"}) {
    std::string k;
    keys::AppendOrgDomainsKey(id_probe, &k);
    EXPECT_GE(k, keys::kOrgDomainsPrefix);
    EXPECT_LT(k, keys::kOrgDomainsEnd);
    EXPECT_FALSE(k >= keys::kOrgPrefix && k < keys::kOrgEnd);
  }
  for (std::string_view other : {keys::kInstanceDomainsKey, keys::kInstanceKey, keys::kMetaKey,
                                 keys::kFormatKey, std::string_view("org:x")}) {
    EXPECT_FALSE(other >= keys::kOrgDomainsPrefix && other < keys::kOrgDomainsEnd) << other;
  }
}

TEST(DomainCodecTest, OrgAndInstanceListsRoundTrip) {
  for (const std::vector<OrgDomain>& domains :
       {kSample, std::vector<OrgDomain>{}, std::vector<OrgDomain>{{std::string(253, 'x'), 1, 0}}}) {
    std::uint64_t seq = 0;
    EventStream stream;
    std::vector<OrgDomain> back;
    ASSERT_TRUE(
        DecodeOrgDomains(EncodedOrg(99, domains, {"org", "42"}), &seq, &stream, &back).ok());
    EXPECT_EQ(back, domains);
    EXPECT_EQ(seq, 99u);
    EXPECT_EQ(stream, (EventStream{"org", "42"}));
  }
  const std::vector<std::string> names = {"zitadel.example.com", "mail.example.com"};
  std::uint64_t seq = 0;
  EventStream stream{"stale", "stream"};
  std::vector<std::string> back = {"stale", "entries", "that", "go"};
  ASSERT_TRUE(DecodeInstanceDomains(EncodedInstance(7, names), &seq, &stream, &back).ok());
  EXPECT_EQ(back, names);
  EXPECT_EQ(seq, 7u);
  EXPECT_EQ(stream, EventStream{});
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// The bytes are the on-disk format: changing them needs a codec version or a format bump.
TEST(DomainCodecTest, EncodingIsTheDocumentedV2Format) {
  EXPECT_EQ(Hex(EncodedOrg(0x0102, {{"a.b", true, true}, {"c", false, false}}, {"org", "7"})),
            "02"                // version
            "0201000000000000"  // sequence
            "030000006f7267"    // stream type "org"
            "0100000037"        // stream id "7"
            "02000000"          // count
            "03"                // verified | primary
            "03000000612e62"    // "a.b"
            "00"                // no flags
            "0100000063");      // "c"
  EXPECT_EQ(Hex(EncodedInstance(5, {"d"})),
            "02"
            "0500000000000000"
            "0000000000000000"  // unknown stream: two empty strings
            "01000000"
            "0100000064");
}

// Lists written before policyd kept streams still read, with the stream unknown.
TEST(DomainCodecTest, V1ListsDecodeWithAnUnknownStream) {
  std::uint64_t seq = 0;
  EventStream stream{"left", "over"};
  std::vector<OrgDomain> domains;
  ASSERT_TRUE(DecodeOrgDomains(Unhex("01"
                                     "0201000000000000"
                                     "01000000"
                                     "03"
                                     "03000000612e62"),
                               &seq, &stream, &domains)
                  .ok());
  EXPECT_EQ(seq, 0x0102u);
  EXPECT_EQ(stream, EventStream{});
  EXPECT_EQ(domains, (std::vector<OrgDomain>{{"a.b", true, true}}));
  std::vector<std::string> names;
  ASSERT_TRUE(DecodeInstanceDomains(Unhex("0105000000000000000100000001000000"
                                          "64"),
                                    &seq, &stream, &names)
                  .ok());
  EXPECT_EQ(seq, 5u);
  EXPECT_EQ(names, std::vector<std::string>{"d"});
}

TEST(DomainCodecTest, DecodingIntoAReusedListOverwritesIt) {
  std::vector<OrgDomain> out = {{"old-and-long-name.example.com", true, true}, {"x", 0, 0}, {}};
  std::uint64_t seq = 5;
  EventStream stream;
  ASSERT_TRUE(DecodeOrgDomains(EncodedOrg(1, {{"n.com", false, false}}), &seq, &stream, &out).ok());
  EXPECT_EQ(out, (std::vector<OrgDomain>{{"n.com", false, false}}));
  EXPECT_EQ(seq, 1u);
}

std::string WithByte(std::string bytes, std::size_t at, char value) {
  bytes[at] = value;
  return bytes;
}

TEST(DomainCodecTest, MalformedBytesAreDataLoss) {
  // version 1 + sequence 8 + an unknown stream 8: the count is at 17, the first flags at 21.
  const std::string org = EncodedOrg(1, {{"a.b", true, true}});
  std::string over_max = EncodedOrg(1, {});
  over_max.replace(17, 4, std::string("\xe9\x03\x00\x00", 4));  // count 1001
  std::string long_stream = EncodedOrg(1, {}, {"org", std::string(kMaxIdLength + 1, 'i')});
  std::string long_name = EncodedOrg(1, {{std::string(254, 'n'), false, false}});
  struct Case {
    const char* name;
    std::string bytes;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"Version", WithByte(org, 0, 3), "unsupported encoding version 3"},
      {"FlagBits", WithByte(org, 21, 4), "unknown domain flag bits 4"},
      {"CountOverMax", over_max, "domain count 1001 exceeds 1000"},
      {"CountBeyondBytes", WithByte(org, 17, 9), "truncated at domain count"},
      {"LongStreamId", long_stream, "stream id length 201"},
      {"EmptyName", EncodedOrg(1, {{"", false, false}}), "domain name length 0"},
      {"LongName", long_name, "domain name length 254"},
      {"Trailing", org + "x", "1 trailing bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::uint64_t seq = 0;
    EventStream stream;
    std::vector<OrgDomain> out;
    Status s = DecodeOrgDomains(c.bytes, &seq, &stream, &out);
    EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("org domains"), std::string::npos) << s.ToString();
  }
  std::uint64_t seq = 0;
  EventStream stream;
  std::vector<std::string> names;
  Status s = DecodeInstanceDomains(EncodedInstance(1, {""}), &seq, &stream, &names);
  EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("instance domains"), std::string::npos) << s.ToString();
}

TEST(DomainCodecTest, EveryTruncationIsDataLoss) {
  const std::string org = EncodedOrg(3, kSample, {"org", "3"});
  const std::string instance = EncodedInstance(3, {"a.example.com", "b.example.com"});
  EventStream stream;
  for (std::size_t n = 0; n < org.size(); ++n) {
    std::uint64_t seq = 0;
    std::vector<OrgDomain> out;
    Status s = DecodeOrgDomains(org.substr(0, n), &seq, &stream, &out);
    EXPECT_EQ(s.code(), Code::kDataLoss) << n;
    EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
  }
  for (std::size_t n = 0; n < instance.size(); ++n) {
    std::uint64_t seq = 0;
    std::vector<std::string> out;
    EXPECT_EQ(DecodeInstanceDomains(instance.substr(0, n), &seq, &stream, &out).code(),
              Code::kDataLoss)
        << n;
  }
}

TEST(DomainCodecTest, RandomDamageNeverCrashes) {
  const std::string org = EncodedOrg(3, kSample, {"org", "3"});
  const std::string instance = EncodedInstance(3, {"a.example.com", "b.example.com"});
  std::mt19937 rng(777);
  for (int round = 0; round < 20000; ++round) {
    std::string damaged = round % 2 == 0 ? org : instance;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) damaged.resize(rng() % (damaged.size() + 1));
    std::uint64_t seq = 0;
    EventStream stream;
    Status s;
    if (round % 2 == 0) {
      std::vector<OrgDomain> out;
      s = DecodeOrgDomains(damaged, &seq, &stream, &out);
    } else {
      std::vector<std::string> out;
      s = DecodeInstanceDomains(damaged, &seq, &stream, &out);
    }
    EXPECT_TRUE(s.ok() || s.code() == Code::kDataLoss) << s.ToString();
  }
}

}  // namespace
}  // namespace policyd
