// RocksStore: the Store (store/store.h) kept in a RocksDB database, in the layout of store/keys.h
// with the values of store/codec.h.
//
// Internal to store/: other modules include store/store.h and call OpenRocksStore(), so that no
// RocksDB type or header reaches them. Tests of this module may use the class directly.
//
// Ownership: a RocksStore owns its rocksdb::DB and block cache; destroying it closes the database
// (callers stop every reader and the writer first).
//
// Threads: Read(), ReadDomains(), Meta() and ForEach() from any number of threads at once,
// concurrently with Apply()/Replace()/Flush(); writers serialize on an internal mutex. Read() keeps
// per-thread scratch buffers (thread_local), so a thread that has served a batch of N ids does not
// allocate for batches up to N again.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "store/multi_get.h"
#include "store/store.h"

namespace policyd {

class RocksStore final : public Store {
 public:
  // See OpenRocksStore() in store/store.h for the contract. `env`, when set, replaces RocksDB's
  // default environment (tests inject file-system faults with it); it must outlive the store.
  static Result<std::unique_ptr<RocksStore>> Open(const std::string& dir,
                                                  const StoreOptions& options,
                                                  rocksdb::Env* env = nullptr);

  ~RocksStore() override;
  RocksStore(const RocksStore&) = delete;
  RocksStore& operator=(const RocksStore&) = delete;

  Status Read(LookupBatch& batch) const override;
  Status ReadDomains(std::string_view org_id, DomainSet& out) const override;
  Result<StoreMeta> Meta() const override;
  Status Apply(const StoreChange& change, Timestamp now) override;
  Status Replace(const Snapshot& snapshot, std::string_view cursor, std::string_view source,
                 Timestamp now) override;
  Status ForEach(const std::function<void(const InstanceRecord&)>& on_instance,
                 const std::function<Status(const OrgRecord&)>& on_org) const override;
  Status ForEachOrgDomains(const std::function<Status(const OrgDomains&)>& visit) const override;
  Status ForEachEntry(const std::function<Status(const InstanceRecord&, const InstanceDomains&,
                                                 const SourceVersion&)>& on_instance,
                      const std::function<Status(const OrgRecord&, const OrgDomains&,
                                                 const SourceVersion&)>& on_org) const override;
  Status ForEachKindRow(
      const std::function<Status(const KindRow& row, bool has_policy)>& visit) const override;
  Status Flush() override;
  // From a RocksDB snapshot, with fill_cache off (rocks_store_dump.cc).
  Result<std::unique_ptr<DumpCursor>> OpenDumpCursor() const override;

 private:
  RocksStore(std::string dir, std::shared_ptr<rocksdb::Cache> cache,
             std::unique_ptr<rocksdb::DB> db, bool read_only = false);
  static Result<std::unique_ptr<RocksStore>> OpenReadOnly(const std::string& dir,
                                                          const StoreOptions& options);
  // FAILED_PRECONDITION for writes to a store opened read-only.
  Status CheckWritable() const;
  // Before the read-write open of the existing database in `dir`: checks, read-only, that it is
  // a policyd store and that every table block's checksum matches. Errors as for Open().
  static Status CheckBeforeWriting(const std::string& dir, const StoreOptions& options);
  // Keeps the memtable non-empty without touching the disk (rocks_error_handling.h).
  void AnchorMemtable();

  // Checks "meta:format" of a freshly opened database, initializing a new or half-created one.
  Status CheckFormat(bool created, bool may_create);
  Status Initialize();
  // Migrates a v1 store (no verified-domain index) to v2 in place (store/keys.h "Versioning").
  // Errors: DATA_LOSS for a domain row that does not decode; UNAVAILABLE / INTERNAL for failed
  // reads and writes (the store is then still v1).
  Status MigrateV1();
  // Migrates a v2 store (entry versions in rows of their own) to v3 in place: every org value and
  // the instance record rewritten as kCodecV3 with its version, the version rows deleted
  // (store/keys.h "Versioning"). Errors: DATA_LOSS for a row that does not decode; UNAVAILABLE /
  // INTERNAL for failed reads and writes (the store is then still v2, part of it migrated).
  Status MigrateV2();
  // Writes `batch` (the caller holds write_mu_), first resuming RocksDB if an earlier write
  // failed. Errors: UNAVAILABLE for I/O (disk full, EIO, ...), DATA_LOSS, INTERNAL.
  Status Write(rocksdb::WriteBatch& batch, std::string_view what);
  // DB::Resume(): OK when writes are possible (again). See rocks_error_handling.h.
  rocksdb::Status ResumeAfterWriteError();
  // Writes, syncs and deletes a 4 KiB file in dir_: OK when the disk takes writes again.
  rocksdb::IOStatus ProbeWritable();
  // Translates a failed write, flush or resume, naming the directory and `what`.
  Status WriteError(const rocksdb::Status& s, const std::string& what) const;
  // Read(): decodes the instance and org rows, which `reads` holds from slot 0 on.
  Status ReadPolicyRows(const MultiGetBuffer& reads, LookupBatch& batch) const;
  // Read() of a claims-only batch (IndexedStore): one point read per claim query.
  Status ReadClaimsOnly(LookupBatch& batch) const;
  // Read(): decodes the verified-domain index rows of the claim queries, from slot `first` on.
  Status ReadClaimRows(const MultiGetBuffer& reads, std::size_t first, LookupBatch& batch) const;
  // Read() with domains: decodes the domain rows, which `reads` holds from slot `first` on (the
  // instance's, then one per id).
  Status ReadDomainRows(const MultiGetBuffer& reads, std::size_t first, LookupBatch& batch) const;
  // Read() with versions of a store with version rows (a v1 or v2 store opened read-only):
  // decodes those rows, which `reads` holds from slot `first` on (the instance's, then one per
  // org) (rocks_store_entries.cc).
  Status ReadVersionRows(const MultiGetBuffer& reads, std::size_t first, LookupBatch& batch) const;
  // Read() with kinds: adds the keys of the batch's kind defaults (in kind order) and then one
  // "kinds:" key per id (rocks_store_kinds.cc).
  static void AddKindKeys(const LookupBatch& batch, MultiGetBuffer& reads);
  // Read() with kinds: decodes the rows AddKindKeys() asked for, from slot `first` on.
  Status ReadKindRows(const MultiGetBuffer& reads, std::size_t first, LookupBatch& batch) const;
  // Translates a RocksDB read error, naming the directory and `what`.
  Status ReadError(const rocksdb::Status& s, std::string_view what) const;

  const std::string dir_;
  std::shared_ptr<rocksdb::Cache> cache_;  // outlives db_: declared first, destroyed last
  std::unique_ptr<rocksdb::DB> db_;
  const bool read_only_;
  // The store has the verified-domain index (format v2; false only for a v1 store opened
  // read-only). Set by CheckFormat() before the store is shared.
  bool has_domain_index_ = true;
  // The entry versions are in rows of their own ("version:<id>", "instance-version"), not in the
  // org values and the instance record (format v1 or v2, opened read-only). Set likewise.
  bool version_rows_ = false;
  std::mutex write_mu_;  // serializes Apply() and Replace()
  // A write or flush failed and RocksDB has not been resumed since (rocks_error_handling.h).
  std::atomic<bool> needs_resume_{false};
};

}  // namespace policyd
