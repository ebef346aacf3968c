// LookupBatch (declared in store/store.h): the parts that do not depend on the backend.
#include "store/store.h"

namespace policyd {

void LookupBatch::Clear() {
  // policies_ keeps its elements so that their strings keep their capacity for the next Read().
  ids_.clear();
  known_.clear();
  has_policy_.clear();
  has_instance_ = false;
  claim_domains_.clear();
  claim_askers_.clear();
}

void LookupBatch::Add(std::string_view org_id) { ids_.push_back(org_id); }

std::size_t LookupBatch::AddClaimQuery(std::string_view domain, std::string_view asking_org) {
  claim_domains_.push_back(domain);
  claim_askers_.push_back(asking_org);
  const std::size_t j = claim_domains_.size() - 1;
  if (claims_.size() <= j) claims_.resize(j + 1);
  if (claim_counts_.size() <= j) claim_counts_.resize(j + 1);
  claim_counts_[j] = 0;
  return j;
}

OrgView LookupBatch::org(std::size_t i) const {
  // Before a successful Read() the views do not exist yet: report the org as unknown.
  if (i >= known_.size() || known_[i] == 0) return {};
  return OrgView{true, has_policy_[i] != 0 ? &policies_[i] : nullptr};
}

}  // namespace policyd
