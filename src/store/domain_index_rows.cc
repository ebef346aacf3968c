// The verified-domain index rows of Apply() and Replace() (declared in store/domain_rows.h).
#include <string>
#include <vector>

#include "store/codec.h"
#include "store/domain_index.h"
#include "store/domain_rows.h"
#include "store/keys.h"

namespace policyd {
namespace {

namespace keys = store_keys;

Status BatchError(const rocksdb::Status& s) {
  return Status::Internal("build write batch: " + s.ToString());
}

// The org's domain list before the change: its row in slot `i` of `prev`, none if it had none.
Status PreviousDomains(const MultiGetBuffer& prev, std::size_t i, std::string_view org_id,
                       std::vector<OrgDomain>* out) {
  out->clear();
  const rocksdb::Status& s = prev.status(i);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return FromRocksRead(s, "domains of org " + std::string(org_id));
  std::uint64_t sequence = 0;
  EventStream stream;
  return DecodeOrgDomains(prev.value(i), &sequence, &stream, out);
}

// Loads the stored rows of every key `index` touches, from one MultiGet.
Status LoadTouchedRows(rocksdb::DB& db, const std::vector<std::string>& touched,
                       DomainIndexRows& index) {
  MultiGetBuffer rows;
  for (const std::string& key : touched) rows.AddKey(key);
  rows.Run(db, rocksdb::ReadOptions());
  for (std::size_t i = 0; i < touched.size(); ++i) {
    const rocksdb::Status& s = rows.status(i);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocksRead(s, "verified-domain index");
    std::vector<DomainClaim> claims;
    POLICYD_RETURN_IF_ERROR(DecodeDomainClaims(rows.value(i), &claims));
    index.Load(touched[i], std::move(claims));
  }
  return Status::Ok();
}

}  // namespace

Status StageDomainIndex(rocksdb::DB& db, const DomainPlan& plan, const MultiGetBuffer& prev,
                        std::size_t first, rocksdb::WriteBatch& batch, bool* changed) {
  DomainIndexRows index;
  std::vector<OrgDomain> before;
  std::size_t slot = first;
  for (std::string_view id : plan.cleared) {
    POLICYD_RETURN_IF_ERROR(PreviousDomains(prev, slot++, id, &before));
    index.Change(id, before, {});
  }
  for (const OrgDomains* list : plan.lists) {
    ++slot;  // the org row
    POLICYD_RETURN_IF_ERROR(PreviousDomains(prev, slot++, list->org_id, &before));
    index.Change(list->org_id, before, list->domains);
  }
  const std::vector<std::string> touched = index.keys();
  if (touched.empty()) return Status::Ok();
  POLICYD_RETURN_IF_ERROR(LoadTouchedRows(db, touched, index));
  index.Finish();
  std::string value;
  for (const std::string& key : touched) {
    if (!index.changed(key)) continue;
    const std::vector<DomainClaim>& claims = index.rows().find(key)->second;
    rocksdb::Status b;
    if (claims.empty()) {
      b = batch.Delete(ToSlice(key));
    } else {
      EncodeDomainClaims(claims, &value);
      b = batch.Put(ToSlice(key), ToSlice(value));
    }
    if (!b.ok()) return BatchError(b);
    *changed = true;
  }
  return Status::Ok();
}

Status StageSnapshotDomainIndex(const Snapshot& snapshot, rocksdb::WriteBatch& batch) {
  // As for the domain rows: one range tombstone for the old index, the new rows after it.
  rocksdb::Status b =
      batch.DeleteRange(ToSlice(keys::kDomainIndexPrefix), ToSlice(keys::kDomainIndexEnd));
  DomainIndexRows index;
  for (const OrgDomains& list : snapshot.org_domains) index.AddList(list.org_id, list.domains);
  std::string value;
  for (const auto& [key, claims] : index.rows()) {
    if (!b.ok()) break;
    EncodeDomainClaims(claims, &value);
    b = batch.Put(ToSlice(key), ToSlice(value));
  }
  return b.ok() ? Status::Ok() : BatchError(b);
}

}  // namespace policyd
