// JSON views of UpstreamState, byte-for-byte as ZITADEL's grpc-gateway (protojson, compact,
// EmitUnpopulated=false) writes them: ListEvents, ListOrgs, v2 domain settings, error Status.
//
// Pure functions of their arguments. The caller holds the state's lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "fake_upstream/upstream_state.h"
#include "model/domain_policy.h"

namespace policyd::testing_support {

// A parsed POST /admin/v1/events/_search request (ListEventsRequest).
struct EventSearch {
  bool asc = false;
  std::uint32_t limit = 0;     // 0 or > 1000: 1000
  std::uint64_t sequence = 0;  // 0: no filter
  std::string editor_user_id;
  std::vector<std::string> event_types;      // OR, exact
  std::vector<std::string> aggregate_types;  // empty: derived from the registered event_types
  std::string aggregate_id;
  std::string resource_owner;
  std::optional<Timestamp> from;   // asc: created_at > from; desc: created_at < from
  std::optional<Timestamp> since;  // range: created_at > since
  std::optional<Timestamp> until;  // range: created_at < until
};

// The ListEvents response body. Events created before `visible_from` (audit-log retention) are
// left out; a zero `visible_from` hides nothing.
std::string RenderEvents(const UpstreamState& state, const EventSearch& search,
                         Timestamp visible_from);

// One query of ListOrgsRequest.queries.
struct OrgQuery {
  enum class Kind { kState, kName, kDomain, kId };
  Kind kind = Kind::kId;
  std::string value;   // state: "ORG_STATE_ACTIVE"/"ORG_STATE_INACTIVE"; else the text
  std::string method;  // TEXT_QUERY_METHOD_...; empty: EQUALS
};

struct OrgSearch {
  std::uint64_t offset = 0;
  std::uint32_t limit = 0;  // 0 or > 1000: 1000
  bool asc = false;
  std::string sorting_column;  // echoed; empty or ..._UNSPECIFIED: omitted
  std::vector<OrgQuery> queries;
};

// The POST /admin/v1/orgs/_search response body (sorted by name, ascending or descending).
std::string RenderOrgs(const UpstreamState& state, const OrgSearch& search);

// A parsed ListOrgDomainsRequest (POST /management/v1/orgs/me/domains/_search) or
// ListInstanceDomainsRequest (POST /admin/v1/domains/_search).
struct DomainSearch {
  std::uint64_t offset = 0;
  std::uint32_t limit = 0;  // 0 or > 1000: 1000
  bool asc = false;
  std::string sorting_column;  // instance list only; echoed; empty or ..._UNSPECIFIED: omitted
};

// The ListOrgDomains response body for `org`: {"details":{totalResult,processedSequence,
// viewTimestamp},"result":[{orgId,details,domainName,isVerified,isPrimary,validationType}]},
// sorted by domain name (ascending or descending).
std::string RenderOrgDomains(const UpstreamState& state, const FakeOrg& org,
                             const DomainSearch& search);

// The ListInstanceDomains response body: {"details":{…},"sortingColumn":…,"result":[{details,
// domain,primary,generated}]}, sorted by domain name; the first domain of the instance is the
// generated one and the primary.
std::string RenderInstanceDomains(const UpstreamState& state, const DomainSearch& search);

// The ListLoginPolicyIDPs response body (admin and management): {"details":{"totalResult":…,
// "viewTimestamp":…},"result":[IDPLoginPolicyLink…]}, the page (offset, limit) of `links` in
// their order: the upstream's query has no ORDER BY, so `asc` changes nothing. totalResult counts
// every link (COUNT(*) OVER ()).
std::string RenderLoginPolicyIdps(const UpstreamState& state, const std::vector<IdpLinkView>& links,
                                  const DomainSearch& search);

// The body of a v1 policy read: {"policy":<DomainPolicy>}, or with `org_iam` the deprecated
// {"policy":<OrgIAMPolicy>} = {details, userLoginMustBeDomain, isDefault} of the .../orgiam reads.
std::string RenderPolicy(const DomainPolicy& policy, bool org_iam);

// GET /v2/settings/domain: {"details":{...},"settings":{...v2 names...}}.
std::string RenderDomainSettings(const DomainPolicy& policy);

// {"details":{"sequence":...,"creationDate"|"changeDate":...,"resourceOwner":...}} for write
// responses; `creation` picks which date is set.
std::string RenderWriteDetails(const Details& details, bool creation);

// A google.rpc.Status body. `message` may end in " (<ZITADEL error id>)": then the details carry
// a zitadel.v1.ErrorDetail with that id and the text before it; otherwise there are no details.
std::string RenderStatus(Code code, std::string_view message);

// grpc-gateway's HTTP status for a gRPC code.
int HttpStatusFromCode(Code code);

}  // namespace policyd::testing_support
