// Syncer: keeps the store following the upstream IAM.
//
// A round (SyncOnce) is either a cold start — build the complete state from the upstream's event
// history (or, where retention hides it, its list and policy endpoints) and replace the store in
// one batch — or an incremental pull: pages of events since the cursor, each page and the
// advanced cursor written in one batch. Start() runs rounds on a background thread every poll
// interval (randomised ±20% so a fleet does not poll in step), backing off exponentially with
// jitter after failures (or as long as a 429's Retry-After asks). Lookups never wait for it: they
// read the store, which only ever holds whole batches. A store write that fails (disk full, a write
// error) marks the serving state DEGRADED and fails the round, which is retried with the same
// backoff; each retry's write first resumes the store, so sync continues by itself once the disk
// can be written again, and the failed batch left nothing behind.
//
// Cold start cost, for N orgs: 1 request for the newest event, 1 for the default, 1 history
// probe; then with a complete event history ceil(E/1000) pages of org events (E: org.added,
// org.removed, org-policy and org/instance domain events ever), or — when the upstream's
// audit-log retention hides old events — ceil(N/1000) org pages plus 2, N policy reads (one per
// org), the only way to be correct then, and each org's domain list, ceil(D_i/1000) pages for an
// org of D_i domains but at least 1 (N requests unless an org has over 1,000 domains), plus the
// instance's domain list (1 page unless it has over 1,000 domains).
//
// Threads: SyncOnce() must not run concurrently with itself; Start()/Stop() from one thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "server/serving_state.h"
#include "store/store.h"
#include "sync/cursor.h"
#include "sync/reducer.h"
#include "upstream/upstream.h"

namespace policyd {

struct SyncOptions {
  std::string source;  // the upstream base URL, recorded as StoreMeta::source
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
  double poll_jitter = 0.2;  // ± fraction of poll_interval
  std::chrono::milliseconds overlap{std::chrono::seconds(2)};
  std::chrono::milliseconds backoff_initial{std::chrono::milliseconds(500)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(60)};
  // A nudged round (Nudge) starts no sooner than this after the previous round ended, so a burst
  // of deliveries (ZITADEL sends one per event) makes a round or two, not one each.
  std::chrono::milliseconds nudge_gap{std::chrono::milliseconds(200)};
  std::uint32_t page_size = 1000;
  std::uint32_t max_pages_per_round = 10'000;
};

struct SyncCounters {
  std::atomic<std::uint64_t> rounds{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> cold_starts{0};
  std::atomic<std::uint64_t> events_applied{0};  // changed a row
  std::atomic<std::uint64_t> events_skipped{0};  // seen before, no effect, or invalid
  std::atomic<std::uint64_t> pages{0};
  std::atomic<std::uint64_t> cold_start_requests{0};  // upstream requests of the last cold start
  // Rounds of the background loop (Start()) that succeeded, and that failed by cause.
  std::atomic<std::uint64_t> successes{0};
  std::array<std::atomic<std::uint64_t>, kSyncFailureCauses> failures_by_cause{};
};

class Syncer {
 public:
  Syncer(Store& store, Upstream& upstream, ServingState& state, const Clock& clock,
         SyncOptions options);
  ~Syncer();
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  // One round. Errors: the upstream's (see upstream.h) or the store's; the store then still
  // holds the last good state.
  Status SyncOnce();

  // Runs rounds on a background thread until Stop().
  void Start();
  void Stop();
  // Makes a sleeping background thread start its next round now, even during a backoff after
  // failures (tests, SIGHUP: new credentials deserve a try at once).
  void Wake();
  // Asks for a round soon (a webhook delivery): when the loop sleeps out a poll interval, at once
  // but no sooner than options.nudge_gap after the last round ended (when one runs, that is
  // after it); during the backoff after a failed round, only when the backoff ends (a wake-up
  // never shortens a backoff or a 429's Retry-After). Nudges coalesce: any number before a
  // round begins cause that one round. Rounds never overlap (one thread runs
  // them all). Cheap and non-blocking enough for any thread.
  void Nudge();
  void SetPollInterval(std::chrono::milliseconds interval);

  const SyncCounters& counters() const { return counters_; }

 private:
  // Builds the complete state; incremental sync then resumes `overlap_ns` before the newest event.
  Status ColdStart(std::int64_t overlap_ns);
  Status Pull(SyncCursor& cursor);
  // Reduces the unseen events of `page`, advances the cursor and writes both in one batch.
  Status ApplyPage(const std::vector<Event>& page, SyncCursor& cursor, bool& resnapshot);
  // Records in the serving state whether the store could be written (health DEGRADED if not).
  void NoteWrite(const Status& written);
  // The newest org.added or org.removed event, (aggregate id, sequence, creation date); all
  // empty when there is none: what moves an org list's offsets.
  using MembershipMark = std::tuple<std::string, std::uint64_t, Timestamp>;
  Result<MembershipMark> NewestMembershipEvent();
  // Every org id, from the list endpoint, read again until no org came or went meanwhile; sorted.
  // `mark`: the newest membership event when the list was whole.
  Result<std::vector<std::string>> ListAllOrgs(MembershipMark& mark);
  // Every domain of org `id` / of the instance, from the domain-list endpoints, paged, made a
  // list the store accepts (NormalizeListedOrgDomains / NormalizeListedInstanceDomains).
  Result<std::vector<OrgDomain>> ReadOrgDomains(const std::string& id);
  Result<std::vector<std::string>> ReadInstanceDomains();
  // `error` of reading org `id`, or UNAVAILABLE when it is PERMISSION_DENIED because the org was
  // removed since the org list was read at `mark` (the upstream's 403 for an unknown org).
  Status OrgGoneOr(Status error, const std::string& id, const MembershipMark& mark);
  // Pages through every visible event of the orgs and the instance, from the oldest, reducing
  // each into `set`. FAILED_PRECONDITION for a push of over a page (which the events API cannot
  // page past).
  Status Replay(WorkingSet& set);
  // With a complete history: the orgs that exist at the end of the event stream, with their own
  // policies and domains, and the instance's domains, from one replay of org, org-policy and
  // domain events. Errors as for Replay().
  Status ReplayHistory(Snapshot& snapshot);
  // Where retention hides old events: the org list, each org's policy and domain list, and the
  // instance's domain list. Errors: the upstream's.
  Status ReadCurrentState(Snapshot& snapshot);
  // Where retention hides old events: the rows of every generic kind of org `org_id` (empty: the
  // instance defaults) from the upstream's policy GETs, one per stored kind (the label policy's
  // preview too), into `snapshot`. Errors: the upstream's (see OrgGoneOr).
  Status ReadKindRows(const std::string& org_id, const MembershipMark& mark, Snapshot& snapshot);
  // "<options_.source>/assets/v1": what the upstream's label asset URLs start with.
  std::string AssetPrefix() const;
  // After a Read of batch_ with kinds: org i's rows (nullopt: the instance defaults) into `rows`.
  void LoadKindRows(std::optional<std::size_t> org, KindRows& rows) const;
  // Adds to `ids` (sorted, unique) every org whose login row links an IdP that `events` rename,
  // retype or remove (a walk over the store's kind rows; such events are rare).
  Status AddOrgsLinkingChangedIdps(const std::vector<const Event*>& events,
                                   std::vector<std::string>& ids) const;
  // Puts the IdPs that link-added events of `events` name but the IdP table lacks (their added
  // event is older than the history read: a cold start under retention) into `set`'s table, as
  // the linking owner's login policy read from the upstream shows them.
  Status LearnUnknownIdps(const std::vector<const Event*>& events, WorkingSet& set);
  std::chrono::milliseconds NextWait(const Status& last);
  void Loop();

  Store& store_;
  Upstream& upstream_;
  ServingState& state_;
  const Clock& clock_;
  SyncOptions options_;
  SyncCounters counters_;
  LookupBatch batch_;
  std::atomic<std::int64_t> poll_interval_ms_;
  std::uint32_t consecutive_failures_ = 0;
  bool round_write_failed_ = false;  // this round's store write failed (failure cause)
  std::mt19937_64 rng_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  bool wake_ = false;   // guarded by mu_
  bool nudge_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace policyd
