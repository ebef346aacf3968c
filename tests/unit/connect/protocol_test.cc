// The Connect protocol's pure parts (connect/protocol.h): content types, code names, the error
// body, base64 and the request headers policyd checks, table-driven over every branch.
#include "connect/protocol.h"

#include <gtest/gtest.h>

#include "base/base64.h"

namespace policyd::connect {
namespace {

TEST(UnaryCodecTest, TakesTheTwoUnaryTypesAndNothingElse) {
  const std::vector<std::pair<std::string_view, std::optional<Codec>>> cases = {
      {"application/json", Codec::kJson},
      {"Application/JSON", Codec::kJson},
      {"application/json; charset=utf-8", Codec::kJson},
      {"application/json;charset=\"UTF-8\"", Codec::kJson},
      {"application/json; charset=utf8", Codec::kJson},
      {" application/proto ", Codec::kProto},
      {"application/proto", Codec::kProto},
      {"application/json; charset=latin1", std::nullopt},
      {"application/json; boundary=x", std::nullopt},
      {"application/proto; charset=utf-8", std::nullopt},
      {"application/connect+json", std::nullopt},
      {"application/connect+proto", std::nullopt},
      {"application/grpc", std::nullopt},
      {"application/grpc-web+proto", std::nullopt},
      {"text/plain", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [type, want] : cases) EXPECT_EQ(UnaryCodec(type), want) << type;
  EXPECT_EQ(ContentType(Codec::kJson), "application/json");
  EXPECT_EQ(ContentType(Codec::kProto), "application/proto");
}

TEST(ConnectCodeNameTest, NamesEveryCodeAsTheSpecSpellsIt) {
  const std::vector<std::pair<Code, std::string_view>> cases = {
      {Code::kCancelled, "canceled"},
      {Code::kUnknown, "unknown"},
      {Code::kInvalidArgument, "invalid_argument"},
      {Code::kDeadlineExceeded, "deadline_exceeded"},
      {Code::kNotFound, "not_found"},
      {Code::kAlreadyExists, "already_exists"},
      {Code::kPermissionDenied, "permission_denied"},
      {Code::kResourceExhausted, "resource_exhausted"},
      {Code::kFailedPrecondition, "failed_precondition"},
      {Code::kAborted, "aborted"},
      {Code::kOutOfRange, "out_of_range"},
      {Code::kUnimplemented, "unimplemented"},
      {Code::kInternal, "internal"},
      {Code::kUnavailable, "unavailable"},
      {Code::kDataLoss, "data_loss"},
      {Code::kUnauthenticated, "unauthenticated"},
      {Code::kOk, "unknown"},
      {static_cast<Code>(99), "unknown"},
  };
  for (const auto& [code, name] : cases) {
    EXPECT_EQ(ConnectCodeName(code), name) << static_cast<int>(code);
  }
}

TEST(ErrorHttpStatusTest, FollowsTheSpecsTableUnlessTheProtocolSetsOne) {
  const std::vector<std::pair<Code, int>> cases = {
      {Code::kCancelled, 499},          {Code::kUnknown, 500},
      {Code::kInvalidArgument, 400},    {Code::kDeadlineExceeded, 504},
      {Code::kNotFound, 404},           {Code::kAlreadyExists, 409},
      {Code::kPermissionDenied, 403},   {Code::kResourceExhausted, 429},
      {Code::kFailedPrecondition, 400}, {Code::kAborted, 409},
      {Code::kOutOfRange, 400},         {Code::kUnimplemented, 501},
      {Code::kInternal, 500},           {Code::kUnavailable, 503},
      {Code::kDataLoss, 500},           {Code::kUnauthenticated, 401},
  };
  for (const auto& [code, status] : cases) {
    EXPECT_EQ(ErrorHttpStatus(Error{code, "x"}), status) << ConnectCodeName(code);
  }
  EXPECT_EQ(ErrorHttpStatus(Error{Code::kUnimplemented, "x", {}, 404}), 404);
}

TEST(Base64EncodeNoPadTest, EncodesTheRfcVectorsWithoutPaddingForErrorDetails) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      {std::string_view("\xff\xfe\x00", 3), "//4A"},
  };
  for (const auto& [bytes, want] : cases)
    EXPECT_EQ(Base64EncodeNoPad(bytes, Base64Alphabet::kStandard), want) << want;
}

TEST(FormatErrorBodyTest, WritesCodeMessageAndDetails) {
  EXPECT_EQ(FormatErrorBody(Error{Code::kPermissionDenied, "Organisation doesn't exist"}),
            R"({"code":"permission_denied","message":"Organisation doesn't exist"})");
  EXPECT_EQ(FormatErrorBody(Error{Code::kInternal, ""}), R"({"code":"internal"})");
  EXPECT_EQ(FormatErrorBody(Error{Code::kInvalidArgument, "a \"quoted\"\n"}),
            R"({"code":"invalid_argument","message":"a \"quoted\"\n"})");
  EXPECT_EQ(FormatErrorBody(Error{
                Code::kPermissionDenied, "m", {{"zitadel.v1.ErrorDetail", "foo"}, {"x.Y", ""}}}),
            R"({"code":"permission_denied","message":"m","details":[)"
            R"({"type":"zitadel.v1.ErrorDetail","value":"Zm9v"},{"type":"x.Y","value":""}]})");
}

TEST(CheckRequestHeadersTest, RefusesWhatPolicydCannotAnswer) {
  struct Case {
    RequestHeaders headers;
    std::optional<Code> code;
  };
  const std::vector<Case> cases = {
      {{}, std::nullopt},
      {{"1", "identity", "1000"}, std::nullopt},
      {{"1", "IDENTITY", "9999999999"}, std::nullopt},
      {{std::nullopt, "", std::nullopt}, std::nullopt},
      {{"2", std::nullopt, std::nullopt}, Code::kInvalidArgument},
      {{"", std::nullopt, std::nullopt}, Code::kInvalidArgument},
      {{std::nullopt, "gzip", std::nullopt}, std::nullopt},
      {{std::nullopt, " BR ", std::nullopt}, std::nullopt},
      {{std::nullopt, "zstd", std::nullopt}, Code::kUnimplemented},
      {{std::nullopt, "deflate", std::nullopt}, Code::kUnimplemented},
      {{std::nullopt, "gzip, br", std::nullopt}, Code::kUnimplemented},
      {{std::nullopt, std::nullopt, ""}, Code::kInvalidArgument},
      {{std::nullopt, std::nullopt, "12345678901"}, Code::kInvalidArgument},
      {{std::nullopt, std::nullopt, "-5"}, Code::kInvalidArgument},
      {{std::nullopt, std::nullopt, "1.5"}, Code::kInvalidArgument},
  };
  for (const Case& c : cases) {
    const std::optional<Error> error = CheckRequestHeaders(c.headers);
    const std::string what = std::string(c.headers.protocol_version.value_or("-")) + " " +
                             std::string(c.headers.content_encoding.value_or("-")) + " " +
                             std::string(c.headers.timeout_ms.value_or("-"));
    ASSERT_EQ(error.has_value(), c.code.has_value()) << what;
    if (error) {
      EXPECT_EQ(error->code, *c.code) << what;
      EXPECT_FALSE(error->message.empty()) << what;
      EXPECT_EQ(error->http_status, 0) << what;
    }
  }
}

}  // namespace
}  // namespace policyd::connect
