#include "cli/check_output.h"

#include "json/kind_json.h"
#include "json/policy_json.h"

namespace policyd {
namespace {

const char* Bool(bool b) { return b ? "true" : "false"; }

// "userLoginMustBeDomain=true validateOrgDomains=false ..." plus where the policy came from.
std::string PolicyLine(const DomainPolicy& p) {
  std::string line = "userLoginMustBeDomain=";
  line += Bool(p.flags.user_login_must_be_domain);
  line += " validateOrgDomains=";
  line += Bool(p.flags.validate_org_domains);
  line += " smtpSenderAddressMatchesInstanceDomain=";
  line += Bool(p.flags.smtp_sender_address_matches_instance_domain);
  line += p.is_default ? " (instance default" : " (own policy of ";
  if (!p.is_default) line += p.details.resource_owner;
  line += ")";
  return line;
}

// "minLength=12 hasUppercase=true ... hasSymbol=false" (every field, by its JSON name) plus
// where the policy came from; "(not in the answer)" when the daemon sent none.
std::string PasswordPolicyLine(const std::optional<KindValue>& value) {
  if (!value) return "(not in the answer)";
  const KindSpec& spec = SpecOf(value->policy.kind);
  std::string line;
  for (std::size_t i = 0; i < spec.fields.size() && i < value->policy.fields.size(); ++i) {
    const FieldValue& field = value->policy.fields[i];
    line += spec.fields[i].json_name;
    line += '=';
    line += spec.fields[i].type == FieldType::kBool ? Bool(field.number != 0)
                                                    : std::to_string(field.number);
    line += ' ';
  }
  line += value->is_default ? "(instance default" : "(own policy of ";
  if (!value->is_default) line += value->policy.details.resource_owner;
  line += ")";
  return line;
}

std::string FormatPasswordText(const CheckAnswer& a) {
  std::string out = a.allowed ? "allowed: " : "refused: ";
  out += a.allowed && a.message.empty() ? "the password meets the password complexity policy"
                                        : a.message;
  out += "\nreason:  ";
  out += CheckReasonName(a.reason);
  if (!a.error_id.empty()) {
    out += "\nerror:   ";
    out += a.error_id;
  }
  out += "\norg:     ";
  out += a.org_id;
  if (!a.org_known) out += " (unknown to policyd)";
  out += "\npolicy:  ";
  out += PasswordPolicyLine(a.password_complexity);
  out += '\n';
  return out;
}

// The keys every check's JSON starts with: allowed, reason, kind, orgId, orgKnown.
std::string CheckJsonHead(const CheckAnswer& a) {
  std::string j = "{\"allowed\":";
  j += Bool(a.allowed);
  j += ",\"reason\":";
  AppendJsonString(j, CheckReasonName(a.reason));
  j += ",\"kind\":";
  AppendJsonString(j, CheckKindName(a.kind));
  j += ",\"orgId\":";
  AppendJsonString(j, a.org_id);
  j += ",\"orgKnown\":";
  j += Bool(a.org_known);
  return j;
}

std::string FormatPasswordJson(const CheckAnswer& a) {
  std::string j = CheckJsonHead(a);
  j += ",\"errorId\":";
  AppendJsonString(j, a.error_id);
  j += ",\"message\":";
  AppendJsonString(j, a.message);
  j += ",\"stale\":";
  j += Bool(a.stale);
  j += ",\"policy\":";
  if (a.password_complexity) {
    AppendKindPolicyJson(j, a.password_complexity->policy, a.password_complexity->is_default);
  } else {
    j += "null";
  }
  j += '}';
  return j;
}

}  // namespace

std::string FormatCheckText(const CheckAnswer& a) {
  if (a.kind == CheckKind::kPassword) return FormatPasswordText(a);
  std::string out = a.allowed ? "allowed: " : "refused: ";
  out += a.message;
  out += "\nreason:  ";
  out += CheckReasonName(a.reason);
  if (!a.matched_domain.empty()) {
    out += "\ndomain:  ";
    out += a.matched_domain;
  }
  if (a.kind == CheckKind::kDomainVerification) {
    out += "\non org:  ";
    out += a.domain_on_org ? (a.domain_verified ? "yes, verified" : "yes, not verified") : "no";
  }
  if (!a.org_id.empty()) {
    out += "\norg:     ";
    out += a.org_id;
    if (!a.org_known) out += " (unknown to policyd)";
  }
  out += "\npolicy:  ";
  out += PolicyLine(a.policy);
  out += '\n';
  return out;
}

std::string FormatCheckJson(const CheckAnswer& a) {
  if (a.kind == CheckKind::kPassword) return FormatPasswordJson(a);
  std::string j = CheckJsonHead(a);
  j += ",\"matchedDomain\":";
  AppendJsonString(j, a.matched_domain);
  j += ",\"message\":";
  AppendJsonString(j, a.message);
  j += ",\"domainOnOrg\":";
  j += Bool(a.domain_on_org);
  j += ",\"domainVerified\":";
  j += Bool(a.domain_verified);
  j += ",\"stale\":";
  j += Bool(a.stale);
  j += ",\"policy\":";
  AppendDomainPolicyJson(j, a.policy);
  j += '}';
  return j;
}

}  // namespace policyd
