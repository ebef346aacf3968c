#include "json/flat_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace policyd {
namespace {

using ::testing::HasSubstr;

TEST(FlatJsonTest, ReadsEveryScalarType) {
  Result<FlatJsonObject> o = ParseFlatJsonObject(
      R"j( {"row":"Node (PolicydClient)","p50_us":12.5,"lookups":120000,"ok":true,)j"
      R"j("why":null,"esc":"a\"b\u00e9"} )j");
  ASSERT_TRUE(o.has_value()) << o.error().ToString();
  ASSERT_EQ(o->size(), 6u);
  ASSERT_NE(FlatString(*o, "row"), nullptr);
  EXPECT_EQ(*FlatString(*o, "row"), "Node (PolicydClient)");
  ASSERT_NE(FlatNumber(*o, "p50_us"), nullptr);
  EXPECT_DOUBLE_EQ(*FlatNumber(*o, "p50_us"), 12.5);
  EXPECT_DOUBLE_EQ(*FlatNumber(*o, "lookups"), 120000);
  EXPECT_EQ(o->at("ok").type, FlatJsonValue::Type::kBool);
  EXPECT_TRUE(o->at("ok").boolean);
  EXPECT_EQ(o->at("why").type, FlatJsonValue::Type::kNull);
  EXPECT_EQ(*FlatString(*o, "esc"), "a\"b\xc3\xa9");
}

TEST(FlatJsonTest, LookupsOfAnotherTypeOrAbsentAreNull) {
  Result<FlatJsonObject> o = ParseFlatJsonObject(R"({"n":1,"s":"x"})");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(FlatString(*o, "n"), nullptr);
  EXPECT_EQ(FlatNumber(*o, "s"), nullptr);
  EXPECT_EQ(FlatNumber(*o, "missing"), nullptr);
}

TEST(FlatJsonTest, AnEmptyObjectIsEmpty) {
  Result<FlatJsonObject> o = ParseFlatJsonObject("{}");
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(o->empty());
}

TEST(FlatJsonTest, RejectsWhatIsNotOneFlatObject) {
  struct Case {
    std::string json, message;
  };
  const Case cases[] = {
      {"", "no JSON found"},
      {"[1]", "object"},
      {"\"x\"", "object"},
      {R"({"a":[1]})", "a: expected a string, number, boolean or null"},
      {R"({"a":{"b":1}})", "a: expected a string, number, boolean or null"},
      {R"({"a":1,"a":2})", "a: duplicate field"},
      {R"({"a":1} {"b":2})", ""},
      {R"({"a":1)", ""},
      {R"({"a":tru})", ""},
      {R"({"a":1,})", ""},
      {R"({"a":01})", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    Result<FlatJsonObject> o = ParseFlatJsonObject(c.json);
    ASSERT_FALSE(o.has_value());
    EXPECT_EQ(o.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(o.error().ToString(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace policyd
