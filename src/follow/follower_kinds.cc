// The follower's handling of the generic policy kinds' keys (issue #14; follower.h): live values
// and markers, and the local rows a cold start keeps for refused values. Runs on the follower
// thread.
#include <spdlog/spdlog.h>

#include "follow/follower.h"

namespace policyd::follow {

policyd::Status Follower::DecideKind(Decoded& decoded, Outcome& out) {
  const fleet::FleetKey& key = decoded.key;
  if (!decoded.value) {
    // A removed org's kind key: the org's own marker came first and took its rows.
    pending_kinds_.DropOrg(key.id);
    ++counters_.values_skipped;
    return policyd::Status::Ok();
  }
  LookupBatch batch;
  batch.set_with_versions(true);
  batch.set_kinds(KindSet::Of(key.policy));
  const bool org = key.kind == fleet::KeyKind::kKindOrg;
  if (org) batch.Add(key.id);
  POLICYD_RETURN_IF_ERROR(store_.Read(batch).WithContext("read the store's version"));
  if (org && !batch.org(0).known) {
    const auto& entry = std::get<fleet::KindEntry>(decoded.value->entry);
    if (pending_kinds_.Hold(entry, decoded.value->version)) {
      ++counters_.kind_rows_held;
    } else {
      ++counters_.kind_rows_dropped;
      spdlog::warn("follower: {} kind rows of unknown orgs held already; dropping {}",
                   pending_kinds_.size(), fleet::QuoteKey(key.id, 64));
    }
    return policyd::Status::Ok();
  }
  const SourceVersion& held =
      org ? batch.kind_version(0, key.policy) : batch.kind_default_version(key.policy);
  out.apply = ShouldApply(decoded, held);
  if (out.apply) {
    out.change = ChangeFor(decoded);
  } else {
    ++counters_.values_skipped;
  }
  return policyd::Status::Ok();
}

policyd::Status Follower::ReadKeptKindRows(const ColdLoad& load, std::vector<KindRow>& rows) {
  if (load.kept_kind_rows().empty()) return policyd::Status::Ok();
  LookupBatch batch;
  batch.set_with_versions(true);
  batch.set_kinds(KindSet::AllStored());
  for (const auto& [kind, org] : load.kept_kind_rows()) {
    if (!org.empty()) batch.Add(org);
  }
  POLICYD_RETURN_IF_ERROR(store_.Read(batch));
  std::size_t i = 0;
  for (const auto& [kind, org] : load.kept_kind_rows()) {
    const KindPolicy* policy = nullptr;
    SourceVersion version;
    if (org.empty()) {
      policy = batch.kind_default(kind);
      version = batch.kind_default_version(kind);
    } else {
      policy = batch.kind_policy(i, kind);
      version = batch.kind_version(i, kind);
      ++i;
    }
    if (policy != nullptr) rows.push_back(KindRow{org, *policy, version});
  }
  return policyd::Status::Ok();
}

}  // namespace policyd::follow
