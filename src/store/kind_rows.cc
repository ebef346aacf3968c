#include "store/kind_rows.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "store/codec.h"
#include "store/keys.h"
#include "store/kind_codec.h"

namespace policyd {
namespace {

namespace keys = store_keys;

Status BatchError(const rocksdb::Status& s) {
  return Status::Internal("build write batch: " + s.ToString());
}

std::string KindName(PolicyKind kind) { return std::to_string(static_cast<unsigned>(kind)); }

// What the codec needs beyond CheckKindPolicy: details and stream it can keep.
Status CheckKindDetails(std::string_view what, const KindPolicy& p) {
  for (const Timestamp* t : {&p.details.creation_date, &p.details.change_date}) {
    if (t->nanos < 0 || t->nanos >= kNanosPerSecond) {
      return Status::InvalidArgument(std::string(what) + ": timestamp nanos " +
                                     std::to_string(t->nanos) + " out of range");
    }
  }
  if (p.details.resource_owner.size() > kMaxIdLength) {
    return Status::InvalidArgument(std::string(what) + ": resource owner is longer than " +
                                   std::to_string(kMaxIdLength) + " bytes");
  }
  return CheckStream(what, p.stream);
}

Status CheckKindRow(PolicyKind kind, std::string_view org_id, const KindPolicy* policy,
                    const SourceVersion* version) {
  if (!IsStoredGenericKind(static_cast<std::uint8_t>(kind))) {
    return Status::InvalidArgument("kind " + KindName(kind) + " has no generic rows");
  }
  if (!org_id.empty()) POLICYD_RETURN_IF_ERROR(ValidateId("org id", org_id));
  if (!org_id.empty() && kind == PolicyKind::kIdpTable) {
    return Status::InvalidArgument("the IdP table is the instance's: org " + std::string(org_id) +
                                   " cannot have one");
  }
  if (policy != nullptr) {
    if (policy->kind != kind) {
      return Status::InvalidArgument("a policy of kind " + KindName(policy->kind) +
                                     " in a row of kind " + KindName(kind));
    }
    POLICYD_RETURN_IF_ERROR(CheckKindPolicy("policy", *policy));
    POLICYD_RETURN_IF_ERROR(CheckKindDetails("policy", *policy));
  }
  if (version != nullptr) POLICYD_RETURN_IF_ERROR(CheckSourceVersion("version", *version));
  return Status::Ok();
}

// Whether `sorted` (by id) holds org `id`.
bool HasOrg(const std::vector<const OrgRecord*>& sorted, std::string_view id) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), id,
                             [](const OrgRecord* org, std::string_view v) { return org->id < v; });
  return it != sorted.end() && (*it)->id == id;
}

bool RowLess(const KindRowChange* a, const KindRowChange* b) {
  return std::tie(a->org_id, a->kind) < std::tie(b->org_id, b->kind);
}
bool SameRow(const KindRowChange* a, const KindRowChange* b) {
  return a->org_id == b->org_id && a->kind == b->kind;
}

Status Duplicate(std::string_view list, const KindRowChange& row) {
  return Status::InvalidArgument(
      std::string(list) + ": the row of kind " + KindName(row.kind) +
      (row.org_id.empty() ? " of the instance" : " of org " + row.org_id) +
      " appears more than once");
}

// Sorts `rows` by (org, kind) and refuses a (kind, org) given twice.
Status SortUnique(std::string_view list, std::vector<const KindRowChange*>& rows) {
  std::sort(rows.begin(), rows.end(), RowLess);
  auto dup = std::adjacent_find(rows.begin(), rows.end(), SameRow);
  return dup == rows.end() ? Status::Ok() : Duplicate(list, **dup);
}

// Whether the rows of `a` and `b` (sorted by kind) hold the same policies, tombstones counting
// as no row (versions are not compared).
bool SameContents(std::span<const StoredKindRow> a, std::span<const StoredKindRow> b) {
  auto own = [](std::span<const StoredKindRow> rows, std::size_t k) -> const KindPolicy* {
    for (const StoredKindRow& r : rows) {
      if (static_cast<std::size_t>(r.kind) == k) return r.has_policy ? &r.policy : nullptr;
    }
    return nullptr;
  };
  for (std::size_t k = 1; k < kStoredKindCount; ++k) {
    const KindPolicy* x = own(a, k);
    const KindPolicy* y = own(b, k);
    if ((x == nullptr) != (y == nullptr) || (x != nullptr && !(*x == *y))) return false;
  }
  return true;
}

// Applies one org row change to `rows` (sorted by kind): a removal leaves a tombstone with the
// row's version (the given one, or the stored one), none when that version is zero.
void ApplyRow(const KindRowChange& change, std::vector<StoredKindRow>& rows) {
  auto it = std::lower_bound(rows.begin(), rows.end(), change.kind,
                             [](const StoredKindRow& r, PolicyKind k) { return r.kind < k; });
  const bool found = it != rows.end() && it->kind == change.kind;
  if (!found) {
    if (!change.policy && !change.version) return;  // no row, nothing to keep
    it = rows.insert(it, StoredKindRow{change.kind, false, {}, {}});
  }
  if (change.policy) {
    it->has_policy = true;
    it->policy = *change.policy;
  } else {
    it->has_policy = false;
    it->policy = {};
  }
  if (change.version) it->version = *change.version;
  // A tombstone is kept for its version only: one of version zero says nothing.
  if (!it->has_policy && it->version == SourceVersion{}) rows.erase(it);
}

Status StageDefault(const KindRowChange& change, const MultiGetBuffer& prev, std::size_t slot,
                    rocksdb::WriteBatch& batch, Staged& staged) {
  KindPolicy old;
  SourceVersion old_version;
  const rocksdb::Status& s = prev.status(slot);
  const bool existed = s.ok();
  if (!existed && !s.IsNotFound()) return FromRocksRead(s, "kind default");
  if (existed) {
    POLICYD_RETURN_IF_ERROR(DecodeKindDefault(prev.value(slot), &old, &old_version));
  }
  std::string value;
  EncodeKindDefault(*change.policy, change.version ? *change.version : old_version, &value);
  if (existed && prev.value(slot) == value) return Status::Ok();
  std::string key;
  keys::AppendKindDefaultKey(static_cast<unsigned>(change.kind), &key);
  if (rocksdb::Status b = batch.Put(ToSlice(key), ToSlice(value)); !b.ok()) return BatchError(b);
  (existed && old == *change.policy ? staged.versions_written : staged.changed) = true;
  return Status::Ok();
}

// Stages org `id`'s "kinds:" row: `rows` replacing `old` (decoded from `*old_value`, nullptr when
// the org had no such row). Writes nothing when the bytes stay the same; deletes the row when
// `rows` is empty.
Status StageOrgKinds(std::string_view id, const std::string_view* old_value,
                     const std::vector<StoredKindRow>& old, const std::vector<StoredKindRow>& rows,
                     rocksdb::WriteBatch& batch, Staged& staged) {
  std::string key;
  keys::AppendOrgKindsKey(id, &key);
  rocksdb::Status b;
  bool written = false;
  if (rows.empty()) {
    written = old_value != nullptr;
    if (written) b = batch.Delete(ToSlice(key));
  } else {
    thread_local std::string value;
    EncodeOrgKinds(rows, &value);
    written = old_value == nullptr || *old_value != value;
    if (written) b = batch.Put(ToSlice(key), ToSlice(value));
  }
  if (!b.ok()) return BatchError(b);
  if (written) (SameContents(old, rows) ? staged.versions_written : staged.changed) = true;
  return Status::Ok();
}

}  // namespace

Result<KindPlan> PlanKindRows(const StoreChange& change) {
  KindPlan plan;
  for (std::size_t i = 0; i < change.put_kind_rows.size(); ++i) {
    const KindRowChange& row = change.put_kind_rows[i];
    Status s = CheckKindRow(row.kind, row.org_id, row.policy ? &*row.policy : nullptr,
                            row.version ? &*row.version : nullptr);
    if (s.ok() && row.org_id.empty() && !row.policy) {
      s = Status::InvalidArgument("the instance default of kind " + KindName(row.kind) +
                                  " cannot be removed");
    }
    if (!s.ok()) return Err(s.WithContext("put_kind_rows[" + std::to_string(i) + "]"));
    (row.org_id.empty() ? plan.defaults : plan.rows).push_back(&row);
  }
  Status unique = SortUnique("put_kind_rows", plan.defaults);
  if (unique.ok()) unique = SortUnique("put_kind_rows", plan.rows);
  if (!unique.ok()) return Err(std::move(unique));
  std::vector<std::string_view> removed(change.removed_orgs.begin(), change.removed_orgs.end());
  std::sort(removed.begin(), removed.end());
  for (const KindRowChange* row : plan.rows) plan.orgs.push_back(row->org_id);
  plan.orgs.insert(plan.orgs.end(), removed.begin(), removed.end());
  std::sort(plan.orgs.begin(), plan.orgs.end());
  plan.orgs.erase(std::unique(plan.orgs.begin(), plan.orgs.end()), plan.orgs.end());
  for (std::string_view id : plan.orgs) {
    plan.removed.push_back(std::binary_search(removed.begin(), removed.end(), id) ? 1 : 0);
  }
  return plan;
}

void AddKindReads(const KindPlan& plan, MultiGetBuffer& prev) {
  std::string key;
  for (const KindRowChange* row : plan.defaults) {
    key.clear();
    keys::AppendKindDefaultKey(static_cast<unsigned>(row->kind), &key);
    prev.AddKey(key);
  }
  for (std::string_view id : plan.orgs) {
    prev.AddOrgKey(id);
    key.clear();
    keys::AppendOrgKindsKey(id, &key);
    prev.AddKey(key);
  }
}

Status StageKindRows(const KindPlan& plan, const MultiGetBuffer& prev, std::size_t first,
                     const std::vector<const OrgRecord*>& puts, rocksdb::WriteBatch& batch,
                     Staged& staged) {
  std::size_t slot = first;
  for (const KindRowChange* row : plan.defaults) {
    POLICYD_RETURN_IF_ERROR(StageDefault(*row, prev, slot++, batch, staged));
  }
  std::vector<StoredKindRow> old;
  std::vector<StoredKindRow> rows;
  std::size_t r = 0;  // next of plan.rows
  for (std::size_t j = 0; j < plan.orgs.size(); ++j, slot += 2) {
    const std::string_view id = plan.orgs[j];
    const rocksdb::Status& org_status = prev.status(slot);
    const rocksdb::Status& kinds_status = prev.status(slot + 1);
    if (!org_status.ok() && !org_status.IsNotFound()) return FromRocksRead(org_status, "org");
    if (!kinds_status.ok() && !kinds_status.IsNotFound()) {
      return FromRocksRead(kinds_status, "kinds of org " + std::string(id));
    }
    std::size_t count = 0;
    if (kinds_status.ok()) {
      Status d = DecodeOrgKinds(prev.value(slot + 1), &old, &count);
      if (!d.ok()) return d.WithContext("org " + std::string(id));
    }
    old.resize(count);
    rows.clear();
    if (plan.removed[j] == 0) rows = old;
    const bool put = HasOrg(puts, id);
    const bool exists = put || (plan.removed[j] == 0 && org_status.ok());
    for (; r < plan.rows.size() && plan.rows[r]->org_id == id; ++r) {
      if (!exists) {
        return Status::InvalidArgument("put_kind_rows: org " + std::string(id) +
                                       " does not exist after the change");
      }
      ApplyRow(*plan.rows[r], rows);
    }
    const std::string_view old_value = kinds_status.ok() ? prev.value(slot + 1) : "";
    POLICYD_RETURN_IF_ERROR(
        StageOrgKinds(id, kinds_status.ok() ? &old_value : nullptr, old, rows, batch, staged));
  }
  return Status::Ok();
}

Status CheckSnapshotKindRows(const Snapshot& snapshot, const std::vector<const OrgRecord*>& orgs) {
  std::vector<std::pair<std::string_view, PolicyKind>> seen;
  seen.reserve(snapshot.kind_rows.size());
  for (std::size_t i = 0; i < snapshot.kind_rows.size(); ++i) {
    const KindRow& row = snapshot.kind_rows[i];
    Status s = CheckKindRow(row.policy.kind, row.org_id, &row.policy, &row.version);
    if (s.ok() && !row.org_id.empty() && !HasOrg(orgs, row.org_id)) {
      s = Status::InvalidArgument("org " + row.org_id + " is not among the snapshot's orgs");
    }
    if (!s.ok()) return s.WithContext("snapshot kind_rows[" + std::to_string(i) + "]");
    seen.emplace_back(row.org_id, row.policy.kind);
  }
  std::sort(seen.begin(), seen.end());
  auto dup = std::adjacent_find(seen.begin(), seen.end());
  if (dup != seen.end()) {
    return Status::InvalidArgument(
        "snapshot kind_rows: the row of kind " + KindName(dup->second) + " of " +
        (dup->first.empty() ? std::string("the instance") : "org " + std::string(dup->first)) +
        " appears more than once");
  }
  return Status::Ok();
}

Status StageSnapshotKindRows(const Snapshot& snapshot, rocksdb::WriteBatch& batch) {
  rocksdb::Status b =
      batch.DeleteRange(ToSlice(keys::kKindDefaultPrefix), ToSlice(keys::kKindDefaultEnd));
  if (b.ok()) b = batch.DeleteRange(ToSlice(keys::kOrgKindsPrefix), ToSlice(keys::kOrgKindsEnd));
  std::vector<const KindRow*> sorted;
  sorted.reserve(snapshot.kind_rows.size());
  for (const KindRow& row : snapshot.kind_rows) sorted.push_back(&row);
  std::sort(sorted.begin(), sorted.end(), [](const KindRow* x, const KindRow* y) {
    return std::tie(x->org_id, x->policy.kind) < std::tie(y->org_id, y->policy.kind);
  });
  std::string key;
  std::string value;
  std::vector<StoredKindRow> rows;
  for (std::size_t i = 0; b.ok() && i < sorted.size();) {
    const std::string& org = sorted[i]->org_id;
    key.clear();
    if (org.empty()) {
      EncodeKindDefault(sorted[i]->policy, sorted[i]->version, &value);
      keys::AppendKindDefaultKey(static_cast<unsigned>(sorted[i]->policy.kind), &key);
      ++i;
    } else {
      rows.clear();
      for (; i < sorted.size() && sorted[i]->org_id == org; ++i) {
        rows.push_back({sorted[i]->policy.kind, true, sorted[i]->policy, sorted[i]->version});
      }
      EncodeOrgKinds(rows, &value);
      keys::AppendOrgKindsKey(org, &key);
    }
    b = batch.Put(ToSlice(key), ToSlice(value));
  }
  return b.ok() ? Status::Ok() : BatchError(b);
}

}  // namespace policyd
