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
    if (decoded.key.kind == fleet::KeyKind::kOrg) return decoded;  // the org was removed
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
  if (!decoded.value) return true;
  return fleet::FollowerShouldApply(held, decoded.value->version);
}

StoreChange ChangeFor(const Decoded& decoded) {
  StoreChange change;
  if (decoded.key.kind == fleet::KeyKind::kHeartbeat) return change;
  if (!decoded.value) {
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
  }
  return change;
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
