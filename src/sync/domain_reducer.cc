#include "sync/domain_reducer.h"

namespace policyd {
namespace {

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

std::string HostOfUrl(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (const std::size_t at = url.rfind('@'); at != std::string_view::npos) {
    url.remove_prefix(at + 1);  // user info
  }
  std::string_view host = url;
  if (url.starts_with('[')) {
    const std::size_t close = url.find(']');
    if (close == std::string_view::npos) return "";
    host = url.substr(1, close - 1);
  } else if (const std::size_t colon = url.find(':'); colon != std::string_view::npos) {
    host = url.substr(0, colon);
  }
  if (!ValidateDomainName("host", host).ok()) return "";
  return std::string(host);
}

}  // namespace policyd
