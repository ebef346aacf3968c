// The fake upstream's token endpoint (JWT-profile grant), issued tokens, and TLS.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/test_client.h"

namespace policyd::testing_support {
namespace {

using nlohmann::json;

constexpr char kScope[] = "openid urn:zitadel:iam:org:project:id:zitadel:aud";
constexpr char kGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";

class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "fake-upstream-XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~ScopedTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FakeUpstreamAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = GenerateServiceAccountKey(dir_.path(), "300000000000000077", "key-1");
    ASSERT_TRUE(key.has_value()) << key.error().ToString();
    key_ = *key;
    ASSERT_TRUE(fake_.RegisterServiceAccount(key_.user_id, key_.key_id, key_.public_key_pem).ok());
  }

  AssertionClaims GoodClaims() const {
    return {key_.user_id, key_.user_id, fake_.base_url(), NowSeconds(), NowSeconds() + 3600};
  }

  std::string Sign(const AssertionClaims& claims, const std::string& pem = "",
                   const std::string& kid = "key-1") const {
    auto jwt = SignAssertion(pem.empty() ? key_.private_key_pem : pem, kid, claims);
    EXPECT_TRUE(jwt.has_value());
    return jwt.value_or("");
  }

  HttpResult RequestToken(const std::string& assertion, const std::string& scope = kScope,
                          const std::string& grant = kGrant) {
    httplib::Params form = {{"grant_type", grant}, {"scope", scope}, {"assertion", assertion}};
    TestClient client(fake_, "");
    httplib::Result r = client.raw().Post("/oauth/v2/token", form);
    HttpResult out;
    out.error = r.error();
    if (r) {
      out.status = r->status;
      out.body = r->body;
    }
    return out;
  }

  ScopedTempDir dir_;
  FakeUpstream fake_;
  ServiceAccountKey key_;
};

TEST_F(FakeUpstreamAuthTest, KeyFileHasZitadelsShape) {
  std::ifstream in(key_.key_file_path);
  std::stringstream text;
  text << in.rdbuf();
  json file = json::parse(text.str());
  EXPECT_EQ(file["type"], "serviceaccount");
  EXPECT_EQ(file["keyId"], "key-1");
  EXPECT_EQ(file["userId"], "300000000000000077");
  EXPECT_EQ(file["key"].get<std::string>().rfind("-----BEGIN RSA PRIVATE KEY-----", 0), 0u);
  EXPECT_TRUE(file.contains("expirationDate"));
  auto pkcs8 = GenerateServiceAccountKey(dir_.path(), "1", "key-2", /*pkcs8=*/true);
  ASSERT_TRUE(pkcs8.has_value());
  EXPECT_EQ(pkcs8->private_key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
}

TEST_F(FakeUpstreamAuthTest, AcceptsACorrectlySignedAssertionAndTheTokenWorks) {
  HttpResult r = RequestToken(Sign(GoodClaims()));
  ASSERT_EQ(r.status, 200) << r.body;
  json body = r.Json();
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 43200);
  const std::string token = body["access_token"];
  EXPECT_EQ(TestClient(fake_, token).Get("/admin/v1/policies/domain").status, 200);
  EXPECT_EQ(fake_.TokenRequests(), 1);
  EXPECT_EQ(fake_.IssuedTokens(), 1);

  fake_.ExpireIssuedTokens();
  EXPECT_EQ(TestClient(fake_, token).Get("/admin/v1/policies/domain").status, 401);
  fake_.SetTokenLifetime(std::chrono::seconds(0));
  r = RequestToken(Sign(GoodClaims()));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["expires_in"], 0);
  EXPECT_EQ(TestClient(fake_, r.Json()["access_token"]).Get("/admin/v1/policies/domain").status,
            401);
}

TEST_F(FakeUpstreamAuthTest, AcceptsAPkcs8KeyAndTheIssuerWithATrailingSlash) {
  auto other = GenerateServiceAccountKey(dir_.path(), "300000000000000078", "key-8", true);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(fake_.RegisterServiceAccount(other->user_id, "key-8", other->public_key_pem).ok());
  AssertionClaims claims = GoodClaims();
  claims.issuer = claims.subject = other->user_id;
  claims.audience = fake_.base_url() + "/";
  EXPECT_EQ(RequestToken(Sign(claims, other->private_key_pem, "key-8")).status, 200);
}

TEST_F(FakeUpstreamAuthTest, RejectsBadAssertionsWithOAuthErrors) {
  auto stranger = GenerateServiceAccountKey(dir_.path(), "x", "key-x");
  ASSERT_TRUE(stranger.has_value());
  const auto expect_error = [&](const HttpResult& r, const std::string& error) {
    EXPECT_EQ(r.status, 400) << r.body;
    json body = json::parse(r.body, nullptr, false);
    EXPECT_EQ(body.value("error", ""), error) << r.body;
    EXPECT_TRUE(body.contains("error_description"));
  };
  expect_error(RequestToken(Sign(GoodClaims(), stranger->private_key_pem)), "invalid_grant");
  AssertionClaims wrong_aud = GoodClaims();
  wrong_aud.audience = "https://elsewhere.example.com";
  expect_error(RequestToken(Sign(wrong_aud)), "invalid_grant");
  AssertionClaims expired = GoodClaims();
  expired.expires_at = NowSeconds() - 1;
  expect_error(RequestToken(Sign(expired)), "invalid_grant");
  AssertionClaims old = GoodClaims();
  old.issued_at = NowSeconds() - 7200;
  expect_error(RequestToken(Sign(old)), "invalid_grant");
  AssertionClaims wrong_sub = GoodClaims();
  wrong_sub.subject = "someone-else";
  expect_error(RequestToken(Sign(wrong_sub)), "invalid_grant");
  expect_error(RequestToken(Sign(GoodClaims(), "", "unknown-kid")), "invalid_grant");
  expect_error(RequestToken("not.a.jwt"), "invalid_grant");
  expect_error(RequestToken(Sign(GoodClaims()), "openid"), "invalid_scope");
  expect_error(RequestToken(Sign(GoodClaims()), kScope, "client_credentials"),
               "unsupported_grant_type");
  EXPECT_EQ(fake_.TokenRequests(), 9);
  EXPECT_EQ(fake_.IssuedTokens(), 0);
}

TEST(FakeUpstreamTlsTest, ServesHttpsWithAGeneratedCertificate) {
  ScopedTempDir dir;
  auto files = GenerateTlsFiles(dir.path());
  ASSERT_TRUE(files.has_value()) << files.error().ToString();
  FakeUpstreamOptions options;
  options.tls_cert_path = files->cert_path;
  options.tls_key_path = files->key_path;
  FakeUpstream fake(options);
  ASSERT_TRUE(fake.ok());
  EXPECT_EQ(fake.base_url().rfind("https://127.0.0.1:", 0), 0u);

  httplib::Client verified(fake.base_url());
  verified.set_ca_cert_path(files->ca_cert_path);
  verified.enable_server_certificate_verification(true);
  httplib::Result r =
      verified.Get("/admin/v1/policies/domain", {{"Authorization", "Bearer " + options.pat}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, fake.DefaultPolicyBody());

  // The system trust store does not know the throwaway CA.
  httplib::Client untrusting(fake.base_url());
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/admin/v1/policies/domain"));
}

}  // namespace
}  // namespace policyd::testing_support
