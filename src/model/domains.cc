#include "model/domains.h"

#include <algorithm>
#include <string>

namespace policyd {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lowered(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), Lower);
  return out;
}

Status TooMany(std::string_view what, std::size_t n) {
  return Status::InvalidArgument(std::string(what) + ": " + std::to_string(n) +
                                 " domains, more than the " + std::to_string(kMaxDomainsPerList) +
                                 " policyd keeps per org or instance");
}

// INVALID_ARGUMENT naming the first name that `names` holds twice (SameDomain), OK if none.
Status NoDuplicates(std::string_view what, std::vector<std::string> names) {
  for (std::string& n : names) n = Lowered(n);
  std::sort(names.begin(), names.end());
  auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup == names.end()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + ": domain " + *dup +
                                 " appears more than once");
}

}  // namespace

bool SameDomain(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

void AppendLowercaseDomain(std::string_view name, std::string* out) {
  for (char c : name) out->push_back(Lower(c));
}

const OrgDomain* FindDomain(std::span<const OrgDomain> domains, std::string_view name) {
  for (const OrgDomain& d : domains) {
    if (SameDomain(d.name, name)) return &d;
  }
  return nullptr;
}

const std::string* FindDomain(std::span<const std::string> names, std::string_view name) {
  for (const std::string& n : names) {
    if (SameDomain(n, name)) return &n;
  }
  return nullptr;
}

Status ValidateDomainName(std::string_view what, std::string_view name) {
  if (name.empty()) return Status::InvalidArgument(std::string(what) + ": domain name is empty");
  if (name.size() > kMaxDomainLength) {
    return Status::InvalidArgument(std::string(what) + ": domain name is longer than " +
                                   std::to_string(kMaxDomainLength) + " bytes");
  }
  for (unsigned char c : name) {
    // Never part of a DNS name; they would also corrupt logs, keys and JSON output.
    if (c <= 0x20 || c == 0x7f) {
      return Status::InvalidArgument(std::string(what) +
                                     ": domain name contains whitespace or a control character");
    }
  }
  return Status::Ok();
}

Status ValidateOrgDomains(std::string_view what, const std::vector<OrgDomain>& domains) {
  if (domains.size() > kMaxDomainsPerList) return TooMany(what, domains.size());
  std::vector<std::string> names;
  names.reserve(domains.size());
  const OrgDomain* primary = nullptr;
  for (const OrgDomain& d : domains) {
    POLICYD_RETURN_IF_ERROR(ValidateDomainName(what, d.name));
    if (d.primary) {
      if (primary != nullptr) {
        return Status::InvalidArgument(std::string(what) + ": two primary domains, " +
                                       primary->name + " and " + d.name);
      }
      if (!d.verified) {
        return Status::InvalidArgument(std::string(what) + ": primary domain " + d.name +
                                       " is not verified");
      }
      primary = &d;
    }
    names.push_back(d.name);
  }
  return NoDuplicates(what, std::move(names));
}

Status ValidateInstanceDomains(std::string_view what, const std::vector<std::string>& names) {
  if (names.size() > kMaxDomainsPerList) return TooMany(what, names.size());
  for (const std::string& n : names) POLICYD_RETURN_IF_ERROR(ValidateDomainName(what, n));
  return NoDuplicates(what, names);
}

}  // namespace policyd
