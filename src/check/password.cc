#include "check/password.h"

#include <algorithm>

namespace policyd {
namespace {

bool AnyByte(std::string_view s, bool (*pred)(unsigned char)) {
  return std::any_of(s.begin(), s.end(),
                     [pred](char c) { return pred(static_cast<unsigned char>(c)); });
}

bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsSymbol(unsigned char c) { return !IsLower(c) && !IsUpper(c) && !IsDigit(c); }

}  // namespace

PasswordVerdict VerdictOf(PasswordRule rule) {
  switch (rule) {
    case PasswordRule::kNone:
      break;
    case PasswordRule::kMinLength:
      return {false, rule, "DOMAIN-HuJf6", "Errors.User.PasswordComplexityPolicy.MinLength",
              "Password is too short"};
    case PasswordRule::kHasLowercase:
      return {false, rule, "DOMAIN-co3Xw", "Errors.User.PasswordComplexityPolicy.HasLower",
              "Password must contain lower case"};
    case PasswordRule::kHasUppercase:
      return {false, rule, "DOMAIN-VoaRj", "Errors.User.PasswordComplexityPolicy.HasUpper",
              "Password must contain upper case"};
    case PasswordRule::kHasNumber:
      return {false, rule, "DOMAIN-ZBv4H", "Errors.User.PasswordComplexityPolicy.HasNumber",
              "Password must contain number"};
    case PasswordRule::kHasSymbol:
      return {false, rule, "DOMAIN-ZDLwA", "Errors.User.PasswordComplexityPolicy.HasSymbol",
              "Password must contain symbol"};
  }
  return {true, PasswordRule::kNone, {}, {}, {}};
}

PasswordVerdict CheckPassword(const KindPolicy& policy, std::string_view password) {
  if (policy.kind != PolicyKind::kPasswordComplexity ||
      policy.fields.size() != SpecOf(policy.kind).fields.size()) {
    return VerdictOf(PasswordRule::kNone);
  }
  // kPasswordComplexity's fields: minLength, hasUppercase, hasLowercase, hasNumber, hasSymbol.
  const std::uint64_t min_length = policy.fields[0].number;
  const bool upper = policy.fields[1].number != 0;
  const bool lower = policy.fields[2].number != 0;
  const bool number = policy.fields[3].number != 0;
  const bool symbol = policy.fields[4].number != 0;
  if (min_length != 0 && password.size() < min_length) return VerdictOf(PasswordRule::kMinLength);
  if (lower && !AnyByte(password, IsLower)) return VerdictOf(PasswordRule::kHasLowercase);
  if (upper && !AnyByte(password, IsUpper)) return VerdictOf(PasswordRule::kHasUppercase);
  if (number && !AnyByte(password, IsDigit)) return VerdictOf(PasswordRule::kHasNumber);
  if (symbol && !AnyByte(password, IsSymbol)) return VerdictOf(PasswordRule::kHasSymbol);
  return VerdictOf(PasswordRule::kNone);
}

CheckReason PasswordCheckReason(PasswordRule rule) {
  switch (rule) {
    case PasswordRule::kNone:
      break;
    case PasswordRule::kMinLength:
      return CheckReason::kPasswordTooShort;
    case PasswordRule::kHasLowercase:
      return CheckReason::kPasswordNoLowercase;
    case PasswordRule::kHasUppercase:
      return CheckReason::kPasswordNoUppercase;
    case PasswordRule::kHasNumber:
      return CheckReason::kPasswordNoNumber;
    case PasswordRule::kHasSymbol:
      return CheckReason::kPasswordNoSymbol;
  }
  return CheckReason::kPasswordAllowed;
}

}  // namespace policyd
