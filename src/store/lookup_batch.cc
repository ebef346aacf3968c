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
  ClearKinds();
}

void LookupBatch::ClearKinds() {
  has_kind_default_.fill(false);
  for (std::vector<std::uint8_t>& has : has_kind_policy_) has.clear();
}

namespace {

std::size_t KindIndex(PolicyKind kind) { return static_cast<std::size_t>(kind); }

const SourceVersion& ZeroVersion() {
  static const SourceVersion zero{};
  return zero;
}

}  // namespace

const KindPolicy* LookupBatch::kind_default(PolicyKind kind) const {
  const std::size_t k = KindIndex(kind);
  if (k >= kStoredKindCount || !kinds_.contains(kind) || !has_kind_default_[k]) return nullptr;
  return &kind_defaults_[k];
}

const KindPolicy* LookupBatch::kind_policy(std::size_t i, PolicyKind kind) const {
  const std::size_t k = KindIndex(kind);
  if (k >= kStoredKindCount || !kinds_.contains(kind) || i >= has_kind_policy_[k].size() ||
      has_kind_policy_[k][i] == 0) {
    return nullptr;
  }
  return &kind_policies_[k][i];
}

const SourceVersion& LookupBatch::kind_default_version(PolicyKind kind) const {
  const std::size_t k = KindIndex(kind);
  if (k >= kStoredKindCount || !kinds_.contains(kind) || !with_versions_ || !has_kind_default_[k]) {
    return ZeroVersion();
  }
  return kind_default_versions_[k];
}

const SourceVersion& LookupBatch::kind_version(std::size_t i, PolicyKind kind) const {
  const std::size_t k = KindIndex(kind);
  if (k >= kStoredKindCount || !kinds_.contains(kind) || !with_versions_ ||
      i >= has_kind_policy_[k].size() || i >= kind_versions_[k].size()) {
    return ZeroVersion();
  }
  return kind_versions_[k][i];
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
