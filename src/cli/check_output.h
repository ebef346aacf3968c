// How `policyctl check` shows a check's answer (its exit codes are in cli/commands.h). Pure.
#pragma once

#include <string>

#include "wire/response.h"

namespace policyd {

// For people: "allowed" or "refused" with the message, then the reason, the matched domain, the
// org, and the policy the decision used; one "key: value" per line. A PASSWORD answer has the
// reason, the upstream's error id of the failing rule ("error:   DOMAIN-HuJf6", only when
// refused), the org and the password complexity policy used ("policy:  minLength=12
// hasUppercase=true ... (own policy of 42)" or "(instance default)"). No answer holds the
// password, so no output can show it.
std::string FormatCheckText(const CheckAnswer& answer);

// For machines, one line: {"allowed":true,"reason":"ALLOWED_VERIFIED_DOMAIN",
// "kind":"login_name","orgId":"42","orgKnown":true,"matchedDomain":"acme.com","message":"...",
// "domainOnOrg":false,"domainVerified":false,"stale":false,"policy":<the upstream's
// DomainPolicy JSON>}. Every key is always present ("" / false when it does not apply).
// A PASSWORD answer has its own keys, all always present: {"allowed":false,
// "reason":"PASSWORD_TOO_SHORT","kind":"password","orgId":"42","orgKnown":true,
// "errorId":"DOMAIN-HuJf6","message":"Password is too short","stale":false,"policy":<the
// upstream's PasswordComplexityPolicy JSON, with "isDefault":true when it is the instance's; null
// if the daemon sent none>}; errorId is "" when allowed.
std::string FormatCheckJson(const CheckAnswer& answer);

}  // namespace policyd
