#include "upstream/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "test_support.h"

namespace policyd::upstream_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using upstream_test::TempDir;
using upstream_test::WriteFile;

TEST(PersonalAccessTokenTest, TrimsSurroundingWhitespace) {
  struct Case {
    std::string_view contents;
    std::string_view token;
  };
  const Case kCases[] = {
      {"tok", "tok"},     {"tok\n", "tok"},
      {"tok\r\n", "tok"}, {"  \t tok-_.~+/=  \n\n", "tok-_.~+/="},
      {"\ntok", "tok"},
  };
  for (const Case& c : kCases) {
    Result<std::string> token = ParsePersonalAccessToken(c.contents);
    ASSERT_TRUE(token.has_value()) << c.contents;
    EXPECT_EQ(*token, c.token);
  }
}

TEST(PersonalAccessTokenTest, RefusesEmptyAndInnerWhitespaceOrControls) {
  for (std::string_view contents : {"", " \n", "\n\n\t"}) {
    Result<std::string> token = ParsePersonalAccessToken(contents);
    ASSERT_FALSE(token.has_value());
    EXPECT_EQ(token.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(token.error().message(), HasSubstr("empty"));
  }
  for (std::string_view contents :
       {"secret1 secret2", "secret\nsecond", "secret\r\nX-Evil: 1", "sec\x01ret", "sec\x7fret"}) {
    Result<std::string> token = ParsePersonalAccessToken(contents);
    ASSERT_FALSE(token.has_value()) << contents;
    EXPECT_EQ(token.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(token.error().message(), Not(HasSubstr("secret")));
  }
}

TEST(SecretFileTest, RefusesFilesEveryUserCanAccess) {
  TempDir dir;
  const std::string path = dir.File("token");
  for (mode_t mode : {0604, 0644, 0602, 0601, 0666, 0777}) {
    ASSERT_TRUE(WriteFile(path, "secret-token\n", mode));
    Result<std::shared_ptr<const Credentials>> loaded = Credentials::LoadTokenFile(path);
    ASSERT_FALSE(loaded.has_value()) << std::oct << mode;
    EXPECT_EQ(loaded.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(loaded.error().message(), HasSubstr("accessible to every user"));
    EXPECT_THAT(loaded.error().message(), HasSubstr("chmod o= " + path));
    EXPECT_THAT(loaded.error().message(), Not(HasSubstr("secret-token")));
  }
  for (mode_t mode : {0600, 0400, 0640, 0660}) {
    ASSERT_TRUE(WriteFile(path, "secret-token\n", mode));
    Result<std::shared_ptr<const Credentials>> loaded = Credentials::LoadTokenFile(path);
    ASSERT_TRUE(loaded.has_value()) << std::oct << mode << " " << loaded.error().ToString();
    EXPECT_EQ((*loaded)->kind(), Credentials::Kind::kPersonalAccessToken);
    EXPECT_EQ((*loaded)->personal_access_token(), "secret-token");
    EXPECT_EQ((*loaded)->path(), path);
  }
}

TEST(SecretFileTest, RefusesMissingDirectoriesOversizedAndEmptyFiles) {
  TempDir dir;
  Result<std::string> missing = ReadSecretFile("token file", dir.File("nope"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message(), HasSubstr("cannot open token file " + dir.File("nope")));

  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);
  Result<std::string> directory = ReadSecretFile("token file", dir.path());
  ASSERT_FALSE(directory.has_value());
  EXPECT_THAT(directory.error().message(), HasSubstr("not a regular file"));

  ASSERT_TRUE(WriteFile(dir.File("big"), std::string(kMaxSecretFileBytes + 1, 'a'), 0600));
  Result<std::string> big = ReadSecretFile("token file", dir.File("big"));
  ASSERT_FALSE(big.has_value());
  EXPECT_THAT(big.error().message(), HasSubstr("larger than"));

  ASSERT_TRUE(WriteFile(dir.File("empty"), "\n", 0600));
  Result<std::shared_ptr<const Credentials>> empty = Credentials::LoadTokenFile(dir.File("empty"));
  ASSERT_FALSE(empty.has_value());
  EXPECT_THAT(empty.error().message(), HasSubstr("token file " + dir.File("empty")));
  EXPECT_THAT(empty.error().message(), HasSubstr("empty"));
}

std::string KeyFileJson(std::string_view pem, std::string_view extra = "") {
  std::string json = R"({"type":"serviceaccount","keyId":"key-1","key":)";
  std::string escaped;
  for (char c : pem) {
    if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  json += "\"" + escaped + "\"";
  json += R"(,"expirationDate":"2030-01-01T00:00:00Z","userId":"user-1")";
  json += extra;
  json += "}";
  return json;
}

TEST(KeyFileTest, LoadsAServiceAccountKey) {
  TempDir dir;
  upstream_test::Pkey key = upstream_test::GenerateRsaKey(2048);
  ASSERT_TRUE(WriteFile(dir.File("key.json"),
                        KeyFileJson(upstream_test::PrivateKeyPemTraditional(key.get())), 0600));
  Result<std::shared_ptr<const Credentials>> loaded =
      Credentials::LoadKeyFile(dir.File("key.json"));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ((*loaded)->kind(), Credentials::Kind::kServiceAccountKey);
  EXPECT_EQ((*loaded)->key_id(), "key-1");
  EXPECT_EQ((*loaded)->user_id(), "user-1");
  EXPECT_EQ((*loaded)->key_expiration(), (Timestamp{1893456000, 0}));
  EXPECT_NE((*loaded)->private_key(), nullptr);
}

TEST(KeyFileTest, ErrorsNameTheFileButNotTheKey) {
  TempDir dir;
  upstream_test::Pkey ec = upstream_test::GenerateEcKey();
  const std::string ec_pem = upstream_test::PrivateKeyPemPkcs8(ec.get());
  struct Case {
    std::string contents;
    mode_t mode;
    std::string_view message;
  };
  const Case kCases[] = {
      {KeyFileJson(ec_pem), 0600, "not an RSA key"},
      {KeyFileJson("-----BEGIN RSA PRIVATE KEY-----\nSECRETSECRET\n-----END RSA PRIVATE KEY-----"),
       0600, "not an unencrypted PEM key"},
      {"{\"keyId\":\"k\",\"key\":\"SECRETSECRET\"}", 0600, "missing \"userId\""},
      {"SECRETSECRET", 0600, "top level: "},
      {KeyFileJson(ec_pem), 0644, "accessible to every user"},
  };
  for (const Case& c : kCases) {
    const std::string path = dir.File("key.json");
    ASSERT_TRUE(WriteFile(path, c.contents, c.mode));
    Result<std::shared_ptr<const Credentials>> loaded = Credentials::LoadKeyFile(path);
    ASSERT_FALSE(loaded.has_value()) << c.message;
    EXPECT_EQ(loaded.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(loaded.error().message(), HasSubstr("key file " + path));
    EXPECT_THAT(loaded.error().message(), HasSubstr(std::string(c.message)));
    EXPECT_THAT(loaded.error().message(), Not(HasSubstr("SECRETSECRET")));
    EXPECT_THAT(loaded.error().message(), Not(HasSubstr("BEGIN")));
  }
}

}  // namespace
}  // namespace policyd::upstream_internal
