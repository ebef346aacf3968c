// FleetCursor: where a fleet-mode follower (issue #13) stands in the bucket it follows, kept in
// StoreMeta::cursor in the same batch as the data it describes; and the choice, at every
// (re)start, between a warm start that resumes after the cursor and a cold start that reloads
// the whole bucket.
//
// Text form: "fleet v1 <bucket> <bucket creation time, ns since the epoch> <revision>", where
// the revision is the bucket's stream sequence of the last message applied. The bucket name and
// creation time identify one incarnation of the bucket: a deleted and recreated bucket restarts
// its sequences, so a cursor of another incarnation means nothing there.
//
// The text never starts like a direct sync cursor ("v4 ..."), so SyncCursor::Decode refuses a
// follower's cursor and FleetCursor::Decode refuses a syncer's: a store that switches between
// direct sync and fleet mode starts cold either way.
//
// Pure. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policyd::follow {

// Longest bucket name a cursor may carry (NATS stream names are limited to 255 bytes with
// the "KV_" prefix).
inline constexpr std::size_t kMaxBucketNameLength = 240;

struct FleetCursor {
  std::string bucket;           // [A-Za-z0-9_-]+, at most kMaxBucketNameLength bytes
  std::int64_t created_ns = 0;  // the bucket's creation time; > 0
  std::uint64_t revision = 0;   // last revision applied (0: none, an empty bucket)

  // The text form above. Encoding a cursor with an invalid bucket or creation time gives text
  // that Decode refuses (callers build cursors from the server's answers, which are valid).
  std::string Encode() const;
  // Errors: INVALID_ARGUMENT for anything Encode() would not write: another prefix or version
  // (a direct sync cursor "v4 ..."), a bad bucket name, a number with a sign, leading zero,
  // spaces or overflow, a creation time <= 0, missing or extra fields.
  static Result<FleetCursor> Decode(std::string_view text);

  friend bool operator==(const FleetCursor&, const FleetCursor&) = default;
};

// What the server says about the bucket (nats::BucketInfo, without NATS types).
struct BucketPosition {
  std::string bucket;
  std::int64_t created_ns = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;  // highest revision of this incarnation (0: nothing written yet)
};

struct StartPlan {
  bool cold = true;
  std::uint64_t from_revision = 0;  // warm: the first revision to read (cursor + 1)
  std::string reason;               // why, for the log line ("resuming after revision 42", ...)
};

// Cold when the stored cursor is not a fleet cursor (none yet, or a direct sync's), names
// another bucket or another incarnation (creation time) of it, or lies beyond the bucket's last
// revision (the bucket was recreated and refilled within the same nanosecond, or the server
// lost acknowledged writes). Warm from cursor + 1 otherwise: with history 1 the stream holds the
// latest message of every key, so reading everything after the cursor reaches the bucket's
// current state, delete markers included, however much was compacted meanwhile.
StartPlan PlanStart(std::string_view stored_cursor, const BucketPosition& bucket);

}  // namespace policyd::follow
