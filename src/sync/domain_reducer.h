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

// The host of an upstream base URL ("https://iam.example.com:8443/x" -> "iam.example.com";
// brackets of an IPv6 literal dropped): an instance domain, since the upstream picks the instance
// by the Host header. "" if `url` has no valid host.
std::string HostOfUrl(std::string_view url);

}  // namespace policyd
