// RocksStore: the in-place migration of a v1 store to v2 (store/keys.h "Versioning"): v2 adds the
// verified-domain index, built here from the "domains:" rows.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "store/codec.h"
#include "store/domain_index.h"
#include "store/keys.h"
#include "store/rocks_store.h"

namespace policyd {
namespace {

namespace keys = store_keys;

// Index rows per batch: a store of a million orgs (each with its generated domain, verified) is
// written in ~100 batches of a few MB.
constexpr std::size_t kRowsPerBatch = 10'000;

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

}  // namespace policyd
