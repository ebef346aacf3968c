// The upstream IAM's (ZITADEL's) REST JSON that the sync client reads and writes, other than the
// DomainPolicy object itself (json/policy_json.h): ListEvents, ListOrgs, ListOrgDomains,
// ListInstanceDomains and GetDomainPolicy responses, the OAuth token response, the service-account
// key file, error bodies, and the request bodies policyd sends. See
// ../shared/upstream/zitadel-api.md.
//
// Parsers accept what the upstream sends: unknown fields anywhere are ignored (but must be
// well-formed JSON), int64/uint64 come as decimal strings (plain numbers are accepted too), null
// means "not set", and false/zero/empty values may be absent (protojson omits them). A known
// field given twice is an error, as in protojson. Errors are INVALID_ARGUMENT with the JSON path
// where the problem is, e.g. "events[3].aggregate.id: missing", or RESOURCE_EXHAUSTED when memory
// for parsing cannot be allocated. Error messages quote response values (at most ~64 bytes) but
// never secrets: the token and key parsers do not quote the token or the key.
//
// Pure: no I/O, no clock. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "json/policy_json.h"
#include "model/domain_page.h"
#include "model/event.h"
#include "model/org_page.h"

namespace policyd {

// ---- Responses ----

// POST /admin/v1/events/_search:
//   {"events":[{"editor":{...},
//               "aggregate":{"id":"…","type":{"type":"org","localized":{…}},"resourceOwner":"…"},
//               "sequence":"12","creationDate":"<RFC 3339>","payload":{…},
//               "type":{"type":"org.policy.domain.changed","localized":{…}}}]}
// Events in document order. "events" absent or null: no events. `type` and `aggregate.type` may
// also be plain strings. Required per event: type (non-empty), aggregate.id (1..kMaxIdLength
// bytes), aggregate.type (non-empty) and creationDate (the sync cursor); sequence absent means 0.
// "payload" absent or null: no data. Payload keys read: userLoginMustBeDomain, validateOrgDomains,
// smtpSenderAddressMatchesInstanceDomain (booleans, into Event::patch, present keys only; null
// counts as absent), "domain" and "orgId" (strings); other payload keys are ignored.
Result<std::vector<Event>> ParseListEventsResponse(std::string_view body);

// POST /admin/v1/orgs/_search:
//   {"details":{"totalResult":"42",…},"sortingColumn":"…",
//    "result":[{"id":"…","details":{…},"state":"ORG_STATE_ACTIVE","name":"…","primaryDomain":"…"}]}
// "result" absent or null: no orgs; "totalResult" absent: 0. Each org needs an "id" of
// 1..kMaxIdLength bytes; "primaryDomain", when present and not empty, must be a valid domain name
// (ValidateDomainName).
Result<OrgPage> ParseListOrgsResponse(std::string_view body);

// POST /management/v1/orgs/me/domains/_search (the org named by x-zitadel-orgid):
//   {"details":{"totalResult":"2",…},
//    "result":[{"orgId":"…","details":{…},"domainName":"acme.com","isVerified":true,
//               "isPrimary":true,"validationType":"DOMAIN_VALIDATION_TYPE_DNS"}]}
// "result" absent or null: no domains; "totalResult" absent: 0; isVerified/isPrimary absent or
// null: false. Each domain needs a "domainName" that is a valid domain name (ValidateDomainName).
// "orgId", when present, must be `org_id`: the list of another org means the x-zitadel-orgid
// header did not reach the upstream (a proxy dropping it answers for the caller's own org).
// "details" and "validationType" are not needed and are ignored.
Result<OrgDomainPage> ParseListOrgDomainsResponse(std::string_view body, std::string_view org_id);

// POST /admin/v1/domains/_search (ListInstanceDomains):
//   {"details":{"totalResult":"2",…},"sortingColumn":"…",
//    "result":[{"details":{…},"domain":"login.example.com","primary":true,"generated":true}]}
// (zitadel.instance.v1.Domain: the name is "domain", not "domainName"). "result" absent or null:
// no domains; "totalResult" absent: 0. Each entry needs a valid "domain"; "primary" and
// "generated" must be booleans when present (policyd needs neither); "details" is ignored.
Result<InstanceDomainPage> ParseListInstanceDomainsResponse(std::string_view body);

// GET /admin/v1/policies/domain, GET /admin/v1/orgs/{orgId}/policies/domain and
// GET /management/v1/policies/domain: {"policy":<DomainPolicy>} (the deprecated top-level
// "isDefault" is ignored). "policy" is required.
Result<ParsedPolicy> ParseGetPolicyResponse(std::string_view body);

// The OAuth token endpoint's success answer: {"access_token":"…","token_type":"Bearer",
// "expires_in":43199, …}.
struct TokenResponse {
  std::string access_token;     // printable ASCII without spaces (safe in a header)
  std::int64_t expires_in = 0;  // seconds; 0 when absent
};

// Requires a non-empty access_token of printable ASCII without spaces, and token_type "Bearer"
// (any case) when token_type is present. expires_in may be a number or a decimal string, >= 0.
// Messages never quote the access token.
Result<TokenResponse> ParseTokenResponse(std::string_view body);

// A ZITADEL service-account key file (the JWT-profile credentials):
//   {"type":"serviceaccount","keyId":"…","key":"-----BEGIN RSA PRIVATE KEY-----\n…",
//    "expirationDate":"<RFC 3339>","userId":"…"}
struct ServiceAccountKey {
  std::string key_id;
  std::string private_key_pem;  // secret: callers wipe it when done
  std::string user_id;
  Timestamp expiration_date;  // zero when absent
};

// Requires keyId, key and userId (non-empty strings); "type", when present, must be
// "serviceaccount" (an application key is refused with a message saying so); expirationDate,
// when present, must be an RFC 3339 timestamp. Messages never quote the key. Note: simdjson's
// internal copies of the input (and, on errors, the partly parsed key) are freed, not wiped.
Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json);

// What an error body says, for error messages. Both grpc-gateway bodies
// ({"code":7,"message":"…","details":[…]}), connect bodies ({"code":"not_found","message":"…"})
// and OAuth errors ({"error":"invalid_grant","error_description":"…"}) are understood.
struct UpstreamErrorBody {
  std::string code;     // "7", "not_found" or "invalid_grant"; may be empty
  std::string message;  // message or error_description; may be empty
};

// Best effort: nullopt when `body` is not such a JSON object or says nothing useful. Both
// strings are cut to at most 256 bytes (at a UTF-8 boundary, "..." appended) and control
// characters become spaces, so they are safe to put in a log line.
std::optional<UpstreamErrorBody> ParseErrorBody(std::string_view body);

// ---- Requests ----

// The body of POST /admin/v1/events/_search, compact, in this field order:
//   {"asc":true,"limit":1000,"eventTypes":["a","b"],"aggregateTypes":["org"],
//    "from":"2025-03-01T09:12:44.123456Z"}
// "asc" is written only when true (the upstream's default is descending), "eventTypes" and
// "aggregateTypes" only when non-empty and "from" only when set (formatted like protojson,
// json/timestamp.h).
std::string FormatListEventsRequest(bool ascending, std::uint32_t limit,
                                    std::span<const std::string> event_types,
                                    std::span<const std::string> aggregate_types,
                                    const std::optional<Timestamp>& from);

// The body of POST /admin/v1/orgs/_search:
//   {"query":{"offset":"<offset>","limit":<limit>,"asc":true}}
// (offset is a uint64, so a string; no state filter: inactive orgs are listed too). Both domain
// lists take the same body (a ListQuery, no sortingColumn, no queries).
std::string FormatListOrgsRequest(std::uint64_t offset, std::uint32_t limit);

}  // namespace policyd
