// Request bodies of the fake upstream, parsed like grpc-gateway's protojson: camelCase or
// snake_case names (not both), null = unset, unknown fields ignored, 64-bit integers as numbers
// or decimal strings, enums as names or numbers, timestamps as RFC 3339 strings, an empty body is
// an empty request. Errors: INVALID_ARGUMENT naming the field.
//
// Pure. Thread-safe.
#pragma once

#include <string_view>

#include "base/status.h"
#include "fake_upstream/state_json.h"
#include "model/domain_policy.h"

namespace policyd::testing_support {

// {userLoginMustBeDomain, validateOrgDomains, smtpSenderAddressMatchesInstanceDomain}.
Result<PolicyFlags> ParsePolicyFlags(std::string_view body);

// ListOrgsRequest: {query:{offset,limit,asc}, sortingColumn, queries:[{stateQuery|nameQuery|
// domainQuery|idQuery}]}.
Result<OrgSearch> ParseOrgSearch(std::string_view body);

// ListOrgDomainsRequest {query:{offset,limit,asc}, queries} or, with `instance`,
// ListInstanceDomainsRequest {query, sortingColumn: DOMAIN_FIELD_NAME_..., queries}. The fake
// does not filter: a non-empty "queries" is INVALID_ARGUMENT.
Result<DomainSearch> ParseDomainSearch(std::string_view body, bool instance);

// ListEventsRequest (see EventSearch). At most 30 event types and 10 aggregate types; `from` /
// `creationDate` and `range` are a oneof.
Result<EventSearch> ParseEventSearch(std::string_view body);

}  // namespace policyd::testing_support
