// SnapshotGuard: an explicit RocksDB snapshot for a walk over several key ranges, released when
// the walk ends, however it ends. Internal to store/.
#pragma once

#include <rocksdb/db.h>

namespace policyd {

class SnapshotGuard {
 public:
  explicit SnapshotGuard(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) {}
  ~SnapshotGuard() { db_.ReleaseSnapshot(snapshot_); }
  SnapshotGuard(const SnapshotGuard&) = delete;
  SnapshotGuard& operator=(const SnapshotGuard&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB& db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace policyd
