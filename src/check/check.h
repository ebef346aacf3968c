// Local policy checks: the decisions services want instead of a policy, computed from the
// effective domain policy and the synced domains (model/domains.h) exactly as the upstream
// (ZITADEL) enforces them (../shared/upstream/zitadel-api.md §5):
//
//   login name           may a user of org X log in with this name? With userLoginMustBeDomain
//                        the name is username@<one of the org's VERIFIED domains> (split at the
//                        last '@', domain compared ASCII case-insensitively, primary irrelevant);
//                        without it the whole name is the username, which may contain '@'
//                        (e.g. an email address), but whose part after the last '@' must not
//                        be a domain that ANOTHER org has verified (upstream userValidateDomain,
//                        Errors.User.DomainNotAllowedAsUsername).
//   SMTP sender          may this address be the instance's SMTP sender? With the INSTANCE
//                        policy's smtpSenderAddressMatchesInstanceDomain its domain must be an
//                        instance domain (org policies play no part, as upstream).
//   domain verification  does adding this domain to org X need verification (effective
//                        validateOrgDomains), and does the org already have it?
//
// The README's "Checks" section states every rule and where policyd differs from the upstream.
//
// Pure: no I/O, no clock. Decisions are written into a caller-owned CheckDecision whose strings
// keep their capacity, so a warmed-up caller does not allocate. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/domains.h"

namespace policyd {

// The wire's CheckKind numbers (schemas/common.fbs).
enum class CheckKind : std::uint8_t {
  kUnspecified = 0,
  kLoginName = 1,
  kSmtpSender = 2,
  kDomainVerification = 3,
  // A password against the org's effective password complexity policy (check/password.h).
  kPassword = 4,
};

// The wire's CheckReason numbers (schemas/response.fbs), where each is explained.
enum class CheckReason : std::uint8_t {
  kUnspecified = 0,
  kAllowedBareUsername = 1,
  kAllowedVerifiedDomain = 2,
  kMissingDomain = 3,
  kEmptyUsername = 4,
  kDomainNotInOrg = 5,
  kDomainNotVerified = 6,
  kInvalidLoginName = 7,
  kNotRequired = 8,
  kAllowedInstanceDomain = 9,
  kSenderDomainNotInstanceDomain = 10,
  kInvalidAddress = 11,
  kVerificationRequired = 12,
  kDomainAlreadyVerified = 13,
  kInvalidDomain = 14,
  kDomainNotAllowedAsUsername = 15,
  // PASSWORD (check/password.h PasswordRule, in its order)
  kPasswordAllowed = 16,
  kPasswordTooShort = 17,
  kPasswordNoLowercase = 18,
  kPasswordNoUppercase = 19,
  kPasswordNoNumber = 20,
  kPasswordNoSymbol = 21,
};
inline constexpr std::uint8_t kMaxCheckReason = 21;

// Limits of the values checked (bytes unless said otherwise). A longer value is answered with
// its INVALID_* reason, not an error.
inline constexpr std::size_t kMaxUsernameChars = 200;  // the upstream's user_name max_len
inline constexpr std::size_t kMaxLoginNameBytes = kMaxUsernameChars * 4 + 1 + kMaxDomainLength;
inline constexpr std::size_t kMaxSenderAddressBytes = 254;  // RFC 5321 path minus the brackets

// "login_name", "smtp_sender", "domain_verification", "password"; "unspecified" for anything
// else.
std::string_view CheckKindName(CheckKind kind);
// The schema's name ("ALLOWED_VERIFIED_DOMAIN"); "UNSPECIFIED" for unknown numbers.
std::string_view CheckReasonName(CheckReason reason);

// One check as asked; the views point into the request.
struct CheckRequest {
  CheckKind kind = CheckKind::kUnspecified;
  std::string_view org_id;  // LOGIN_NAME, DOMAIN_VERIFICATION, PASSWORD; empty for SMTP_SENDER
  std::string_view value;   // the login name, sender address, domain or password
  bool strict = false;      // an unknown org is NOT_FOUND instead of getting the default
};

// True for the kinds that concern one org (and so read its policies, and maybe its domains).
constexpr bool IsOrgCheck(CheckKind kind) {
  return kind == CheckKind::kLoginName || kind == CheckKind::kDomainVerification ||
         kind == CheckKind::kPassword;
}

// Checks what a request must carry beyond its value: a kind this daemon knows, and no org id for
// SMTP_SENDER. The org id itself is validated when its policy is resolved (resolve/).
// INVALID_ARGUMENT otherwise.
Status ValidateCheckRequest(const CheckRequest& request);

// The domain a login name claims when userLoginMustBeDomain is off: its part after the last '@',
// which must not be verified by another org (CheckContext::domain_claims). nullopt when the name
// has no '@' or that part cannot equal a stored domain (empty, or over kMaxDomainLength bytes):
// then no org's verified domains need to be read.
std::optional<std::string_view> LoginNameClaimedDomain(std::string_view login_name);

// True when deciding `kind` under `flags` reads domains: login names only with
// userLoginMustBeDomain, SMTP senders only with smtpSenderAddressMatchesInstanceDomain (the
// instance's flags), domain verification always (to say whether the org has the domain).
bool CheckNeedsDomains(CheckKind kind, const PolicyFlags& flags);

struct CheckDecision {
  bool allowed = false;
  CheckReason reason = CheckReason::kUnspecified;
  std::string matched_domain;    // as stored; empty when none decided it
  std::string message;           // one line, printable
  bool domain_on_org = false;    // DOMAIN_VERIFICATION: the org has the domain
  bool domain_verified = false;  // ... verified

  // Back to "refused, no reason", keeping the strings' capacity.
  void Clear() {
    allowed = false;
    reason = CheckReason::kUnspecified;
    matched_domain.clear();
    message.clear();
    domain_on_org = false;
    domain_verified = false;
  }
};

// What a decision is made from: the effective policy (the org's for org checks, the instance
// default for SMTP_SENDER) and, when CheckNeedsDomains, the domains (the org's, none for an
// unknown org, and the instance's). For a LOGIN_NAME whose LoginNameClaimedDomain() is set,
// `domain_claims` are the orgs that have that domain verified (the store's verified-domain index;
// read from the same consistent view as the policy), used when userLoginMustBeDomain is off.
// Views: the caller keeps the domains and claims alive.
struct CheckContext {
  CheckContext(const DomainPolicy& p, bool known, std::span<const OrgDomain> org,
               std::span<const std::string> instance, std::span<const DomainClaim> claims = {})
      : policy(p),
        org_known(known),
        org_domains(org),
        instance_domains(instance),
        domain_claims(claims) {}
  CheckContext(const DomainPolicy& p, bool known, const DomainSet& domains,
               std::span<const DomainClaim> claims = {})
      : CheckContext(p, known, domains.org, domains.instance, claims) {}

  const DomainPolicy& policy;
  bool org_known = false;
  std::span<const OrgDomain> org_domains;
  std::span<const std::string> instance_domains;
  std::span<const DomainClaim> domain_claims;
};

// Decides `request` (kind already validated) into `out`, overwriting every field.
void Decide(const CheckRequest& request, const CheckContext& context, CheckDecision& out);

// The single checks, for callers that know the kind.
void DecideLoginName(std::string_view org_id, std::string_view login_name,
                     const CheckContext& context, CheckDecision& out);
void DecideSmtpSender(std::string_view address, const CheckContext& context, CheckDecision& out);
void DecideDomainVerification(std::string_view org_id, std::string_view domain,
                              const CheckContext& context, CheckDecision& out);

}  // namespace policyd
