// Publisher: fleet mode's writer (issue #13, docs/fleet.md "Publisher"). It keeps a NATS
// JetStream key-value bucket equal to this policyd's store, so that followers can serve without
// an IAM credential, while other publishers (two or three, no leader election) write the same
// bucket.
//
// What it writes: `domain.instance` and one `domain.org.<id>` per org (fleet/keys.h,
// fleet/values.h), each value carrying the entry's SourceVersion from the store; a delete marker
// for a removed org; `heartbeat.<publisher id>` with its last successful sync; and the rows of
// the generic policy kinds (issue #14): `<kind>.instance` for each default the store holds and
// `<kind>.org.<id>` for each org's own row or tombstone (own row removed, version kept), with
// the row's version (LookupBatch::kind_version); a removed org's kind keys get delete markers
// after its org key. Kind keys follow the same rules as org keys, and no kind key of an org is
// written over a delete marker of its org key (a removal is final). The decisions are
// publish/plan.h's: write only a strictly newer version (an anti-entropy pass also rewrites an
// equal version whose bytes differ), never over a delete marker, delete only an org the store
// lacks and only up to the publisher's horizon, never the instance key, never another
// publisher's heartbeat. Every write carries a Nats-Msg-Id (plan.h MsgId) and a compare-and-set
// guard; a lost race (ABORTED) re-reads the key and decides again, a timeout or a missing stream
// leader retries the same write with backoff, a "duplicate" answer counts as done.
//
// How it runs, on two threads of its own (and, while a pass writes many keys, up to
// write_concurrency - 1 short-lived writer threads): the publisher thread binds (or creates) the
// bucket, waits until a watch of the whole bucket (the watch thread, publish/bucket_view.h) has
// delivered every key, makes a full pass (the bucket becomes equal to the store), then publishes
// what the ChangeFeed reports, makes a full pass again every `resync_interval` and after every
// reconnect, and writes heartbeats. Store writers never wait for it: the feed only records.
// While NATS is down the daemon keeps serving; the connection retries forever, changes wait in
// the feed (bounded: past its limit they collapse into "everything") and a full pass follows
// the reconnect. A bucket deleted or recreated by an operator is bound or created again and
// filled by a full pass.
//
// `store` is what it reads (the ChangeFeed itself, or the store the feed wraps); `feed` tells it
// what changed. Threads: Start() once and Stop() from one thread; Status() and Resync() from any.
// The store, the feed and the clock must outlive the publisher.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "model/fleet_status.h"
#include "nats/connection.h"
#include "nats/kv_bucket.h"
#include "nats/kv_stream.h"
#include "publish/bucket_view.h"
#include "publish/change_feed.h"
#include "publish/plan.h"
#include "store/store.h"

namespace policyd::publish {

struct PublisherOptions {
  // --publish-to URLs, --nats-creds, --nats-ca-file, and connection tuning.
  nats::ConnectOptions connect;
  std::string bucket = "policyd";  // --nats-bucket
  int replicas = 1;                // --nats-replicas: only when the bucket is created
  // heartbeat.<publisher_id>; the daemon passes the host name. Must be a valid id.
  std::string publisher_id;
  std::chrono::milliseconds resync_interval{std::chrono::hours(1)};  // --publish-resync-interval
  std::string source;           // the heartbeat's: HeartbeatSource(url) or SnapshotSource(path)
  std::string policyd_version;  // the heartbeat's
  // True for a snapshot (--snapshot): the heartbeat's last_sync is the time it is written,
  // refreshed every heartbeat_interval. False for an upstream: the store's StoreMeta::last_sync,
  // written after each sync round the feed reports, at most once per heartbeat_min_gap.
  bool static_source = false;
  std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(10)};
  std::chrono::milliseconds heartbeat_min_gap{std::chrono::seconds(1)};
  // Writes in flight at once during a pass that writes many keys (each a publish waiting for its
  // ack, on its own thread): a bucket with 3 replicas acknowledges a write in about a millisecond.
  std::size_t write_concurrency = 8;
  // Waits between retries of a failed write or setup step: doubling from initial up to max.
  std::chrono::milliseconds backoff_initial{std::chrono::milliseconds(100)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(5)};
  // Connection events (connected, disconnected, reconnected, errors), for the daemon's log. Runs
  // on a cnats thread (nats/connection.h); must be quick.
  std::function<void(const nats::ConnEvent&)> on_connection_event;
  // Test seam: called on a publisher thread just before each write is first sent (not before its
  // retries); must be thread-safe. Empty in production.
  std::function<void(const nats::WriteRequest&)> before_write;
};

class Publisher {
 public:
  Publisher(Store& store, ChangeFeed& feed, const Clock& clock, PublisherOptions options);
  ~Publisher();  // Stop()
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Starts connecting and the publisher thread; returns at once (never waits for a server).
  // Errors: INVALID_ARGUMENT for an invalid publisher id or bucket name, no URL or a malformed
  // one, an unreadable creds or CA file (nats::NatsConnection::Connect); FAILED_PRECONDITION
  // when already started.
  ::policyd::Status Start();
  // Stops both threads (an in-flight NATS call finishes within the request timeout) and closes
  // the connection. Idempotent.
  void Stop();
  // Asks for a full (anti-entropy) pass now instead of at the next resync interval.
  void Resync();

  FleetStatus Status() const;

 private:
  struct Want;      // what one key should hold (publisher_writes.cc)
  struct PassPlan;  // what a full pass found to write (publisher_writes.cc)
  enum class Outcome { kWritten, kSkipped };

  void Run();
  ::policyd::Status Step();
  ::policyd::Status Setup();
  ::policyd::Status StartWatch();
  void StopWatch();
  void WatchLoop();
  void OnConnectionEvent(const nats::ConnEvent& event);
  void Wake();
  // Waits until woken, stopped or `deadline`, and consumes the wake-up. False when stopping.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);
  // Waits `duration` unless stopped (wake-ups do not end it, nor are they consumed). False when
  // stopping.
  bool SleepFor(std::chrono::milliseconds duration);
  std::chrono::steady_clock::time_point NextDeadline() const;

  // publisher_writes.cc
  // UNAVAILABLE (and bucket_lost_) when the bucket was deleted or recreated since it was bound.
  ::policyd::Status CheckBucket();
  ::policyd::Status FullPass();
  // Walks the store (ForEachEntry), touching each org key in the view and listing the entries
  // whose key needs a write.
  ::policyd::Status PlanPass(PassPlan& plan);
  // Publishes orgs `ids` as the store holds them now; an org the store lacks is deleted up to
  // `absent_horizon` (`removals_seen`: see DecideDelete).
  ::policyd::Status PublishOrgs(const std::vector<std::string>& ids, bool anti_entropy,
                                Timestamp absent_horizon, bool removals_seen);
  ::policyd::Status PublishInstance(bool anti_entropy);
  // publisher_kinds.cc
  // Walks the store's kind rows (ForEachKindRow), touching each org kind key in the view and
  // listing the rows whose key needs a write.
  ::policyd::Status PlanKindPass(std::vector<std::pair<PolicyKind, std::string>>& rows,
                                 Timestamp& newest, std::uint64_t& entries);
  // Publishes the kind rows `rows` ((kind, org id), empty id: the default) as the store holds
  // them now. Rows of orgs the store lacks, and rows it has no entry for, are left alone (the
  // org's removal deletes its kind keys: DeleteKindKeys).
  ::policyd::Status PublishKindRows(std::vector<std::pair<PolicyKind, std::string>> rows,
                                    bool anti_entropy);
  // Delete markers for the kind keys of orgs `ids`, which the store lacks, once their org key is
  // deleted (or never existed): each key that holds a value whose version date is up to
  // `horizon`.
  ::policyd::Status DeleteKindKeys(const std::vector<std::string>& ids, bool anti_entropy,
                                   Timestamp horizon);
  // Full pass: kind keys `keys` ((kind, org id)) that hold an own row while the store holds the
  // org but no entry of the kind (e.g. the own row was removed while this publisher was away and
  // it came back with a cold start): a tombstone dated `horizon` (the absent horizon: no event
  // this publisher will still apply is older) replaces each whose version is older than it.
  ::policyd::Status FallBackKindKeys(const std::vector<std::pair<PolicyKind, std::string>>& keys,
                                     Timestamp horizon);
  ::policyd::Status MaybeHeartbeat(bool synced);
  // Makes one key hold what `want` says (plan.h decides). Thread-safe: ConvergeAll runs it on
  // several threads at once, for different keys.
  Result<Outcome> Converge(const Want& want);
  // Converge() for every element, on up to options_.write_concurrency threads; the first error.
  ::policyd::Status ConvergeAll(const std::vector<Want>& wants);
  Result<nats::WriteAck> WriteWithRetry(const nats::WriteRequest& request);
  Result<std::optional<KeyState>> Reread(const std::string& key);
  Result<Horizon> CurrentHorizon() const;

  Store& store_;
  ChangeFeed& feed_;
  const Clock& clock_;
  const PublisherOptions options_;
  const std::string heartbeat_key_;

  std::unique_ptr<nats::NatsConnection> conn_;  // set by Start(), reset by Stop()
  std::unique_ptr<nats::KvBucket> bucket_;      // publisher thread only
  std::unique_ptr<nats::KvStream> stream_;      // publisher thread creates; Stop() wakes
  std::thread watch_thread_;
  std::thread thread_;
  BucketView view_;
  RateLimitedLog log_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;      // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::atomic<bool> reconnected_{false};
  std::atomic<bool> resync_requested_{false};
  std::atomic<bool> watch_failed_{false};
  std::atomic<bool> stopping_flag_{false};
  std::atomic<bool> ever_connected_{false};

  // Publisher thread state.
  bool need_full_pass_ = true;
  // The bucket was deleted or recreated: bind (create) it again. Set by writer threads.
  std::atomic<bool> bucket_lost_{false};
  std::int64_t bucket_created_ns_ = 0;  // BucketInfo::created_ns of the bound bucket
  std::chrono::steady_clock::time_point next_resync_{};
  std::set<std::string> pending_orgs_;
  std::set<std::pair<PolicyKind, std::string>> pending_kind_rows_;
  bool pending_instance_ = false;
  bool heartbeat_due_ = true;
  std::chrono::steady_clock::time_point last_heartbeat_{};
  Timestamp heartbeat_written_;  // last_sync of the last heartbeat written
  Timestamp static_horizon_;     // snapshot source: newest entry version date of the last pass

  // Reported by Status().
  mutable std::mutex status_mu_;
  FleetPublisher own_heartbeat_;  // guarded by status_mu_
  std::atomic<std::uint64_t> cursor_{0};
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> values_skipped_{0};
  std::atomic<std::uint64_t> write_conflicts_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::atomic<std::uint64_t> resync_passes_{0};
};

}  // namespace policyd::publish
