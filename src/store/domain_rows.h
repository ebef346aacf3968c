// The domain rows of the RocksDB store ("domains:<org id>", "instance-domains"; store/keys.h):
// checking a change's domain lists, and staging them into the write batch of Apply() and
// Replace().
//
// Internal to store/ (rocks_store_write.cc). Runs on the writer's thread; plain functions.
#pragma once

#include <rocksdb/write_batch.h>

#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/multi_get.h"
#include "store/store.h"

namespace policyd {

// The domain rows one StoreChange writes, checked and sorted by org id. Views into the change.
struct DomainPlan {
  // Orgs of removed_orgs whose domain rows go (unique; those that get a new list are left out).
  std::vector<std::string_view> cleared;
  std::vector<const OrgDomains*> lists;  // put_org_domains
  const InstanceDomains* instance = nullptr;
};

// Checks the domain parts of `change`. INVALID_ARGUMENT for a bad org id or domain list
// (ValidateOrgDomains / ValidateInstanceDomains), or an org given two lists.
Result<DomainPlan> PlanDomains(const StoreChange& change);

// Adds to `prev` the previous rows StageDomains() needs, in its order: for each cleared org its
// domains row; for each list the org row and the domains row; the instance-domains row.
void AddDomainReads(const DomainPlan& plan, MultiGetBuffer& prev);

// Stages `plan` into `batch`, reading the rows AddDomainReads() added from slot `first` of
// `prev`. `puts` (sorted by id) and `removals` (sorted) are the change's effective org puts and
// removals: a list for an org that does not exist after them is INVALID_ARGUMENT. Unchanged rows
// are not written; `*changed` is set if any row changes. DATA_LOSS / INTERNAL for failed reads.
Status StageDomains(const DomainPlan& plan, const MultiGetBuffer& prev, std::size_t first,
                    const std::vector<const OrgRecord*>& puts,
                    const std::vector<std::string_view>& removals, rocksdb::WriteBatch& batch,
                    bool* changed);

// Checks the domains of `snapshot`, whose orgs `orgs` are (sorted by id). INVALID_ARGUMENT as
// for PlanDomains, and for domains of an org that is not in the snapshot.
Status CheckSnapshotDomains(const Snapshot& snapshot, const std::vector<const OrgRecord*>& orgs);

// Stages the domain rows of a Replace(): drops every stored one, then writes the snapshot's.
Status StageSnapshotDomains(const Snapshot& snapshot, rocksdb::WriteBatch& batch);

// The verified-domain index (store/domain_index.h), in domain_index_rows.cc.
//
// Stages the index rows that `plan` changes (after StageDomains() accepted it): compares each
// org's previous domain row (in `prev` from slot `first`, as AddDomainReads() put them) with its
// new list, reads the index rows that changes (one MultiGet on `db`; the caller is the single
// writer, so they cannot change meanwhile) and writes or deletes them. Sets `*changed` if any
// row changes. DATA_LOSS / INTERNAL for failed reads or rows that do not decode.
Status StageDomainIndex(rocksdb::DB& db, const DomainPlan& plan, const MultiGetBuffer& prev,
                        std::size_t first, rocksdb::WriteBatch& batch, bool* changed);

// Stages the index of a Replace(): drops every stored index row, then writes those of the
// snapshot's domain lists.
Status StageSnapshotDomainIndex(const Snapshot& snapshot, rocksdb::WriteBatch& batch);

}  // namespace policyd
