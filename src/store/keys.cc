#include "store/keys.h"

#include "model/domains.h"

namespace policyd::store_keys {

std::string OrgKey(std::string_view org_id) {
  std::string out;
  OrgKeyInto(org_id, &out);
  return out;
}

void OrgKeyInto(std::string_view org_id, std::string* out) {
  out->clear();
  AppendOrgKey(org_id, out);
}

void AppendOrgKey(std::string_view org_id, std::string* out) {
  out->append(kOrgPrefix);
  out->append(org_id);
}

bool ParseOrgKey(std::string_view key, std::string_view* org_id) {
  if (!key.starts_with(kOrgPrefix)) return false;
  *org_id = key.substr(kOrgPrefix.size());
  return true;
}

void AppendOrgDomainsKey(std::string_view org_id, std::string* out) {
  out->append(kOrgDomainsPrefix);
  out->append(org_id);
}

bool ParseOrgDomainsKey(std::string_view key, std::string_view* org_id) {
  if (!key.starts_with(kOrgDomainsPrefix)) return false;
  *org_id = key.substr(kOrgDomainsPrefix.size());
  return true;
}

void AppendOrgVersionKey(std::string_view org_id, std::string* out) {
  out->append(kOrgVersionPrefix);
  out->append(org_id);
}

bool ParseOrgVersionKey(std::string_view key, std::string_view* org_id) {
  if (!key.starts_with(kOrgVersionPrefix)) return false;
  *org_id = key.substr(kOrgVersionPrefix.size());
  return true;
}

void AppendKindDefaultKey(unsigned kind, std::string* out) {
  out->append(kKindDefaultPrefix);
  out->push_back(static_cast<char>('0' + kind % 10));
}

bool ParseKindDefaultKey(std::string_view key, unsigned* kind) {
  if (!key.starts_with(kKindDefaultPrefix) || key.size() != kKindDefaultPrefix.size() + 1) {
    return false;
  }
  const char c = key.back();
  if (c < '0' || c > '9') return false;
  *kind = static_cast<unsigned>(c - '0');
  return true;
}

void AppendOrgKindsKey(std::string_view org_id, std::string* out) {
  out->append(kOrgKindsPrefix);
  out->append(org_id);
}

bool ParseOrgKindsKey(std::string_view key, std::string_view* org_id) {
  if (!key.starts_with(kOrgKindsPrefix)) return false;
  *org_id = key.substr(kOrgKindsPrefix.size());
  return true;
}

void AppendDomainIndexKey(std::string_view domain, std::string* out) {
  out->append(kDomainIndexPrefix);
  AppendLowercaseDomain(domain, out);
}

}  // namespace policyd::store_keys
