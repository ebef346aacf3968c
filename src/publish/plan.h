// The publisher's decisions (issue #13, docs/fleet.md "Publisher"): given what the bucket holds
// under a key and what this publisher's store says, whether to write a value, write a delete
// marker or leave the key alone; the Nats-Msg-Id of a write; the horizon that guards deletes; the
// heartbeat's `source`. No NATS, no store, no clock: the I/O lives in publisher.cc.
//
// The rules (fleet/source_version.h explains the order of versions):
//   * a value is written only when its version is strictly newer than the bucket's
//     (PublisherShouldWrite); an anti-entropy pass also rewrites an equal version whose bytes
//     differ (the one ambiguity of the order, see fleet/source_version.h);
//   * a key whose latest message is a delete marker is final: ZITADEL never reuses an org id, so
//     no value is ever put over it (a lagging publisher would resurrect a removed org);
//   * a delete marker is written only for an org the store lacks, and only when the key's
//     version date is not newer than the publisher's horizon (a faster publisher may have
//     written an org this one has not seen yet);
//   * an unreadable value (garbage: not a Value a follower accepts) counts as older than any
//     value: followers refuse it anyway, so replacing it can only help. It is never deleted
//     (a delete is final, and the bytes say nothing about the org). A value of an unknown
//     schema major (a newer publisher's) counts as newer: it is neither overwritten nor
//     deleted, so publishers of two majors never fight over a key during an upgrade.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "fleet/source_version.h"

namespace policyd::publish {

// What the bucket holds under one key, as far as the publisher knows (its watch, or a Get).
struct KeyState {
  enum class Kind : std::uint8_t {
    kValue,        // a value this publisher can decode; `version` and `value_hash` are set
    kDeleted,      // a delete (or purge) marker
    kUnreadable,   // a value that does not decode (garbage); `value_hash` is set
    kNewerSchema,  // a value of a schema major this publisher does not know
  };
  std::uint64_t revision = 0;  // of the key's latest message
  Kind kind = Kind::kValue;
  fleet::SourceVersion version;
  std::uint64_t value_hash = 0;  // ValueHash() of the value's bytes
  // kValue of a kind key: a tombstone (the org's own row of the kind removed), not a row.
  bool tombstone = false;

  friend bool operator==(const KeyState&, const KeyState&) = default;
};

// What the publisher's store says the key should hold.
struct Desired {
  fleet::SourceVersion version;
  std::uint64_t value_hash = 0;  // ValueHash() of EncodeValue's bytes
};

enum class Action : std::uint8_t { kSkip, kPut, kDelete };

// Why a key was left alone (log lines, tests).
enum class SkipReason : std::uint8_t {
  kNone,          // not skipped
  kNotOlder,      // the bucket holds the same or a newer version (same bytes for anti-entropy)
  kMarker,        // the key is deleted: final
  kNewerSchema,   // another publisher's newer schema major
  kAbsent,        // nothing to delete
  kUnreadable,    // garbage under the key of an org the store lacks: never deleted
  kBeyondHorizon  // the key's version is newer than anything this publisher has seen
};
std::string_view SkipReasonName(SkipReason reason);

struct Decision {
  Action action = Action::kSkip;
  // For kPut and kDelete, the compare-and-set guard: the key's latest revision, or 0 for "no
  // message yet".
  std::uint64_t expected_revision = 0;
  SkipReason reason = SkipReason::kNone;

  friend bool operator==(const Decision&, const Decision&) = default;
};

// The store has the entry (an org, the instance, or this publisher's heartbeat). `bucket` is
// nullptr when the key has no message. `anti_entropy`: also rewrite an equal version whose
// bytes differ.
Decision DecidePut(const KeyState* bucket, const Desired& mine, bool anti_entropy);

// The store lacks the org. `horizon`: see Horizon. `removal_seen`: this publisher applied the
// org's removal itself (a change named the org and the store no longer has it); a key with no
// message then gets a marker too (guard "no message yet"), so that a lagging publisher can
// never write the removed org afterwards. Without it, a key with no message is left alone.
Decision DecideDelete(const KeyState* bucket, Timestamp horizon, bool removal_seen);

// Up to which version date a publisher may delete the key of an org its store lacks.
//   removed  for an org whose removal this publisher applied itself (a change named it and the
//            store no longer has it): the newest event date it applied. The removal is real and
//            final; the guard only keeps a key that is newer than anything this publisher saw.
//   absent   for an org merely absent from the store (a full pass): its sync cursor's from()
//            (newest minus the overlap window, before which it can no longer learn of events)
//            minus kAbsentMargin more. An org added by an event committed late inside the window
//            may already be in the bucket, written by a faster publisher, and a cold start
//            versions its entries at its own from(), up to an overlap window below the creation
//            of an org it saw; deleting such a key would be final. The margin costs little: this
//            path only repairs keys no removal event accounts for (a removal this publisher
//            applies uses `removed`).
// A snapshot (no cursor) uses the newest version date of its entries for both. Zero: delete
// nothing newer than the epoch.
inline constexpr std::int64_t kAbsentMarginSeconds = 60;
struct Horizon {
  Timestamp removed;
  Timestamp absent;
  friend bool operator==(const Horizon&, const Horizon&) = default;
};

// The horizon of a publisher syncing from an upstream, from its store's sync cursor
// (StoreMeta::cursor). An empty cursor (no sync yet) gives zero. Errors: INVALID_ARGUMENT for a
// cursor SyncCursor::Decode refuses.
Result<Horizon> HorizonFromCursor(std::string_view cursor);

// FNV-1a (64 bits) of `bytes`: compares values without keeping them. Stable across hosts.
std::uint64_t ValueHash(std::string_view bytes);

// The Nats-Msg-Id of a write: 32 hex digits of a 128-bit hash of the key, the operation (put or
// delete), the version, the value's bytes and the compare-and-set guard. The same write retried
// (after a timeout, a lost leader) carries the same id and is stored once; two publishers
// writing the same bytes over the same revision share an id, so the second is a "duplicate".
// The guard is part of it so that a rewrite after another writer's value (a new revision) is
// never mistaken for a duplicate of an earlier write inside the server's 2-minute window.
std::string MsgId(std::string_view key, bool is_delete, const fleet::SourceVersion& version,
                  std::string_view value, std::uint64_t expected_revision);

// The heartbeat's `source` for an upstream URL: its host only, without scheme, user, password,
// port, path or query ("https://user:pw@iam.example.com:8443/x" -> "iam.example.com"; an IPv6
// literal keeps its brackets). A string that is not a URL is returned up to its first '/', '?' or
// '#' with anything up to an '@' removed. At most fleet::kMaxSourceLength bytes.
std::string HeartbeatSource(std::string_view upstream_url);

// The heartbeat's `source` for a snapshot file: its file name without directories.
std::string SnapshotSource(std::string_view path);

}  // namespace policyd::publish
