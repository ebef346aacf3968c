// RocksStore: the in-place migrations of older stores (store/keys.h "Versioning"): v1 to v2 adds
// the verified-domain index, built from the "domains:" rows; v2 to v3 folds the entry-version rows
// into the org values and the instance record.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <vector>

#include "store/codec.h"
#include "store/domain_index.h"
#include "store/keys.h"
#include "store/rocks_snapshot.h"
#include "store/rocks_store.h"

namespace policyd {
namespace {

namespace keys = store_keys;

// Index rows per batch: a store of a million orgs (each with its generated domain, verified) is
// written in ~100 batches of a few MB.
constexpr std::size_t kRowsPerBatch = 10'000;

// The v2 -> v3 migration's walk: org rows joined with the version rows of the same ids, both read
// in one snapshot, into unsynced batches of kRowsPerBatch org rows.
class VersionFold {
 public:
  VersionFold(rocksdb::DB& db, const rocksdb::ReadOptions& ro)
      : db_(db),
        orgs_(db, ro, keys::kOrgPrefix, keys::kOrgEnd),
        versions_(db, ro, keys::kOrgVersionPrefix, keys::kOrgVersionEnd) {}

  // Rewrites every org row as v3 with its version row's version (a row that is v3 already, from
  // an interrupted migration, keeps its own unless a version row says otherwise) and deletes
  // every version row, also those of no org. Leaves the last rows in batch(). DATA_LOSS for a
  // row that does not decode, INTERNAL for a failed read; a failed write stops the walk with
  // write_status() set.
  Status Run() {
    for (; orgs_.it->Valid() && write_.ok(); orgs_.it->Next()) {
      const std::string_view id = ToView(orgs_.it->key()).substr(keys::kOrgPrefix.size());
      bool has_policy = false;
      SourceVersion version;
      Status d = DecodeOrgValue(ToView(orgs_.it->value()), &has_policy, &policy_, &version);
      if (!d.ok()) return d.WithContext("org " + std::string(id));
      DropVersionRowsBefore(id);
      if (versions_.it->Valid() && VersionRowId() == id) {
        d = DecodeSourceVersion(ToView(versions_.it->value()), &version);
        if (!d.ok()) return d.WithContext("version of org " + std::string(id));
        Stage(batch_.Delete(versions_.it->key()));
        versions_.it->Next();
      }
      EncodeOrgValue(has_policy ? &policy_ : nullptr, version, &value_);
      if (value_ != ToView(orgs_.it->value())) {
        Stage(batch_.Put(orgs_.it->key(), ToSlice(value_)));
        ++rows_;
      }
      if (write_.ok() && ++in_batch_ == kRowsPerBatch) Flush();
    }
    if (write_.ok()) DropVersionRowsBefore(std::nullopt);
    for (const RangeIterator* r : {&orgs_, &versions_}) {
      if (!r->it->status().ok()) return FromRocksRead(r->it->status(), "org rows");
    }
    return Status::Ok();
  }

  rocksdb::WriteBatch& batch() { return batch_; }
  const rocksdb::Status& write_status() const { return write_; }
  std::size_t rows() const { return rows_; }

 private:
  std::string_view VersionRowId() const {
    return ToView(versions_.it->key()).substr(keys::kOrgVersionPrefix.size());
  }

  // Deletes the version rows before org `id` (all that are left without one): rows of no org.
  void DropVersionRowsBefore(std::optional<std::string_view> id) {
    for (; versions_.it->Valid() && write_.ok(); versions_.it->Next()) {
      if (id && VersionRowId() >= *id) break;
      Stage(batch_.Delete(versions_.it->key()));
    }
  }

  void Stage(const rocksdb::Status& s) {
    if (write_.ok()) write_ = s;
  }

  void Flush() {
    write_ = db_.Write(rocksdb::WriteOptions(), &batch_);
    batch_.Clear();
    in_batch_ = 0;
  }

  rocksdb::DB& db_;
  RangeIterator orgs_;
  RangeIterator versions_;
  rocksdb::WriteBatch batch_;
  rocksdb::Status write_;
  PolicyRecord policy_;
  std::string value_;
  std::size_t in_batch_ = 0;
  std::size_t rows_ = 0;
};

}  // namespace

Status RocksStore::MigrateV1() {
  // Every "domains:" row (nothing else writes: the store is being opened).
  DomainIndexRows index;
  if (Status s = ForEachOrgDomains([&index](const OrgDomains& list) {
        index.AddList(list.org_id, list.domains);
        return Status::Ok();
      });
      !s.ok()) {
    return s.WithContext("migrate to v2");
  }
  // Batches of index rows; the first drops whatever a crashed earlier migration left, the last
  // writes the new format (synced, as Initialize() does: later opens trust it).
  rocksdb::WriteBatch batch;
  rocksdb::Status b =
      batch.DeleteRange(ToSlice(keys::kDomainIndexPrefix), ToSlice(keys::kDomainIndexEnd));
  std::string value;
  std::size_t in_batch = 0;
  for (const auto& [key, claims] : index.rows()) {
    if (!b.ok()) break;
    EncodeDomainClaims(claims, &value);
    b = batch.Put(ToSlice(key), ToSlice(value));
    if (b.ok() && ++in_batch == kRowsPerBatch) {
      b = db_->Write(rocksdb::WriteOptions(), &batch);
      batch.Clear();
      in_batch = 0;
    }
  }
  if (b.ok()) b = batch.Put(ToSlice(keys::kFormatKey), ToSlice(keys::kFormatV2));
  rocksdb::WriteOptions synced;
  synced.sync = true;
  if (b.ok()) b = db_->Write(synced, &batch);
  if (!b.ok()) return WriteError(b, "migrate to v2");
  spdlog::info("store {}: migrated from {} to {} ({} verified-domain index rows)", dir_,
               keys::kFormatV1, keys::kFormatV2, index.rows().size());
  return Status::Ok();
}

Status RocksStore::MigrateV2() {
  // Nothing else writes (the store is being opened); the snapshot keeps the walk's view fixed
  // while its own batches are written.
  SnapshotGuard snapshot(*db_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.get();
  ro.fill_cache = false;
  VersionFold fold(*db_, ro);
  if (Status s = fold.Run(); !s.ok()) return s.WithContext("store " + dir_ + ": migrate to v3");
  rocksdb::Status write = fold.write_status();
  if (!write.ok()) return WriteError(write, "migrate to v3");

  // The instance record, with the "instance-version" row's version, in the final batch, which
  // also writes the new format (synced, as Initialize() does: later opens trust it).
  MultiGetBuffer reads;
  reads.AddKey(keys::kInstanceKey);
  reads.AddKey(keys::kInstanceVersionKey);
  reads.Run(*db_, ro);
  rocksdb::WriteBatch& batch = fold.batch();
  Status d;
  if (reads.status(0).ok()) {
    InstanceRecord instance;
    SourceVersion version;
    d = DecodeInstanceRecord(reads.value(0), &instance, &version);
    if (d.ok() && reads.status(1).ok()) d = DecodeSourceVersion(reads.value(1), &version);
    if (d.ok() && !reads.status(1).ok() && !reads.status(1).IsNotFound()) {
      d = FromRocksRead(reads.status(1), "instance version");
    }
    std::string value;
    EncodeInstanceRecord(instance, version, &value);
    if (d.ok()) write = batch.Put(ToSlice(keys::kInstanceKey), ToSlice(value));
  } else if (!reads.status(0).IsNotFound()) {
    d = FromRocksRead(reads.status(0), "instance");
  }
  reads.ReleasePins();
  if (!d.ok()) return d.WithContext("store " + dir_ + ": migrate to v3");
  if (write.ok()) write = batch.Delete(ToSlice(keys::kInstanceVersionKey));
  if (write.ok()) write = batch.Put(ToSlice(keys::kFormatKey), ToSlice(keys::kFormatV3));
  rocksdb::WriteOptions synced;
  synced.sync = true;
  if (write.ok()) write = db_->Write(synced, &batch);
  if (!write.ok()) return WriteError(write, "migrate to v3");
  spdlog::info("store {}: migrated from {} to {} ({} org rows rewritten with their version)", dir_,
               keys::kFormatV2, keys::kFormatV3, fold.rows());
  return Status::Ok();
}

}  // namespace policyd
