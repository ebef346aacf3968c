// The domain half of the event reducer (sync/reducer.h): what the upstream's org-domain and
// instance-domain events do to the lists of model/domains.h.
//
//   org.domain.added        the domain joins the list, not verified, not primary
//   org.domain.verified     the domain is verified
//   org.domain.primary.set  the domain becomes the only primary (and is verified: the upstream
//                           only lets a verified domain become primary)
//   org.domain.removed      the domain leaves the list
//   instance.domain.added / instance.domain.removed  likewise for the instance's list
//
// A verified or primary.set event for a domain the list lacks adds it: its org.domain.added lies
// before what the cold start saw (audit-log retention), and the event proves the org has it.
// Domains are matched ASCII case-insensitively (SameDomain).
//
// Idempotence: a list keeps the sequence and stream of the last event applied to it, and an event
// of that stream at or below it has no effect (sync/reducer.h: IsApplied; events of another
// stream are applied). Malformed events (a bad domain name) and events that
// would grow a list past kMaxDomainsPerList are kInvalid: skipped, so the store never refuses
// the page.
//
// Pure. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/domains.h"
#include "model/event.h"
#include "sync/reducer.h"

namespace policyd {

enum class DomainEvent {
  kAdded,
  kVerified,
  kPrimarySet,
  kRemoved,
};

// Applies `e` (of kind `kind`, naming e.domain) to an org's `domains`, last changed by the event
// `sequence` of `stream`. kApplied (the list, `sequence` and `stream` changed), kNoEffect (already
// applied), kInvalid (skipped).
ReduceOutcome ReduceOrgDomain(DomainEvent kind, const Event& e, std::vector<OrgDomain>& domains,
                              std::uint64_t& sequence, EventStream& stream);

// The same for the instance's list; `kind` is kAdded or kRemoved.
ReduceOutcome ReduceInstanceDomain(DomainEvent kind, const Event& e, InstanceDomains& domains);

// Makes the domains an org's domain list named (read page by page, in the upstream's order) a
// list the store accepts (ValidateOrgDomains): each name once (SameDomain; a later duplicate, from
// a list that changed between pages, is merged into the first: verified or primary if either
// says so), a primary always verified (the upstream only lets a verified domain become primary),
// at most one primary (the first listed), and at most kMaxDomainsPerList entries: beyond that the
// primary and then the verified domains are kept, in list order. Names must be valid already
// (the JSON parser checks them). Returns how many domains were dropped for the limit.
std::size_t NormalizeListedOrgDomains(std::vector<OrgDomain>& domains);

// The same for the instance's list: each name once, at most kMaxDomainsPerList (the first ones).
std::size_t NormalizeListedInstanceDomains(std::vector<std::string>& names);

}  // namespace policyd
