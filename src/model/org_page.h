// OrgPage: one page of the upstream IAM's org list (POST /admin/v1/orgs/_search), reduced to
// what policyd needs. Produced by json/upstream_json.h, returned by upstream/upstream.h.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace policyd {

struct OrgPage {
  std::vector<std::string> org_ids;  // in the order the upstream returned them
  // primaryDomain of each org, parallel to org_ids ("" when the upstream sent none).
  std::vector<std::string> primary_domains{};
  std::uint64_t total = 0;  // details.totalResult (0 when absent)

  friend bool operator==(const OrgPage&, const OrgPage&) = default;
};

}  // namespace policyd
