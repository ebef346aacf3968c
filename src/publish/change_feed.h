// ChangeFeed: a Store that forwards everything to another Store and remembers what each
// successful write changed, for the fleet publisher (publish/publisher.h) to publish.
//
// The daemon hands the ChangeFeed, not the RocksDB store, to whatever writes the state (the
// Syncer, the snapshot loader), and the same ChangeFeed to the Publisher. Writers never wait for
// NATS: Apply() and Replace() only add to an in-memory set after the wrapped store accepted the
// batch (a failed write records nothing), then call the listener.
//
// What is recorded, per successful write:
//   Apply    the org ids named by put_orgs, removed_orgs, put_org_domains and org_versions;
//            "instance" when it sets instance, instance_domains or instance_version; "synced"
//            when synced_at is non-zero (a sync round completed, the heartbeat's news);
//            and each (kind, org id) of put_kind_rows and of removed orgs' rows (the org id empty
//            for an instance default; the publisher writes their <kind>.* keys);
//   Replace  "everything" and "synced" (a cold start or a snapshot: the publisher makes a full
//            pass).
// Pending org ids are kept until taken; past `max_pending_orgs` they collapse into "everything"
// (a full pass costs the same as that many single reads, and the set stays bounded while NATS is
// down).
//
// Thread-safety: every Store method may be called as the wrapped store allows; Take(),
// HasPending() and SetListener() from any thread. The listener runs on the writer's thread,
// after the write, outside the feed's lock but under a second lock that SetListener also takes:
// once SetListener() returns, the previous listener is neither running nor called again. It must
// be quick; it may call Take() or HasPending() but not SetListener(). The wrapped store must
// outlive the feed.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/forwarding_store.h"
#include "store/store.h"

namespace policyd::publish {

// What changed since the last Take().
struct FeedChanges {
  std::vector<std::string> orgs;  // sorted, unique
  bool instance = false;
  bool everything = false;  // a Replace, or too many orgs: reconcile the whole store
  bool synced = false;      // a sync round (or a Replace) completed
  // Rows of the generic kinds that a change named: (kind, org id; empty for the instance
  // default), sorted, unique. Cleared when `everything` is set. A removed org appears in `orgs`
  // only (its rows of every kind went with it).
  std::vector<std::pair<PolicyKind, std::string>> kind_rows;

  bool empty() const {
    return orgs.empty() && kind_rows.empty() && !instance && !everything && !synced;
  }
};

class ChangeFeed final : public ForwardingStore {
 public:
  static constexpr std::size_t kDefaultMaxPendingOrgs = 10'000;

  explicit ChangeFeed(Store& inner, std::size_t max_pending_orgs = kDefaultMaxPendingOrgs);

  // Everything recorded since the last call (and clears it).
  FeedChanges Take();
  bool HasPending() const;
  // Called after every recorded change; empty: none.
  void SetListener(std::function<void()> listener);

  // Store: writes are forwarded and recorded; everything else is forwarded (ForwardingStore).
  Status Apply(const StoreChange& change, Timestamp now) override;
  Status Replace(const Snapshot& snapshot, std::string_view cursor, std::string_view source,
                 Timestamp now) override;

 private:
  void Record(const StoreChange& change);
  void Notify();

  const std::size_t max_pending_orgs_;
  mutable std::mutex mu_;
  std::set<std::string> orgs_;                              // guarded by mu_
  std::set<std::pair<PolicyKind, std::string>> kind_rows_;  // guarded by mu_
  bool instance_ = false;                                   // guarded by mu_
  bool everything_ = false;                                 // guarded by mu_
  bool synced_ = false;                                     // guarded by mu_
  std::mutex listener_mu_;
  std::function<void()> listener_;  // guarded by listener_mu_
};

}  // namespace policyd::publish
