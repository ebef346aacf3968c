// The three checks' rules (check/check.h). Messages are built by appending to the decision's
// reused strings: no allocation on the allowed paths once warmed up.
#include <span>
#include <string>

#include "check/check.h"
#include "check/text.h"

namespace policyd {
namespace {

using check_text::AtSplit;
using check_text::SplitAtLastAt;

void Set(CheckDecision& out, bool allowed, CheckReason reason) {
  out.Clear();
  out.allowed = allowed;
  out.reason = reason;
}

// Refuses with `reason` and the message "<what> <problem>".
bool Refuse(CheckDecision& out, CheckReason reason, std::string_view what,
            std::string_view problem) {
  Set(out, false, reason);
  out.message += what;
  out.message += ' ';
  out.message += problem;
  return false;
}

// The shape every checked value must have; refuses with `reason` and returns false otherwise.
// Nothing of a refused value is echoed: it may not be printable.
bool CheckText(std::string_view what, std::string_view value, std::size_t max_bytes,
               CheckReason reason, CheckDecision& out) {
  if (value.empty()) return Refuse(out, reason, what, "is empty");
  if (value.size() > max_bytes) {
    return Refuse(out, reason, what, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!check_text::Utf8Chars(value)) return Refuse(out, reason, what, "is not valid UTF-8");
  if (check_text::HasControl(value)) {
    return Refuse(out, reason, what, "contains a control character");
  }
  if (check_text::HasEdgeSpace(value)) {
    return Refuse(out, reason, what,
                  "starts or ends with a space (the upstream stores names trimmed)");
  }
  return true;
}

// " (the instance default)" or " (org X's own policy)": which policy row decided.
void AppendPolicySource(std::string& m, const CheckContext& c, std::string_view org_id) {
  if (c.policy.is_default) {
    m += " (the instance default)";
  } else {
    m += " (org ";
    m += org_id;
    m += "'s own policy)";
  }
}

void AppendOrg(std::string& m, std::string_view org_id, bool known) {
  m += "org ";
  m += org_id;
  if (!known) m += " (unknown to policyd, so without domains)";
}

// The upstream compares domain names as stored; a DNS-style absolute name never matches.
void AppendTrailingDotHint(std::string& m, std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') {
    m += "; note the trailing dot: domains are compared as the upstream stores them, without one";
  }
}

// Refuses with `reason` if `domain` (a part of a value that passed CheckText) is no domain name.
bool CheckDomainPart(std::string_view what, std::string_view domain, CheckReason reason,
                     CheckDecision& out) {
  if (domain.size() > kMaxDomainLength) {
    return Refuse(out, reason, what,
                  "is longer than " + std::to_string(kMaxDomainLength) + " bytes");
  }
  if (domain.find(' ') != std::string_view::npos) {
    return Refuse(out, reason, what, "contains a space");
  }
  return true;
}

constexpr CheckReason kInvalidName = CheckReason::kInvalidLoginName;

const std::string& UsernameTooLong() {
  static const std::string text =
      "is longer than " + std::to_string(kMaxUsernameChars) + " characters";
  return text;
}

// A login name (valid text) under userLoginMustBeDomain: username@<a verified org domain>.
void DecideDomainLoginName(std::string_view org_id, std::string_view login_name,
                           const CheckContext& context, CheckDecision& out) {
  const AtSplit parts = SplitAtLastAt(login_name);
  if (!parts.found || parts.domain.empty()) {
    Set(out, false, CheckReason::kMissingDomain);
    out.message += "userLoginMustBeDomain is on";
    AppendPolicySource(out.message, context, org_id);
    out.message += ": a login name is username@<a verified domain of the org>, and this one has ";
    out.message += parts.found ? "nothing after its last '@'" : "no '@'";
    return;
  }
  if (parts.local.empty()) {
    Set(out, false, CheckReason::kEmptyUsername);
    out.message += "login name has nothing before its last '@'";
    return;
  }
  constexpr std::string_view kUsername = "login name's username (before the last '@')";
  if (check_text::HasEdgeSpace(parts.local)) {
    Refuse(out, kInvalidName, kUsername,
           "starts or ends with a space (the upstream stores names trimmed)");
    return;
  }
  if (*check_text::Utf8Chars(parts.local) > kMaxUsernameChars) {
    Refuse(out, kInvalidName, kUsername, UsernameTooLong());
    return;
  }
  if (!CheckDomainPart("login name's domain (after the last '@')", parts.domain, kInvalidName,
                       out)) {
    return;
  }
  const OrgDomain* domain = FindDomain(context.org_domains, parts.domain);
  if (domain == nullptr) {
    Set(out, false, CheckReason::kDomainNotInOrg);
    out.message += parts.domain;
    out.message += " is not a domain of ";
    AppendOrg(out.message, org_id, context.org_known);
    AppendTrailingDotHint(out.message, parts.domain);
    return;
  }
  Set(out, domain->verified,
      domain->verified ? CheckReason::kAllowedVerifiedDomain : CheckReason::kDomainNotVerified);
  out.matched_domain = domain->name;
  out.message += domain->name;
  out.message += domain->verified ? " is a verified domain of org " : " is a domain of org ";
  out.message += org_id;
  if (!domain->verified) out.message += ", not verified: only verified domains make login names";
}

// The claim of an org other than `org_id` on the domain after the login name's last '@' (the
// upstream's userValidateDomain: verified, and by another org), or nullptr. The claims come from
// the index for that very domain; comparing again keeps the rule right for any claims given.
const DomainClaim* OtherOrgsClaim(std::string_view org_id, std::string_view login_name,
                                  const CheckContext& context) {
  const std::optional<std::string_view> domain = LoginNameClaimedDomain(login_name);
  if (!domain) return nullptr;
  for (const DomainClaim& claim : context.domain_claims) {
    if (claim.org_id != org_id && SameDomain(claim.domain, *domain)) return &claim;
  }
  return nullptr;
}

}  // namespace

void DecideLoginName(std::string_view org_id, std::string_view login_name,
                     const CheckContext& context, CheckDecision& out) {
  if (!CheckText("login name", login_name, kMaxLoginNameBytes, kInvalidName, out)) return;
  if (context.policy.flags.user_login_must_be_domain) {
    DecideDomainLoginName(org_id, login_name, context, out);
    return;
  }
  // The login name is the username itself, '@'s and all (usernames may be email addresses).
  if (*check_text::Utf8Chars(login_name) > kMaxUsernameChars) {
    Refuse(out, kInvalidName, "login name (the username itself)", UsernameTooLong());
    return;
  }
  if (const DomainClaim* claim = OtherOrgsClaim(org_id, login_name, context)) {
    Set(out, false, CheckReason::kDomainNotAllowedAsUsername);
    out.matched_domain = claim->domain;
    out.message += claim->domain;
    out.message += " is a verified domain of org ";
    out.message += claim->org_id;
    out.message += ": with userLoginMustBeDomain off";
    AppendPolicySource(out.message, context, org_id);
    out.message += " a username may not end in another org's verified domain";
    return;
  }
  Set(out, true, CheckReason::kAllowedBareUsername);
  out.message += "userLoginMustBeDomain is off";
  AppendPolicySource(out.message, context, org_id);
  out.message += ": the login name is the username itself";
}

void DecideSmtpSender(std::string_view address, const CheckContext& context, CheckDecision& out) {
  constexpr CheckReason kInvalid = CheckReason::kInvalidAddress;
  constexpr std::string_view kWhat = "sender address";
  if (!CheckText(kWhat, address, kMaxSenderAddressBytes, kInvalid, out)) return;
  if (address.find(' ') != std::string_view::npos) {
    Refuse(out, kInvalid, kWhat, "contains a space");
    return;
  }
  const AtSplit parts = SplitAtLastAt(address);
  if (!parts.found) {
    Refuse(out, kInvalid, kWhat, "has no '@'");
    return;
  }
  if (parts.local.empty()) {
    Refuse(out, kInvalid, kWhat, "has nothing before its last '@'");
    return;
  }
  if (parts.domain.empty()) {
    Refuse(out, kInvalid, kWhat, "has nothing after its last '@'");
    return;
  }
  if (!CheckDomainPart("sender address's domain", parts.domain, kInvalid, out)) return;
  if (!context.policy.flags.smtp_sender_address_matches_instance_domain) {
    Set(out, true, CheckReason::kNotRequired);
    out.message +=
        "smtpSenderAddressMatchesInstanceDomain is off in the instance policy: any sender "
        "domain is allowed";
    return;
  }
  const std::string* domain = FindDomain(context.instance_domains, parts.domain);
  if (domain == nullptr) {
    Set(out, false, CheckReason::kSenderDomainNotInstanceDomain);
    out.message += "smtpSenderAddressMatchesInstanceDomain is on in the instance policy and ";
    out.message += parts.domain;
    out.message += " is not an instance domain";
    AppendTrailingDotHint(out.message, parts.domain);
    return;
  }
  Set(out, true, CheckReason::kAllowedInstanceDomain);
  out.matched_domain = *domain;
  out.message += *domain;
  out.message += " is an instance domain";
}

void DecideDomainVerification(std::string_view org_id, std::string_view domain,
                              const CheckContext& context, CheckDecision& out) {
  constexpr CheckReason kInvalid = CheckReason::kInvalidDomain;
  if (!CheckText("domain", domain, kMaxDomainLength, kInvalid, out)) return;
  if (domain.find('@') != std::string_view::npos) {
    Refuse(out, kInvalid, "domain", "contains an '@' (give the domain, not an address)");
    return;
  }
  if (!CheckDomainPart("domain", domain, kInvalid, out)) return;
  const bool validate = context.policy.flags.validate_org_domains;
  if (const OrgDomain* have = FindDomain(context.org_domains, domain)) {
    Set(out, have->verified,
        have->verified ? CheckReason::kDomainAlreadyVerified : CheckReason::kDomainNotVerified);
    out.domain_on_org = true;
    out.domain_verified = have->verified;
    out.matched_domain = have->name;
    AppendOrg(out.message, org_id, context.org_known);
    out.message += " already has ";
    out.message += have->name;
    if (have->verified) {
      out.message += ", verified";
    } else {
      out.message += ", not verified: it needs its DNS or HTTP challenge";
      // Adding it again fails (it exists); with the flag off now, re-adding verifies at once.
      if (!validate) out.message += " (or, validateOrgDomains being off, removing and re-adding)";
    }
    return;
  }
  Set(out, !validate, validate ? CheckReason::kVerificationRequired : CheckReason::kNotRequired);
  out.message += validate ? "validateOrgDomains is on" : "validateOrgDomains is off";
  AppendPolicySource(out.message, context, org_id);
  if (validate) {
    out.message += ": ";
    out.message += domain;
    out.message += " must pass a DNS or HTTP challenge once added to ";
    AppendOrg(out.message, org_id, context.org_known);
  } else {
    out.message += ": adding ";
    out.message += domain;
    out.message += " to ";
    AppendOrg(out.message, org_id, context.org_known);
    out.message += " verifies it at once";
  }
}

}  // namespace policyd
