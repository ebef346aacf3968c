// ColdLoad: a follower's cold start (issue #13), built from the whole-bucket watch: the latest
// message of every key, up to the watch's caught-up signal, becomes one Snapshot that replaces
// the store in one batch. Orgs the bucket does not hold are dropped (Store::Replace), removed
// orgs (delete markers) are not in it, and the new cursor is the highest revision seen.
//
// A refused message (follow/messages.h) changes nothing: when the bucket's value for the
// instance or for an org is refused, the snapshot keeps what the local store holds for that
// entry (the caller reads it: see kept_orgs() and Build()), rather than dropping the org or
// taking a value it cannot read. Heartbeats go to publishers(), not into the snapshot.
//
// Kind keys (issue #14): the snapshot carries each kind's default and the own rows of the orgs
// it holds (Snapshot::kind_rows). A tombstone (own row removed) is not carried: a snapshot has no
// such row, and the org without one falls back all the same; its version is not kept. Rows of
// orgs the snapshot does not hold are returned by OrphanKindRows for the caller to hold until
// the org arrives (follow/messages.h PendingKindRows). A refused kind value keeps the local
// store's row (kept_kind_rows()), like a refused org value.
//
// Pure. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "follow/messages.h"
#include "model/domain_policy.h"

namespace policyd::follow {

// An entry of the local store, with its version, that a refused bucket value leaves in place.
struct LocalOrg {
  OrgRecord org;
  OrgDomains domains;
  SourceVersion version;
};
struct LocalInstance {
  InstanceRecord instance;
  InstanceDomains domains;
  SourceVersion version;
};

class ColdLoad {
 public:
  // Adds one message of the watch, in the order received. Returns the refusal when it is
  // refused (the caller logs and counts it); the highest revision moves either way.
  std::optional<Refusal> Add(const Message& message);

  std::uint64_t highest_revision() const { return highest_revision_; }
  const PublisherTable& publishers() const { return publishers_; }
  // Orgs the bucket gave so far (removed ones not counted).
  std::size_t org_count() const { return orgs_.size(); }
  // Org ids whose bucket value was refused and for which the bucket gave nothing better: the
  // snapshot keeps the local store's entry for each (when the store has one).
  const std::set<std::string>& kept_orgs() const { return kept_orgs_; }
  // True when the bucket's instance value was refused and no good one was seen: the snapshot
  // keeps the local store's instance.
  bool keeps_instance() const { return keeps_instance_; }

  // The snapshot: the bucket's instance (or `local_instance` when keeps_instance()), its orgs
  // plus those of `local_orgs` named in kept_orgs() (others are ignored), each with its domains
  // and version (Snapshot::org_versions, instance_version).
  // Kind rows: the bucket's defaults and own rows of the snapshot's orgs, plus those of
  // `local_kind_rows` named in kept_kind_rows() whose org the snapshot holds.
  // FAILED_PRECONDITION when there is no instance at all (the bucket holds no readable
  // domain.instance yet and the store has none to keep): nothing to serve a default from.
  Result<Snapshot> Build(const std::optional<LocalInstance>& local_instance,
                         const std::vector<LocalOrg>& local_orgs,
                         const std::vector<KindRow>& local_kind_rows = {}) const;

  using KindRowId = std::pair<PolicyKind, std::string>;  // (kind, org id; empty: the default)
  // Rows whose kind value was refused and for which the bucket gave nothing better.
  const std::set<KindRowId>& kept_kind_rows() const { return kept_kind_rows_; }
  // The bucket's kind rows (and tombstones) of orgs `snapshot` (Build's) does not hold.
  std::vector<std::pair<fleet::KindEntry, SourceVersion>> OrphanKindRows(
      const Snapshot& snapshot) const;
  std::size_t kind_row_count() const { return kinds_.size(); }

 private:
  struct Org {
    fleet::OrgEntry entry;
    SourceVersion version;
  };
  std::uint64_t highest_revision_ = 0;
  std::optional<fleet::InstanceEntry> instance_;
  SourceVersion instance_version_;
  bool keeps_instance_ = false;
  std::map<std::string, Org> orgs_;
  std::set<std::string> kept_orgs_;
  struct Kind {
    fleet::KindEntry entry;
    SourceVersion version;
  };
  std::map<KindRowId, Kind> kinds_;
  std::set<KindRowId> kept_kind_rows_;
  PublisherTable publishers_;
};

}  // namespace policyd::follow
