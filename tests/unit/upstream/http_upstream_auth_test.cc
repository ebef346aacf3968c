// The JWT-profile grant end to end: a local token endpoint checks the form and verifies the
// assertion's RS256 signature with the public key, then issues short-lived tokens; the API
// endpoint accepts only live tokens. Time is a FakeClock, so refresh points are exact.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"
#include "upstream/http_upstream.h"
#include "upstream/jwt.h"
#include "upstream/upstream.h"

namespace policyd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using upstream_internal::Base64UrlDecode;
using upstream_test::HttpTestServer;
using upstream_test::TempDir;
using upstream_test::WriteFile;

constexpr std::string_view kPolicyBody =
    R"({"policy":{"details":{"sequence":"3","resourceOwner":"300000000000000001"},)"
    R"("isDefault":true}})";

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseForm(std::string_view body) {
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const std::size_t eq = pair.find('=');
    fields[PercentDecode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return fields;
}

std::string KeyFileJson(std::string_view key_id, std::string_view pem,
                        std::string_view expiration = "2030-01-01T00:00:00Z") {
  std::string escaped;
  for (char c : pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  return R"({"type":"serviceaccount","keyId":")" + std::string(key_id) + R"(","key":")" + escaped +
         R"(","expirationDate":")" + std::string(expiration) + R"(","userId":"user-1"})";
}

class JwtProfileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key1_ = upstream_test::GenerateRsaKey(2048).release();
    key2_ = upstream_test::GenerateRsaKey(2048).release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(key1_);
    EVP_PKEY_free(key2_);
  }

  void SetUp() override {
    ASSERT_TRUE(WriteFile(dir_.File("key.json"),
                          KeyFileJson("key-1", upstream_test::PrivateKeyPemTraditional(key1_)),
                          0600));
    server_.server().Post(
        "/oauth/v2/token",
        [this](const httplib::Request& req, httplib::Response& res) { HandleToken(req, res); });
    server_.server().Get(
        "/admin/v1/policies/domain", [this](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard lock(mu_);
          ++api_requests_;
          seen_authorization_.push_back(req.get_header_value("Authorization"));
          const std::string prefix = "Bearer ";
          const std::string auth = req.get_header_value("Authorization");
          if (always_401_ || auth.rfind(prefix, 0) != 0 ||
              live_tokens_.count(auth.substr(prefix.size())) == 0) {
            res.status = 401;
            res.set_content(R"json({"code":16,"message":"Errors.Token.Invalid (AUTH-7fs1e)"})json",
                            "application/json");
            return;
          }
          res.set_content(std::string(kPolicyBody), "application/json");
        });
    ASSERT_TRUE(server_.Start());
  }

  void TearDown() override { upstream_.reset(); }

  void Connect() {
    UpstreamOptions options;
    options.base_url = server_.HttpUrl();
    options.key_file = dir_.File("key.json");
    options.connect_timeout = std::chrono::milliseconds(2000);
    options.total_timeout = std::chrono::milliseconds(3000);
    Result<std::unique_ptr<Upstream>> made = MakeHttpUpstream(options, clock_);
    ASSERT_TRUE(made.has_value()) << made.error().ToString();
    upstream_ = std::move(*made);
  }

  // Checks the grant as ZITADEL would (form fields, header, claims, signature) and issues
  // "access-<n>".
  void HandleToken(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    ++token_requests_;
    if (token_status_ != 200) {
      res.status = token_status_;
      if (!token_retry_after_.empty()) res.set_header("Retry-After", token_retry_after_);
      res.set_content(token_error_body_, "application/json");
      return;
    }
    const std::string problem = CheckGrant(req);
    if (!problem.empty()) {
      problems_.push_back(problem);
      res.status = 400;
      res.set_content(R"({"error":"invalid_grant","error_description":")" + problem + "\"}",
                      "application/json");
      return;
    }
    const std::string token = "access-" + std::to_string(++issued_);
    live_tokens_.insert(token);
    res.set_content(R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":)" +
                        std::to_string(expires_in_) + R"(,"id_token":"x"})",
                    "application/json");
  }

  std::string CheckGrant(const httplib::Request& req) {
    if (req.get_header_value("Content-Type") != "application/x-www-form-urlencoded") {
      return "content type " + req.get_header_value("Content-Type");
    }
    if (req.has_header("Authorization")) return "unexpected Authorization header";
    std::map<std::string, std::string> form = ParseForm(req.body);
    if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer") return "grant_type";
    if (form["scope"] != "openid urn:zitadel:iam:org:project:id:zitadel:aud") return "scope";
    const std::string& jwt = form["assertion"];
    const std::size_t dot1 = jwt.find('.');
    const std::size_t dot2 = jwt.find('.', dot1 + 1);
    if (dot1 == std::string::npos || dot2 == std::string::npos) return "not a JWT";
    const std::optional<std::string> header = Base64UrlDecode(jwt.substr(0, dot1));
    const std::optional<std::string> claims =
        Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
    const std::optional<std::string> signature = Base64UrlDecode(jwt.substr(dot2 + 1));
    if (!header || !claims || !signature) return "bad base64url";
    EVP_PKEY* key = nullptr;
    if (*header == R"({"alg":"RS256","kid":"key-1"})") key = key1_;
    if (*header == R"({"alg":"RS256","kid":"key-2"})") key = key2_;
    if (key == nullptr) return "header " + *header;
    last_kid_ = header->substr(header->find("key-"), 5);
    const std::int64_t now = clock_.Now().seconds;
    const std::string expected_claims = R"({"iss":"user-1","sub":"user-1","aud":")" +
                                        server_.HttpUrl() + R"(","iat":)" + std::to_string(now) +
                                        R"(,"exp":)" + std::to_string(now + 3600) + "}";
    if (*claims != expected_claims) return "claims " + *claims;
    if (!upstream_test::VerifyRs256(key, jwt.substr(0, dot2), *signature)) return "signature";
    return "";
  }

  int token_requests() {
    std::lock_guard lock(mu_);
    return token_requests_;
  }
  int api_requests() {
    std::lock_guard lock(mu_);
    return api_requests_;
  }
  std::vector<std::string> seen_authorization() {
    std::lock_guard lock(mu_);
    return seen_authorization_;
  }
  void Revoke(const std::string& token) {
    std::lock_guard lock(mu_);
    live_tokens_.erase(token);
  }

  static EVP_PKEY* key1_;
  static EVP_PKEY* key2_;

  TempDir dir_;
  FakeClock clock_{Timestamp{1740820364, 0}};

  std::mutex mu_;
  int token_requests_ = 0;
  int api_requests_ = 0;
  int issued_ = 0;
  std::int64_t expires_in_ = 600;
  int token_status_ = 200;
  std::string token_retry_after_;
  std::string token_error_body_;
  bool always_401_ = false;
  std::string last_kid_;
  std::set<std::string> live_tokens_;
  std::vector<std::string> problems_;
  std::vector<std::string> seen_authorization_;

  // Destroyed first: the client, then the server (joining its handlers, which use the above).
  HttpTestServer server_;
  std::unique_ptr<Upstream> upstream_;
};

EVP_PKEY* JwtProfileTest::key1_ = nullptr;
EVP_PKEY* JwtProfileTest::key2_ = nullptr;

TEST_F(JwtProfileTest, FetchesOneTokenAndReusesIt) {
  Connect();
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(token_requests(), 1);
  EXPECT_EQ(api_requests(), 2);
  EXPECT_EQ(upstream_->request_count(), 3u);  // token requests count too
  EXPECT_THAT(seen_authorization(), ::testing::ElementsAre("Bearer access-1", "Bearer access-1"));
  std::lock_guard lock(mu_);
  EXPECT_THAT(problems_, ::testing::IsEmpty());
}

TEST_F(JwtProfileTest, RefreshesWhenLessThanAMinuteIsLeft) {
  Connect();  // expires_in 600: refresh once max(60, 60) = 60 s or less remain
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  clock_.Advance(539'000'000'000);
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(token_requests(), 1);
  clock_.Advance(1'000'000'000);  // 540 s: 60 s left
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(token_requests(), 2);
  EXPECT_THAT(seen_authorization(),
              ::testing::ElementsAre("Bearer access-1", "Bearer access-1", "Bearer access-2"));
  std::lock_guard lock(mu_);
  EXPECT_THAT(problems_, ::testing::IsEmpty());  // the new assertion has the new iat
}

TEST_F(JwtProfileTest, RefreshesWhenLessThanATenthOfTheLifetimeIsLeft) {
  {
    std::lock_guard lock(mu_);
    expires_in_ = 43199;  // ZITADEL's default 12 h
  }
  Connect();
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  clock_.Advance(std::int64_t{43199 - 4319 - 1} * 1'000'000'000);
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(token_requests(), 1);
  clock_.Advance(1'000'000'000);
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(token_requests(), 2);
}

TEST_F(JwtProfileTest, RejectedTokenIsReplacedAndTheCallRetriedOnce) {
  Connect();
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  Revoke("access-1");
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  ASSERT_TRUE(instance.has_value()) << instance.error().ToString();
  EXPECT_EQ(token_requests(), 2);
  EXPECT_THAT(seen_authorization(),
              ::testing::ElementsAre("Bearer access-1", "Bearer access-1", "Bearer access-2"));
  EXPECT_EQ(upstream_->request_count(), 5u);
}

TEST_F(JwtProfileTest, PersistentUnauthenticatedGivesUpAfterOneRetry) {
  {
    std::lock_guard lock(mu_);
    always_401_ = true;
  }
  Connect();
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnauthenticated);
  EXPECT_THAT(instance.error().message(),
              HasSubstr("GET /admin/v1/policies/domain: HTTP 401 (code 16: Errors.Token.Invalid "
                        "(AUTH-7fs1e)): the upstream rejected the credentials; check the key "
                        "file " +
                        dir_.File("key.json") + " (keyId key-1, userId user-1)"));
  EXPECT_THAT(instance.error().message(), Not(HasSubstr("access-")));
  EXPECT_EQ(token_requests(), 2);
  EXPECT_EQ(api_requests(), 2);
}

TEST_F(JwtProfileTest, RejectedKeyIsUnauthenticatedAndNamesTheKeyFile) {
  {
    std::lock_guard lock(mu_);
    token_status_ = 400;
    token_error_body_ = R"({"error":"invalid_grant","error_description":"assertion invalid"})";
  }
  Connect();
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(instance.error().message(),
            "POST /oauth/v2/token: HTTP 400 (code invalid_grant: assertion invalid): the "
            "service-account key was rejected; check the key file " +
                dir_.File("key.json") + " (keyId key-1, userId user-1)");
  EXPECT_EQ(api_requests(), 0);
}

TEST_F(JwtProfileTest, RejectedExpiredKeySaysSo) {
  ASSERT_TRUE(WriteFile(
      dir_.File("key.json"),
      KeyFileJson("key-1", upstream_test::PrivateKeyPemTraditional(key1_), "2024-01-01T00:00:00Z"),
      0600));
  {
    std::lock_guard lock(mu_);
    token_status_ = 401;
  }
  Connect();
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnauthenticated);
  EXPECT_THAT(instance.error().message(), HasSubstr("the key expired at 2024-01-01T00:00:00Z"));
}

TEST_F(JwtProfileTest, TokenEndpointFailuresMapLikeOtherErrors) {
  struct Case {
    int status;
    std::string retry_after;
    std::string body;
    Code code;
    std::string_view message;
  };
  const Case kCases[] = {
      {503, "", "", Code::kUnavailable, "POST /oauth/v2/token: HTTP 503"},
      {429, "9", "", Code::kResourceExhausted, "POST /oauth/v2/token: HTTP 429"},
      {403, "", "", Code::kPermissionDenied, "POST /oauth/v2/token: HTTP 403"},
      {200, "", R"({"token_type":"Bearer"})", Code::kInternal,
       "malformed response from POST /oauth/v2/token: top level: missing \"access_token\""},
      {200, "", "{", Code::kInternal, "malformed response from POST /oauth/v2/token: "},
  };
  Connect();
  for (const Case& c : kCases) {
    {
      std::lock_guard lock(mu_);
      // 299 is a success status that makes the handler answer with `body` verbatim.
      token_status_ = c.status == 200 ? 299 : c.status;
      token_retry_after_ = c.retry_after;
      token_error_body_ = c.body;
    }
    Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
    ASSERT_FALSE(instance.has_value()) << c.status;
    EXPECT_EQ(instance.error().code(), c.code) << instance.error().ToString();
    EXPECT_THAT(instance.error().message(), ::testing::StartsWith(std::string(c.message)));
    if (c.status == 429) {
      EXPECT_EQ(upstream_->retry_after(), std::chrono::seconds(9));
    } else {
      EXPECT_FALSE(upstream_->retry_after().has_value());
    }
  }
  EXPECT_EQ(api_requests(), 0);
}

TEST_F(JwtProfileTest, ReloadCredentialsUsesTheNewKeyAndDropsTheToken) {
  Connect();
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  ASSERT_TRUE(WriteFile(dir_.File("key.json"),
                        KeyFileJson("key-2", upstream_test::PrivateKeyPemPkcs8(key2_)), 0600));
  ASSERT_TRUE(upstream_->ReloadCredentials().ok());
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(token_requests(), 2);
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(last_kid_, "key-2");
    EXPECT_THAT(problems_, ::testing::IsEmpty());
  }
  // A broken key file keeps the working key.
  ASSERT_TRUE(WriteFile(dir_.File("key.json"), R"({"keyId":"key-3"})", 0600));
  EXPECT_EQ(upstream_->ReloadCredentials().code(), Code::kInvalidArgument);
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(token_requests(), 2);
}

}  // namespace
}  // namespace policyd
