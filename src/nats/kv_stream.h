// KvStream: the entries of a KV bucket, in stream order, pulled one at a time by the caller's
// own thread. Two ways in, both ending with the same "caught up" signal:
//
//   WatchAll      the latest entry of every key (delete markers included), then kCaughtUp once,
//                 then live updates. For a cold start: the caller can drop every local key it
//                 did not see before kCaughtUp. Built on cnats's kvWatcher (its NULL entry).
//   FromRevision  every message of the bucket's stream with revision >= `start` (pass
//                 cursor + 1) that is still stored, then kCaughtUp once, then live updates. For a
//                 warm restart: cnats 3.4.1 cannot resume a KV watch from a revision, so this is
//                 an ordered consumer on the stream "KV_<bucket>" itself. With history 1 the
//                 stream holds exactly the latest message of each key, so a reader that applied
//                 everything up to the cursor reaches the bucket's current state, deletions
//                 included (docs/fleet.md). A start beyond the stream's end is not an error: it
//                 yields kCaughtUp, then what is written later.
//
// kCaughtUp comes after the last entry that existed when the stream was opened (the entry whose
// `pending` was 0); for an empty range it comes first. Both are ephemeral ordered push
// consumers: the library re-creates them after a gap or missed heartbeats (reported as
// asynchronous errors on the connection) from the last delivered revision + 1; the
// consumer lives on one server (in a cluster, typically the stream leader's). When that server
// dies, values written meanwhile that were superseded before the re-created consumer reads
// them are skipped (history 1 keeps only the latest per key): the reader still reaches the
// bucket's current state. FromRevision never delivers a revision below `start` or one it
// already delivered (cnats 3.4.1 re-sends those after a reset; they are dropped here).
//
// Threading: Next() is called by one thread at a time (typically a dedicated NATS thread).
// Stop() may be called from any thread, once or more, and makes a blocked Next() return
// kCancelled promptly. The destructor must not run concurrently with Next(). The KvBucket and
// its NatsConnection must outlive the stream.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "base/status.h"
#include "nats/kv_bucket.h"

namespace policyd::nats {

struct KvEvent {
  enum class Kind { kEntry, kCaughtUp };
  Kind kind = Kind::kEntry;
  KvEntry entry;  // for kEntry
};

class KvStream {
 public:
  // Errors: kPermissionDenied / kUnavailable / kDeadlineExceeded from creating the consumer;
  // kNotFound when the bucket's stream does not exist.
  static Result<std::unique_ptr<KvStream>> WatchAll(KvBucket& bucket);
  // `heartbeat`: the server sends one when idle; after two missed ones the library re-creates
  // the consumer from the last revision it delivered (async error kUnavailable "Missed Server
  // Heartbeat"). That is how a reader survives the death of the server holding its consumer.
  // WatchAll uses cnats 3.4.1's fixed 5 s (recovery then takes 10-15 s).
  static Result<std::unique_ptr<KvStream>> FromRevision(
      KvBucket& bucket, std::uint64_t start,
      std::chrono::milliseconds heartbeat = std::chrono::seconds(5));

  // Stops (if not yet) and frees the consumer; bounded by the connection's request timeout.
  ~KvStream();
  KvStream(const KvStream&) = delete;
  KvStream& operator=(const KvStream&) = delete;

  // The next event, waiting up to `timeout`. Errors: kDeadlineExceeded when nothing arrived in
  // time (call again); kCancelled after Stop(); kDataLoss for a message that is not a valid
  // entry of the bucket (unknown KV-Operation): it is skipped, the next call continues;
  // kUnavailable when the connection was closed.
  Result<KvEvent> Next(std::chrono::milliseconds timeout);

  // Wakes a blocked Next() and ends the stream. Thread-safe; idempotent.
  void Stop();

 private:
  struct Impl;
  explicit KvStream(std::unique_ptr<Impl> impl);
  Result<KvEvent> NextFromWatcher(std::chrono::milliseconds timeout);
  Result<KvEvent> NextFromSubscription(std::chrono::milliseconds timeout);
  std::unique_ptr<Impl> impl_;
};

}  // namespace policyd::nats
