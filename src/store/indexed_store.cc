#include "store/indexed_store.h"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "store/claim_table.h"
#include "store/forwarding_store.h"
#include "store/kind_table.h"
#include "store/left_right.h"
#include "store/org_table.h"

namespace policyd {
namespace {

// The verified domains each org touched by a change had before it (put_org_domains and
// removed_orgs), read from the store before the change is written.
using PreviousLists = std::map<std::string, std::vector<OrgDomain>, std::less<>>;

// True for the kinds the index holds (kPasswordComplexity..kLabel: not the label preview).
bool IndexedKind(PolicyKind kind) {
  return kind != PolicyKind::kDomain && static_cast<std::size_t>(kind) < kPolicyKindCount;
}

// A write's rows of the generic kinds, encoded once before the index changes, so that both
// copies share each row's bytes (store/kind_table.h): rows to put (an empty org id: a default)
// and own rows to remove.
struct KindUpdate {
  std::vector<std::pair<SharedKindRow, std::uint64_t>> put;  // with a default's serial
  std::vector<std::pair<std::string_view, PolicyKind>> erase;

  void Put(std::string_view org_id, const KindPolicy& policy) {
    put.emplace_back(SharedKindRow::Make(org_id, policy),
                     org_id.empty() ? KindTable::NewSerial() : 0);
  }
};

KindUpdate KindUpdateOf(const std::vector<KindRowChange>& changes) {
  KindUpdate u;
  for (const KindRowChange& c : changes) {
    if (!IndexedKind(c.kind)) continue;
    if (c.policy) {
      u.Put(c.org_id, *c.policy);
    } else {
      u.erase.emplace_back(c.org_id, c.kind);
    }
  }
  return u;
}

KindUpdate KindUpdateOf(const std::vector<KindRow>& rows) {
  KindUpdate u;
  for (const KindRow& row : rows) {
    if (IndexedKind(row.policy.kind)) u.Put(row.org_id, row.policy);
  }
  return u;
}

// What lookups read: the instance default, every org, every org's verified-domain claims (as
// hashes), the generic kinds' defaults and own rows, and which write they reflect; and what
// Meta() answers, published with them.
struct IndexState {
  std::optional<InstanceRecord> instance;
  OrgTable orgs;
  ClaimTable claims;
  KindTable kinds;
  // The store's meta as of the last write this state holds whose meta could be read back (so
  // never ahead of the rest of the state).
  StoreMeta meta;
  // The number of the last write (IndexedStore::writes_begun_) whose outcome this state holds.
  std::uint64_t write = 0;

  void Apply(const StoreChange& change, const PreviousLists& previous, const KindUpdate& rows) {
    if (change.instance) instance = *change.instance;
    for (const std::string& id : change.removed_orgs) {
      orgs.Erase(id);
      kinds.EraseOrg(id);
    }
    for (const OrgRecord& org : change.put_orgs) orgs.Put(org.id, org.policy);
    // As the store applies it: removed orgs lose their domains, listed orgs get their new list.
    for (const auto& [id, domains] : previous) claims.RemoveList(id, domains);
    for (const OrgDomains& list : change.put_org_domains) claims.AddList(list.org_id, list.domains);
    for (const auto& [id, kind] : rows.erase) kinds.Erase(id, kind);
    for (const auto& [row, serial] : rows.put) kinds.Put(row, serial);
  }
  void Assign(const Snapshot& snapshot, const KindUpdate& rows) {
    instance = snapshot.instance;
    orgs.Clear();
    for (const OrgRecord& org : snapshot.orgs) orgs.Put(org.id, org.policy);
    claims.Clear();
    for (const OrgDomains& list : snapshot.org_domains) claims.AddList(list.org_id, list.domains);
    kinds.Clear();
    for (const auto& [row, serial] : rows.put) kinds.Put(row, serial);
  }
};

}  // namespace

class IndexedStore final : public ForwardingStore {
 public:
  IndexedStore(std::unique_ptr<Store> base, std::function<void(const IndexLoad&)> on_loaded)
      : ForwardingStore(*base),
        base_(std::move(base)),
        loader_([this, done = std::move(on_loaded)] {
          IndexLoad load = Load();
          if (done) done(load);
        }) {}

  ~IndexedStore() override {
    stop_.store(true);
    loader_.join();
  }

  Status Read(LookupBatch& batch) const override {
    // The index holds no domains, no versions, no label preview rows and no IdP table: a batch
    // that wants them is read from RocksDB.
    if (!ready_.load(std::memory_order_acquire) || batch.with_domains() || batch.with_versions() ||
        batch.kinds().contains(PolicyKind::kLabelPreview) ||
        batch.kinds().contains(PolicyKind::kIdpTable)) {
      return base_->Read(batch);
    }
    if (batch.claim_query_count() == 0) {
      index_.Read([&batch](const IndexState& s) { Fill(s, batch); });
      return Status::Ok();
    }
    // Claims: the in-memory hashes settle the usual cases (nobody, or only the asking org, has
    // verified the domain). Otherwise the exact claims are read from RocksDB while the index
    // state is held, and count only if no write began since the one that state reflects. Every
    // write bumps writes_begun_ before it touches RocksDB, and the state's number is set only
    // after RocksDB has the write; so equal numbers before and after the read mean that the read
    // saw exactly the state the index holds. Otherwise (a sync landing meanwhile, rare) the whole
    // batch is read from one RocksDB view.
    Status read;
    const bool consistent = index_.Read([this, &batch, &read](const IndexState& s) {
      Fill(s, batch);
      if (!NeedsExactClaims(s, batch)) return true;
      if (writes_begun_.load(std::memory_order_seq_cst) != s.write) return false;
      batch.claims_only_ = true;
      read = base_->Read(batch);
      batch.claims_only_ = false;
      return writes_begun_.load(std::memory_order_seq_cst) == s.write;
    });
    if (!read.ok()) return read;
    return consistent ? Status::Ok() : base_->Read(batch);
  }

  // ReadDomains and the walks go to RocksDB (ForwardingStore): domains are not indexed, as with a
  // domain per org the two copies would grow by well over 100 MB per million orgs.

  // Published with the index, in the same switch as the rows (IndexState::meta): a status never
  // reports a change lookups cannot see yet. Until the index is loaded, lookups and Meta() both
  // read RocksDB.
  Result<StoreMeta> Meta() const override {
    if (!ready_.load(std::memory_order_acquire)) return base_->Meta();
    return index_.Read([](const IndexState& s) -> Result<StoreMeta> { return s.meta; });
  }

  Status Apply(const StoreChange& change, Timestamp now) override {
    std::lock_guard lock(write_mu_);
    const bool ready = ready_.load(std::memory_order_relaxed);
    PreviousLists previous;
    if (ready) POLICYD_RETURN_IF_ERROR(ReadPreviousLists(change, previous));
    const std::uint64_t write = writes_begun_.fetch_add(1, std::memory_order_seq_cst) + 1;
    const Status s = base_->Apply(change, now);
    // Even a failed write (which changed nothing) gets its number, so that claim reads go on.
    if (ready) {
      const KindUpdate rows = s.ok() ? KindUpdateOf(change.put_kind_rows) : KindUpdate{};
      const std::optional<StoreMeta> meta = s.ok() ? MetaAfterWrite() : std::nullopt;
      index_.Write([&change, &previous, &rows, &meta, &s, write](IndexState& st) {
        if (s.ok()) st.Apply(change, previous, rows);
        if (meta) st.meta = *meta;
        st.write = write;
      });
    }
    return s;
  }

  Status Replace(const Snapshot& snapshot, std::string_view cursor, std::string_view source,
                 Timestamp now) override {
    std::lock_guard lock(write_mu_);
    const std::uint64_t write = writes_begun_.fetch_add(1, std::memory_order_seq_cst) + 1;
    const Status s = base_->Replace(snapshot, cursor, source, now);
    if (ready_.load(std::memory_order_relaxed)) {
      const KindUpdate rows = s.ok() ? KindUpdateOf(snapshot.kind_rows) : KindUpdate{};
      const std::optional<StoreMeta> meta = s.ok() ? MetaAfterWrite() : std::nullopt;
      index_.Write([&snapshot, &rows, &meta, &s, write](IndexState& st) {
        if (s.ok()) st.Assign(snapshot, rows);
        if (meta) st.meta = *meta;
        st.write = write;
      });
    }
    return s;
  }

 private:
  // The meta a successful write left in `base_`, read back (one point read) under the write lock
  // so that it is exactly that write's. If it cannot be read, nullopt: the published meta stays
  // as it was (behind the lookups, never ahead of them) until a later write publishes a newer one.
  // Not logged: spdlog's headers in this file made GCC compile Fill() ~10% longer (callgrind).
  std::optional<StoreMeta> MetaAfterWrite() const {
    Result<StoreMeta> meta = base_->Meta();
    if (meta) return std::move(*meta);
    return std::nullopt;
  }

  // Settles each claim query of `batch` that the hashes can (no claims, or only the asker's:
  // an empty answer) and returns whether any needs the exact claims from RocksDB.
  static bool NeedsExactClaims(const IndexState& s, LookupBatch& batch) {
    bool exact = false;
    for (std::size_t j = 0; j < batch.claim_domains_.size(); ++j) {
      batch.claim_counts_[j] = 0;
      const ClaimTable::Verdict v = s.claims.Find(batch.claim_domains_[j], batch.claim_askers_[j]);
      exact = exact || v == ClaimTable::Verdict::kOther;
    }
    return exact;
  }

  // The verified domains, before `change`, of each org whose domains it replaces or removes.
  Status ReadPreviousLists(const StoreChange& change, PreviousLists& out) const {
    DomainSet domains;
    auto read = [&](std::string_view id) -> Status {
      if (out.contains(id)) return Status::Ok();
      POLICYD_RETURN_IF_ERROR(base_->ReadDomains(id, domains));
      std::erase_if(domains.org, [](const OrgDomain& d) { return !d.verified; });
      out.emplace(std::string(id), std::move(domains.org));
      return Status::Ok();
    };
    for (const OrgDomains& list : change.put_org_domains)
      POLICYD_RETURN_IF_ERROR(read(list.org_id));
    for (const std::string& id : change.removed_orgs) POLICYD_RETURN_IF_ERROR(read(id));
    return Status::Ok();
  }

  static void Fill(const IndexState& s, LookupBatch& batch) {
    const std::size_t n = batch.ids_.size();
    batch.has_instance_ = s.instance.has_value();
    if (s.instance) batch.instance_ = *s.instance;  // reuses the strings' capacity
    batch.known_.assign(n, 0);
    batch.has_policy_.assign(n, 0);
    if (batch.policies_.size() < n) batch.policies_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const OrgTable::Found found = s.orgs.Find(batch.ids_[i]);
      batch.known_[i] = found.known ? 1 : 0;
      if (found.policy != nullptr) {
        batch.has_policy_[i] = 1;
        batch.policies_[i] = *found.policy;
      }
    }
    if (batch.kinds_.has_generic()) FillKinds(s.kinds, batch);
  }

  // Decodes each asked kind's default and each id's own row into the batch's rows, whose
  // capacity they reuse (store/kind_table.h).
  static void FillKinds(const KindTable& kinds, LookupBatch& batch) {
    const std::size_t n = batch.ids_.size();
    for (PolicyKind kind : kGenericKinds) {
      if (!batch.kinds_.contains(kind)) continue;
      const auto k = static_cast<std::size_t>(kind);
      const SharedKindRow* row = kinds.FindDefault(kind);
      batch.has_kind_default_[k] = row != nullptr;
      // Most lookups answer the default: decode it only when the batch does not hold it yet.
      const std::uint64_t serial = kinds.DefaultSerial(kind);
      if (row != nullptr && batch.kind_default_serials_[k] != serial) {
        row->DecodeInto(&batch.kind_defaults_[k]);
        batch.kind_default_serials_[k] = serial;
      }
      if (batch.kind_policies_[k].size() < n) batch.kind_policies_[k].resize(n);
      batch.has_kind_policy_[k].assign(n, 0);
    }
    if (kinds.size() == 0) return;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t hash = KindTable::HashId(batch.ids_[i]);
      for (PolicyKind kind : kGenericKinds) {
        if (!batch.kinds_.contains(kind)) continue;
        const SharedKindRow* row = kinds.Find(batch.ids_[i], hash, kind);
        if (row == nullptr) continue;
        const auto k = static_cast<std::size_t>(kind);
        row->DecodeInto(&batch.kind_policies_[k][i]);
        batch.has_kind_policy_[k][i] = 1;
      }
    }
  }

  // Passes over the store, under the write lock so that no change slips in between.
  IndexLoad Load() {
    const auto started = std::chrono::steady_clock::now();
    IndexLoad load;
    std::lock_guard lock(write_mu_);
    IndexState loaded;
    load.status = Walk(loaded);
    if (load.status.ok()) {
      loaded.write = writes_begun_.load(std::memory_order_seq_cst);  // none runs: we hold the lock
      load.orgs = loaded.orgs.size();
      load.kind_rows = loaded.kinds.size();
      // The kinds' rows are shared by both copies (store/kind_table.h): counted once.
      load.bytes =
          2 * (loaded.orgs.MemoryBytes() + loaded.claims.MemoryBytes() + loaded.kinds.SlotBytes()) +
          loaded.kinds.RowBytes();
      index_.ResetUnshared(std::move(loaded));  // no reader uses index_ before ready_
      ready_.store(true, std::memory_order_release);
    }
    load.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return load;
  }

  // CANCELLED once the store is closing (a load in progress stops), else OK.
  Status Stopping() const {
    if (!stop_.load(std::memory_order_relaxed)) return Status::Ok();
    return Status(Code::kCancelled, "index load: the store is closing");
  }

  // Fills `loaded` with the meta and three walks (the caller holds the write lock, so no write
  // runs in between): the orgs, the domain rows (for the claims), the kinds' rows (not the label
  // preview, nor the versions of removed rows).
  Status Walk(IndexState& loaded) const {
    Result<StoreMeta> meta = base_->Meta();
    if (!meta) return meta.error().WithContext("index load: read store meta");
    loaded.orgs.Reserve(meta->org_count);
    loaded.meta = std::move(*meta);
    POLICYD_RETURN_IF_ERROR(
        base_->ForEach([&loaded](const InstanceRecord& instance) { loaded.instance = instance; },
                       [this, &loaded](const OrgRecord& org) {
                         loaded.orgs.Put(org.id, org.policy);
                         return Stopping();
                       }));
    POLICYD_RETURN_IF_ERROR(base_->ForEachOrgDomains([this, &loaded](const OrgDomains& list) {
      loaded.claims.AddList(list.org_id, list.domains);
      return Stopping();
    }));
    return base_->ForEachKindRow([this, &loaded](const KindRow& row, bool has_policy) {
      if (has_policy && IndexedKind(row.policy.kind)) {
        loaded.kinds.Put(SharedKindRow::Make(row.org_id, row.policy),
                         row.org_id.empty() ? KindTable::NewSerial() : 0);
      }
      return Stopping();
    });
  }

  std::unique_ptr<Store> base_;
  LeftRight<IndexState> index_;
  std::atomic<bool> ready_{false};              // index_ is complete and kept current
  std::atomic<std::uint64_t> writes_begun_{0};  // writes to base_ begun, failed ones included
  std::atomic<bool> stop_{false};
  std::mutex write_mu_;  // serializes writers and the load
  std::thread loader_;   // last: starts after every other member exists
};

std::unique_ptr<Store> WithMemoryIndex(std::unique_ptr<Store> base,
                                       std::function<void(const IndexLoad&)> on_loaded) {
  return std::make_unique<IndexedStore>(std::move(base), std::move(on_loaded));
}

}  // namespace policyd
