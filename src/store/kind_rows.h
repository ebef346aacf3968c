// The rows of the generic policy kinds in the RocksDB store ("kind-default:<k>", "kinds:<org id>";
// store/keys.h, store/kind_codec.h): checking a change's put_kind_rows, and staging them (and the
// removal of a removed org's rows) into the write batch of Apply() and Replace().
//
// Internal to store/ (rocks_store_write.cc). Runs on the writer's thread; plain functions.
#pragma once

#include <rocksdb/write_batch.h>

#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/entry_rows.h"
#include "store/multi_get.h"
#include "store/store.h"

namespace policyd {

struct KindPlan {
  std::vector<const KindRowChange*> defaults;  // instance defaults, sorted by kind
  std::vector<const KindRowChange*> rows;      // org rows, sorted by (org id, kind)
  // Every org whose "kinds:" row may change (named by rows or removed), sorted, unique; and for
  // each whether the change removes it (its previous rows are dropped before `rows` apply).
  std::vector<std::string_view> orgs;
  std::vector<std::uint8_t> removed;
};

// Checks put_kind_rows (a generic stored kind, a valid org id, a policy of that kind that
// CheckKindPolicy accepts, a version CheckSourceVersion accepts, each (kind, org) once, no removal
// of an instance default) and plans them. INVALID_ARGUMENT naming the element otherwise.
Result<KindPlan> PlanKindRows(const StoreChange& change);

// Adds the previous rows the plan needs to `prev`: each default's row, then per org of
// plan.orgs its "org:" row and its "kinds:" row.
void AddKindReads(const KindPlan& plan, MultiGetBuffer& prev);

// Stages the plan, whose previous rows `prev` holds from slot `first` on (AddKindReads), after the
// org rows: `puts` (sorted by id) are the change's org puts. INVALID_ARGUMENT for a row of an org
// that does not exist after the change; DATA_LOSS for a previous row that does not decode.
// `staged.changed` is set when some row's contents change (a version alone sets
// `staged.versions_written`).
Status StageKindRows(const KindPlan& plan, const MultiGetBuffer& prev, std::size_t first,
                     const std::vector<const OrgRecord*>& puts, rocksdb::WriteBatch& batch,
                     Staged& staged);

// Checks snapshot.kind_rows (as PlanKindRows, each org among `orgs`, sorted by id).
Status CheckSnapshotKindRows(const Snapshot& snapshot, const std::vector<const OrgRecord*>& orgs);

// Stages every kind row of `snapshot` (checked) after range deletes of all previous ones.
Status StageSnapshotKindRows(const Snapshot& snapshot, rocksdb::WriteBatch& batch);

}  // namespace policyd
