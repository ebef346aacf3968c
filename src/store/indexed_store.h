// An in-memory index in front of the durable store, for the lookup hot path.
//
// Why: a RocksDB MultiGet of the instance row and one org costs ~20,000 instructions and ~6
// heap allocations (block iterators, cache handles), about as much CPU as the socket round trip
// itself; the index answers the same read in a few hundred instructions without allocating
// (profile and figures in docs/benchmarks.md).
//
// Consistency: RocksDB stays the source of truth and the only thing written to disk. Every
// change is written to RocksDB first and, only once that succeeded, applied to the index; a
// failed write changes neither. The index is kept twice (store/left_right.h), so lookups never
// wait for a sync and always see one whole change or none — the same guarantee Read() gives on
// RocksDB.
//
// Meta() never reports a change lookups cannot see yet: RocksDB takes each write just before the
// index does, so its meta would for a moment run ahead of the lookups. Instead each successful
// write reads the meta back (one point read, under the write lock) and publishes it in the same
// switch of the index copies as the write's rows; Meta() copies the published one (a few tens of
// ns, against ~800 ns for reading RocksDB's; lookups take no lock and do not touch it). The load
// publishes the meta it read with the index; until then Meta() and lookups both read RocksDB. A
// failed write keeps the published meta, and so does a successful write whose meta cannot be
// read back: then the status trails the lookups until the next write, never leads them.
//
// The generic policy kinds (LookupBatch::set_kinds, kPasswordComplexity..kLabel) are indexed too:
// each kind's instance default and every org's own row of it (about 1% of orgs per kind), in a
// KindTable (store/kind_table.h) in the same copies as the orgs, so a batch's kinds come from the
// same state as its org rows. Each row is encoded once and shared by both copies (~16 bytes per
// row and copy besides); a read decodes the asked rows into the batch's KindPolicy values, reusing
// their capacity (a default only when it changed since the batch last held it: most orgs answer
// the default), so a warmed-up read with kinds does not allocate. Not indexed, and read from
// RocksDB whole (one consistent view) when a batch asks for them: the rows' versions
// (set_with_versions; the sync reducer and the fleet publisher ask for them, lookups do not) and
// the label preview rows (kLabelPreview, for the sync reducer only).
//
// Domains are not copied (with a generated domain per org the two copies would grow by well over
// 100 MB per million orgs): a batch with domains is read from RocksDB. Verified-domain claims are
// kept as 16-byte hash pairs (store/claim_table.h; ~21 bytes per verified domain and copy), which
// settle a claim query when nobody or only the asking org has verified the domain; otherwise its
// exact claims come from one RocksDB point read, checked to reflect the same write as the index
// (else the whole batch is read from RocksDB). Each write first reads the previous domains of the
// orgs whose lists it replaces or removes (to drop their claims), and the load reads every org's.
//
// Start-up: opening returns at once. The index is loaded by a background thread (one pass over
// the orgs, then one over the domain rows for the claims, then one over the kinds' rows: a few
// seconds at a million orgs, docs/benchmarks.md); until it is complete, Read() goes to RocksDB, so
// the daemon can be READY before the index is. Writers wait for the load to finish.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "store/store.h"

namespace policyd {

struct IndexLoad {
  Status status;              // OK, or why the index could not be loaded (reads stay on RocksDB)
  std::size_t orgs = 0;       // orgs indexed
  std::size_t kind_rows = 0;  // orgs' own rows of the generic kinds indexed (defaults not counted)
  std::size_t bytes = 0;      // memory held by both copies of the index
  std::chrono::milliseconds took{0};
};

// Wraps `base` (a writable store) with the index and starts loading it. `on_loaded` runs once,
// on the loading thread, when the load ends. The returned store owns `base`; destroying it stops
// a load in progress.
std::unique_ptr<Store> WithMemoryIndex(std::unique_ptr<Store> base,
                                       std::function<void(const IndexLoad&)> on_loaded);

}  // namespace policyd
