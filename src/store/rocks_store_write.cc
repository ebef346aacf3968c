// RocksStore: the write side (Apply, Replace). The domain rows are staged by store/domain_rows.h,
// the entry versions checked and staged by store/entry_rows.h.
//
// Durability: batches are written with WriteOptions::sync = false. The WAL is still written
// before the memtable, so a process crash loses nothing; an OS crash or power loss may lose the
// last writes, but only whole batches (kPointInTimeRecovery), and each batch carries the sync
// cursor of the state it writes. After such a loss the store is an older consistent state with
// its own older cursor, and the sync loop simply re-applies the events after it.
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "store/codec.h"
#include "store/domain_rows.h"
#include "store/entry_rows.h"
#include "store/keys.h"
#include "store/kind_rows.h"
#include "store/multi_get.h"
#include "store/rocks_store.h"

namespace policyd {
namespace {

namespace keys = store_keys;

std::string_view IdOf(const OrgRecord* org) { return org->id; }
std::string_view IdOf(std::string_view id) { return id; }
bool IdLess(const OrgRecord* a, const OrgRecord* b) { return a->id < b->id; }

Status ValidateInstance(const InstanceRecord& instance) {
  POLICYD_RETURN_IF_ERROR(ValidateId("instance id", instance.id));
  return CheckPolicyRecord("instance default policy", instance.policy);
}

// Checks every org of `orgs` (named `list` in messages) and returns them sorted by id.
// INVALID_ARGUMENT for a bad id, a policy that cannot be stored, or an id given twice.
Result<std::vector<const OrgRecord*>> ValidateOrgs(std::string_view list,
                                                   const std::vector<OrgRecord>& orgs) {
  std::vector<const OrgRecord*> sorted;
  sorted.reserve(orgs.size());
  for (std::size_t i = 0; i < orgs.size(); ++i) {
    const OrgRecord& org = orgs[i];
    Status s = ValidateId("org id", org.id);
    if (s.ok() && org.policy) s = CheckPolicyRecord("policy", *org.policy);
    if (!s.ok()) return Err(s.WithContext(std::string(list) + "[" + std::to_string(i) + "]"));
    sorted.push_back(&org);
  }
  std::sort(sorted.begin(), sorted.end(), IdLess);
  auto dup =
      std::adjacent_find(sorted.begin(), sorted.end(),
                         [](const OrgRecord* a, const OrgRecord* b) { return a->id == b->id; });
  if (dup != sorted.end()) {
    return Err(Status::InvalidArgument(std::string(list) + ": org " + (*dup)->id +
                                       " appears more than once"));
  }
  return sorted;
}

// Removed ids, sorted and unique, without those that are also put: a put after a remove wins.
Result<std::vector<std::string_view>> EffectiveRemovals(const StoreChange& change,
                                                        const std::vector<const OrgRecord*>& puts) {
  std::vector<std::string_view> removed;
  removed.reserve(change.removed_orgs.size());
  for (std::size_t i = 0; i < change.removed_orgs.size(); ++i) {
    if (Status s = ValidateId("org id", change.removed_orgs[i]); !s.ok()) {
      return Err(s.WithContext("removed_orgs[" + std::to_string(i) + "]"));
    }
    removed.push_back(change.removed_orgs[i]);
  }
  std::sort(removed.begin(), removed.end());
  removed.erase(std::unique(removed.begin(), removed.end()), removed.end());
  std::erase_if(removed, [&puts](std::string_view id) {
    return std::binary_search(puts.begin(), puts.end(), id,
                              [](const auto& a, const auto& b) { return IdOf(a) < IdOf(b); });
  });
  return removed;
}

// Applies the difference between an org's previous row and its next one to the counts.
// DATA_LOSS if the counts would go below zero: then they no longer match the rows.
Status AdjustCounts(bool existed, bool had_policy, bool exists, bool has_policy, StoreMeta& meta) {
  if ((existed && !exists && meta.org_count == 0) ||
      (had_policy && !has_policy && meta.custom_policy_count == 0)) {
    return Status::DataLoss(
        "stored counts disagree with the stored orgs; a full resync rebuilds them");
  }
  if (existed != exists) exists ? ++meta.org_count : --meta.org_count;
  if (had_policy != has_policy)
    has_policy ? ++meta.custom_policy_count : --meta.custom_policy_count;
  return Status::Ok();
}

Status BatchError(const rocksdb::Status& s) {
  return Status::Internal("build write batch: " + s.ToString());
}

// Stages the org rows of one change into `batch` and `meta`. `prev` holds the previous rows of
// `removals` and then of `puts`, from slot `first` on. A put org gets the version `named` gives
// it, or keeps its stored one; a removed org's version goes with its row.
Status StageOrgs(const MultiGetBuffer& prev, std::size_t first,
                 const std::vector<std::string_view>& removals,
                 const std::vector<const OrgRecord*>& puts, const NamedVersions& named,
                 rocksdb::WriteBatch& batch, StoreMeta& meta, Staged& staged) {
  std::size_t slot = first;
  std::string key;
  bool existed = false;
  bool had_policy = false;
  SourceVersion old_version;
  for (std::string_view id : removals) {
    POLICYD_RETURN_IF_ERROR(PreviousOrg(prev, slot++, id, &existed, &had_policy, &old_version));
    if (!existed) continue;  // removing an unknown org is not an error, and not a change
    keys::OrgKeyInto(id, &key);
    if (rocksdb::Status s = batch.Delete(ToSlice(key)); !s.ok()) return BatchError(s);
    POLICYD_RETURN_IF_ERROR(AdjustCounts(existed, had_policy, false, false, meta));
    staged.changed = true;
  }
  for (const OrgRecord* org : puts) {
    const std::size_t i = slot++;
    POLICYD_RETURN_IF_ERROR(PreviousOrg(prev, i, org->id, &existed, &had_policy, &old_version));
    const PolicyRecord* policy = org->policy ? &*org->policy : nullptr;
    const SourceVersion* version = NamedVersion(named, org->id);
    const std::string_view old = existed ? prev.value(i) : std::string_view();
    keys::OrgKeyInto(org->id, &key);
    Result<bool> content = StageEntryRow(
        key, existed ? &old : nullptr, old_version, version ? *version : old_version,
        [policy](const SourceVersion& v, std::string* out) { EncodeOrgValue(policy, v, out); },
        batch, staged);
    if (!content) return content.error();
    if (*content) {
      POLICYD_RETURN_IF_ERROR(AdjustCounts(existed, had_policy, true, policy != nullptr, meta));
    }
  }
  return Status::Ok();
}

}  // namespace

Status RocksStore::CheckWritable() const {
  if (!read_only_) return Status::Ok();
  return Status::FailedPrecondition("store " + dir_ + " is open read-only");
}

Status RocksStore::Apply(const StoreChange& change, Timestamp now) {
  POLICYD_RETURN_IF_ERROR(CheckWritable());
  // Everything is checked before anything is read or written.
  if (change.instance) POLICYD_RETURN_IF_ERROR(ValidateInstance(*change.instance));
  Result<std::vector<const OrgRecord*>> puts = ValidateOrgs("put_orgs", change.put_orgs);
  if (!puts) return puts.error();
  Result<std::vector<std::string_view>> removals = EffectiveRemovals(change, *puts);
  if (!removals) return removals.error();
  Result<DomainPlan> domains = PlanDomains(change);
  if (!domains) return domains.error();
  if (change.cursor) POLICYD_RETURN_IF_ERROR(CheckMetaString("cursor", *change.cursor));
  Result<NamedVersions> named = ValidateVersions(change, *puts);
  if (!named) return named.error();
  const NamedVersions version_only = VersionOnly(*named, *puts);
  Result<KindPlan> kinds = PlanKindRows(change);
  if (!kinds) return kinds.error();

  std::lock_guard lock(write_mu_);
  // The previous rows of everything the change touches, to keep the counts exact, to skip rows
  // that stay the same and to rewrite the rows of orgs that get a new version alone, all in one
  // MultiGet. Only the writer, holding write_mu_, changes them meanwhile.
  MultiGetBuffer prev;
  prev.AddKey(keys::kMetaKey);
  prev.AddKey(keys::kInstanceKey);
  for (std::string_view id : *removals) prev.AddOrgKey(id);
  for (const OrgRecord* org : *puts) prev.AddOrgKey(org->id);
  const std::size_t domain_slots = prev.size();
  AddDomainReads(*domains, prev);
  const std::size_t version_slots = prev.size();
  for (const auto& [id, version] : version_only) prev.AddOrgKey(id);
  const std::size_t kind_slots = prev.size();
  AddKindReads(*kinds, prev);
  prev.Run(*db_, rocksdb::ReadOptions());

  if (prev.status(0).IsNotFound())
    return Status::DataLoss("store " + dir_ + ": meta:state is missing");
  if (!prev.status(0).ok()) return ReadError(prev.status(0), "meta");
  StoreMeta meta;
  Status s = DecodeStoreMeta(prev.value(0), &meta);
  rocksdb::WriteBatch batch;
  Staged staged;
  if (s.ok()) s = StageInstance(change, prev, 1, batch, meta, staged);
  if (s.ok()) s = StageOrgs(prev, 2, *removals, *puts, *named, batch, meta, staged);
  if (s.ok()) {
    s = StageDomains(*domains, prev, domain_slots, *puts, *removals, batch, &staged.changed);
  }
  if (s.ok()) s = StageDomainIndex(*db_, *domains, prev, domain_slots, batch, &staged.changed);
  if (s.ok()) s = StageVersionOnlyOrgs(prev, version_slots, version_only, batch, staged);
  if (s.ok()) s = StageKindRows(*kinds, prev, kind_slots, *puts, batch, staged);
  if (!s.ok()) return s.WithContext("store " + dir_);

  if (change.cursor) meta.cursor = *change.cursor;
  if (!change.synced_at.IsZero()) meta.last_sync = change.synced_at;
  if (staged.changed) meta.last_change = now;
  std::string value;
  EncodeStoreMeta(meta, &value);
  if (!staged.changed && !staged.versions_written && prev.value(0) == value) {
    return Status::Ok();  // nothing to record
  }
  if (rocksdb::Status b = batch.Put(ToSlice(keys::kMetaKey), ToSlice(value)); !b.ok()) {
    return BatchError(b).WithContext("store " + dir_);
  }
  return Write(batch, "change");
}

Status RocksStore::Replace(const Snapshot& snapshot, std::string_view cursor,
                           std::string_view source, Timestamp now) {
  POLICYD_RETURN_IF_ERROR(CheckWritable());
  POLICYD_RETURN_IF_ERROR(ValidateInstance(snapshot.instance));
  Result<std::vector<const OrgRecord*>> orgs = ValidateOrgs("snapshot orgs", snapshot.orgs);
  if (!orgs) return orgs.error();
  POLICYD_RETURN_IF_ERROR(CheckSnapshotDomains(snapshot, *orgs));
  POLICYD_RETURN_IF_ERROR(CheckMetaString("cursor", cursor));
  POLICYD_RETURN_IF_ERROR(CheckMetaString("source", source));
  POLICYD_RETURN_IF_ERROR(CheckSnapshotVersions(snapshot));
  POLICYD_RETURN_IF_ERROR(CheckSnapshotKindRows(snapshot, *orgs));

  // The batch does not depend on the previous state, so it is built before taking the lock.
  // ~150 bytes per org row (with its version); reserving avoids regrowing a 150 MB buffer for a
  // million orgs.
  rocksdb::WriteBatch batch(orgs->size() * 150 + 1024);
  // One range tombstone drops every old org however many there are: point deletes would need
  // reading all old keys and leave a tombstone per org to compact away. The puts below come
  // later in the same batch, so they get higher sequence numbers and survive it.
  rocksdb::Status b = batch.DeleteRange(ToSlice(keys::kOrgPrefix), ToSlice(keys::kOrgEnd));
  std::string key;
  std::string value;
  // Overwrites the old instance row.
  EncodeInstanceRecord(snapshot.instance, snapshot.instance_version.value_or(snapshot.version),
                       &value);
  if (b.ok()) b = batch.Put(ToSlice(keys::kInstanceKey), ToSlice(value));
  StoreMeta meta;
  for (const OrgRecord* org : *orgs) {  // in key order: cheaper memtable inserts
    if (!b.ok()) break;
    const auto i = static_cast<std::size_t>(org - snapshot.orgs.data());
    keys::OrgKeyInto(org->id, &key);
    EncodeOrgValue(org->policy ? &*org->policy : nullptr,
                   snapshot.org_versions.empty() ? snapshot.version : snapshot.org_versions[i],
                   &value);
    b = batch.Put(ToSlice(key), ToSlice(value));
    if (org->policy) ++meta.custom_policy_count;
  }
  if (b.ok()) {
    Status d = StageSnapshotDomains(snapshot, batch);
    if (d.ok()) d = StageSnapshotDomainIndex(snapshot, batch);
    if (d.ok()) d = StageSnapshotKindRows(snapshot, batch);
    if (!d.ok()) return d.WithContext("store " + dir_);
  }
  meta.org_count = orgs->size();
  meta.has_instance = true;
  meta.cursor = cursor;
  meta.source = source;
  meta.last_change = now;
  meta.last_sync = now;
  EncodeStoreMeta(meta, &value);
  if (b.ok()) b = batch.Put(ToSlice(keys::kMetaKey), ToSlice(value));
  if (!b.ok()) return BatchError(b).WithContext("store " + dir_);

  std::lock_guard lock(write_mu_);
  return Write(batch, "snapshot");
}

Status RocksStore::Write(rocksdb::WriteBatch& batch, std::string_view what) {
  // After a failed write RocksDB refuses all writes until resumed (rocks_error_handling.h).
  // Resume() is a no-op when nothing failed; after a failure it flushes the memtable into a new
  // table file and starts a new WAL, and fails (changing nothing) while the disk is still full.
  rocksdb::Status s = ResumeAfterWriteError();
  if (s.ok()) {
    AnchorMemtable();
    rocksdb::WriteOptions wo;
    wo.sync = false;  // see the comment at the top of this file
    s = db_->Write(wo, &batch);
  }
  if (s.ok()) return Status::Ok();
  needs_resume_.store(true);
  return WriteError(s, "write " + std::string(what));
}

rocksdb::Status RocksStore::ResumeAfterWriteError() {
  // Resume() begins by switching to a new memtable and WAL, as a flush does. In RocksDB 7.8, if
  // creating that WAL fails while the memtable holds a range tombstone (Replace writes one), any
  // later switch of the same memtable trips an assertion, which Debian's build keeps: the process
  // aborts. So after a failure, Resume() (and any Flush()) is only tried once creating, writing
  // and syncing a small file in the data directory works; what is left is the race of the disk
  // failing again between the probe and RocksDB's next file.
  if (needs_resume_.load()) {
    if (rocksdb::IOStatus probe = ProbeWritable(); !probe.ok()) return probe;
  }
  rocksdb::Status s = db_->Resume();  // OK at once unless RocksDB stopped writes
  needs_resume_.store(!s.ok());
  // Busy: a recovery is already running (RocksDB's own, for errors that bypass the listener).
  if (s.IsBusy()) return rocksdb::Status::IOError("still recovering from an earlier write error");
  return s;
}

void RocksStore::AnchorMemtable() {
  // RocksDB 7.8 recovers from a failed WAL write only by switching to a new WAL, and Resume()
  // switches only if the memtable holds something; with an empty memtable (after a flush, after
  // opening) it reports success and every later write fails on the old WAL (upstream issues
  // 11447, 12998; an assertion in Debian's build). So before each write, after each flush and at
  // open, the memtable gets one entry that costs no disk write: a WAL-less delete of a key that
  // is never written. Lost in a crash, harmless if flushed (a tombstone of nothing).
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  (void)db_->Delete(wo, rocksdb::Slice("meta:memtable-anchor"));
}

rocksdb::IOStatus RocksStore::ProbeWritable() {
  rocksdb::FileSystem& fs = *db_->GetFileSystem();
  const std::string path = dir_ + "/policyd-write-check.tmp";
  const rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = fs.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Append(rocksdb::Slice(std::string(4096, '\0')), io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  if (file) {
    rocksdb::IOStatus closed = file->Close(io, nullptr);
    if (s.ok()) s = closed;
    (void)fs.DeleteFile(path, io, nullptr);
  }
  return s;
}

Status RocksStore::WriteError(const rocksdb::Status& s, const std::string& what) const {
  std::string message = "store " + dir_ + ": " + what + ": " + s.ToString();
  if (s.IsCorruption()) return Status::DataLoss(std::move(message));
  if (s.IsIOError()) return Status::Unavailable(std::move(message));  // disk full, EIO, ...
  return Status::Internal(std::move(message));
}

}  // namespace policyd
