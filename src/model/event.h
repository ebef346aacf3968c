// An event from the upstream IAM's event store, as returned by POST /admin/v1/events/_search,
// reduced to what policyd needs. See ../shared/upstream/zitadel-api.md §3.
//
// Plain values. The mapping of event types (including legacy names) to meaning is done by the
// sync reducer (sync/), not here: `type` is the raw string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/timestamp.h"
#include "model/idp_events.h"
#include "model/policy_kinds.h"

namespace policyd {

// The keys present in a domain-policy event payload. For "...added" events a missing key means
// false; for "...changed" events a missing key means "unchanged".
struct PolicyPatch {
  std::optional<bool> user_login_must_be_domain;
  std::optional<bool> validate_org_domains;
  std::optional<bool> smtp_sender_address_matches_instance_domain;

  friend bool operator==(const PolicyPatch&, const PolicyPatch&) = default;
};

struct Event {
  std::string type;            // e.g. "org.policy.domain.changed" (the raw `type.type`)
  std::string aggregate_type;  // e.g. "org", "instance" (the raw `aggregate.type.type`)
  std::string aggregate_id;
  std::string resource_owner;  // aggregate.resourceOwner
  std::uint64_t sequence = 0;  // per aggregate
  Timestamp creation_date;     // shared by all events of one push
  PolicyPatch patch;           // policy events: payload keys userLoginMustBeDomain, ...
  std::string domain;          // domain events: payload "domain"
  std::string org_id_payload;  // instance.default.org.set: payload "orgId"
  KindPatch kind_patch{};      // events of the other policy kinds (model/policy_kinds.h)
  IdpPatch idp_patch{};        // IdP and IdP link events (model/idp_events.h)

  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace policyd
