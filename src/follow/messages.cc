#include "follow/messages.h"

#include <algorithm>

namespace policyd::follow {
namespace {

Refusal Refuse(RefusalReason reason, const Message& message, const Status& status) {
  return {reason, status.WithContext("bucket revision " + std::to_string(message.revision))};
}

}  // namespace

std::string_view RefusalReasonName(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kKey:
      return "key";
    case RefusalReason::kValue:
      return "value";
    case RefusalReason::kSchema:
      return "schema";
    case RefusalReason::kMarker:
      return "marker";
  }
  return "unknown";
}

tl::expected<Decoded, Refusal> DecodeMessage(const Message& message) {
  Result<fleet::FleetKey> key = fleet::ParseKey(message.key);
  if (!key) return tl::unexpected(Refuse(RefusalReason::kKey, message, key.error()));
  Decoded decoded{std::move(*key), std::nullopt};
  if (message.op != MessageOp::kPut) {
    if (fleet::IsOrgKey(decoded.key.kind)) return decoded;  // the org was removed
    return tl::unexpected(
        Refuse(RefusalReason::kMarker, message,
               Status::InvalidArgument("bucket key " + fleet::QuoteKey(message.key, 300) +
                                       ": a delete marker is only valid on an org's key")));
  }
  Result<fleet::FleetValue> value = fleet::DecodeValue(decoded.key, message.value);
  if (!value) {
    const RefusalReason reason = value.error().code() == Code::kFailedPrecondition
                                     ? RefusalReason::kSchema
                                     : RefusalReason::kValue;
    return tl::unexpected(Refuse(reason, message, value.error()));
  }
  decoded.value = std::move(*value);
  return decoded;
}

bool ShouldApply(const Decoded& decoded, const SourceVersion& held) {
  if (decoded.key.kind == fleet::KeyKind::kHeartbeat) return false;
  if (!decoded.value) return decoded.key.kind == fleet::KeyKind::kOrg;
  return fleet::FollowerShouldApply(held, decoded.value->version);
}

KindRowChange KindChangeOf(const fleet::KindEntry& entry, const SourceVersion& version) {
  return KindRowChange{entry.kind, entry.org_id, entry.policy, version};
}

StoreChange ChangeFor(const Decoded& decoded) {
  StoreChange change;
  if (decoded.key.kind == fleet::KeyKind::kHeartbeat) return change;
  if (!decoded.value) {
    if (decoded.key.kind != fleet::KeyKind::kOrg) return change;
    change.removed_orgs.push_back(decoded.key.id);
    return change;
  }
  const fleet::FleetValue& value = *decoded.value;
  if (const auto* instance = std::get_if<fleet::InstanceEntry>(&value.entry)) {
    change.instance = instance->instance;
    change.instance_domains = instance->domains;
    change.instance_version = value.version;
  } else if (const auto* org = std::get_if<fleet::OrgEntry>(&value.entry)) {
    change.put_orgs.push_back(org->org);
    change.put_org_domains.push_back(org->domains);
    change.put_org_domains.back().org_id = org->org.id;
    change.org_versions.emplace_back(org->org.id, value.version);
  } else if (const auto* kind = std::get_if<fleet::KindEntry>(&value.entry)) {
    change.put_kind_rows.push_back(KindChangeOf(*kind, value.version));
  }
  return change;
}

bool PendingKindRows::Hold(const fleet::KindEntry& entry, const SourceVersion& version) {
  auto key = std::make_pair(entry.org_id, entry.kind);
  auto it = rows_.find(key);
  if (it != rows_.end()) {
    if (fleet::FollowerShouldApply(it->second.version.value_or(SourceVersion{}), version)) {
      it->second = KindChangeOf(entry, version);
    }
    return true;
  }
  if (rows_.size() >= capacity_) return false;
  rows_.emplace(std::move(key), KindChangeOf(entry, version));
  return true;
}

std::vector<KindRowChange> PendingKindRows::Take(std::string_view org_id) {
  std::vector<KindRowChange> out;
  auto it = rows_.lower_bound(std::make_pair(std::string(org_id), PolicyKind::kDomain));
  while (it != rows_.end() && it->first.first == org_id) {
    out.push_back(std::move(it->second));
    it = rows_.erase(it);
  }
  return out;
}

void PendingKindRows::DropOrg(std::string_view org_id) { Take(org_id); }

void PendingKindRows::Restore(std::vector<KindRowChange> rows) {
  for (KindRowChange& row : rows) {
    rows_.insert_or_assign(std::make_pair(row.org_id, row.kind), std::move(row));
  }
}

bool PublisherTable::Record(const fleet::Heartbeat& heartbeat, const SourceVersion& version) {
  auto it = publishers_.find(heartbeat.publisher_id);
  if (it != publishers_.end()) {
    if (!fleet::FollowerShouldApply(it->second.version, version)) return false;
    it->second = Held{heartbeat, version};
    return true;
  }
  publishers_.emplace(heartbeat.publisher_id, Held{heartbeat, version});
  return true;
}

Timestamp PublisherTable::newest_sync() const {
  Timestamp newest;
  for (const auto& [id, held] : publishers_) newest = std::max(newest, held.heartbeat.last_sync);
  return newest;
}

std::vector<FleetPublisher> PublisherTable::List() const {
  std::vector<FleetPublisher> out;
  out.reserve(publishers_.size());
  for (const auto& [id, held] : publishers_) {
    out.push_back(FleetPublisher{id, held.heartbeat.last_sync, held.heartbeat.source});
  }
  return out;
}

}  // namespace policyd::follow
