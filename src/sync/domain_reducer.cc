#include "sync/domain_reducer.h"

#include <algorithm>

namespace policyd {
namespace {

std::vector<OrgDomain>::iterator FindDomain(std::vector<OrgDomain>& domains,
                                            std::string_view name) {
  return std::find_if(domains.begin(), domains.end(),
                      [name](const OrgDomain& d) { return SameDomain(d.name, name); });
}

// The list's entry for `name`, appended (not verified, not primary) if missing; nullptr if the
// list is full.
OrgDomain* FindOrAdd(std::vector<OrgDomain>& domains, std::string_view name) {
  auto it = FindDomain(domains, name);
  if (it != domains.end()) return &*it;
  if (domains.size() >= kMaxDomainsPerList) return nullptr;
  return &domains.emplace_back(OrgDomain{std::string(name), false, false});
}

}  // namespace

ReduceOutcome ReduceOrgDomain(DomainEvent kind, const Event& e, std::vector<OrgDomain>& domains,
                              std::uint64_t& sequence) {
  if (e.sequence <= sequence) return ReduceOutcome::kNoEffect;
  if (!ValidateDomainName("domain", e.domain).ok()) return ReduceOutcome::kInvalid;
  if (kind == DomainEvent::kRemoved) {
    auto it = FindDomain(domains, e.domain);
    if (it != domains.end()) domains.erase(it);
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
  return ReduceOutcome::kApplied;
}

ReduceOutcome ReduceInstanceDomain(DomainEvent kind, const Event& e, InstanceDomains& domains) {
  if (e.sequence <= domains.sequence) return ReduceOutcome::kNoEffect;
  if (!ValidateDomainName("domain", e.domain).ok()) return ReduceOutcome::kInvalid;
  std::vector<std::string>& names = domains.names;
  auto it = std::find_if(names.begin(), names.end(),
                         [&e](const std::string& n) { return SameDomain(n, e.domain); });
  if (kind == DomainEvent::kRemoved) {
    if (it != names.end()) names.erase(it);
  } else if (it == names.end()) {
    if (names.size() >= kMaxDomainsPerList) return ReduceOutcome::kInvalid;
    names.push_back(e.domain);
  }
  domains.sequence = e.sequence;
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
