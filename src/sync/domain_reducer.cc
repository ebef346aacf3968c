#include "sync/domain_reducer.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace policyd {
namespace {

// `name` with ASCII upper case made lower case: equal for names that are SameDomain.
std::string LowerCase(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The list's entry for `name`, appended (not verified, not primary) if missing; nullptr if the
// list is full.
OrgDomain* FindOrAdd(std::vector<OrgDomain>& domains, std::string_view name) {
  if (const OrgDomain* found = FindDomain(domains, name)) return &domains[found - domains.data()];
  if (domains.size() >= kMaxDomainsPerList) return nullptr;
  return &domains.emplace_back(OrgDomain{std::string(name), false, false});
}

}  // namespace

ReduceOutcome ReduceOrgDomain(DomainEvent kind, const Event& e, std::vector<OrgDomain>& domains,
                              std::uint64_t& sequence, EventStream& stream) {
  if (IsApplied(stream, sequence, e)) return ReduceOutcome::kNoEffect;
  if (!ValidateDomainName("domain", e.domain).ok()) return ReduceOutcome::kInvalid;
  if (kind == DomainEvent::kRemoved) {
    if (const OrgDomain* found = FindDomain(domains, e.domain)) {
      domains.erase(domains.begin() + (found - domains.data()));
    }
  } else {
    OrgDomain* domain = FindOrAdd(domains, e.domain);
    if (domain == nullptr) return ReduceOutcome::kInvalid;
    if (kind == DomainEvent::kVerified) domain->verified = true;
    if (kind == DomainEvent::kPrimarySet) {
      for (OrgDomain& d : domains) d.primary = false;
      domain->verified = true;
      domain->primary = true;
    }
  }
  sequence = e.sequence;
  stream = StreamOf(e);
  return ReduceOutcome::kApplied;
}

ReduceOutcome ReduceInstanceDomain(DomainEvent kind, const Event& e, InstanceDomains& domains) {
  if (IsApplied(domains.stream, domains.sequence, e)) return ReduceOutcome::kNoEffect;
  if (!ValidateDomainName("domain", e.domain).ok()) return ReduceOutcome::kInvalid;
  std::vector<std::string>& names = domains.names;
  const std::string* found = FindDomain(names, e.domain);
  if (kind == DomainEvent::kRemoved) {
    if (found != nullptr) names.erase(names.begin() + (found - names.data()));
  } else if (found == nullptr) {
    if (names.size() >= kMaxDomainsPerList) return ReduceOutcome::kInvalid;
    names.push_back(e.domain);
  }
  domains.sequence = e.sequence;
  domains.stream = StreamOf(e);
  return ReduceOutcome::kApplied;
}

std::size_t NormalizeListedOrgDomains(std::vector<OrgDomain>& domains) {
  std::vector<OrgDomain> merged;
  merged.reserve(domains.size());
  std::unordered_map<std::string, std::size_t> index;  // lower-cased name -> entry of `merged`
  bool has_primary = false;
  for (OrgDomain& d : domains) {
    d.verified = d.verified || d.primary;
    d.primary = d.primary && !has_primary;
    has_primary = has_primary || d.primary;
    const auto [it, added] = index.try_emplace(LowerCase(d.name), merged.size());
    if (added) {
      merged.push_back(std::move(d));
      continue;
    }
    OrgDomain& first = merged[it->second];
    first.verified = first.verified || d.verified;
    first.primary = first.primary || d.primary;
  }
  domains = std::move(merged);
  if (domains.size() <= kMaxDomainsPerList) return 0;
  // Keep what the checks can use: the primary, then the verified domains, then the others.
  std::stable_partition(domains.begin(), domains.end(),
                        [](const OrgDomain& d) { return d.primary; });
  std::stable_partition(domains.begin(), domains.end(),
                        [](const OrgDomain& d) { return d.primary || d.verified; });
  const std::size_t dropped = domains.size() - kMaxDomainsPerList;
  domains.resize(kMaxDomainsPerList);
  return dropped;
}

std::size_t NormalizeListedInstanceDomains(std::vector<std::string>& names) {
  std::vector<std::string> unique;
  unique.reserve(names.size());
  std::unordered_set<std::string> seen;
  for (std::string& name : names) {
    if (seen.insert(LowerCase(name)).second) unique.push_back(std::move(name));
  }
  names = std::move(unique);
  if (names.size() <= kMaxDomainsPerList) return 0;
  const std::size_t dropped = names.size() - kMaxDomainsPerList;
  names.resize(kMaxDomainsPerList);
  return dropped;
}

}  // namespace policyd
