// Follower: fleet mode's reader (issue #13, `policyd --follow nats://...`). Keeps the local
// store equal to a NATS JetStream KV bucket that publishers write (docs/fleet.md "Follower"),
// with no IAM credential on the host.
//
// Start() returns at once; a background thread does the rest, and lookups never wait for it:
// they read the store, which only ever holds whole batches.
//   1. Connects (nats::NatsConnection: never blocks; cnats reconnects forever by itself) and
//      binds the bucket (never creates it: a missing bucket is logged and retried with backoff).
//   2. Reads the bucket's creation time and last revision, and decides (follow/cursor.h
//      PlanStart): a warm start resumes after the store's cursor (an ordered consumer from
//      cursor + 1); anything else is a cold start: the whole-bucket watch up to its caught-up
//      signal becomes one Store::Replace (follow/cold_load.h: orgs not in the bucket dropped,
//      cursor = highest revision, bucket identity and data in the same batch).
//   3. Applies every later message (the same watch's live updates, or the consumer's) as one
//      Store::Apply batch carrying the new cursor (follow/messages.h: older versions skipped,
//      hostile values refused, logged at most once per refusal_log_interval and counted). A
//      kind row of an org the store does not have is held in memory and applied in the batch
//      of the org's entry (the store requires the org of a kind row to exist).
//   4. On any failure (NATS down, bucket missing, a store write failed): keeps serving, backs
//      off (exponential, full jitter, capped) and starts over from step 1 with the store's
//      cursor, so it converges once the cause is gone. A recreated bucket (another creation
//      time, checked every bucket_check_interval and after each reconnect) means a cold start.
//
// Staleness covers both hops. The data is as fresh as the newest publisher heartbeat
// (heartbeat.<id>: the publisher's last successful upstream sync) the follower has applied
// while caught up with the bucket: that time T, not "now", goes to ServingState::RecordSync and
// is written with the data as StoreMeta::last_sync (StoreChange::synced_at), so a restart
// starts from the right age. With NATS down, or every publisher stuck, T stops moving and the
// daemon goes stale after --max-staleness. A cold start passes T as Store::Replace's `now`
// (which stamps both last_sync and last_change): zero when the bucket holds no heartbeat, so a
// bucket without a publisher's word is never fresh. The daemon must configure ServingState
// with a non-empty upstream (e.g. source()) for staleness to apply.
//
// Threads: Start()/Stop() from one thread (the daemon's main). Status() and counters() from any
// thread, at once; they never wait for NATS or the store (ServingState::SetFleetSource's
// contract). The store, state and clock must outlive the follower.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "follow/cold_load.h"
#include "follow/messages.h"
#include "model/fleet_status.h"
#include "server/serving_state.h"
#include "store/store.h"

namespace policyd::nats {
class NatsConnection;
class KvBucket;
class KvStream;
struct KvEntry;
struct ConnEvent;
}  // namespace policyd::nats

namespace policyd::follow {

struct FollowerOptions {
  std::vector<std::string> urls;   // --follow: nats://HOST:PORT (user:pass@ allowed), 1 or more
  std::string creds_file;          // --nats-creds; empty: none
  std::string ca_file;             // --nats-ca-file; empty: no TLS unless tls:// URLs
  std::string bucket = "policyd";  // --nats-bucket
  std::string inbox_prefix;        // scopes the user's subscribe permission; empty: "_INBOX"
  // Backoff between attempts after a failure (no server, no bucket, a store write failed):
  // exponential from backoff_initial, full jitter, capped at backoff_max.
  std::chrono::milliseconds backoff_initial{std::chrono::milliseconds(500)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  // The warm start's consumer: the server sends a heartbeat when idle; two missed ones make
  // cnats re-create the consumer (how a follower survives the death of the server holding it).
  std::chrono::milliseconds consumer_heartbeat{std::chrono::seconds(5)};
  // How often the bucket's creation time is checked (one API request), besides after every
  // reconnect: a bucket deleted and recreated meanwhile means a cold start. The same check
  // notices a stream that stopped delivering (follow/stall_watch.h): no message over a whole
  // interval while the bucket holds newer revisions makes a new consumer from the cursor.
  std::chrono::milliseconds bucket_check_interval{std::chrono::seconds(30)};
  // NATS connection (nats::ConnectOptions).
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(2)};
  std::chrono::milliseconds reconnect_wait{std::chrono::milliseconds(500)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};
  // At most one log line per interval about refused values (with the number refused meanwhile).
  std::chrono::milliseconds refusal_log_interval{std::chrono::seconds(10)};
};

struct FollowerCounters {
  std::atomic<std::uint64_t> messages_read{0};   // entries received from NATS (either stream)
  std::atomic<std::uint64_t> values_applied{0};  // changed-or-confirmed entries written
  std::atomic<std::uint64_t> values_skipped{0};  // older than the store's version
  std::atomic<std::uint64_t> values_refused{0};
  std::array<std::atomic<std::uint64_t>, kRefusalReasons> refused_by_reason{};
  std::atomic<std::uint64_t> heartbeats{0};  // heartbeat values recorded
  // Kind rows held because the store does not have their org (yet), and held rows lost because
  // the holding set was full (follow/messages.h PendingKindRows).
  std::atomic<std::uint64_t> kind_rows_held{0};
  std::atomic<std::uint64_t> kind_rows_dropped{0};
  std::atomic<std::uint64_t> cold_starts{0};
  std::atomic<std::uint64_t> failures{0};  // attempts that ended in an error (then backoff)
};

class Follower {
 public:
  Follower(Store& store, ServingState& state, const Clock& clock, FollowerOptions options);
  // Stops (see Stop()).
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Starts the background thread and returns at once. Also records the store's last_sync in
  // `state` when the store holds this bucket's data (its cursor is a fleet cursor for
  // options.bucket), so the data keeps its age across restarts.
  void Start();
  // Ends the thread: wakes a blocked read at once; a NATS request in flight ends within
  // options.request_timeout. Closes the connection. Idempotent.
  void Stop();

  // What status, metrics and top show (role kFollower). Servers without credentials.
  FleetStatus Status() const;
  const FollowerCounters& counters() const { return counters_; }
  // StoreMeta::source of a follower's store: the redacted server URLs, comma-separated.
  const std::string& source() const { return source_; }

 private:
  struct Session;  // one connection attempt's bucket, identity and stream (follower.cc)
  void Loop();
  // Creates the connection once (it reconnects by itself from then on). Errors: a bad URL or an
  // unreadable creds or CA file (INVALID_ARGUMENT), retried with backoff like any failure.
  policyd::Status EnsureConnection();
  // Runs on cnats's callback thread.
  void OnConnEvent(const nats::ConnEvent& event);
  policyd::Status RunSession();
  policyd::Status ColdStart(Session& session);
  // The whole-bucket watch up to its caught-up signal, into `load`.
  policyd::Status ReadInitialValues(Session& session, ColdLoad& load);
  policyd::Status Follow(Session& session);
  // What one message does: the change to write (the cursor is added by HandleEntry), whether
  // it applies data, and the data's new age when a heartbeat moved it.
  struct Outcome {
    StoreChange change;
    bool apply = false;
    std::optional<Timestamp> synced;
    // Held kind rows that `change` applies with their org: held again if it is not written.
    std::vector<KindRowChange> held_rows;
  };
  policyd::Status HandleEntry(Session& session, const nats::KvEntry& entry);
  policyd::Status Decide(const Session& session, const Message& message, Outcome& out);
  // A kind key's value or marker (issue #14): applied, skipped, or held until its org arrives.
  policyd::Status DecideKind(Decoded& decoded, Outcome& out);
  void RecordHeartbeat(const Session& session, const fleet::FleetValue& value, Outcome& out);
  policyd::Status OnCaughtUp();
  std::uint64_t CurrentCursor() const;
  Result<SourceVersion> HeldVersion(const fleet::FleetKey& key);
  policyd::Status ReadKeptEntries(const ColdLoad& load, std::optional<LocalInstance>& instance,
                                  std::vector<LocalOrg>& orgs);
  policyd::Status ReadKeptKindRows(const ColdLoad& load, std::vector<KindRow>& rows);
  policyd::Status Write(const StoreChange& change);
  void CountRefusal(const Refusal& refusal);
  bool Stopping() const;
  bool SetStream(nats::KvStream* stream);
  std::chrono::milliseconds Backoff(std::uint32_t failures);

  Store& store_;
  ServingState& state_;
  const Clock& clock_;
  const FollowerOptions options_;
  const std::string source_;
  FollowerCounters counters_;
  // Kind rows of orgs the store does not have yet (follower thread only). Kept across warm
  // restarts of a session (their messages are behind the cursor); rebuilt by a cold start.
  PendingKindRows pending_kinds_;
  std::atomic<bool> check_bucket_{false};  // set on reconnect: check the bucket's identity now

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                           // guarded by mu_
  std::unique_ptr<nats::NatsConnection> conn_;  // set under mu_ by the thread; read by Status()
  PublisherTable publishers_;                   // guarded by mu_
  std::uint64_t cursor_ = 0;                    // guarded by mu_: last revision applied
  bool caught_up_ = false;                      // guarded by mu_
  Timestamp synced_;  // guarded by mu_: newest heartbeat sync applied while caught up (T)
  std::chrono::steady_clock::time_point last_refusal_log_;  // guarded by log_mu_
  std::uint64_t unlogged_refusals_ = 0;                     // guarded by log_mu_
  std::mutex log_mu_;
  // The stream Stop() must wake. Taken before mu_ when both are (SetStream), never after.
  std::mutex stream_mu_;
  nats::KvStream* stream_ = nullptr;  // guarded by stream_mu_
  std::thread thread_;
};

}  // namespace policyd::follow
