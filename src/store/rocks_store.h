// RocksStore: the Store (store/store.h) kept in a RocksDB database, in the layout of store/keys.h
// with the values of store/codec.h.
//
// Internal to store/: other modules include store/store.h and call OpenRocksStore(), so that no
// RocksDB type or header reaches them. Tests of this module may use the class directly.
//
// Ownership: a RocksStore owns its rocksdb::DB and block cache; destroying it closes the database
// (callers stop every reader and the writer first).
//
// Threads: Read(), Meta() and ForEach() from any number of threads at once, concurrently with
// Apply()/Replace()/Flush(); writers serialize on an internal mutex. Read() keeps per-thread
// scratch buffers (thread_local), so a thread that has served a batch of N ids does not allocate
// for batches up to N again.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

namespace policyd {

class RocksStore final : public Store {
 public:
  // See OpenRocksStore() in store/store.h for the contract.
  static Result<std::unique_ptr<RocksStore>> Open(const std::string& dir,
                                                  const StoreOptions& options);

  ~RocksStore() override;
  RocksStore(const RocksStore&) = delete;
  RocksStore& operator=(const RocksStore&) = delete;

  Status Read(LookupBatch& batch) const override;
  Result<StoreMeta> Meta() const override;
  Status Apply(const StoreChange& change, Timestamp now) override;
  Status Replace(const Snapshot& snapshot, std::string_view cursor, std::string_view source,
                 Timestamp now) override;
  Status ForEach(const std::function<void(const InstanceRecord&)>& on_instance,
                 const std::function<Status(const OrgRecord&)>& on_org) const override;
  Status Flush() override;

 private:
  RocksStore(std::string dir, std::shared_ptr<rocksdb::Cache> cache,
             std::unique_ptr<rocksdb::DB> db, bool read_only = false);
  static Result<std::unique_ptr<RocksStore>> OpenReadOnly(const std::string& dir,
                                                          const StoreOptions& options);
  // FAILED_PRECONDITION for writes to a store opened read-only.
  Status CheckWritable() const;

  // Checks "meta:format" of a freshly opened database, initializing a new or half-created one.
  Status CheckFormat(bool created, bool may_create);
  Status Initialize();
  // Writes `batch` (the caller holds write_mu_). Errors: UNAVAILABLE for I/O, DATA_LOSS, INTERNAL.
  Status Write(rocksdb::WriteBatch& batch, std::string_view what);
  // Translates a RocksDB read error, naming the directory and `what`.
  Status ReadError(const rocksdb::Status& s, std::string_view what) const;

  const std::string dir_;
  std::shared_ptr<rocksdb::Cache> cache_;  // outlives db_: declared first, destroyed last
  std::unique_ptr<rocksdb::DB> db_;
  const bool read_only_;
  std::mutex write_mu_;  // serializes Apply() and Replace()
};

}  // namespace policyd
