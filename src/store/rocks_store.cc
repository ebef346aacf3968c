// RocksStore: opening, options and the read side. The write side is in rocks_store_write.cc.
#include "store/rocks_store.h"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "store/codec.h"
#include "store/domain_index.h"
#include "store/keys.h"
#include "store/multi_get.h"
#include "store/rocks_error_handling.h"
#include "store/rocks_snapshot.h"

namespace policyd {
namespace {

namespace keys = store_keys;

// Compression: the block cache holds uncompressed blocks, so compression only costs CPU on a
// cache miss and in compactions. LZ4 decompresses at GB/s and still roughly halves our values
// (the resource owner repeats the key's org id, timestamps share their high bytes), which keeps
// more of a 1M-org store in the OS page cache. zstd would save a little more space for slower
// misses. Debian's build links LZ4; fall back to Snappy, then none, if a build lacks it.
rocksdb::CompressionType ChooseCompression() {
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  for (auto wanted : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), wanted) != supported.end()) return wanted;
  }
  return rocksdb::kNoCompression;
}

// Options for a read-mostly point-lookup workload: at most a few thousand writes per sync and
// up to ~1M small org rows, read by key from many threads.
rocksdb::Options MakeOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Full (whole-key) bloom filter, ~1% false positives: a lookup of an unknown org usually
  // costs no data block read at all, and a known one reads one block per level that holds it.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  // A hash index inside each data block turns the in-block binary search into one probe; what
  // DB::OptimizeForPointLookup() sets, without its other choices (we also scan in ForEach).
  table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  table.data_block_hash_table_util_ratio = 0.75;

  rocksdb::Options o;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Bloom filter over the memtable too, so that lookups skip it for keys it does not hold.
  o.memtable_prefix_bloom_size_ratio = 0.02;
  o.memtable_whole_key_filtering = true;
  // optimize_filters_for_hits stays off: it drops the filters of the last level, where nearly all
  // data lives, to save ~1.2 MB per million orgs; in exchange every lookup of an unknown org
  // (strict-mode probes, orgs deleted upstream) would read a data block, possibly from disk.
  o.optimize_filters_for_hits = false;
  o.compression = ChooseCompression();
  // Sizes levels from the bottom up so that most data sits in the last level, which keeps space
  // amplification low and the number of levels a point read visits small.
  o.level_compaction_dynamic_level_bytes = true;
  // Bounded so a daemon cannot run out of descriptors; a 1M-org store is a handful of files, so
  // all of them stay open (which matters after a Replace: range tombstones are re-read when a
  // file is reopened).
  o.max_open_files = 256;
  // Debian's RocksDB defaults to DEBUG logging when the including code is built without NDEBUG.
  o.info_log_level = rocksdb::WARN_LEVEL;
  o.max_log_file_size = 1u << 20;
  o.keep_log_file_num = 4;
  // After a crash, recover the WAL up to the last complete batch: every batch carries its sync
  // cursor, so the recovered state and cursor always match.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Closing never flushes on its own (RocksStore::Flush does, after checking the disk; see
  // rocks_error_handling.h): everything acknowledged is in the WAL already.
  o.avoid_flush_during_shutdown = true;
  return o;
}

enum class DirKind { kMissing, kEmpty, kRocksDb, kForeign, kNotDirectory };

// Names an interrupted RocksDB create leaves behind before it writes CURRENT (and lost+found,
// which every ext4 mount point has): a directory holding only these counts as empty. RocksDB
// writes IDENTITY and CURRENT as "<number>.dbtmp" files renamed into place, so a SIGKILL during
// the first start can leave one (seen in CrashTest).
bool IsIgnorableEntry(const std::string& name) {
  return name == "lost+found" || name == "LOCK" || name == "IDENTITY" || name == "LOG" ||
         name.starts_with("LOG.old.") || name.starts_with("MANIFEST-") ||
         name.starts_with("OPTIONS-") || name.ends_with(".dbtmp");
}

Result<DirKind> InspectDir(const std::string& dir) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(dir, ec);
  if (st.type() == std::filesystem::file_type::not_found) return DirKind::kMissing;
  if (ec) return Err(Status::Internal("inspect store directory " + dir + ": " + ec.message()));
  if (st.type() != std::filesystem::file_type::directory) return DirKind::kNotDirectory;
  bool empty = true;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == "CURRENT") return DirKind::kRocksDb;
    if (!IsIgnorableEntry(name)) empty = false;
  }
  if (ec) return Err(Status::Internal("list store directory " + dir + ": " + ec.message()));
  return empty ? DirKind::kEmpty : DirKind::kForeign;
}

Status NotAPolicydStore(const std::string& dir, std::string_view why) {
  return Status::FailedPrecondition(dir + " is not a policyd store (" + std::string(why) +
                                    "); point --data-dir at an empty or policyd directory");
}

Status Corrupt(const std::string& dir, std::string_view what) {
  return Status::DataLoss("store " + dir + " is corrupt (" + std::string(what) +
                          "); move it away and let policyd resync from the upstream");
}

Status OpenError(const std::string& dir, const rocksdb::Status& s, bool creating) {
  // RocksDB reports a held lock as an IOError on "<dir>/LOCK", whether another process holds it
  // ("While lock file") or this one ("lock hold by current process"); failing to open the LOCK
  // file at all ("while open a file for lock") is a permission problem, handled below.
  const std::string text = s.ToString();
  if (s.IsIOError() && (text.find("While lock file") != std::string::npos ||
                        text.find("lock hold by current process") != std::string::npos)) {
    return Status::FailedPrecondition("store " + dir + " is locked (" + text +
                                      "); another policyd may be running with this data dir");
  }
  if (s.IsIOError() && (text.find("Permission denied") != std::string::npos ||
                        text.find("Read-only file system") != std::string::npos)) {
    return Status::FailedPrecondition("store " + dir + " is not writable (" + text +
                                      "); give policyd's user write access to it or point "
                                      "--data-dir elsewhere");
  }
  // Opening an existing database, a missing file (a MANIFEST that CURRENT names, an SST file the
  // MANIFEST lists) is damage too.
  if (s.IsCorruption() || (!creating && s.IsPathNotFound())) return Corrupt(dir, text);
  if (s.IsInvalidArgument()) {
    // E.g. column families or a comparator of some other application.
    return NotAPolicydStore(dir, "RocksDB refused to open it: " + s.ToString());
  }
  return Status::Internal("open store " + dir + ": " + s.ToString());
}

// Sets `v` to zero, keeping the capacity of its strings (LookupBatch reuse).
void ClearVersion(SourceVersion& v) {
  v.date = {};
  v.stream.type.clear();
  v.stream.id.clear();
  v.sequence = 0;
}

// For messages: at most 64 bytes of a foreign value, non-printable bytes as '?'.
std::string Printable(std::string_view v) {
  std::string out(v.substr(0, 64));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenRocksStore(const std::string& dir, const StoreOptions& options) {
  Result<std::unique_ptr<RocksStore>> store = RocksStore::Open(dir, options);
  if (!store) return Err(std::move(store.error()));
  return std::unique_ptr<Store>(std::move(*store));
}

Result<std::unique_ptr<RocksStore>> RocksStore::Open(const std::string& dir,
                                                     const StoreOptions& options,
                                                     rocksdb::Env* env) {
  Result<DirKind> kind = InspectDir(dir);
  if (!kind) return Err(std::move(kind.error()));
  switch (*kind) {
    case DirKind::kNotDirectory:
      return Err(NotAPolicydStore(dir, "not a directory"));
    case DirKind::kForeign:
      return Err(NotAPolicydStore(dir, "it holds files but no RocksDB database"));
    case DirKind::kMissing:
    case DirKind::kEmpty:
    case DirKind::kRocksDb:
      break;
  }
  const bool create = *kind != DirKind::kRocksDb;
  if (options.read_only) {
    if (create) return Err(Status::FailedPrecondition("no policyd store in " + dir));
    return OpenReadOnly(dir, options);
  }
  if (!create) {
    if (Status checked = CheckBeforeWriting(dir, options); !checked.ok()) {
      return Err(std::move(checked));
    }
  }
  if (create) {
    if (!options.create_if_missing) {
      return Err(Status::FailedPrecondition("no policyd store in " + dir +
                                            " and creating one is disabled"));
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec == std::errc::permission_denied || ec == std::errc::read_only_file_system) {
      return Err(Status::FailedPrecondition("cannot create store directory " + dir + ": " +
                                            ec.message() + "; point --data-dir elsewhere"));
    }
    if (ec) return Err(Status::Internal("create store directory " + dir + ": " + ec.message()));
  }

  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::Options rocks_options = MakeOptions(cache);
  // Never create a database over an existing one: error_if_exists makes a racing creator fail.
  rocks_options.create_if_missing = create;
  rocks_options.error_if_exists = create;
  // The writer's RocksDB logs through spdlog and resumes after write errors (see
  // rocks_error_handling.h); read-only opens (policyctl dump) keep RocksDB's defaults.
  rocks_options.info_log = MakeRocksLogger();
  rocks_options.listeners.push_back(MakeWriteErrorListener());
  if (env != nullptr) rocks_options.env = env;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocks_options, dir, &raw);
  if (!s.ok()) return Err(OpenError(dir, s, create));

  std::unique_ptr<RocksStore> store(
      new RocksStore(dir, std::move(cache), std::unique_ptr<rocksdb::DB>(raw)));
  if (Status st = store->CheckFormat(create, options.create_if_missing); !st.ok()) {
    return Err(std::move(st));
  }
  // Decode the bookkeeping now, so that a damaged store fails at startup.
  if (Result<StoreMeta> meta = store->Meta(); !meta) return Err(std::move(meta.error()));
  store->AnchorMemtable();
  return store;
}

Status RocksStore::CheckBeforeWriting(const std::string& dir, const StoreOptions& options) {
  // RocksDB's read-write open writes at once (a new MANIFEST, OPTIONS and WAL; the old WAL
  // flushed into a table file); a read-only open writes nothing. So a database that is not ours,
  // or is damaged, is refused while it is still untouched.
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(1u << 20);
  rocksdb::Options rocks_options = MakeOptions(cache);
  rocks_options.info_log = MakeRocksLogger();
  // VerifyChecksum() reads each file without its number, so a unique-ID check could only warn
  // that it cannot verify; the read-write open checks the IDs.
  rocks_options.verify_sst_unique_id_in_manifest = false;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocks_options, dir, &raw);
  if (!s.ok()) return OpenError(dir, s, /*creating=*/false);
  RocksStore probe(dir, std::move(cache), std::unique_ptr<rocksdb::DB>(raw), true);
  if (Status format = probe.CheckFormat(false, options.create_if_missing); !format.ok()) {
    return format.code() == Code::kDataLoss ? Corrupt(dir, format.message()) : format;
  }
  // Every block of every table file (RocksDB's open reads only the files' ends): a damaged file
  // is refused now rather than met by some later lookup. ~10 ms per million orgs.
  if (s = probe.db_->VerifyChecksum(); !s.ok()) return OpenError(dir, s, /*creating=*/false);
  return Status::Ok();
}

Result<std::unique_ptr<RocksStore>> RocksStore::OpenReadOnly(const std::string& dir,
                                                             const StoreOptions& options) {
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::Options rocks_options = MakeOptions(cache);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocks_options, dir, &raw);
  if (!s.ok()) return Err(OpenError(dir, s, /*creating=*/false));
  std::unique_ptr<RocksStore> store(
      new RocksStore(dir, std::move(cache), std::unique_ptr<rocksdb::DB>(raw), true));
  if (Status st = store->CheckFormat(false, false); !st.ok()) return Err(std::move(st));
  if (Result<StoreMeta> meta = store->Meta(); !meta) return Err(std::move(meta.error()));
  return store;
}

RocksStore::RocksStore(std::string dir, std::shared_ptr<rocksdb::Cache> cache,
                       std::unique_ptr<rocksdb::DB> db, bool read_only)
    : dir_(std::move(dir)), cache_(std::move(cache)), db_(std::move(db)), read_only_(read_only) {}

RocksStore::~RocksStore() {
  // Close() waits for background work; its error (e.g. a failed final sync) has nobody to go to,
  // and the WAL already holds every acknowledged write.
  (void)db_->Close();
}

Status RocksStore::CheckFormat(bool created, bool may_create) {
  if (created) return Initialize();
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
                               ToSlice(store_keys::kFormatKey), &value);
  if (s.ok()) {
    const std::string_view format = ToView(value);
    if (format == store_keys::kFormatV3) return Status::Ok();
    if (format == store_keys::kFormatV2 || format == store_keys::kFormatV1) {
      // Read-only (policyctl dump, and the check before a writable open): read it as it is.
      if (read_only_) {
        has_domain_index_ = format != store_keys::kFormatV1;
        version_rows_ = true;
        return Status::Ok();
      }
      // v1 -> v2 -> v3, each migration ending with its own format key: a crash in the second
      // leaves a v2 store.
      if (format == store_keys::kFormatV1) POLICYD_RETURN_IF_ERROR(MigrateV1());
      return MigrateV2();
    }
    return NotAPolicydStore(dir_, "its format is '" + Printable(format) +
                                      "' but this binary reads '" +
                                      std::string(store_keys::kFormatV3) + "' (and migrates '" +
                                      std::string(store_keys::kFormatV1) + "' and '" +
                                      std::string(store_keys::kFormatV2) + "')");
  }
  if (!s.IsNotFound()) return ReadError(s, "format key");
  // A database without any key is what a start that crashed between creating the database and
  // writing its format leaves behind; anything else belongs to some other program.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  if (!it->status().ok()) return ReadError(it->status(), "first key");
  // (Read-only, for CheckBeforeWriting: the writer's open initializes it.)
  if (!it->Valid() && may_create) return read_only_ ? Status::Ok() : Initialize();
  return NotAPolicydStore(dir_, "a RocksDB database without the meta:format key");
}

Status RocksStore::Initialize() {
  rocksdb::WriteBatch batch;
  std::string meta;
  EncodeStoreMeta(StoreMeta{}, &meta);
  rocksdb::Status s = batch.Put(ToSlice(keys::kFormatKey), ToSlice(keys::kFormatV3));
  if (s.ok()) s = batch.Put(ToSlice(keys::kMetaKey), ToSlice(meta));
  if (!s.ok()) return Status::Internal("store " + dir_ + ": build initial batch: " + s.ToString());
  // Synced: the format key is what later opens trust, so it must not vanish in a power loss.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db_->Write(wo, &batch);
  if (!s.ok()) return Status::Internal("store " + dir_ + ": write format: " + s.ToString());
  return Status::Ok();
}

Status RocksStore::ReadError(const rocksdb::Status& s, std::string_view what) const {
  return FromRocksRead(s, what).WithContext("store " + dir_);
}

Status RocksStore::Read(LookupBatch& batch) const {
  thread_local MultiGetBuffer reads;
  const std::size_t n = batch.ids_.size();
  if (batch.claim_query_count() > 0 && !has_domain_index_) {
    return Status::FailedPrecondition(
        "store " + dir_ +
        " is a v1 store opened read-only: it has no verified-domain index (a writable open, "
        "e.g. starting policyd on it, migrates it)");
  }
  if (batch.claims_only_) return ReadClaimsOnly(batch);
  reads.Clear();
  reads.AddKey(keys::kInstanceKey);
  for (std::string_view id : batch.ids_) reads.AddOrgKey(id);
  if (batch.with_domains_) {
    reads.AddKey(keys::kInstanceDomainsKey);
    for (std::string_view id : batch.ids_) reads.AddOrgDomainsKey(id);
  }
  // Versions are in the org and instance rows (read above anyway), except in a store of an older
  // format opened read-only, which keeps them in rows of their own.
  const bool version_rows = batch.with_versions_ && version_rows_;
  const std::size_t first_version = reads.size();
  if (version_rows) {
    reads.AddKey(keys::kInstanceVersionKey);
    for (std::string_view id : batch.ids_) reads.AddOrgVersionKey(id);
  }
  const std::size_t first_claim = reads.size();
  for (std::string_view domain : batch.claim_domains_) reads.AddDomainIndexKey(domain);
  const bool kinds = batch.kinds_.has_generic();
  const std::size_t first_kind = reads.size();
  if (kinds) AddKindKeys(batch, reads);
  reads.Run(*db_, rocksdb::ReadOptions());

  Status result = ReadPolicyRows(reads, batch);
  if (result.ok() && batch.with_domains_) result = ReadDomainRows(reads, n + 1, batch);
  if (result.ok() && version_rows) result = ReadVersionRows(reads, first_version, batch);
  if (result.ok()) result = ReadClaimRows(reads, first_claim, batch);
  if (result.ok() && kinds) result = ReadKindRows(reads, first_kind, batch);
  reads.ReleasePins();
  if (!result.ok()) {
    batch.ClearKinds();
    batch.has_instance_ = false;
    batch.known_.assign(n, 0);
    std::fill(batch.claim_counts_.begin(), batch.claim_counts_.end(), 0);
    return result.WithContext("store " + dir_);
  }
  return result;
}

Status RocksStore::ReadClaimsOnly(LookupBatch& batch) const {
  // Point reads: for one key a Get is cheaper than a MultiGet and does not allocate. Each reads
  // the latest state; the caller (IndexedStore) makes sure no write ran meanwhile.
  thread_local std::string key;
  thread_local rocksdb::PinnableSlice value;
  Status result;
  for (std::size_t j = 0; j < batch.claim_domains_.size() && result.ok(); ++j) {
    batch.claim_counts_[j] = 0;
    key.clear();
    keys::AppendDomainIndexKey(batch.claim_domains_[j], &key);
    value.Reset();
    const rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), ToSlice(key), &value);
    if (s.IsNotFound()) continue;
    result = s.ok() ? DecodeDomainClaims(ToView(value), &batch.claims_[j])
                    : FromRocksRead(s, "verified-domain index");
    if (result.ok()) batch.claim_counts_[j] = batch.claims_[j].size();
  }
  value.Reset();
  if (result.ok()) return result;
  std::fill(batch.claim_counts_.begin(), batch.claim_counts_.end(), 0);
  return result.WithContext("store " + dir_);
}

Status RocksStore::ReadPolicyRows(const MultiGetBuffer& reads, LookupBatch& batch) const {
  const std::size_t n = batch.ids_.size();
  const bool versions = batch.with_versions_;
  batch.has_instance_ = false;
  batch.known_.assign(n, 0);
  batch.has_policy_.assign(n, 0);
  if (batch.policies_.size() < n) batch.policies_.resize(n);
  if (versions) {
    batch.versions_.resize(n);
    ClearVersion(batch.instance_version_);
  }
  if (const rocksdb::Status& s = reads.status(0); s.ok()) {
    POLICYD_RETURN_IF_ERROR(DecodeInstanceRecord(reads.value(0), &batch.instance_,
                                                 versions ? &batch.instance_version_ : nullptr));
    batch.has_instance_ = true;
  } else if (!s.IsNotFound()) {
    return FromRocksRead(s, "instance");
  }
  for (std::size_t i = 0; i < n; ++i) {
    SourceVersion* version = versions ? &batch.versions_[i] : nullptr;
    const rocksdb::Status& s = reads.status(i + 1);
    if (s.IsNotFound()) {
      if (version != nullptr) ClearVersion(*version);
      continue;
    }
    if (!s.ok()) return FromRocksRead(s, "org " + Printable(batch.ids_[i]));
    bool has_policy = false;
    POLICYD_RETURN_IF_ERROR(
        DecodeOrgValue(reads.value(i + 1), &has_policy, &batch.policies_[i], version));
    batch.known_[i] = 1;
    batch.has_policy_[i] = has_policy ? 1 : 0;
  }
  return Status::Ok();
}

Status RocksStore::ReadClaimRows(const MultiGetBuffer& reads, std::size_t first,
                                 LookupBatch& batch) const {
  for (std::size_t j = 0; j < batch.claim_domains_.size(); ++j) {
    batch.claim_counts_[j] = 0;
    const rocksdb::Status& s = reads.status(first + j);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocksRead(s, "verified-domain index");
    POLICYD_RETURN_IF_ERROR(DecodeDomainClaims(reads.value(first + j), &batch.claims_[j]));
    batch.claim_counts_[j] = batch.claims_[j].size();
  }
  return Status::Ok();
}

Status RocksStore::ReadDomainRows(const MultiGetBuffer& reads, std::size_t first,
                                  LookupBatch& batch) const {
  const std::size_t n = batch.ids_.size();
  batch.domains_.resize(n);
  InstanceDomains& instance = batch.instance_domains_;
  instance = {};
  if (const rocksdb::Status& s = reads.status(first); s.ok()) {
    POLICYD_RETURN_IF_ERROR(DecodeInstanceDomains(reads.value(first), &instance.sequence,
                                                  &instance.stream, &instance.names));
  } else if (!s.IsNotFound()) {
    return FromRocksRead(s, "instance domains");
  }
  for (std::size_t i = 0; i < n; ++i) {
    OrgDomains& org = batch.domains_[i];
    org.domains.clear();
    org.sequence = 0;
    org.stream = {};
    const rocksdb::Status& s = reads.status(first + 1 + i);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocksRead(s, "domains of org " + Printable(batch.ids_[i]));
    POLICYD_RETURN_IF_ERROR(
        DecodeOrgDomains(reads.value(first + 1 + i), &org.sequence, &org.stream, &org.domains));
  }
  return Status::Ok();
}

Status RocksStore::ReadDomains(std::string_view org_id, DomainSet& out) const {
  thread_local MultiGetBuffer reads;
  thread_local std::string key;
  // One MultiGet reads both keys at one sequence number: one consistent view.
  reads.Clear();
  reads.AddKey(keys::kInstanceDomainsKey);
  // An id that cannot be stored names no org: only the instance's domains are read.
  const bool valid_id = ValidateId("org id", org_id).ok();
  if (valid_id) {
    key.clear();
    keys::AppendOrgDomainsKey(org_id, &key);
    reads.AddKey(key);
  }
  reads.Run(*db_, rocksdb::ReadOptions());

  std::uint64_t sequence = 0;
  EventStream stream;
  Status result;
  if (const rocksdb::Status& s = reads.status(0); s.ok()) {
    result = DecodeInstanceDomains(reads.value(0), &sequence, &stream, &out.instance);
  } else {
    out.instance.clear();
    if (!s.IsNotFound()) result = FromRocksRead(s, "instance domains");
  }
  if (!valid_id) {
    out.org.clear();
  } else if (const rocksdb::Status& s = reads.status(1); result.ok() && s.ok()) {
    result = DecodeOrgDomains(reads.value(1), &sequence, &stream, &out.org);
  } else {
    out.org.clear();
    if (result.ok() && !s.IsNotFound())
      result = FromRocksRead(s, "domains of org " + Printable(org_id));
  }
  reads.ReleasePins();
  if (!result.ok()) {
    out.org.clear();
    out.instance.clear();
    return result.WithContext("store " + dir_);
  }
  return result;
}

Result<StoreMeta> RocksStore::Meta() const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), ToSlice(keys::kMetaKey), &value);
  if (s.IsNotFound()) return Err(Status::DataLoss("store " + dir_ + ": meta:state is missing"));
  if (!s.ok()) return Err(ReadError(s, "meta"));
  StoreMeta meta;
  if (Status d = DecodeStoreMeta(ToView(value), &meta); !d.ok()) {
    return Err(d.WithContext("store " + dir_));
  }
  return meta;
}

Status RocksStore::ForEach(const std::function<void(const InstanceRecord&)>& on_instance,
                           const std::function<Status(const OrgRecord&)>& on_org) const {
  SnapshotGuard snapshot(*db_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.get();
  // A full walk would otherwise push the hot blocks of the lookup path out of the cache.
  ro.fill_cache = false;

  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(ro, db_->DefaultColumnFamily(), ToSlice(keys::kInstanceKey), &value);
  if (s.ok()) {
    InstanceRecord instance;
    if (Status d = DecodeInstanceRecord(ToView(value), &instance); !d.ok()) {
      return d.WithContext("store " + dir_);
    }
    if (on_instance) on_instance(instance);
  } else if (!s.IsNotFound()) {
    return ReadError(s, "instance");
  }

  const rocksdb::Slice lower = ToSlice(keys::kOrgPrefix);
  const rocksdb::Slice upper = ToSlice(keys::kOrgEnd);
  ro.iterate_lower_bound = &lower;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  OrgRecord org;
  PolicyRecord policy;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    std::string_view id;
    if (!keys::ParseOrgKey(ToView(it->key()), &id)) continue;  // unreachable within the bounds
    bool has_policy = false;
    if (Status d = DecodeOrgValue(ToView(it->value()), &has_policy, &policy); !d.ok()) {
      return d.WithContext("store " + dir_ + ": org " + Printable(id));
    }
    org.id.assign(id);
    if (has_policy) {
      org.policy = policy;
    } else {
      org.policy.reset();
    }
    if (!on_org) continue;
    if (Status v = on_org(org); !v.ok()) return v;
  }
  if (!it->status().ok()) return ReadError(it->status(), "orgs");
  return Status::Ok();
}

Status RocksStore::ForEachOrgDomains(const std::function<Status(const OrgDomains&)>& visit) const {
  rocksdb::ReadOptions ro;  // an iterator reads one implicit snapshot
  ro.fill_cache = false;
  const rocksdb::Slice lower = ToSlice(keys::kOrgDomainsPrefix);
  const rocksdb::Slice upper = ToSlice(keys::kOrgDomainsEnd);
  ro.iterate_lower_bound = &lower;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  OrgDomains list;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    std::string_view id;
    if (!keys::ParseOrgDomainsKey(ToView(it->key()), &id)) continue;  // unreachable in bounds
    Status d = DecodeOrgDomains(ToView(it->value()), &list.sequence, &list.stream, &list.domains);
    if (!d.ok()) {
      return d.WithContext("store " + dir_ + ": domains of org " + Printable(id));
    }
    list.org_id.assign(id);
    POLICYD_RETURN_IF_ERROR(visit(list));
  }
  if (!it->status().ok()) return ReadError(it->status(), "domain rows");
  return Status::Ok();
}

Status RocksStore::Flush() {
  POLICYD_RETURN_IF_ERROR(CheckWritable());
  rocksdb::FlushOptions fo;
  fo.wait = true;
  // A flush starts with a new WAL: probe first, for the reason given in ResumeAfterWriteError().
  rocksdb::Status s = ProbeWritable();
  if (s.ok()) s = ResumeAfterWriteError();
  if (s.ok()) s = db_->Flush(fo);
  if (!s.ok()) {
    needs_resume_.store(true);
    return WriteError(s, "flush");
  }
  AnchorMemtable();
  return Status::Ok();
}

}  // namespace policyd
