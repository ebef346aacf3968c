// OrgDomainPage, InstanceDomainPage: one page of the upstream IAM's domain lists, reduced to what
// policyd needs. Produced by json/upstream_json.h, returned by upstream/upstream.h:
//   POST /management/v1/orgs/me/domains/_search  (ListOrgDomains; the org in x-zitadel-orgid)
//   POST /admin/v1/domains/_search                (ListInstanceDomains)
// Neither list carries a sequence of its own (each row's details.sequence is that row's, not the
// aggregate's newest), so what a cold start builds from them has sequence 0: unknown.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/domains.h"

namespace policyd {

struct OrgDomainPage {
  // In the order the upstream returned them: domainName, isVerified, isPrimary.
  std::vector<OrgDomain> domains;
  std::uint64_t total = 0;  // details.totalResult (0 when absent)

  friend bool operator==(const OrgDomainPage&, const OrgDomainPage&) = default;
};

struct InstanceDomainPage {
  std::vector<std::string> names;  // in the order the upstream returned them
  std::uint64_t total = 0;         // details.totalResult (0 when absent)

  friend bool operator==(const InstanceDomainPage&, const InstanceDomainPage&) = default;
};

}  // namespace policyd
