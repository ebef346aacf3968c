// Store: the durable local copy of every domain policy, and its only writer's API.
//
// Contents: the instance default (with the instance id), the set of known orgs with each org's
// own policy if it has one, each known org's domains and the instance's domains
// (model/domains.h), and StoreMeta (counts, sync cursor, times). The RocksDB layout is in
// store/keys.h and the README.
//
// Consistency: every write is one atomic batch (one consistent state change, cursor included);
// readers never observe half of one. Read() sees the instance default and all requested orgs at
// one point in time.
//
// Versions: a store of format v1 (no verified-domain index) or v2 (entry versions in rows of their
// own) is migrated to v3 when opened for writing; opened read-only it is read as it is (versions
// included), and for a v1 store a Read() with claim queries is FAILED_PRECONDITION.
//
// Threads: Read(), ReadDomains(), Meta() and ForEach() may be called from any number of threads at
// once, concurrently with one writer. Apply() and Replace() serialize among themselves.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/domains.h"
#include "model/policy_kinds.h"
#include "model/source_version.h"
#include "model/store_state.h"
#include "resolve/resolve.h"

namespace policyd {

// A reusable read request: add org ids, pass to Store::Read, read the views.
// Reusing one LookupBatch per connection avoids allocating on every request once warmed up.
class LookupBatch {
 public:
  void Clear();
  // Adds an org to look up. The view must stay valid until Read() returns.
  void Add(std::string_view org_id);
  std::size_t size() const { return ids_.size(); }
  std::string_view id(std::size_t i) const { return ids_[i]; }

  // After a successful Read(): the instance default (nullptr if none is stored) and each org's
  // view. Pointers stay valid until the next Clear() or Read().
  const InstanceRecord* instance() const { return has_instance_ ? &instance_ : nullptr; }
  OrgView org(std::size_t i) const;

  // Whether Read() also reads the domains of every org and of the instance, with their sequences,
  // in the same consistent view (what the sync reducer loads, and checks that need domains).
  // Only RocksDB keeps domains, so an IndexedStore answers such a batch from RocksDB. Off by
  // default; Clear() keeps the setting.
  void set_with_domains(bool on) { with_domains_ = on; }
  // After a successful Read() with domains: org i's domains (an empty list with sequence 0 when
  // it has none; org_id is not filled) and the instance's. Valid until the next Clear() or Read().
  const OrgDomains& domains(std::size_t i) const { return domains_[i]; }
  const InstanceDomains& instance_domains() const { return instance_domains_; }
  bool with_domains() const { return with_domains_; }

  // Whether Read() also reads each org's entry version and the instance's (model/
  // source_version.h), in the same consistent view (what the sync reducer and the fleet publisher
  // need). The versions live in the org and instance rows that Read() reads anyway, so this costs
  // decoding them only. Only RocksDB keeps versions, so an IndexedStore answers such a batch from
  // RocksDB. Off by default; Clear() keeps the setting.
  void set_with_versions(bool on) { with_versions_ = on; }
  bool with_versions() const { return with_versions_; }
  // After a successful Read() with versions: org i's entry version and the instance entry's (a
  // zero SourceVersion where none is stored). Valid until the next Clear() or Read().
  const SourceVersion& version(std::size_t i) const { return versions_[i]; }
  const SourceVersion& instance_version() const { return instance_version_; }

  // Which generic kinds (model/policy_kinds.h; kDomain is always read and ignored here) Read()
  // also reads, in the same consistent view: each kind's instance default and each org's own row.
  // kLabelPreview is for the sync reducer only. Empty by default; Clear() keeps the setting.
  // RocksDB reads one "kinds:" row per id for any set of kinds (store/keys.h); an IndexedStore
  // answers kPasswordComplexity..kLabel from memory, and a batch with kLabelPreview (or versions)
  // from RocksDB (store/indexed_store.h).
  void set_kinds(KindSet kinds) { kinds_ = kinds; }
  KindSet kinds() const { return kinds_; }
  // After a successful Read() with `kind` in kinds(): the instance default of `kind` (nullptr when
  // none is stored) and org i's own row of it (nullptr when it has none: it falls back). With
  // versions (set_with_versions), also each row entry's version (zero when none is stored; an
  // org's entry of a kind keeps its version after its own row is removed, until the org is).
  // Pointers stay valid until the next Clear() or Read().
  const KindPolicy* kind_default(PolicyKind kind) const;
  const KindPolicy* kind_policy(std::size_t i, PolicyKind kind) const;
  const SourceVersion& kind_default_version(PolicyKind kind) const;
  const SourceVersion& kind_version(std::size_t i, PolicyKind kind) const;

  // Adds a verified-domain query for org `asking_org` and returns its number j: after a
  // successful Read(), claims(j) hold every org other than `asking_org` that has `domain`
  // verified (compared ASCII case-insensitively; the store's verified-domain index), read in the
  // same consistent view as everything else of the batch; the asking org's own claim may or may
  // not be among them. The views must stay valid until Read() returns. Clear() drops the queries.
  std::size_t AddClaimQuery(std::string_view domain, std::string_view asking_org);
  std::size_t claim_query_count() const { return claim_domains_.size(); }
  std::span<const DomainClaim> claims(std::size_t j) const {
    return {claims_[j].data(), claim_counts_[j]};
  }

 private:
  friend class RocksStore;
  friend class IndexedStore;
  std::vector<std::string_view> ids_;
  std::vector<std::uint8_t> known_;       // 1 if ids_[i] is a known org
  std::vector<std::uint8_t> has_policy_;  // 1 if it has its own policy
  std::vector<PolicyRecord> policies_;    // valid where has_policy_[i]
  InstanceRecord instance_;
  bool has_instance_ = false;
  bool with_domains_ = false;
  std::vector<OrgDomains> domains_;  // with_domains_: per id
  InstanceDomains instance_domains_;
  bool with_versions_ = false;
  std::vector<SourceVersion> versions_;  // with_versions_: per id
  SourceVersion instance_version_;
  std::vector<std::string_view> claim_domains_;  // per claim query
  std::vector<std::string_view> claim_askers_;   // per claim query
  // Per claim query: the claims, the first claim_counts_[j] of claims_[j] (elements beyond stay,
  // so that a reused batch does not allocate for them again).
  std::vector<std::vector<DomainClaim>> claims_;
  std::vector<std::size_t> claim_counts_;
  // Forgets the kind rows of the last Read() (their capacity stays).
  void ClearKinds();
  // Internal (IndexedStore): Read() fills the claims only, leaving the rest of the batch alone.
  bool claims_only_ = false;
  // Generic kinds (set_kinds): per stored kind, the default and per id the own row, with a
  // presence flag each, so that reused batches keep the rows' capacity.
  KindSet kinds_{};
  std::array<KindPolicy, kStoredKindCount> kind_defaults_{};
  // Per kind, the IndexedStore serial of the default kind_defaults_ holds (KindTable::NewSerial;
  // 0: unknown), so that it is decoded again only when it changed. RocksDB reads reset it.
  std::array<std::uint64_t, kStoredKindCount> kind_default_serials_{};
  std::array<bool, kStoredKindCount> has_kind_default_{};
  std::array<SourceVersion, kStoredKindCount> kind_default_versions_{};
  std::array<std::vector<KindPolicy>, kStoredKindCount> kind_policies_{};      // per id
  std::array<std::vector<std::uint8_t>, kStoredKindCount> has_kind_policy_{};  // per id
  std::array<std::vector<SourceVersion>, kStoredKindCount> kind_versions_{};   // per id
};

// A change of one row of a generic kind (model/policy_kinds.h), part of a StoreChange.
struct KindRowChange {
  PolicyKind kind = PolicyKind::kPasswordComplexity;  // a generic stored kind (not kDomain)
  std::string org_id;                                 // empty: the instance default of `kind`
  // The new row (its kind must be `kind`; CheckKindPolicy must accept it); nullopt: the org has
  // no own row of `kind` any more and falls back (an instance default cannot be removed).
  std::optional<KindPolicy> policy;
  // The row entry's new version; nullopt keeps the stored one.
  std::optional<SourceVersion> version{};
};

// One consistent state change, applied atomically by Store::Apply.
struct StoreChange {
  std::optional<InstanceRecord> instance;  // replaces the instance default when set
  std::vector<OrgRecord> put_orgs;         // creates or replaces orgs (policy nullopt = none)
  std::vector<std::string> removed_orgs;   // deletes orgs with their policy; unknown ids ignored
  std::optional<std::string> cursor;       // replaces the sync cursor when set
  Timestamp synced_at;                     // when non-zero, becomes StoreMeta::last_sync
  // Replaces each named org's whole domain list (and its sequence). The org must exist after the
  // change (known and not removed, or put). An empty list with sequence 0 deletes the row; an
  // empty list with a sequence keeps it, so that replayed older events stay recognisable.
  std::vector<OrgDomains> put_org_domains{};
  std::optional<InstanceDomains> instance_domains{};  // replaces the instance's domains when set
  // Entry versions (model/source_version.h), written in the same batch: each named org must be in
  // put_orgs or put_org_domains, at most once. A put org that is not named keeps its stored
  // version (zero for a new org); a removed org's version goes with it. The version is kept in the
  // entry's org or instance row, so a version alone rewrites that row (without stamping
  // last_change), and an instance version is only kept while an instance default is stored (or
  // given by the same change): without one it reads as zero.
  std::vector<std::pair<std::string, SourceVersion>> org_versions{};
  std::optional<SourceVersion> instance_version{};
  // Rows of the generic kinds: each (kind, org) at most once; an org named must exist after the
  // change. A removed org's rows of every kind go with it.
  std::vector<KindRowChange> put_kind_rows{};
  // Applied in this order: removed_orgs (with their domains, version and kind rows), then
  // put_orgs, then put_org_domains, versions and put_kind_rows (so one change may remove and
  // re-add an org, and give it new domains and rows).
};

struct StoreOptions {
  std::size_t block_cache_bytes = 64u << 20;
  bool create_if_missing = true;  // false: a missing or empty dir is an error
  // Open without taking the lock, for reading a store another process serves (policyctl dump).
  // Sees the state as of opening; Apply/Replace/Flush answer FAILED_PRECONDITION.
  bool read_only = false;
};

// What a dump writes of the instance: its default, its domains and its generic kinds' defaults.
struct DumpInstance {
  InstanceRecord instance;
  std::vector<std::string> domains;
  std::vector<KindPolicy> kinds;  // the defaults of kGenericKinds that are stored, in kind order
};

// What a dump writes of one org: its row, its domains (as stored) and its own rows of the
// generic kinds (kGenericKinds only; no label preview, no removed rows), in kind order.
struct DumpEntry {
  OrgRecord org;
  std::vector<OrgDomain> domains;
  std::vector<KindPolicy> kinds;
};

// A resumable walk over the whole store, for streaming a dump in pieces (server/dump_stream.h):
// everything it yields comes from one consistent view taken when it was opened (RocksDB: a
// snapshot), whatever is written meanwhile. Holding the view pins what it sees (RocksDB keeps the
// memtables and table files it needs until the cursor is destroyed) but nothing grows with the
// store: the cursor holds one org at a time. One thread at a time; must not outlive its store.
class DumpCursor {
 public:
  virtual ~DumpCursor() = default;
  // The instance, read when the cursor was opened.
  virtual const DumpInstance& instance() const = 0;
  // Fills `out` with the next org in id byte order (its buffers reused) and returns true, or
  // false once every org was visited. Errors: INTERNAL / DATA_LOSS as for Store::Read(); the
  // cursor is then not to be used again.
  virtual Result<bool> Next(DumpEntry& out) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens a DumpCursor on the current state. Errors: FAILED_PRECONDITION when no instance
  // default is stored yet (nothing to dump); UNIMPLEMENTED for a store that cannot (test
  // doubles); INTERNAL / DATA_LOSS as for Read().
  virtual Result<std::unique_ptr<DumpCursor>> OpenDumpCursor() const {
    return Err(Status(Code::kUnimplemented, "this store cannot be dumped"));
  }

  // Fills `batch` with the instance default, every requested org and the answers to its claim
  // queries, from one consistent view.
  // Errors: INTERNAL / DATA_LOSS if the store cannot be read or a record does not decode;
  // FAILED_PRECONDITION for claim queries on a v1 store opened read-only (it has no index).
  virtual Status Read(LookupBatch& batch) const = 0;

  // Fills `out` (cleared first, capacity kept) with the domains of `org_id` (none for an unknown
  // org) and the instance's domains, from one consistent view.
  // Errors: INTERNAL / DATA_LOSS as for Read().
  virtual Status ReadDomains(std::string_view org_id, DomainSet& out) const = 0;

  // The stored bookkeeping. Meta() never reports a change lookups cannot see yet: a Read() that
  // begins after Meta() returned sees at least the state the meta describes (its cursor, counts
  // and times), so a status never runs ahead of lookups. A store that answers reads from
  // elsewhere than its meta (IndexedStore) publishes the meta together with what reads see.
  // Errors as for Read().
  virtual Result<StoreMeta> Meta() const = 0;

  // Applies `change` atomically. `now` is stamped as last_change if the state changed.
  // Errors: INVALID_ARGUMENT (bad ids, an org put twice, a bad domain list (model/domains.h
  // ValidateOrgDomains), domains of an org that does not exist, ...) with nothing written;
  // INTERNAL / UNAVAILABLE when the write fails (disk full, EIO, ...), with nothing written.
  // After such a failure reads go on, and each later write first tries to resume the database,
  // so writing works again once the disk does.
  virtual Status Apply(const StoreChange& change, Timestamp now) = 0;

  // Replaces the whole state with `snapshot` in one batch: orgs and domains not in it disappear.
  // Errors as for Apply(); on error the previous state is intact.
  virtual Status Replace(const Snapshot& snapshot, std::string_view cursor, std::string_view source,
                         Timestamp now) = 0;

  // Visits the instance default (if any) and then every org in id byte order, from one
  // consistent view. A non-OK Status from `visit` stops the walk and is returned.
  virtual Status ForEach(const std::function<void(const InstanceRecord&)>& on_instance,
                         const std::function<Status(const OrgRecord&)>& on_org) const = 0;

  // Visits every org's domain list that the store holds (org_id filled), in org id order, from one
  // consistent view. A non-OK Status from `visit` stops the walk and is returned. Errors as for
  // Read().
  virtual Status ForEachOrgDomains(const std::function<Status(const OrgDomains&)>& visit) const = 0;

  // Visits the instance entry (only when an instance default is stored) and then every org's
  // entry, in org id byte order, from one consistent view: the org's row, its domain list
  // (org_id filled; an empty list with sequence 0 when it has none) and its entry version (zero
  // when none is stored). A non-OK Status from a visitor stops the walk and is returned. Errors
  // as for Read().
  virtual Status ForEachEntry(
      const std::function<Status(const InstanceRecord&, const InstanceDomains&,
                                 const SourceVersion&)>& on_instance,
      const std::function<Status(const OrgRecord&, const OrgDomains&, const SourceVersion&)>&
          on_org) const = 0;

  // Visits every stored row of the generic kinds from one consistent view: each kind's instance
  // default, then the orgs' rows in org id byte order (kinds in number order within an org).
  // `has_policy` false is an org entry whose own row was removed (only its version is kept).
  // kLabelPreview rows are visited too. A non-OK Status from `visit` stops the walk and is
  // returned. Errors as for Read().
  virtual Status ForEachKindRow(
      const std::function<Status(const KindRow& row, bool has_policy)>& visit) const = 0;

  // Flushes memtables so a restart opens fast. Errors: UNAVAILABLE when the disk cannot be
  // written (as for Apply), INTERNAL.
  virtual Status Flush() = 0;
};

// Opens (creating if allowed and the directory is missing or empty) the RocksDB store in `dir`.
// Errors: FAILED_PRECONDITION for a directory that is not a policyd store (foreign files, another
// program's RocksDB, another format version), one locked by another process, or one that cannot
// be written; DATA_LOSS for a corrupt store (damaged CURRENT, MANIFEST or table files: every
// block's checksum is verified at open); INTERNAL for other I/O failures. Each message names the
// directory and says what to do.
Result<std::unique_ptr<Store>> OpenRocksStore(const std::string& dir, const StoreOptions& options);

}  // namespace policyd
