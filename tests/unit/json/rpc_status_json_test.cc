// google.rpc.Status bodies (json/rpc_status_json.h), as the REST side answers errors.
#include "json/rpc_status_json.h"

#include <gtest/gtest.h>

namespace policyd {
namespace {

TEST(RpcStatusJsonTest, ReadsCodeMessageAndEveryDetail) {
  Result<RpcStatus> s = ParseRpcStatus(
      R"j({"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)","details":[)j"
      R"j({"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-Bs7Ds",)j"
      R"j("message":"Organisation doesn't exist","extra":[1]},{"@type":"other"}],"more":{}})j");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->code, 7u);
  EXPECT_EQ(s->message, "Organisation doesn't exist (AUTH-Bs7Ds)");
  ASSERT_EQ(s->details.size(), 2u);
  EXPECT_EQ(s->details[0].type, "type.googleapis.com/zitadel.v1.ErrorDetail");
  EXPECT_EQ(s->details[0].id, "AUTH-Bs7Ds");
  EXPECT_EQ(s->details[0].message, "Organisation doesn't exist");
  EXPECT_EQ(s->details[1].type, "other");
  EXPECT_TRUE(s->details[1].id.empty());
}

TEST(RpcStatusJsonTest, ACodeAloneIsEnough) {
  Result<RpcStatus> s = ParseRpcStatus(R"({"code":3})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, 3u);
  EXPECT_TRUE(s->message.empty());
  EXPECT_TRUE(s->details.empty());
}

TEST(RpcStatusJsonTest, RefusesWhatIsNoStatus) {
  for (const char* body :
       {"", "[]", "not json", R"({"message":"no code"})", R"({"code":"7"})", R"({"code":-1})",
        R"({"code":1.5})", R"({"code":7,"message":3})", R"({"code":7,"details":[1]})",
        R"({"code":7,"details":[{"id":2}]})", R"({"code":7,"code":8})", R"({"code":7} x)"}) {
    Result<RpcStatus> s = ParseRpcStatus(body);
    EXPECT_FALSE(s) << body;
    if (!s) {
      EXPECT_EQ(s.error().code(), Code::kInvalidArgument) << body;
    }
  }
}

}  // namespace
}  // namespace policyd
