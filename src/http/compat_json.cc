#include "http/compat_json.h"

#include "json/policy_json.h"
#include "json/timestamp.h"

namespace policyd::http {
namespace {

// Appends "key":value, with a comma unless it is the first member of the object being written.
void AppendKey(std::string& out, std::string_view key) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += key;
  out += "\":";
}

void AppendStringField(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  AppendKey(out, key);
  AppendJsonString(out, value);
}

void AppendTimestampField(std::string& out, std::string_view key, Timestamp t) {
  if (t.IsZero()) return;
  AppendKey(out, key);
  out += '"';
  AppendTimestamp(out, t);
  out += '"';
}

}  // namespace

std::string FormatStatusBody(Code code, std::string_view text, std::string_view error_id) {
  // google.rpc.Status: code=1, message=2, details=3 (omitted when empty).
  std::string out = "{";
  if (code != Code::kOk) {
    AppendKey(out, "code");
    out += std::to_string(static_cast<int>(code));
  }
  if (error_id.empty()) {
    AppendStringField(out, "message", text);
    return out + "}";
  }
  AppendStringField(out, "message", std::string(text) + " (" + std::string(error_id) + ")");
  out += ",\"details\":[{\"@type\":\"type.googleapis.com/zitadel.v1.ErrorDetail\"";
  AppendStringField(out, "id", error_id);
  AppendStringField(out, "message", text);
  return out + "}]}";
}

std::string FormatOrgIamPolicyResponse(const DomainPolicy& policy) {
  DomainPolicy org_iam = policy;
  org_iam.flags.validate_org_domains = false;
  org_iam.flags.smtp_sender_address_matches_instance_domain = false;
  std::string out = "{\"policy\":";
  AppendDomainPolicyJson(out, org_iam);
  return out + "}";
}

std::string FormatDomainSettingsResponse(const DomainPolicy& policy) {
  // zitadel.object.v2.Details numbers its fields differently from v1's ObjectDetails.
  const Details& d = policy.details;
  std::string out = "{\"details\":{";
  if (d.sequence != 0) {
    AppendKey(out, "sequence");
    out += '"' + std::to_string(d.sequence) + '"';
  }
  AppendTimestampField(out, "changeDate", d.change_date);
  AppendStringField(out, "resourceOwner", d.resource_owner);
  AppendTimestampField(out, "creationDate", d.creation_date);
  out += "},\"settings\":{";
  if (policy.flags.user_login_must_be_domain) out += "\"loginNameIncludesDomain\":true,";
  if (policy.flags.validate_org_domains) out += "\"requireOrgDomainVerification\":true,";
  if (policy.flags.smtp_sender_address_matches_instance_domain) {
    out += "\"smtpSenderAddressMatchesInstanceDomain\":true,";
  }
  out += policy.is_default ? "\"resourceOwnerType\":\"RESOURCE_OWNER_TYPE_INSTANCE\""
                           : "\"resourceOwnerType\":\"RESOURCE_OWNER_TYPE_ORG\"";
  return out + "}}";
}

}  // namespace policyd::http
