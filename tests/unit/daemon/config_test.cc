#include "daemon/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/toml_guard.h"

namespace policyd {
namespace {

using ::testing::HasSubstr;

TEST(TomlGuardTest, FlagsExactlyTheCodePointsToml33CannotClassify) {
  struct Case {
    char32_t c;
    bool flagged;
  };
  const std::vector<Case> cases = {
      {U'a', false},    {0x9F, false},   {0xA0, false},  {0xA1, true},    {0xFC, true},
      {0x453, true},    {0x499, true},   {0x49A, false}, {0x1680, false}, {0x2C5D, false},
      {0x2C5E, true},   {0x3000, false}, {0x3001, true}, {0x3057, true},  {0x3058, false},
      {0x4E2D, false},  {0xFB25, false}, {0xFB26, true}, {0xFEFE, true},  {0xFEFF, false},
      {0x1F600, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TomlMisclassifiesCodePoint(c.c), c.flagged)
        << std::hex << static_cast<std::uint32_t>(c.c);
  }
}

TEST(TomlGuardTest, NamesTheLineAndCodePointOfTheFirstOffender) {
  EXPECT_TRUE(CheckTomlCodePoints("a = 1\n# \xe4\xb8\xad\n").ok());  // U+4E2D is fine
  Status s = CheckTomlCodePoints("a = 1\n\nb = \"f\xc3\xbcr\"\n\xd1\x93");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("line 3: character U+00FC"));
  EXPECT_THAT(s.message(), HasSubstr("\\u00FC"));
  // Overlong forms are caught too; truncated sequences are left to toml++, which rejects them.
  EXPECT_FALSE(CheckTomlCodePoints("\xe0\x83\xbc").ok());
  EXPECT_TRUE(CheckTomlCodePoints("\xc3").ok());
  EXPECT_TRUE(CheckTomlCodePoints("\xe3\x80").ok());
}

ParsedArgs ParseText(const std::string& toml, std::string* err) {
  static char arg0[] = "policyd";
  static char arg1[] = "--config";
  static char arg2[] = "test.toml";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  ::testing::internal::CaptureStderr();
  ParsedArgs parsed = ParseDaemonArgs(3, argv, "test", toml);
  *err = ::testing::internal::GetCapturedStderr();
  return parsed;
}

// fuzz_config found that toml++ 3.3 reaches __builtin_unreachable on a non-ASCII character where
// it looks for whitespace (here U+0453 right after a bare key).
TEST(ConfigTextTest, ACharacterToml33CannotClassifyIsAConfigErrorNotUndefinedBehaviour) {
  for (const std::string toml : {"dog\xd1\x93level = 1\n", "s = \"\"\"\\\n\xc2\xa7\"\"\"\n",
                                 "\"\xc3\xbc\" = 1\n", "# f\xc3\xbcr\nsocket = \"/x\"\n"}) {
    std::string err;
    ParsedArgs parsed = ParseText(toml, &err);
    EXPECT_FALSE(parsed.config.has_value()) << toml;
    EXPECT_EQ(parsed.exit_code, kExitConfig);
    EXPECT_THAT(err, HasSubstr("config file test.toml: line ")) << toml;
    EXPECT_THAT(err, HasSubstr("cannot be read safely"));
  }
}

TEST(ConfigTextTest, EscapedCharactersAndOtherScriptsAreAccepted) {
  std::string err;
  ParsedArgs parsed = ParseText(
      "# \xe4\xb8\xad\xe6\x96\x87\nsocket = \"/run/f\\u00FCr.sock\"\nthreads = 3\n"
      "poll-interval = \"250ms\"\n",
      &err);
  ASSERT_TRUE(parsed.config.has_value()) << err;
  EXPECT_EQ(parsed.config->socket_path, "/run/f\xc3\xbcr.sock");
  EXPECT_EQ(parsed.config->threads, 3u);
  EXPECT_EQ(parsed.config->poll_interval, std::chrono::milliseconds(250));
}

TEST(ConfigTextTest, SyntaxErrorsAndUnknownKeysNameTheFile) {
  std::string err;
  EXPECT_EQ(ParseText("threads = \n", &err).exit_code, kExitConfig);
  EXPECT_THAT(err, HasSubstr("config file test.toml line 1: "));
  EXPECT_EQ(ParseText("thread = 2\n", &err).exit_code, kExitConfig);
  EXPECT_THAT(err, HasSubstr("unknown key \"thread\""));
}

}  // namespace
}  // namespace policyd
