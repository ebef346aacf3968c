#include "check/password.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace policyd {
namespace {

KindPolicy Complexity(std::uint64_t min_length, bool upper, bool lower, bool number, bool symbol) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kPasswordComplexity);
  p.fields[0].number = min_length;
  p.fields[1].number = upper;
  p.fields[2].number = lower;
  p.fields[3].number = number;
  p.fields[4].number = symbol;
  return p;
}

TEST(PasswordCheckTest, FirstFailingRuleDecidesInTheUpstreamsOrder) {
  const KindPolicy all = Complexity(8, true, true, true, true);
  EXPECT_TRUE(CheckPassword(all, "Passw0rd!").allowed);
  const auto failed = [&](std::string_view password) {
    return CheckPassword(all, password).failed;
  };
  EXPECT_EQ(failed("Pa0!"), PasswordRule::kMinLength);
  EXPECT_EQ(failed("PASSW0RD!"), PasswordRule::kHasLowercase);
  EXPECT_EQ(failed("passw0rd!"), PasswordRule::kHasUppercase);
  EXPECT_EQ(failed("Password!"), PasswordRule::kHasNumber);
  EXPECT_EQ(failed("Passw0rdX"), PasswordRule::kHasSymbol);
  EXPECT_EQ(failed(""), PasswordRule::kMinLength);
  const PasswordVerdict v = CheckPassword(all, "short");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.error_id, "DOMAIN-HuJf6");
  EXPECT_EQ(v.i18n_key, "Errors.User.PasswordComplexityPolicy.MinLength");
  EXPECT_EQ(v.message, "Password is too short");
}

TEST(PasswordCheckTest, LengthIsInBytesAndAnyOtherCharacterIsASymbol) {
  const KindPolicy policy = Complexity(4, false, false, false, true);
  EXPECT_TRUE(CheckPassword(policy, "\xc3\xa9\xc3\xa9").allowed);  // "éé": 2 characters, 4 bytes
  EXPECT_EQ(CheckPassword(policy, "\xc3\xa9x").failed, PasswordRule::kMinLength);
  EXPECT_TRUE(CheckPassword(policy, "abc def").allowed);  // a space is a symbol
  EXPECT_TRUE(CheckPassword(policy, "abc\xff").allowed);  // invalid UTF-8: U+FFFD, a symbol
  EXPECT_EQ(CheckPassword(policy, "abcd").failed, PasswordRule::kHasSymbol);
  // A zero minLength checks no length, as the upstream's `MinLength != 0 &&`.
  EXPECT_TRUE(CheckPassword(Complexity(0, false, false, false, false), "").allowed);
  // Only a password complexity policy refuses anything.
  EXPECT_TRUE(CheckPassword(EmptyKindPolicy(PolicyKind::kLockout), "").allowed);
}

// The oracle: Go's regexp semantics, character by character (UTF-8 decoded; an invalid byte is
// U+FFFD), independent of the byte tests the check uses.
bool GoClassMatch(std::string_view s, bool (*in_class)(char32_t)) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    char32_t rune = 0xFFFD;
    std::size_t n = 1;
    if (b < 0x80) {
      rune = b;
    } else if (b >= 0xC2 && b <= 0xDF && i + 1 < s.size() &&
               (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) {
      rune = ((b & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
      n = 2;
    }
    if (in_class(rune)) return true;
    i += n;
  }
  return false;
}

TEST(PasswordCheckTest, AgreesWithGoRegexpSemanticsOnRandomBytes) {
  std::mt19937_64 rng(3);
  const std::string alphabet = std::string("aZ9 !") + "\xc3\xa9\xff\x80\xc2";
  for (int round = 0; round < 20000; ++round) {
    std::string password;
    for (std::uint64_t n = rng() % 10; n > 0; --n) password += alphabet[rng() % alphabet.size()];
    const KindPolicy policy = Complexity(rng() % 8, rng() % 2, rng() % 2, rng() % 2, rng() % 2);
    PasswordRule expected = PasswordRule::kNone;
    if (policy.fields[0].number != 0 && password.size() < policy.fields[0].number) {
      expected = PasswordRule::kMinLength;
    } else if (policy.fields[2].number &&
               !GoClassMatch(password, [](char32_t r) { return r >= 'a' && r <= 'z'; })) {
      expected = PasswordRule::kHasLowercase;
    } else if (policy.fields[1].number &&
               !GoClassMatch(password, [](char32_t r) { return r >= 'A' && r <= 'Z'; })) {
      expected = PasswordRule::kHasUppercase;
    } else if (policy.fields[3].number &&
               !GoClassMatch(password, [](char32_t r) { return r >= '0' && r <= '9'; })) {
      expected = PasswordRule::kHasNumber;
    } else if (policy.fields[4].number && !GoClassMatch(password, [](char32_t r) {
                 return !((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
                          (r >= '0' && r <= '9'));
               })) {
      expected = PasswordRule::kHasSymbol;
    }
    ASSERT_EQ(CheckPassword(policy, password).failed, expected) << round;
  }
}

}  // namespace
}  // namespace policyd
