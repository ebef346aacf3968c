// The password complexity check, exactly as the upstream's PasswordComplexityPolicy.Check
// (internal/domain/policy_password_complexity.go): the first rule that fails decides.
//
//   1. minLength (when non-zero): the length in BYTES, not characters   DOMAIN-HuJf6
//   2. hasLowercase: some byte in [a-z]                                  DOMAIN-co3Xw
//   3. hasUppercase: some byte in [A-Z]                                  DOMAIN-VoaRj
//   4. hasNumber: some byte in [0-9]                                     DOMAIN-ZBv4H
//   5. hasSymbol: some character outside [A-Za-z0-9]                     DOMAIN-ZDLwA
//
// The upstream matches Go regular expressions over UTF-8; byte tests give the same answers: an
// ASCII byte is always a character of its own, and every other byte belongs to a character (or,
// in invalid UTF-8, to U+FFFD) outside [A-Za-z0-9] — so a space, punctuation or a non-ASCII
// letter counts as a symbol.
//
// Pure: the password is only read; this never logs, copies or keeps it. Thread-safe.
#pragma once

#include <string_view>

#include "check/check.h"
#include "model/policy_kinds.h"

namespace policyd {

enum class PasswordRule : std::uint8_t {
  kNone = 0,  // allowed
  kMinLength = 1,
  kHasLowercase = 2,
  kHasUppercase = 3,
  kHasNumber = 4,
  kHasSymbol = 5,
};

struct PasswordVerdict {
  bool allowed = false;
  PasswordRule failed = PasswordRule::kNone;
  std::string_view error_id;  // the upstream's error id ("DOMAIN-HuJf6"); empty when allowed
  std::string_view i18n_key;  // "Errors.User.PasswordComplexityPolicy.MinLength"
  std::string_view message;   // the upstream's English text ("Password is too short")
};

// Checks `password` against `policy`, a password complexity policy (its kind must be
// kPasswordComplexity; any other kind refuses nothing).
PasswordVerdict CheckPassword(const KindPolicy& policy, std::string_view password);

// The verdict of a rule: its id, key and message (kNone: allowed).
PasswordVerdict VerdictOf(PasswordRule rule);

// The wire's CheckReason of a rule's verdict: kPasswordAllowed for kNone, else the
// kPassword* reason of the rule that failed.
CheckReason PasswordCheckReason(PasswordRule rule);

}  // namespace policyd
