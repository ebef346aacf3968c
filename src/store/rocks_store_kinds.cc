// RocksStore: the rows of the generic policy kinds on the read side (Read() with kinds,
// ForEachKindRow). The write side is store/kind_rows.h.
#include <rocksdb/iterator.h>

#include <utility>

#include "store/keys.h"
#include "store/kind_codec.h"
#include "store/rocks_snapshot.h"
#include "store/rocks_store.h"

namespace policyd {
namespace {

namespace keys = store_keys;

// The generic kinds of `kinds`, in number order, for loops.
template <typename F>
void ForEachGenericKind(KindSet kinds, F&& f) {
  for (std::size_t k = 1; k < kStoredKindCount; ++k) {
    if (kinds.contains(static_cast<PolicyKind>(k))) f(k);
  }
}

// Sets `v` to zero, keeping the capacity of its strings (LookupBatch reuse).
void ZeroVersion(SourceVersion& v) {
  v.date = {};
  v.stream.type.clear();
  v.stream.id.clear();
  v.sequence = 0;
}

}  // namespace

void RocksStore::AddKindKeys(const LookupBatch& batch, MultiGetBuffer& reads) {
  thread_local std::string key;
  ForEachGenericKind(batch.kinds_, [&](std::size_t k) {
    key.clear();
    keys::AppendKindDefaultKey(static_cast<unsigned>(k), &key);
    reads.AddKey(key);
  });
  for (std::string_view id : batch.ids_) {
    key.clear();
    keys::AppendOrgKindsKey(id, &key);
    reads.AddKey(key);
  }
}

Status RocksStore::ReadKindRows(const MultiGetBuffer& reads, std::size_t first,
                                LookupBatch& batch) const {
  thread_local SourceVersion ignored;
  thread_local std::vector<StoredKindRow> rows;
  const std::size_t n = batch.ids_.size();
  const bool versions = batch.with_versions_;
  std::size_t slot = first;
  Status result;
  ForEachGenericKind(batch.kinds_, [&](std::size_t k) {
    batch.has_kind_default_[k] = false;
    batch.kind_default_serials_[k] = 0;  // kind_defaults_[k] is rewritten (store/store.h)
    if (batch.kind_policies_[k].size() < n) batch.kind_policies_[k].resize(n);
    batch.has_kind_policy_[k].assign(n, 0);
    if (versions) {
      ZeroVersion(batch.kind_default_versions_[k]);
      batch.kind_versions_[k].resize(n);
      for (SourceVersion& v : batch.kind_versions_[k]) ZeroVersion(v);
    }
    const rocksdb::Status& s = reads.status(slot++);
    if (!result.ok() || s.IsNotFound()) return;
    if (!s.ok()) {
      result = FromRocksRead(s, "kind default");
      return;
    }
    result = DecodeKindDefault(reads.value(slot - 1), &batch.kind_defaults_[k],
                               versions ? &batch.kind_default_versions_[k] : &ignored);
    if (result.ok() && static_cast<std::size_t>(batch.kind_defaults_[k].kind) != k) {
      result = Status::DataLoss("kind default " + std::to_string(k) + " holds another kind");
    }
    batch.has_kind_default_[k] = result.ok();
  });
  for (std::size_t i = 0; i < n && result.ok(); ++i) {
    const rocksdb::Status& s = reads.status(slot + i);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocksRead(s, "kinds of org");
    std::size_t count = 0;
    POLICYD_RETURN_IF_ERROR(DecodeOrgKinds(reads.value(slot + i), &rows, &count));
    for (std::size_t r = 0; r < count; ++r) {
      StoredKindRow& row = rows[r];
      const auto k = static_cast<std::size_t>(row.kind);
      if (!batch.kinds_.contains(row.kind)) continue;
      if (row.has_policy) {
        std::swap(row.policy, batch.kind_policies_[k][i]);  // both keep their capacity
        batch.has_kind_policy_[k][i] = 1;
      }
      if (versions) batch.kind_versions_[k][i] = row.version;
    }
  }
  return result;
}

Status RocksStore::ForEachKindRow(
    const std::function<Status(const KindRow& row, bool has_policy)>& visit) const {
  SnapshotGuard snapshot(*db_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.get();
  ro.fill_cache = false;  // a full walk must not push the lookup path's blocks out
  KindRow row;
  {
    RangeIterator defaults(*db_, ro, keys::kKindDefaultPrefix, keys::kKindDefaultEnd);
    for (; defaults.it->Valid(); defaults.it->Next()) {
      const std::string_view key = ToView(defaults.it->key());
      unsigned kind = 0;
      Status d = DecodeKindDefault(ToView(defaults.it->value()), &row.policy, &row.version);
      if (d.ok() && (!keys::ParseKindDefaultKey(key, &kind) ||
                     kind != static_cast<unsigned>(row.policy.kind))) {
        d = Status::DataLoss("kind default row " + std::string(key) + " holds another kind");
      }
      if (!d.ok()) return d.WithContext("store " + dir_);
      row.org_id.clear();
      POLICYD_RETURN_IF_ERROR(visit(row, true));
    }
    if (!defaults.it->status().ok()) return ReadError(defaults.it->status(), "kind defaults");
  }
  RangeIterator orgs(*db_, ro, keys::kOrgKindsPrefix, keys::kOrgKindsEnd);
  std::vector<StoredKindRow> rows;
  for (; orgs.it->Valid(); orgs.it->Next()) {
    std::string_view id;
    if (!keys::ParseOrgKindsKey(ToView(orgs.it->key()), &id)) continue;  // unreachable in bounds
    std::size_t count = 0;
    if (Status d = DecodeOrgKinds(ToView(orgs.it->value()), &rows, &count); !d.ok()) {
      return d.WithContext("store " + dir_ + ": kinds of org " + std::string(id));
    }
    row.org_id.assign(id);
    for (std::size_t r = 0; r < count; ++r) {
      row.policy = rows[r].has_policy ? std::move(rows[r].policy) : EmptyKindPolicy(rows[r].kind);
      row.version = rows[r].version;
      POLICYD_RETURN_IF_ERROR(visit(row, rows[r].has_policy));
    }
  }
  if (!orgs.it->status().ok()) return ReadError(orgs.it->status(), "kind rows");
  return Status::Ok();
}

}  // namespace policyd
