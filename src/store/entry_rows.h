// The entry versions of the RocksDB store (model/source_version.h), which live inside the org
// values and the instance record (codec v3; store/keys.h): checking a change's versions, and
// staging the entry rows that carry them into the write batch of Apply() and Replace().
//
// Internal to store/ (rocks_store_write.cc). Runs on the writer's thread; plain functions.
#pragma once

#include <rocksdb/write_batch.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/multi_get.h"
#include "store/store.h"

namespace policyd {

// What staging one change has done so far.
struct Staged {
  bool changed = false;           // a row's content changed
  bool versions_written = false;  // an entry row was rewritten for its version alone
};

// The versions a change names for its orgs (org_versions), sorted by id. Views into the change.
using NamedVersions = std::vector<std::pair<std::string_view, const SourceVersion*>>;

// Checks the entry versions of `change`: each a version the store can keep, each org named once
// and put (as an org or a domain list) by the same change; `puts` are its org puts, sorted by id.
// Returns them sorted by org id. INVALID_ARGUMENT otherwise.
Result<NamedVersions> ValidateVersions(const StoreChange& change,
                                       const std::vector<const OrgRecord*>& puts);

// The named versions of orgs that `puts` (sorted by id) does not hold: orgs whose domain list
// alone changes.
NamedVersions VersionOnly(const NamedVersions& named, const std::vector<const OrgRecord*>& puts);

// The version `named` gives org `id`, or nullptr.
const SourceVersion* NamedVersion(const NamedVersions& named, std::string_view id);

// Checks the versions of `snapshot`. INVALID_ARGUMENT for a version the store cannot keep, or
// org_versions of another length than orgs.
Status CheckSnapshotVersions(const Snapshot& snapshot);

// The previous org row read into slot `i` of `prev`: whether it existed, with its own policy
// (into `*policy`, when that is not nullptr), and its entry version (zero when it did not exist).
// DATA_LOSS / INTERNAL for a failed read or a row that does not decode.
Status PreviousOrg(const MultiGetBuffer& prev, std::size_t i, std::string_view id, bool* existed,
                   bool* had_policy, SourceVersion* version, PolicyRecord* policy = nullptr);

// Writes an entry row's bytes with the given version into `*out` (EncodeOrgValue or
// EncodeInstanceRecord with the row's fields bound).
using EntryEncoder = std::function<void(const SourceVersion&, std::string*)>;

// Stages an entry row (an org value or the instance record) at `key`: `old` is the previous row
// (nullptr when there is none), `old_version` its version, `version` the one to keep. Nothing is
// written when neither the content nor the version changes; otherwise `staged` records which one
// did (a version alone is not a state change: it leaves last_change alone). Returns whether the
// content changed; INTERNAL if the batch refuses the row.
Result<bool> StageEntryRow(std::string_view key, const std::string_view* old,
                           const SourceVersion& old_version, const SourceVersion& version,
                           const EntryEncoder& encode, rocksdb::WriteBatch& batch, Staged& staged);

// Stages the new versions of the orgs of `version_only` (VersionOnly()): their rows, read into
// `prev` from slot `first` on in that order, are rewritten with the version. Runs after
// StageDomains(), which refused lists of orgs that do not exist. Errors as for PreviousOrg().
Status StageVersionOnlyOrgs(const MultiGetBuffer& prev, std::size_t first,
                            const NamedVersions& version_only, rocksdb::WriteBatch& batch,
                            Staged& staged);

// Stages the instance record of `change` (its new record, its new version, or both), the previous
// one being slot `slot` of `prev`; sets meta.has_instance when the change gives a record. The
// version lives in the record: a version while no instance default is stored or given has
// nowhere to go and is dropped (store.h). A damaged previous row is DATA_LOSS when the change
// only gives a version, and overwritten when it gives a record.
Status StageInstance(const StoreChange& change, const MultiGetBuffer& prev, std::size_t slot,
                     rocksdb::WriteBatch& batch, StoreMeta& meta, Staged& staged);

}  // namespace policyd
