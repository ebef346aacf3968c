// MultiGetBuffer: a reusable batched RocksDB point read, shared by the RocksStore sources.
//
// Internal to store/. Keys are built in one buffer and the values stay pinned in the block cache
// (no copy) until ReleasePins(), the next Run() or destruction. Buffers only grow, so a reused
// MultiGetBuffer does not allocate once it has seen its largest batch.
//
// Threads: one MultiGetBuffer per thread at a time.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace policyd {

// Translates a failed RocksDB read of `what`: DATA_LOSS for corruption, INTERNAL otherwise.
Status FromRocksRead(const rocksdb::Status& s, std::string_view what);

inline rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

class MultiGetBuffer {
 public:
  MultiGetBuffer() = default;
  MultiGetBuffer(const MultiGetBuffer&) = delete;
  MultiGetBuffer& operator=(const MultiGetBuffer&) = delete;
  ~MultiGetBuffer() { ReleasePins(); }

  // Forgets the keys (and releases the values) of the previous batch.
  void Clear();
  void AddKey(std::string_view key);
  void AddOrgKey(std::string_view org_id);          // adds store_keys::OrgKey(org_id)
  void AddOrgDomainsKey(std::string_view org_id);   // adds "domains:<org_id>"
  void AddOrgVersionKey(std::string_view org_id);   // adds "version:<org_id>"
  void AddDomainIndexKey(std::string_view domain);  // adds "verified-domain:<lower case domain>"
  std::size_t size() const { return key_ends_.size(); }

  // Reads every key added since Clear() with one batched DB::MultiGet, which reads all keys of
  // one column family at a single sequence number (one implicit snapshot) unless `options`
  // names an explicit snapshot.
  void Run(rocksdb::DB& db, const rocksdb::ReadOptions& options);

  // After Run(): the outcome for key i (OK, NotFound or an error) and its value when OK.
  const rocksdb::Status& status(std::size_t i) const { return statuses_[i]; }
  std::string_view value(std::size_t i) const { return ToView(values_[i]); }

  // Unpins the values: they are invalid afterwards.
  void ReleasePins();

 private:
  std::string key_bytes_;
  std::vector<std::size_t> key_ends_;
  std::vector<rocksdb::Slice> keys_;
  std::vector<rocksdb::PinnableSlice> values_;
  std::vector<rocksdb::Status> statuses_;
  std::size_t pinned_ = 0;  // values_[0, pinned_) may hold pins
};

}  // namespace policyd
