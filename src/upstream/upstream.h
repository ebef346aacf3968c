// Upstream: the upstream IAM's (ZITADEL's) read API, as the sync loop needs it.
//
// This is the seam between sync/ (pure logic + loop) and the network. The production
// implementation (MakeHttpUpstream) speaks the real REST API with libcurl; tests may substitute
// a fake. Each call is one HTTP request (plus, with key-file auth, a token request when the
// access token is missing or about to expire, and after a 401 one retry with a fresh token).
//
// Errors (Status codes), for every call:
//   UNAUTHENTICATED    HTTP 401: the credentials were rejected (message says which file to check)
//   PERMISSION_DENIED  HTTP 403: the service user lacks a role (IAM_OWNER_VIEWER is needed)
//   RESOURCE_EXHAUSTED HTTP 429: rate limited; retry_after() says how long the upstream asked
//   UNAVAILABLE        HTTP 5xx or 408, connection refused/reset, a transfer cut short (body
//                      shorter than its Content-Length), TLS failure (the message mentions TLS
//                      and --ca-file), DNS failure
//   DEADLINE_EXCEEDED  connect or total timeout
//   NOT_FOUND          HTTP 404
//   INVALID_ARGUMENT   HTTP 400, or an argument the call refuses before sending (see each call)
//   INTERNAL           a malformed or unexpected response body (with a JSON path), a body over
//                      64 MiB, or an unexpected HTTP status (3xx: redirects are not followed)
// Messages never contain tokens, keys or other secrets.
//
// Threads: one Upstream is used by one thread (the sync loop) at a time; ReloadCredentials()
// may be called from another thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "json/kind_json.h"
#include "json/policy_json.h"
#include "model/domain_page.h"  // OrgDomainPage, InstanceDomainPage: the domain lists
#include "model/domain_policy.h"
#include "model/event.h"
#include "model/org_page.h"  // OrgPage: one page of POST /admin/v1/orgs/_search

namespace policyd {

// POST /admin/v1/events/_search with asc=true.
struct EventQuery {
  std::optional<Timestamp> from;         // created_at > from (strict); none: from the beginning
  std::uint32_t limit = 1000;            // 1..1000
  std::vector<std::string> event_types;  // OR, exact; at most 30
  bool ascending = true;                 // false: newest first (used to find the newest event)
  // OR, exact; at most 10. The upstream ANDs them with event_types. When empty it derives them
  // from event_types, but only from types it still registers: legacy names (e.g.
  // "iam.policy.org.iam.added") then match nothing, so queries for them name their aggregate types.
  std::vector<std::string> aggregate_types{};
};

class Upstream {
 public:
  virtual ~Upstream() = default;

  // GET /admin/v1/policies/domain: the instance default. The instance id is the policy's
  // details.resourceOwner (INTERNAL if it is missing).
  virtual Result<InstanceRecord> GetDefaultPolicy() = 0;

  // GET /admin/v1/orgs/{orgId}/policies/domain: the org's effective policy (is_default=true when
  // it inherits the instance default). INVALID_ARGUMENT for an org id that is empty, longer than
  // kMaxIdLength or has control characters.
  virtual Result<ParsedPolicy> GetOrgPolicy(std::string_view org_id) = 0;

  // The policy of a generic kind (model/policy_kinds.h; kLabel is the active label policy,
  // kLabelPreview its preview, "<path>/_preview"): with an empty `org_id` the instance default
  // (GET /admin/v1/policies/<path>), else the org's effective policy (GET
  // /management/v1/policies/<path> with x-zitadel-orgid: is_default when it inherits the default;
  // PERMISSION_DENIED when the org does not exist). INVALID_ARGUMENT for kDomain or an org id as
  // GetOrgPolicy refuses it.
  virtual Result<ParsedKindPolicy> GetKindPolicy(PolicyKind kind, std::string_view org_id) = 0;

  // POST /admin/v1/orgs/_search {"query":{"offset":"<offset>","limit":<limit>,"asc":true}}
  // (no state filter: inactive orgs exist too; removed orgs never appear). limit: 1..1000, else
  // INVALID_ARGUMENT.
  virtual Result<OrgPage> ListOrgs(std::uint64_t offset, std::uint32_t limit) = 0;

  // POST /management/v1/orgs/me/domains/_search with header x-zitadel-orgid: <org_id> and the
  // body of ListOrgs: one page of the org's domains (permission org.read, which IAM_OWNER_VIEWER
  // grants for every org). INVALID_ARGUMENT for an org id as GetOrgPolicy refuses it, or a limit
  // outside 1..1000. PERMISSION_DENIED also when the org does not exist (any more): the upstream
  // answers 403 for an unknown x-zitadel-orgid. INTERNAL when an entry names another org.
  virtual Result<OrgDomainPage> ListOrgDomains(std::string_view org_id, std::uint64_t offset,
                                               std::uint32_t limit) = 0;

  // POST /admin/v1/domains/_search with the body of ListOrgs: one page of the instance's domains
  // (permission iam.read). limit: 1..1000, else INVALID_ARGUMENT.
  virtual Result<InstanceDomainPage> ListInstanceDomains(std::uint64_t offset,
                                                         std::uint32_t limit) = 0;

  // POST /admin/v1/events/_search. Events in the upstream's order. INVALID_ARGUMENT when
  // query.limit is outside 1..1000 or there are more than 30 event types.
  virtual Result<std::vector<Event>> ListEvents(const EventQuery& query) = 0;

  // After a RESOURCE_EXHAUSTED (429) answer: the Retry-After the upstream sent, if any.
  virtual std::optional<std::chrono::seconds> retry_after() const = 0;

  // HTTP requests made so far (token requests included).
  virtual std::uint64_t request_count() const = 0;

  // Re-reads the token or key file (SIGHUP). On error the old credentials stay in use.
  virtual Status ReloadCredentials() = 0;

  // For shutdown: the call in progress and every later call fail at once with CANCELLED.
  // Thread-safe.
  virtual void Abort() = 0;
};

struct UpstreamOptions {
  std::string base_url;    // "https://iam.example.com" (http:// only for tests and loopback)
  std::string token_file;  // Personal Access Token (exclusive with key_file)
  std::string key_file;    // service-account key JSON, for the JWT-profile grant
  std::string ca_file;     // extra trust anchor (PEM); TLS verification is always on
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(30)};
  std::string user_agent = "policyd";
};

// Builds the libcurl-based client. Reads the credentials file now.
// Errors: INVALID_ARGUMENT for a bad URL, both or neither credential given, an unreadable or
// malformed token/key file, or a token/key file readable by every user (mode & 007).
Result<std::unique_ptr<Upstream>> MakeHttpUpstream(const UpstreamOptions& options,
                                                   const Clock& clock);

}  // namespace policyd
