// SnapshotGuard: an explicit RocksDB snapshot for a walk over several key ranges, released when
// the walk ends, however it ends. RangeIterator: an iterator over one key range of such a walk,
// for joining rows of several prefixes by id. Internal to store/; one thread per object.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <memory>
#include <string_view>

#include "store/multi_get.h"

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

// The rows in [lower_key, upper_key), read with `ro` (its bounds are replaced). The bounds live
// here so that they outlive the iterator that points at them; the keys they view must outlive
// the RangeIterator.
struct RangeIterator {
  RangeIterator(rocksdb::DB& db, rocksdb::ReadOptions ro, std::string_view lower_key,
                std::string_view upper_key)
      : lower(ToSlice(lower_key)), upper(ToSlice(upper_key)) {
    ro.iterate_lower_bound = &lower;
    ro.iterate_upper_bound = &upper;
    it.reset(db.NewIterator(ro));
    it->Seek(lower);
  }
  // For keys "<prefix><id>" in id order: moves to the first row whose id is not below `id`; true
  // if that row's id is `id`.
  bool SeekTo(std::string_view id, std::string_view prefix) {
    while (it->Valid()) {
      std::string_view key = ToView(it->key());
      std::string_view row_id = key.substr(prefix.size());
      if (row_id >= id) return row_id == id;
      it->Next();
    }
    return false;
  }

  rocksdb::Slice lower;
  rocksdb::Slice upper;
  std::unique_ptr<rocksdb::Iterator> it;
};

}  // namespace policyd
