// Org and instance domains: what the checks (login name, SMTP sender, domain verification) need
// besides the policy. Kept from the upstream's events (../shared/upstream/zitadel-api.md §3.2):
//   org.domain.added          the org has the domain, not verified, not primary
//   org.domain.verified       the domain is verified
//   org.domain.primary.set    the domain is the org's primary (only verified domains can be)
//   org.domain.removed        the org no longer has the domain
//   instance.domain.added     the instance has the domain; instance.domain.removed: no longer
// Domain names are compared ASCII case-insensitively (DNS names); stored as the upstream sent them.
//
// Thread-safety: plain values; the functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/event_stream.h"

namespace policyd {

struct OrgDomain {
  std::string name;
  bool verified = false;
  bool primary = false;

  friend bool operator==(const OrgDomain&, const OrgDomain&) = default;
};

// The domains one check reads, from one consistent view of the store. Reused across requests:
// readers clear() and refill, keeping capacity.
struct DomainSet {
  std::vector<OrgDomain> org;         // the org's domains (empty: unknown org, or none known)
  std::vector<std::string> instance;  // the instance's domains

  friend bool operator==(const DomainSet&, const DomainSet&) = default;
};

// Longest domain name (a DNS name: 253 bytes), and most domains one org or the instance may hold
// in policyd (the upstream has no limit; 1,000 bounds a store value at ~256 KB).
inline constexpr std::size_t kMaxDomainLength = 253;
inline constexpr std::size_t kMaxDomainsPerList = 1000;

// One org's domains as the store and a snapshot keep them. `sequence` is the sequence of the last
// event applied to the list (a domain event or org.removed) in its `stream`, 0 and unknown if
// not known (a snapshot file, the org-list fallback): the sync reducer skips events of that
// stream at or below it, which makes replaying an overlap of the event stream harmless.
struct OrgDomains {
  std::string org_id;
  std::vector<OrgDomain> domains;
  std::uint64_t sequence = 0;
  EventStream stream{};

  friend bool operator==(const OrgDomains&, const OrgDomains&) = default;
};

// The instance's domains, with the sequence and stream of the last event applied, like
// OrgDomains.
struct InstanceDomains {
  std::vector<std::string> names;
  std::uint64_t sequence = 0;
  EventStream stream{};

  friend bool operator==(const InstanceDomains&, const InstanceDomains&) = default;
};

// One org's claim on a domain: the org has it verified. The store's verified-domain index keeps,
// per domain (ASCII case-insensitively), every org that has it verified (store/keys.h); the
// login-name check refuses a bare username ending in another org's verified domain (check.h).
struct DomainClaim {
  std::string org_id;
  std::string domain;  // as that org's domain list spells it

  friend bool operator==(const DomainClaim&, const DomainClaim&) = default;
};

// True if `a` and `b` are the same domain (ASCII case-insensitive, as DNS compares names).
bool SameDomain(std::string_view a, std::string_view b);

// Appends `name` with ASCII upper-case letters lowered: the one spelling of every name that
// SameDomain() treats as equal (the key of the verified-domain index).
void AppendLowercaseDomain(std::string_view name, std::string* out);

// The entry of `domains` that is the same domain as `name` (SameDomain), or nullptr.
const OrgDomain* FindDomain(std::span<const OrgDomain> domains, std::string_view name);
const std::string* FindDomain(std::span<const std::string> names, std::string_view name);

// Checks a domain name from outside: 1..kMaxDomainLength bytes, no control characters, no
// whitespace. INVALID_ARGUMENT naming `what` otherwise.
Status ValidateDomainName(std::string_view what, std::string_view name);

// Checks one org's list: at most kMaxDomainsPerList domains, each name valid, no name twice
// (SameDomain), at most one primary, and the primary verified (the upstream only lets a verified
// domain become primary). INVALID_ARGUMENT naming `what` and the offending domain otherwise.
Status ValidateOrgDomains(std::string_view what, const std::vector<OrgDomain>& domains);

// Checks the instance's list: at most kMaxDomainsPerList names, each valid, none twice.
Status ValidateInstanceDomains(std::string_view what, const std::vector<std::string>& names);

}  // namespace policyd
