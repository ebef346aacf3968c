// RocksStore: entry versions on the read side: Read() with versions from the version rows of an
// older store opened read-only, and ForEachEntry, the walk over every entry with its rows and
// version that a fleet publisher makes. (A v3 store keeps each version in its entry's org value
// or instance record, which Read() decodes anyway: rocks_store.cc.)
#include <memory>
#include <optional>
#include <string>

#include "store/codec.h"
#include "store/keys.h"
#include "store/multi_get.h"
#include "store/rocks_snapshot.h"
#include "store/rocks_store.h"

namespace policyd {
namespace {

namespace keys = store_keys;

}  // namespace

Status RocksStore::ReadVersionRows(const MultiGetBuffer& reads, std::size_t first,
                                   LookupBatch& batch) const {
  const std::size_t n = batch.ids_.size();
  batch.versions_.resize(n);
  batch.instance_version_ = {};
  if (const rocksdb::Status& s = reads.status(first); s.ok()) {
    POLICYD_RETURN_IF_ERROR(DecodeSourceVersion(reads.value(first), &batch.instance_version_));
  } else if (!s.IsNotFound()) {
    return FromRocksRead(s, "instance version");
  }
  for (std::size_t i = 0; i < n; ++i) {
    batch.versions_[i] = {};
    const rocksdb::Status& s = reads.status(first + 1 + i);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocksRead(s, "version of org " + std::string(batch.ids_[i]));
    POLICYD_RETURN_IF_ERROR(DecodeSourceVersion(reads.value(first + 1 + i), &batch.versions_[i]));
  }
  return Status::Ok();
}

Status RocksStore::ForEachEntry(
    const std::function<Status(const InstanceRecord&, const InstanceDomains&,
                               const SourceVersion&)>& on_instance,
    const std::function<Status(const OrgRecord&, const OrgDomains&, const SourceVersion&)>& on_org)
    const {
  SnapshotGuard snapshot(*db_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.get();
  ro.fill_cache = false;  // a full walk would push the lookup path's hot blocks out

  // The instance entry: two point reads in the snapshot (three with version rows).
  MultiGetBuffer reads;
  reads.AddKey(keys::kInstanceKey);
  reads.AddKey(keys::kInstanceDomainsKey);
  if (version_rows_) reads.AddKey(keys::kInstanceVersionKey);
  reads.Run(*db_, ro);
  Status result;
  if (reads.status(0).ok()) {
    InstanceRecord instance;
    InstanceDomains domains;
    SourceVersion version;
    result = DecodeInstanceRecord(reads.value(0), &instance, &version);
    if (result.ok() && reads.status(1).ok()) {
      result =
          DecodeInstanceDomains(reads.value(1), &domains.sequence, &domains.stream, &domains.names);
    } else if (result.ok() && !reads.status(1).IsNotFound()) {
      result = FromRocksRead(reads.status(1), "instance domains");
    }
    if (result.ok() && version_rows_ && reads.status(2).ok()) {
      result = DecodeSourceVersion(reads.value(2), &version);
    } else if (result.ok() && version_rows_ && !reads.status(2).IsNotFound()) {
      result = FromRocksRead(reads.status(2), "instance version");
    }
    reads.ReleasePins();
    if (!result.ok()) return result.WithContext("store " + dir_);
    if (on_instance) POLICYD_RETURN_IF_ERROR(on_instance(instance, domains, version));
  } else if (!reads.status(0).IsNotFound()) {
    return ReadError(reads.status(0), "instance");
  }

  // Every org: the org rows drive the walk; the domain rows (and the version rows of an older
  // store), in the same id order, are joined to them.
  RangeIterator orgs(*db_, ro, keys::kOrgPrefix, keys::kOrgEnd);
  RangeIterator domain_rows(*db_, ro, keys::kOrgDomainsPrefix, keys::kOrgDomainsEnd);
  std::optional<RangeIterator> version_rows;
  if (version_rows_) version_rows.emplace(*db_, ro, keys::kOrgVersionPrefix, keys::kOrgVersionEnd);
  OrgRecord org;
  PolicyRecord policy;
  OrgDomains domains;
  SourceVersion version;
  for (; orgs.it->Valid(); orgs.it->Next()) {
    std::string_view id;
    if (!keys::ParseOrgKey(ToView(orgs.it->key()), &id)) continue;  // unreachable in bounds
    bool has_policy = false;
    Status d = DecodeOrgValue(ToView(orgs.it->value()), &has_policy, &policy, &version);
    org.id.assign(id);
    if (has_policy) {
      org.policy = policy;
    } else {
      org.policy.reset();
    }
    domains.org_id.assign(id);
    domains.domains.clear();
    domains.sequence = 0;
    domains.stream = {};
    if (d.ok() && domain_rows.SeekTo(id, keys::kOrgDomainsPrefix)) {
      d = DecodeOrgDomains(ToView(domain_rows.it->value()), &domains.sequence, &domains.stream,
                           &domains.domains);
    }
    if (d.ok() && version_rows && version_rows->SeekTo(id, keys::kOrgVersionPrefix)) {
      d = DecodeSourceVersion(ToView(version_rows->it->value()), &version);
    }
    if (!d.ok()) return d.WithContext("store " + dir_ + ": org " + std::string(id));
    if (on_org) POLICYD_RETURN_IF_ERROR(on_org(org, domains, version));
  }
  for (const RangeIterator* r : {&orgs, &domain_rows}) {
    if (!r->it->status().ok()) return ReadError(r->it->status(), "org entries");
  }
  if (version_rows && !version_rows->it->status().ok()) {
    return ReadError(version_rows->it->status(), "org entries");
  }
  return Status::Ok();
}

}  // namespace policyd
