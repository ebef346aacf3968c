// RocksStore::OpenDumpCursor: the walk a dump over the socket makes, resumable between chunks.
// The org rows drive it; the domain rows and the "kinds:" rows, in the same id order, are joined
// to them (as ForEachEntry joins domains), all from one snapshot.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/codec.h"
#include "store/keys.h"
#include "store/kind_codec.h"
#include "store/multi_get.h"
#include "store/rocks_snapshot.h"
#include "store/rocks_store.h"

namespace policyd {
namespace {

namespace keys = store_keys;

bool IsGenericKind(PolicyKind kind) {
  for (PolicyKind k : kGenericKinds) {
    if (k == kind) return true;
  }
  return false;
}

rocksdb::ReadOptions SnapshotReads(const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = false;  // a full walk must not push the lookup path's hot blocks out
  return ro;
}

class RocksDumpCursor final : public DumpCursor {
 public:
  RocksDumpCursor(rocksdb::DB& db, std::string dir)
      : dir_(std::move(dir)),
        snapshot_(db),
        orgs_(db, SnapshotReads(snapshot_.get()), keys::kOrgPrefix, keys::kOrgEnd),
        domains_(db, SnapshotReads(snapshot_.get()), keys::kOrgDomainsPrefix, keys::kOrgDomainsEnd),
        kinds_(db, SnapshotReads(snapshot_.get()), keys::kOrgKindsPrefix, keys::kOrgKindsEnd) {}

  // Reads the instance entry and the kind defaults. Errors as for OpenDumpCursor().
  Status ReadInstance(rocksdb::DB& db);

  const DumpInstance& instance() const override { return instance_; }
  Result<bool> Next(DumpEntry& out) override;

 private:
  Status Fail(const Status& s, std::string_view id) const {
    return s.WithContext("store " + dir_ + ": org " + std::string(id));
  }

  const std::string dir_;
  SnapshotGuard snapshot_;  // declared before the iterators: released after them
  RangeIterator orgs_;
  RangeIterator domains_;
  RangeIterator kinds_;
  DumpInstance instance_;
  PolicyRecord policy_;
  std::vector<StoredKindRow> rows_;
  bool started_ = false;
};

Status RocksDumpCursor::ReadInstance(rocksdb::DB& db) {
  const rocksdb::ReadOptions ro = SnapshotReads(snapshot_.get());
  MultiGetBuffer reads;
  reads.AddKey(keys::kInstanceKey);
  reads.AddKey(keys::kInstanceDomainsKey);
  reads.Run(db, ro);
  if (reads.status(0).IsNotFound()) {
    return Status::FailedPrecondition("the store holds no state yet (no instance default)");
  }
  if (!reads.status(0).ok()) return FromRocksRead(reads.status(0), "instance");
  POLICYD_RETURN_IF_ERROR(DecodeInstanceRecord(reads.value(0), &instance_.instance));
  if (reads.status(1).ok()) {
    std::uint64_t sequence = 0;
    EventStream stream;
    POLICYD_RETURN_IF_ERROR(
        DecodeInstanceDomains(reads.value(1), &sequence, &stream, &instance_.domains));
  } else if (!reads.status(1).IsNotFound()) {
    return FromRocksRead(reads.status(1), "instance domains");
  }
  reads.ReleasePins();
  RangeIterator defaults(db, ro, keys::kKindDefaultPrefix, keys::kKindDefaultEnd);
  SourceVersion ignored;
  for (; defaults.it->Valid(); defaults.it->Next()) {
    KindPolicy policy;
    POLICYD_RETURN_IF_ERROR(DecodeKindDefault(ToView(defaults.it->value()), &policy, &ignored));
    if (IsGenericKind(policy.kind)) instance_.kinds.push_back(std::move(policy));
  }
  if (!defaults.it->status().ok()) return FromRocksRead(defaults.it->status(), "kind defaults");
  return Status::Ok();
}

Result<bool> RocksDumpCursor::Next(DumpEntry& out) {
  if (started_) orgs_.it->Next();
  started_ = true;
  std::string_view id;
  // (A key that does not parse is unreachable within the bounds.)
  while (orgs_.it->Valid() && !keys::ParseOrgKey(ToView(orgs_.it->key()), &id)) orgs_.it->Next();
  if (!orgs_.it->Valid()) {
    for (const RangeIterator* r : {&orgs_, &domains_, &kinds_}) {
      if (!r->it->status().ok()) return Err(FromRocksRead(r->it->status(), "dump of orgs"));
    }
    return false;
  }
  bool has_policy = false;
  if (Status d = DecodeOrgValue(ToView(orgs_.it->value()), &has_policy, &policy_); !d.ok()) {
    return Err(Fail(d, id));
  }
  out.org.id.assign(id);
  if (has_policy) {
    out.org.policy = policy_;
  } else {
    out.org.policy.reset();
  }
  out.domains.clear();
  if (domains_.SeekTo(id, keys::kOrgDomainsPrefix)) {
    std::uint64_t sequence = 0;
    EventStream stream;
    if (Status d = DecodeOrgDomains(ToView(domains_.it->value()), &sequence, &stream, &out.domains);
        !d.ok()) {
      return Err(Fail(d, id));
    }
  }
  out.kinds.clear();
  if (kinds_.SeekTo(id, keys::kOrgKindsPrefix)) {
    std::size_t count = 0;
    if (Status d = DecodeOrgKinds(ToView(kinds_.it->value()), &rows_, &count); !d.ok()) {
      return Err(Fail(d, id));
    }
    for (std::size_t r = 0; r < count; ++r) {
      if (rows_[r].has_policy && IsGenericKind(rows_[r].kind)) {
        out.kinds.push_back(std::move(rows_[r].policy));
      }
    }
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<DumpCursor>> RocksStore::OpenDumpCursor() const {
  auto cursor = std::make_unique<RocksDumpCursor>(*db_, dir_);
  if (Status s = cursor->ReadInstance(*db_); !s.ok()) {
    if (s.code() == Code::kFailedPrecondition) return Err(std::move(s));
    return Err(s.WithContext("store " + dir_));
  }
  return std::unique_ptr<DumpCursor>(std::move(cursor));
}

}  // namespace policyd
