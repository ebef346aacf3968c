#include "fleet/keys.h"

#include <gtest/gtest.h>

#include <string>

#include "nats/kv_bucket.h"

namespace policyd::fleet {
namespace {

TEST(FleetKeysTest, FormatsEachKind) {
  EXPECT_EQ(InstanceKey(), "domain.instance");
  EXPECT_EQ(FormatKey({KeyKind::kInstance, ""}).value(), "domain.instance");
  EXPECT_EQ(FormatKey({KeyKind::kOrg, "300000000000000042"}).value(),
            "domain.org.300000000000000042");
  EXPECT_EQ(FormatKey({KeyKind::kHeartbeat, "pub-1"}).value(), "heartbeat.pub-1");
}

TEST(FleetKeysTest, ParsesEachKind) {
  EXPECT_EQ(ParseKey("domain.instance").value(), (FleetKey{KeyKind::kInstance, ""}));
  EXPECT_EQ(ParseKey("domain.org.42").value(), (FleetKey{KeyKind::kOrg, "42"}));
  EXPECT_EQ(ParseKey("heartbeat.host_a/1").value(), (FleetKey{KeyKind::kHeartbeat, "host_a/1"}));
}

TEST(FleetKeysTest, EscapesEveryByteThatIsNotPlain) {
  EXPECT_EQ(EscapeKeyToken("a.b"), "a=2Eb");
  EXPECT_EQ(EscapeKeyToken("a=b"), "a=3Db");
  EXPECT_EQ(EscapeKeyToken("x y*>"), "x=20y=2A=3E");
  EXPECT_EQ(EscapeKeyToken("\xc3\xa9"), "=C3=A9");
  EXPECT_EQ(EscapeKeyToken("Az09-_/"), "Az09-_/");
}

TEST(FleetKeysTest, EveryByteFrom0x20To0xffRoundTrips) {
  for (int c = 0x20; c <= 0xff; ++c) {
    if (c == 0x7f) continue;  // a control character: ValidateId refuses it
    const std::string id = "id" + std::string(1, static_cast<char>(c)) + "x";
    auto key = FormatKey({KeyKind::kOrg, id});
    ASSERT_TRUE(key) << c << ": " << key.error().ToString();
    // The same check the bucket's writer applies (src/nats/kv_bucket.h).
    ASSERT_TRUE(nats::ValidKey(*key)) << "byte " << c << " gives key " << *key;
    auto parsed = ParseKey(*key);
    ASSERT_TRUE(parsed) << c << ": " << parsed.error().ToString();
    EXPECT_EQ(parsed->kind, KeyKind::kOrg);
    EXPECT_EQ(parsed->id, id) << c;
    auto heartbeat = ParseKey(FormatKey({KeyKind::kHeartbeat, id}).value());
    ASSERT_TRUE(heartbeat);
    EXPECT_EQ(heartbeat->id, id);
  }
}

TEST(FleetKeysTest, AnIdOfEveryByteAt200BytesFitsTheLongestKey) {
  std::string id(200, '\xff');
  auto key = FormatKey({KeyKind::kOrg, id});
  ASSERT_TRUE(key);
  EXPECT_LT(key->size(), kMaxKeyLength);
  // The longest kind's key is the longest key.
  EXPECT_EQ(FormatKey({KeyKind::kKindOrg, id, PolicyKind::kPasswordComplexity})->size(),
            kMaxKeyLength);
  EXPECT_TRUE(nats::ValidKey(*key));
  EXPECT_TRUE(nats::ValidKey(InstanceKey()));
  EXPECT_EQ(ParseKey(*key).value().id, id);
}

TEST(FleetKeysTest, FormatRefusesInvalidIds) {
  EXPECT_FALSE(FormatKey({KeyKind::kOrg, ""}));
  EXPECT_FALSE(FormatKey({KeyKind::kOrg, std::string(201, '1')}));
  EXPECT_FALSE(FormatKey({KeyKind::kOrg, "a\nb"}));
  EXPECT_FALSE(FormatKey({KeyKind::kHeartbeat, std::string(1, '\x7f')}));
  EXPECT_FALSE(FormatKey({KeyKind::kInstance, "1"}));
  EXPECT_EQ(FormatKey({KeyKind::kOrg, ""}).error().code(), Code::kInvalidArgument);
}

TEST(FleetKeysTest, ParseRefusesWrongShapes) {
  const char* const bad[] = {
      "",                   // empty
      "domain",             // kind without subkind
      "domain.",            //
      "domain.instance.1",  // the instance key takes no id
      "domain.instances",   //
      "domain.org",         // no id
      "domain.org.",        // empty id
      "domain.org.4.2",     // two tokens: '.' in an id is escaped
      "domain.org.a b",     // a byte a key cannot hold
      "domain.org.a*",      //
      "domain.org.=2",      // truncated escape
      "domain.org.a=",      //
      "domain.org.=2e",     // lower-case hex
      "domain.org.=ZZ",     // not hex
      "domain.org.=41",     // 'A' escaped: not canonical
      "domain.org.=0A",     // a control character
      "domain.org.=7F",     //
      "policy.org.42",      // unknown kind
      "Domain.org.42",      //
      "heartbeat.",         // empty publisher id
      "heartbeat",          //
      "heartbeat.a.b",      //
      "domain.user.42",     // unknown subkind
  };
  for (const char* key : bad) {
    auto parsed = ParseKey(key);
    ASSERT_FALSE(parsed) << key;
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << key;
  }
  std::string long_id = "domain.org." + std::string(201, '7');
  EXPECT_FALSE(ParseKey(long_id));
}

TEST(FleetKeysTest, ErrorsQuoteTheKeySafely) {
  auto parsed = ParseKey("domain.org.a\nb");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("domain.org.a\\x0Ab"), std::string::npos)
      << parsed.error().message();
  EXPECT_EQ(parsed.error().message().find('\n'), std::string::npos);
  auto unknown = ParseKey("policy.x");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("\"policy.x\""), std::string::npos);
}

TEST(FleetKeysTest, KindNames) {
  EXPECT_EQ(KeyKindName(KeyKind::kInstance), "instance");
  EXPECT_EQ(KeyKindName(KeyKind::kOrg), "org");
  EXPECT_EQ(KeyKindName(KeyKind::kHeartbeat), "heartbeat");
}

TEST(QuoteKeyTest, EscapesWhatALogLineCannotHold) {
  EXPECT_EQ(QuoteKey("domain.org.1", 300), "\"domain.org.1\"");
  EXPECT_EQ(QuoteKey(std::string("a\n\"\xff", 4), 300), "\"a\\x0A\\x22\\xFF\"");
  EXPECT_EQ(QuoteKey("abcdef", 3), "\"abc...\"");
}

}  // namespace
}  // namespace policyd::fleet
