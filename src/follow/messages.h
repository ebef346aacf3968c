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
//
// Refused, and counted by reason (metric label values):
//   key     a key ParseKey refuses (unknown kind, wrong number of tokens, bad escape or id:
//           "domain.org.a.b", "policy.x")
//   value   a value DecodeValue refuses with INVALID_ARGUMENT: garbage, a value of another kind
//           than its key (an InstanceEntry under an org key), ids that differ from the key's,
//           bad fields
//   schema  a value of another schema major (a newer publisher; FAILED_PRECONDITION)
//   marker  a delete or purge marker on a key other than an org's
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

// True when `decoded` is data (instance or org, put or removal) and should be applied over an
// entry whose stored version is `held` (a zero SourceVersion when the store has none): always
// for a removal, FollowerShouldApply(held, version) for a put. False for heartbeats.
bool ShouldApply(const Decoded& decoded, const SourceVersion& held);

// The store change of a data message (no cursor: the caller adds it). For a heartbeat, an
// empty change.
StoreChange ChangeFor(const Decoded& decoded);

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
