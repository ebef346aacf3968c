// The upstream's (ZITADEL grpc-gateway) JSON bodies that policy_json.h does not already write:
// error bodies (google.rpc.Status), the deprecated OrgIAMPolicy reads and the v2 domain settings.
// Byte-exact as protojson writes them (compact, fields in proto field-number order, false, zero
// and empty values omitted, uint64 as decimal strings): ../shared/upstream/zitadel-api.md §1, §2.
//
// Pure. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/http_status.h"  // HttpStatusFromCode, which these answers go with
#include "base/status.h"
#include "model/domain_policy.h"

namespace policyd::http {

// A google.rpc.Status body. With a ZITADEL error id, the message is "<text> (<id>)" and the
// details carry one zitadel.v1.ErrorDetail {id, message: <text>}, as ZITADEL's handlers and
// interceptors answer, e.g.
//   {"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)","details":[{"@type":
//    "type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-Bs7Ds","message":"Organisation
//    doesn't exist"}]}
// Without one (grpc-gateway's routing errors, request validation, policyd's own errors) the
// body is {"code":N,"message":"<text>"}.
std::string FormatStatusBody(Code code, std::string_view text, std::string_view error_id = {});

// {"policy":<OrgIAMPolicy>}: the body of the deprecated GET .../policies/orgiam reads.
// zitadel.policy.v1.OrgIAMPolicy is {details=1, userLoginMustBeDomain=2, isDefault=3}: the
// domain policy without its other two flags.
std::string FormatOrgIamPolicyResponse(const DomainPolicy& policy);

// The body of GET /v2/settings/domain: {"details":{sequence, changeDate, resourceOwner,
// creationDate},"settings":{loginNameIncludesDomain, requireOrgDomainVerification,
// smtpSenderAddressMatchesInstanceDomain, resourceOwnerType}} (zitadel.object.v2.Details and
// zitadel.settings.v2.DomainSettings field order); resourceOwnerType is always written
// (RESOURCE_OWNER_TYPE_INSTANCE for the instance default, RESOURCE_OWNER_TYPE_ORG otherwise).
std::string FormatDomainSettingsResponse(const DomainPolicy& policy);

}  // namespace policyd::http
