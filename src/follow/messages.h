// What a fleet-mode follower (issue #13) makes of one message of the bucket: a change to its
// store, a skip (the store holds a newer version), a publisher's heartbeat, or a refusal.
//
//   domain.instance = InstanceEntry     the instance default and its domains, with the entry's
//                                       version: StoreChange{instance, instance_domains,
//                                       instance_version}
//   domain.org.<id> = OrgEntry          the org, its own policy or none, its domain list, its
//                                       version: StoreChange{put_orgs, put_org_domains,
//                                       org_versions}
//   domain.org.<id> = delete marker     the org was removed: StoreChange{removed_orgs}. A
//                                       marker has no version (ZITADEL never reuses an org id,
//                                       so a removal is final); a purge marker counts as one.
//   heartbeat.<id> = Heartbeat          not data: the publisher table (below) and staleness
//   <kind>.instance = KindEntry         a generic kind's default (issue #14):
//                                       StoreChange{put_kind_rows: {kind, "", row, version}}
//   <kind>.org.<id> = KindEntry         the org's own row of the kind, or its tombstone (own
//                                       row removed): StoreChange{put_kind_rows}. The store
//                                       needs the org to exist: the follower holds a row of an
//                                       org it does not have (PendingKindRows) and applies it
//                                       with the org's entry, in the same batch
//   <kind>.org.<id> = delete marker     the org was removed (its org key's marker comes first
//                                       and takes the org's rows with it): nothing to apply
//
// Refused, and counted by reason (metric label values):
//   key     a key ParseKey refuses (unknown kind, wrong number of tokens, bad escape or id:
//           "domain.org.a.b", "policy.x")
//   value   a value DecodeValue refuses with INVALID_ARGUMENT: garbage, a value of another kind
//           than its key (an InstanceEntry under an org key), ids that differ from the key's,
//           bad fields
//   schema  a value of another schema major (a newer publisher; FAILED_PRECONDITION)
//   marker  a delete or purge marker on a key other than an org's (domain.org.<id> or
//           <kind>.org.<id>)
// A refused message changes nothing but the follower's cursor, so it is read once, not forever.
//
// The apply rule (fleet::FollowerShouldApply): a value is applied unless its version is strictly
// older than the one the store (or, for heartbeats, the publisher table) holds for the entry;
// with equal versions the later bucket revision wins, so a publisher's anti-entropy rewrite
// reaches followers.
//
// Pure. Plain values and functions; PublisherTable is thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fleet/keys.h"
#include "fleet/source_version.h"
#include "fleet/values.h"
#include "model/fleet_status.h"
#include "store/store.h"

namespace policyd::follow {

enum class MessageOp : std::uint8_t { kPut, kDelete, kPurge };

// One message read from the bucket (nats::KvEntry without NATS types). Views: valid while the
// caller's entry lives.
struct Message {
  std::string_view key;
  std::string_view value;  // empty for markers
  std::uint64_t revision = 0;
  MessageOp op = MessageOp::kPut;
};

enum class RefusalReason : std::uint8_t { kKey = 0, kValue = 1, kSchema = 2, kMarker = 3 };
inline constexpr std::size_t kRefusalReasons = 4;
// "key", "value", "schema", "marker".
std::string_view RefusalReasonName(RefusalReason reason);

struct Refusal {
  RefusalReason reason = RefusalReason::kValue;
  // "bucket key <key> revision <n>: ...": for the log line (the key escaped for printing).
  Status status;
};

// A message that decoded.
struct Decoded {
  fleet::FleetKey key;
  // The value; nullopt for an org's removal (a delete or purge marker on domain.org.<id>).
  std::optional<fleet::FleetValue> value;
};

// Decodes `message` as described above; a Refusal for everything refused.
tl::expected<Decoded, Refusal> DecodeMessage(const Message& message);

// True when `decoded` is data (instance, org or kind row, put or org removal) and should be
// applied over an entry whose stored version is `held` (a zero SourceVersion when the store has
// none): always for an org's removal, FollowerShouldApply(held, version) for a put. False for
// heartbeats and for a kind key's marker.
bool ShouldApply(const Decoded& decoded, const SourceVersion& held);

// The store change of a data message (no cursor: the caller adds it). For a heartbeat or a kind
// key's marker, an empty change.
StoreChange ChangeFor(const Decoded& decoded);

// The store's change of one kind row value (a KindEntry).
KindRowChange KindChangeOf(const fleet::KindEntry& entry, const SourceVersion& version);

// Kind rows of orgs the follower's store does not have (yet): a kind key read before its org's
// key (another publisher's order, a refused org value, a removed org whose kind keys are not
// deleted yet). Each is applied with the org's entry when that arrives (Take), dropped when the
// org is removed (DropOrg). At most `capacity` rows; beyond, Hold refuses (the row is lost until
// a publisher writes the key again: logged by the caller). Thread-compatible.
class PendingKindRows {
 public:
  explicit PendingKindRows(std::size_t capacity = 100'000) : capacity_(capacity) {}
  // Keeps `entry` unless the row held for the same (kind, org) is newer. False when full.
  bool Hold(const fleet::KindEntry& entry, const SourceVersion& version);
  // The rows held for `org_id`, as changes, removed from the set.
  std::vector<KindRowChange> Take(std::string_view org_id);
  void DropOrg(std::string_view org_id);
  // Holds again rows Take() gave (a write that failed), whatever the capacity.
  void Restore(std::vector<KindRowChange> rows);
  std::size_t size() const { return rows_.size(); }

 private:
  std::size_t capacity_;
  // By (org id, kind).
  std::map<std::pair<std::string, PolicyKind>, KindRowChange, std::less<>> rows_;
};

// The publishers' heartbeats a follower has read (in memory): who publishes, and how fresh the
// newest publisher's sync is. A follower's data is as fresh as the newest heartbeat it applied.
class PublisherTable {
 public:
  // Records `heartbeat` unless it is strictly older (by `version`) than the one held for the
  // same publisher. Returns whether it was recorded.
  bool Record(const fleet::Heartbeat& heartbeat, const SourceVersion& version);
  // The newest last_sync of any publisher; zero when there is none.
  Timestamp newest_sync() const;
  // One per publisher, by id.
  std::vector<FleetPublisher> List() const;
  std::size_t size() const { return publishers_.size(); }

 private:
  struct Held {
    fleet::Heartbeat heartbeat;
    SourceVersion version;
  };
  std::map<std::string, Held, std::less<>> publishers_;
};

}  // namespace policyd::follow
