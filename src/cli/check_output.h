// How `policyctl check` shows a check's answer (its exit codes are in cli/commands.h). Pure.
#pragma once

#include <string>

#include "wire/response.h"

namespace policyd {

// For people: "allowed" or "refused" with the message, then the reason, the matched domain, the
// org, and the policy the decision used; one "key: value" per line.
std::string FormatCheckText(const CheckAnswer& answer);

// For machines, one line: {"allowed":true,"reason":"ALLOWED_VERIFIED_DOMAIN",
// "kind":"login_name","orgId":"42","orgKnown":true,"matchedDomain":"acme.com","message":"...",
// "domainOnOrg":false,"domainVerified":false,"stale":false,"policy":<the upstream's
// DomainPolicy JSON>}. Every key is always present ("" / false when it does not apply).
std::string FormatCheckJson(const CheckAnswer& answer);

}  // namespace policyd
