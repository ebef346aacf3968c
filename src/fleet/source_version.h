// SourceVersion: where an entry of the fleet bucket stands in the upstream's history, and the one
// order every publisher and follower uses to tell an older value from a newer one.
//
// Why not a bare sequence: ZITADEL numbers events per stream, i.e. per (aggregate type,
// aggregate id), and every stream starts at 1 (model/event_stream.h). An org's rows all count in
// the stream ("org", <org id>), but the instance entry does not: an instance whose history began
// under the v1 names moves from ("iam", "IAM") to ("instance", "IAM") to ("instance", <id>), so
// its newest event can carry a *smaller* sequence than an older one. Sequences only order events
// of one stream.
//
// What the version is: the position of the last upstream event the publisher applied to any row
// of the entry (the policy row, the domain list, the org's existence), as
//   date      the event's creationDate (the upstream stamps every event of one push with the
//             same date; dates grow with commits except for the small late-commit skew the
//             sync cursor's overlap window covers, sync/cursor.h);
//   stream    the event's stream (aggregate type and id);
//   sequence  its sequence in that stream.
// A state that came from a snapshot file or the upstream's read APIs has no event: its version is
// the newest change date the rows carry, with an unknown stream and sequence 0 (or all zero).
//
// The order (CompareSourceVersion) is lexicographic on (date, stream.type, stream.id, sequence):
//   * date first: the only coordinate comparable across streams, and the one the publisher can
//     also compare with its sync cursor's newest date ("is this key newer than anything I have
//     seen?", which guards deletes and anti-entropy against undoing a faster publisher);
//   * with equal dates and the same stream, the sequence decides (commit order in the stream);
//   * with equal dates and different streams the upstream gives no order (its global "position"
//     is not in the event API). The stream names then break the tie: arbitrary, but the same on
//     every publisher and follower, so they all agree and the order stays total.
// The remaining ambiguity: two events of one push (same date) on different streams that both
// touch one entry (e.g. instance events on ("instance", "IAM") and ("instance", <id>)). A
// publisher that has applied only the one that sorts higher computes the same version as one
// that has applied both, yet holds another state. That state can only come from a publisher
// still inside that one push, and it converges: its next poll applies the other event. So:
//   * a publisher skips a write when the bucket holds an equal or newer version (the issue's
//     rule), but its anti-entropy pass (--publish-resync-interval) also rewrites a key whose
//     version equals its own and whose value bytes differ from what it would write;
//   * a follower applies a value unless its version is strictly older than the one it holds
//     (equal versions: the later bucket revision wins), so the anti-entropy rewrite reaches it.
//
// How the store keeps it (store/store.h, "version:" rows written in the same batch as the rows):
//   * one version per org entry and one for the instance entry. The rows alone would not do:
//     org.policy.domain.removed deletes the policy row and its date (the version would go
//     down), and domain lists carry a sequence and stream but no date;
//   * an applied event raises its entry's version to the event's position (sync/reducer.h): a
//     version never goes down. Events of one stream carry growing dates (created_at is the
//     insert's statement_timestamp(), and a push that loses the race for a sequence retries
//     later), so an org's goes up with every change; the instance's events span streams, so an
//     event committed late on another stream with an older date changes the value but not the
//     version: the publisher skips it as "equal" and its anti-entropy pass (equal version,
//     different bytes: rewrite) repairs it within --publish-resync-interval;
//   * a cold start (which reads current state, not events) gives every entry the new sync
//     cursor's from() (its newest date minus the overlap window), stream unknown, sequence 0.
//     Not newest(): an event committed late with an older date is replayed by the overlap
//     (its date > from) and must still come out newer, or the publisher would skip it;
//   * a snapshot file gives every entry the newest change date its rows carry (or zero);
//   * a store written before versions were kept reads every entry as version zero until it
//     changes; a follower's store keeps the versions of the values it applied.
//
// Pure. Thread-safe.
#pragma once

#include "model/source_version.h"

namespace policyd::fleet {

using policyd::CompareSourceVersion;
using policyd::SourceVersion;

// The publisher's write rule: true when `mine` is strictly newer than what the bucket holds.
inline bool PublisherShouldWrite(const SourceVersion& bucket, const SourceVersion& mine) {
  return CompareSourceVersion(mine, bucket) == std::strong_ordering::greater;
}

// The follower's apply rule: true unless `incoming` is strictly older than what it holds.
inline bool FollowerShouldApply(const SourceVersion& held, const SourceVersion& incoming) {
  return CompareSourceVersion(incoming, held) != std::strong_ordering::less;
}

}  // namespace policyd::fleet
