#include "upstream/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test_support.h"

namespace policyd::upstream_internal {
namespace {

using ::testing::HasSubstr;
using upstream_test::GenerateEcKey;
using upstream_test::GenerateRsaKey;
using upstream_test::PrivateKeyPemPkcs8;
using upstream_test::PrivateKeyPemTraditional;
using upstream_test::VerifyRs256;

TEST(Base64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  struct Case {
    std::string_view in;
    std::string_view out;
  };
  const Case kCases[] = {
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      {"\xfb\xff", "-_8"},  // the two characters that differ from base64's alphabet
      {std::string_view("\0\0\0", 3), "AAAA"},
      {R"({"alg":"RS256","kid":"1"})", "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(Base64UrlEncode(c.in), c.out) << c.in;
    EXPECT_EQ(Base64UrlDecode(c.out), std::string(c.in)) << c.out;
  }
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(all_bytes)), all_bytes);
}

TEST(Base64UrlTest, DecodeRefusesOtherAlphabetsPaddingAndImpossibleLengths) {
  for (std::string_view bad : {"Zg==", "+/8", "Zm9v YmFy", "Z", "Zm9vY", "Zm\n8"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
}

TEST(PercentEncodeTest, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b/c:d?e#f&g=h+i%j"), "a%20b%2Fc%3Ad%3Fe%23f%26g%3Dh%2Bi%25j");
  EXPECT_EQ(PercentEncode("\xc3\xa9\x00"), "%C3%A9");
  EXPECT_EQ(PercentEncode(std::string_view("\x00\x7f", 2)), "%00%7F");
}

TEST(JwtBearerGrantFormTest, EncodesTheFormFieldsExactly) {
  EXPECT_EQ(JwtBearerGrantForm("aaa.bbb.c-_"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
            "&scope=openid%20urn%3Azitadel%3Aiam%3Aorg%3Aproject%3Aid%3Azitadel%3Aaud"
            "&assertion=aaa.bbb.c-_");
}

TEST(JwtTest, HeaderAndClaimsAreExactJson) {
  JwtAssertionClaims claims;
  claims.key_id = "181828078849229057";
  claims.user_id = "181828061098934529";
  claims.audience = "https://iam.example.com";
  claims.issued_at = 1740820364;
  EXPECT_EQ(JwtHeaderJson(claims), R"({"alg":"RS256","kid":"181828078849229057"})");
  EXPECT_EQ(JwtClaimsJson(claims),
            R"({"iss":"181828061098934529","sub":"181828061098934529",)"
            R"("aud":"https://iam.example.com","iat":1740820364,"exp":1740823964})");
  claims.user_id = "a\"b";
  EXPECT_THAT(JwtClaimsJson(claims), HasSubstr(R"("iss":"a\"b")"));
}

TEST(JwtTest, SignedAssertionVerifiesWithThePublicKey) {
  upstream_test::Pkey key = GenerateRsaKey(2048);
  ASSERT_NE(key, nullptr);
  Result<PrivateKey> loaded = LoadRsaPrivateKey(PrivateKeyPemTraditional(key.get()));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();

  JwtAssertionClaims claims{"kid-1", "user-1", "https://iam.example.com", 1740820364,
                            std::chrono::seconds(3600)};
  Result<std::string> jwt = MakeJwtAssertion(loaded->get(), claims);
  ASSERT_TRUE(jwt.has_value()) << jwt.error().ToString();

  const std::size_t first_dot = jwt->find('.');
  const std::size_t second_dot = jwt->find('.', first_dot + 1);
  ASSERT_NE(second_dot, std::string::npos);
  EXPECT_EQ(jwt->find('.', second_dot + 1), std::string::npos);
  EXPECT_EQ(jwt->find('='), std::string::npos);  // no padding
  EXPECT_EQ(Base64UrlDecode(jwt->substr(0, first_dot)), JwtHeaderJson(claims));
  EXPECT_EQ(Base64UrlDecode(jwt->substr(first_dot + 1, second_dot - first_dot - 1)),
            JwtClaimsJson(claims));
  std::optional<std::string> signature = Base64UrlDecode(jwt->substr(second_dot + 1));
  ASSERT_TRUE(signature.has_value());
  EXPECT_EQ(signature->size(), 256u);  // RSA-2048
  // The original key object (a different EVP_PKEY than the one that signed) verifies it.
  EXPECT_TRUE(VerifyRs256(key.get(), jwt->substr(0, second_dot), *signature));
  EXPECT_FALSE(VerifyRs256(key.get(), jwt->substr(0, second_dot) + "x", *signature));
  upstream_test::Pkey other = GenerateRsaKey(2048);
  EXPECT_FALSE(VerifyRs256(other.get(), jwt->substr(0, second_dot), *signature));
}

TEST(LoadRsaPrivateKeyTest, AcceptsPkcs1AndPkcs8Pem) {
  upstream_test::Pkey key = GenerateRsaKey(2048);
  const std::string pkcs1 = PrivateKeyPemTraditional(key.get());
  const std::string pkcs8 = PrivateKeyPemPkcs8(key.get());
  EXPECT_THAT(pkcs1, HasSubstr("BEGIN RSA PRIVATE KEY"));
  EXPECT_THAT(pkcs8, HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_TRUE(LoadRsaPrivateKey(pkcs1).has_value());
  EXPECT_TRUE(LoadRsaPrivateKey(pkcs8).has_value());
}

TEST(LoadRsaPrivateKeyTest, RefusesGarbageOtherKeyTypesAndShortKeys) {
  upstream_test::Pkey ec = GenerateEcKey();
  upstream_test::Pkey short_rsa = GenerateRsaKey(1024);
  struct Case {
    std::string pem;
    std::string_view message;
  };
  const Case kCases[] = {
      {"", "not an unencrypted PEM key"},
      {"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
       "not an unencrypted PEM key"},
      {upstream_test::PrivateKeyPemEncrypted(short_rsa.get()), "not an unencrypted PEM key"},
      {PrivateKeyPemPkcs8(ec.get()), "not an RSA key"},
      {PrivateKeyPemTraditional(short_rsa.get()), "has 1024 bits"},
  };
  for (const Case& c : kCases) {
    Result<PrivateKey> key = LoadRsaPrivateKey(c.pem);
    ASSERT_FALSE(key.has_value());
    EXPECT_EQ(key.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(key.error().message(), HasSubstr(std::string(c.message)));
    EXPECT_THAT(key.error().message(), ::testing::Not(HasSubstr("AAAA")));
  }
}

TEST(WipeTest, ClearsTheString) {
  std::string secret = "secret-token-value-that-is-long-enough-to-be-on-the-heap";
  Wipe(secret);
  EXPECT_TRUE(secret.empty());
}

}  // namespace
}  // namespace policyd::upstream_internal
