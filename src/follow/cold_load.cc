#include "follow/cold_load.h"

#include <algorithm>

namespace policyd::follow {

std::optional<Refusal> ColdLoad::Add(const Message& message) {
  highest_revision_ = std::max(highest_revision_, message.revision);
  tl::expected<Decoded, Refusal> decoded = DecodeMessage(message);
  if (!decoded) {
    // Keep the local entry when the key names one whose value could not be read.
    if (decoded.error().reason != RefusalReason::kKey &&
        decoded.error().reason != RefusalReason::kMarker) {
      Result<fleet::FleetKey> key = fleet::ParseKey(message.key);
      if (key && key->kind == fleet::KeyKind::kOrg && !orgs_.contains(key->id)) {
        kept_orgs_.insert(key->id);
      } else if (key && key->kind == fleet::KeyKind::kInstance && !instance_) {
        keeps_instance_ = true;
      } else if (key && (key->kind == fleet::KeyKind::kKindOrg ||
                         key->kind == fleet::KeyKind::kKindInstance)) {
        KindRowId id{key->policy, key->id};
        if (!kinds_.contains(id)) kept_kind_rows_.insert(std::move(id));
      }
    }
    return std::move(decoded.error());
  }
  const fleet::FleetKey& key = decoded->key;
  if (!decoded->value) {  // an org removed (its org key or one of its kind keys)
    if (key.kind == fleet::KeyKind::kOrg) {
      orgs_.erase(key.id);
      kept_orgs_.erase(key.id);
    } else {
      kinds_.erase({key.policy, key.id});
      kept_kind_rows_.erase({key.policy, key.id});
    }
    return std::nullopt;
  }
  fleet::FleetValue& value = *decoded->value;
  if (auto* heartbeat = std::get_if<fleet::Heartbeat>(&value.entry)) {
    publishers_.Record(*heartbeat, value.version);
  } else if (auto* instance = std::get_if<fleet::InstanceEntry>(&value.entry)) {
    instance_ = std::move(*instance);
    instance_version_ = value.version;
    keeps_instance_ = false;
  } else if (auto* org = std::get_if<fleet::OrgEntry>(&value.entry)) {
    kept_orgs_.erase(key.id);
    orgs_[key.id] = Org{std::move(*org), value.version};
  } else if (auto* kind = std::get_if<fleet::KindEntry>(&value.entry)) {
    KindRowId id{key.policy, key.id};
    kept_kind_rows_.erase(id);
    kinds_[std::move(id)] = Kind{std::move(*kind), value.version};
  }
  return std::nullopt;
}

std::vector<std::pair<fleet::KindEntry, SourceVersion>> ColdLoad::OrphanKindRows(
    const Snapshot& snapshot) const {
  std::set<std::string_view> held;
  for (const OrgRecord& org : snapshot.orgs) held.insert(org.id);
  std::vector<std::pair<fleet::KindEntry, SourceVersion>> out;
  for (const auto& [id, kind] : kinds_) {
    if (!id.second.empty() && !held.contains(id.second)) out.emplace_back(kind.entry, kind.version);
  }
  return out;
}

Result<Snapshot> ColdLoad::Build(const std::optional<LocalInstance>& local_instance,
                                 const std::vector<LocalOrg>& local_orgs,
                                 const std::vector<KindRow>& local_kind_rows) const {
  Snapshot snapshot;
  if (instance_) {
    snapshot.instance = instance_->instance;
    snapshot.instance_domains = instance_->domains;
    snapshot.instance_version = instance_version_;
  } else if (keeps_instance_ && local_instance) {
    snapshot.instance = local_instance->instance;
    snapshot.instance_domains = local_instance->domains;
    snapshot.instance_version = local_instance->version;
  } else {
    return Err(Status::FailedPrecondition(
        keeps_instance_ ? "the bucket's domain.instance was refused and the store has no instance"
                        : "the bucket holds no domain.instance yet"));
  }
  // Bucket orgs and kept local ones are disjoint (kept_orgs_ never names a bucket org); the
  // store sorts by id itself.
  snapshot.orgs.reserve(orgs_.size() + kept_orgs_.size());
  snapshot.org_domains.reserve(orgs_.size() + kept_orgs_.size());
  snapshot.org_versions.reserve(orgs_.size() + kept_orgs_.size());
  auto add = [&](const OrgRecord& org, const OrgDomains& domains, const SourceVersion& version) {
    snapshot.orgs.push_back(org);
    snapshot.org_domains.push_back(domains);
    snapshot.org_domains.back().org_id = org.id;
    snapshot.org_versions.push_back(version);
  };
  for (const auto& [id, org] : orgs_) add(org.entry.org, org.entry.domains, org.version);
  for (const LocalOrg& local : local_orgs) {
    if (kept_orgs_.contains(local.org.id)) add(local.org, local.domains, local.version);
  }
  // Kind rows of the defaults and of the snapshot's orgs only (the store's contract); own rows,
  // not tombstones (a snapshot has none: the org falls back without a row all the same).
  std::set<std::string_view> held;
  for (const OrgRecord& org : snapshot.orgs) held.insert(org.id);
  auto holds = [&](const std::string& org_id) { return org_id.empty() || held.contains(org_id); };
  for (const auto& [id, kind] : kinds_) {
    if (kind.entry.policy && holds(id.second)) {
      snapshot.kind_rows.push_back(KindRow{id.second, *kind.entry.policy, kind.version});
    }
  }
  for (const KindRow& local : local_kind_rows) {
    if (kept_kind_rows_.contains({local.policy.kind, local.org_id}) && holds(local.org_id)) {
      snapshot.kind_rows.push_back(local);
    }
  }
  return snapshot;
}

}  // namespace policyd::follow
