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
  // Every "domains:" row, from one snapshot (nothing else writes: the store is being opened).
  DomainIndexRows index;
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    const rocksdb::Slice lower = ToSlice(keys::kOrgDomainsPrefix);
    const rocksdb::Slice upper = ToSlice(keys::kOrgDomainsEnd);
    ro.iterate_lower_bound = &lower;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    std::vector<OrgDomain> domains;
    std::uint64_t sequence = 0;
    for (it->Seek(lower); it->Valid(); it->Next()) {
      std::string_view org_id;
      if (!keys::ParseOrgDomainsKey(ToView(it->key()), &org_id)) continue;
      if (Status d = DecodeOrgDomains(ToView(it->value()), &sequence, &domains); !d.ok()) {
        return d.WithContext("store " + dir_ + ": migrate to v2: domains of org " +
                             std::string(org_id));
      }
      index.AddList(org_id, domains);
    }
    if (!it->status().ok()) return ReadError(it->status(), "domain rows (migrating to v2)");
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
