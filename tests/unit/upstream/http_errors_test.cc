#include "upstream/http_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "upstream/http_upstream.h"

namespace policyd::upstream_internal {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr Timestamp kNow{1445412480, 0};  // Wed, 21 Oct 2015 07:28:00 GMT

TEST(RetryAfterTest, AcceptsSecondsAndHttpDates) {
  struct Case {
    std::string_view value;
    std::optional<seconds> expected;
  };
  const Case kCases[] = {
      {"0", seconds(0)},
      {"120", seconds(120)},
      {" 7 ", seconds(7)},
      {"999999999999999999999999", seconds(86400)},  // capped at a day
      {"100000", seconds(86400)},
      {"Wed, 21 Oct 2015 07:28:30 GMT", seconds(30)},      // IMF-fixdate
      {"Wednesday, 21-Oct-15 07:29:00 GMT", seconds(60)},  // RFC 850
      {"Wed Oct 21 07:28:10 2015", seconds(10)},           // asctime
      {"Wed, 21 Oct 2015 07:00:00 GMT", seconds(0)},       // in the past
      {"", std::nullopt},
      {"-5", std::nullopt},
      {"1.5", std::nullopt},
      {"soon", std::nullopt},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(ParseRetryAfter(c.value, kNow), c.expected) << c.value;
  }
}

TEST(StatusFromHttpTest, MapsStatusCodesAsUpstreamHDocuments) {
  struct Case {
    long status;
    Code code;
  };
  const Case kCases[] = {
      {400, Code::kInvalidArgument}, {401, Code::kUnauthenticated}, {403, Code::kPermissionDenied},
      {404, Code::kNotFound},        {408, Code::kUnavailable},     {429, Code::kResourceExhausted},
      {500, Code::kUnavailable},     {501, Code::kUnavailable},     {502, Code::kUnavailable},
      {503, Code::kUnavailable},     {504, Code::kUnavailable},     {599, Code::kUnavailable},
      {301, Code::kInternal},        {302, Code::kInternal},        {405, Code::kInternal},
      {409, Code::kInternal},        {418, Code::kInternal},        {100, Code::kInternal},
  };
  for (const Case& c : kCases) {
    const Status s = StatusFromHttp("GET /admin/v1/policies/domain", c.status, "", "check x");
    EXPECT_EQ(s.code(), c.code) << c.status;
    EXPECT_THAT(s.message(),
                HasSubstr("GET /admin/v1/policies/domain: HTTP " + std::to_string(c.status)));
  }
}

TEST(StatusFromHttpTest, QuotesTheErrorBodyAndAddsHints) {
  const Status forbidden = StatusFromHttp(
      "GET /admin/v1/policies/domain", 403,
      R"json({"code":7,"message":"No matching permissions found (AUTH-5mWD2)","details":[]})json",
      "");
  EXPECT_EQ(forbidden.message(),
            "GET /admin/v1/policies/domain: HTTP 403 (code 7: No matching permissions found "
            "(AUTH-5mWD2)): the service user lacks a role (it needs IAM_OWNER_VIEWER on the "
            "instance)");
  const Status unauthenticated =
      StatusFromHttp("POST /admin/v1/events/_search", 401, "<html>nope</html>",
                     "check the token file /etc/policyd/token");
  EXPECT_EQ(unauthenticated.message(),
            "POST /admin/v1/events/_search: HTTP 401: the upstream rejected the credentials; "
            "check the token file /etc/policyd/token");
}

TEST(StatusFromCurlTest, MapsTransferErrors) {
  struct Case {
    CURLcode curl;
    Code code;
    std::string_view message;
  };
  const Case kCases[] = {
      {CURLE_OPERATION_TIMEDOUT, Code::kDeadlineExceeded, "detail"},
      {CURLE_COULDNT_CONNECT, Code::kUnavailable, "detail"},
      {CURLE_COULDNT_RESOLVE_HOST, Code::kUnavailable, "detail"},
      {CURLE_SEND_ERROR, Code::kUnavailable, "detail"},
      {CURLE_RECV_ERROR, Code::kUnavailable, "detail"},
      {CURLE_GOT_NOTHING, Code::kUnavailable, "closed without an answer"},
      {CURLE_PARTIAL_FILE, Code::kUnavailable, "cut short"},
      {CURLE_WEIRD_SERVER_REPLY, Code::kUnavailable, "detail"},
      {CURLE_HTTP2_STREAM, Code::kUnavailable, "detail"},
      {CURLE_PEER_FAILED_VERIFICATION, Code::kUnavailable, "TLS failure"},
      {CURLE_SSL_CONNECT_ERROR, Code::kUnavailable, "--ca-file"},
      {CURLE_SSL_CACERT_BADFILE, Code::kUnavailable, "TLS failure"},
      {CURLE_BAD_CONTENT_ENCODING, Code::kInternal, "malformed response"},
      {CURLE_FILESIZE_EXCEEDED, Code::kInternal, "larger than 1024 bytes"},
      {CURLE_OUT_OF_MEMORY, Code::kResourceExhausted, "detail"},
      {CURLE_URL_MALFORMAT, Code::kInvalidArgument, "detail"},
      {CURLE_UNSUPPORTED_PROTOCOL, Code::kUnavailable, "detail"},
      {CURLE_ABORTED_BY_CALLBACK, Code::kUnavailable, "detail"},
  };
  for (const Case& c : kCases) {
    const Status s = StatusFromCurl("GET /x", c.curl, "detail\n", false, 1024);
    EXPECT_EQ(s.code(), c.code) << c.curl;
    EXPECT_THAT(s.message(), HasSubstr(std::string(c.message))) << c.curl;
    EXPECT_THAT(s.message(), ::testing::StartsWith("GET /x: ")) << c.curl;
  }
  const Status too_large = StatusFromCurl("GET /x", CURLE_WRITE_ERROR, "", true, 1024);
  EXPECT_EQ(too_large.code(), Code::kInternal);
  EXPECT_EQ(too_large.message(), "GET /x: response body larger than 1024 bytes");
  // Without a detail, libcurl's description of the code is used.
  EXPECT_EQ(StatusFromCurl("GET /x", CURLE_COULDNT_CONNECT, "", false, 1).message(),
            std::string("GET /x: ") + curl_easy_strerror(CURLE_COULDNT_CONNECT));
}

TEST(NormalizeBaseUrlTest, AcceptsHttpsAndLoopbackHttp) {
  struct Case {
    std::string_view in;
    std::string_view out;
  };
  const Case kCases[] = {
      {"https://iam.example.com", "https://iam.example.com"},
      {"https://iam.example.com/", "https://iam.example.com"},
      {"HTTPS://IAM.example.com:8443//", "https://IAM.example.com:8443"},
      {"https://example.com/zitadel/", "https://example.com/zitadel"},
      {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
      {"http://localhost:1/", "http://localhost:1"},
      {"http://[::1]:99", "http://[::1]:99"},
  };
  for (const Case& c : kCases) {
    Result<std::string> url = NormalizeBaseUrl(c.in);
    ASSERT_TRUE(url.has_value()) << c.in << ": " << url.error().ToString();
    EXPECT_EQ(*url, c.out);
  }
}

TEST(NormalizeBaseUrlTest, RefusesEverythingElse) {
  struct Case {
    std::string_view in;
    std::string_view message;
  };
  const Case kCases[] = {
      {"", "is not a valid absolute URL"},
      {"iam.example.com", "is not a valid absolute URL"},
      {"http://iam.example.com", "must use https://"},
      {"http://127.evil.com", "must use https://"},
      {"ftp://iam.example.com", "must use https://"},
      {"https://user:pw@iam.example.com", "must not contain user info"},
      {"https://iam.example.com/?x=1", "must not contain a query"},
      {"https://iam.example.com/#top", "must not contain a fragment"},
      {"https://", "is not a valid absolute URL"},
  };
  for (const Case& c : kCases) {
    Result<std::string> url = NormalizeBaseUrl(c.in);
    ASSERT_FALSE(url.has_value()) << c.in;
    EXPECT_EQ(url.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(url.error().message(), HasSubstr(std::string(c.message))) << c.in;
  }
}

}  // namespace
}  // namespace policyd::upstream_internal
