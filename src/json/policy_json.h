// DomainPolicy <-> the upstream IAM's JSON (v1 zitadel.policy.v1.DomainPolicy), byte-exact.
//
// Output follows the upstream's grpc-gateway marshaller (protojson, EmitUnpopulated=false):
// compact, fields in proto field-number order, false booleans, zero numbers, empty strings and
// zero timestamps omitted, uint64 as decimal strings. Input accepts what the upstream sends:
// unknown fields ignored, missing booleans are false, uint64 as a string (or a plain number).
// Like protojson, input also accepts the proto field names (is_default, resource_owner, ...) and
// null for "not set", and rejects a field given twice.
//
// Pure. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"

namespace policyd {

// Appends `s` as a JSON string literal (quotes included), escaping as protojson does: `"` and `\`,
// control characters as \b \f \n \r \t or \u00xx; all else verbatim. Where protojson would
// refuse invalid UTF-8, each invalid byte becomes U+FFFD so the output stays valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// Appends the DomainPolicy object: {"details":{...},"userLoginMustBeDomain":true,
// "isDefault":true,"validateOrgDomains":true,"smtpSenderAddressMatchesInstanceDomain":true}.
void AppendDomainPolicyJson(std::string& out, const DomainPolicy& policy);

// The whole body of GET /management/v1/policies/domain (and /admin/v1/policies/domain,
// /admin/v1/orgs/{id}/policies/domain): {"policy":<DomainPolicy>}.
std::string FormatGetPolicyResponse(const DomainPolicy& policy);

// A parsed DomainPolicy object (the value of "policy").
struct ParsedPolicy {
  PolicyRecord record;
  bool is_default = false;
};

// Parses one DomainPolicy JSON object (the whole of `json`; unknown fields must still be
// well-formed JSON). Errors: INVALID_ARGUMENT with a JSON path, e.g.
// "details.sequence: expected a uint64 as a decimal string, got \"abc\"" ("top level: ..." for the
// document itself); RESOURCE_EXHAUSTED when memory for parsing cannot be allocated.
Result<ParsedPolicy> ParseDomainPolicyJson(std::string_view json);

}  // namespace policyd
