// store_loop: one store operation in a loop, for instruction-level profiling of RocksDB.
//
//   store_loop --dir DIR --orgs N --mode read|scan|write --ops K
//
// Creates a policyd store in DIR (missing or empty) holding the benchmark's generated store of N
// orgs (bench/servers.cc: ids 310000000000000000 + i, every 100th with its own policy), then runs
// K operations of one kind:
//   read   Store::Read of one random org (and the instance default): a lookup served by RocksDB;
//   scan   Store::ForEach, K orgs visited: how policyd loads its in-memory index at start;
//   write  Store::Apply of pages of 1,000 changed orgs, K orgs in all: how sync writes events.
// Only the loop runs inside policyd_bench_store_loop, so
// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=policyd_bench_store_loop`
// counts exactly the operations. Prints "K ops, X ns per op"; exits 1 on any store error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "store/store.h"

namespace {

using policyd::OrgRecord;
using policyd::PolicyRecord;
using policyd::Status;
using policyd::Timestamp;

std::string OrgId(long i) {  // as bench/servers.cc generates them
  return std::to_string(310000000000000000ULL + static_cast<unsigned long>(i));
}

PolicyRecord Policy(long i, bool flip) {
  PolicyRecord p;
  p.flags = {i % 2 == 0, (i % 3 == 0) != flip, i % 5 == 0};
  p.details = {static_cast<std::uint64_t>(i + 1), Timestamp{1700000000 + i, 0},
               Timestamp{1700000500 + i, 123000000}, OrgId(i)};
  return p;
}

std::uint64_t Next(std::uint64_t& s) {  // xorshift64*
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 2685821657736338717ULL;
}

bool Reads(const policyd::Store& store, const std::vector<std::string>& ids, long ops) {
  policyd::LookupBatch batch;
  std::uint64_t s = 0x9E3779B97F4A7C15ULL;
  for (long i = 0; i < ops; ++i) {
    batch.Clear();
    batch.Add(ids[Next(s) % ids.size()]);
    if (!store.Read(batch).ok() || !batch.org(0).known) return false;
  }
  return true;
}

bool Scans(const policyd::Store& store, long ops) {
  long seen = 0;
  while (seen < ops) {
    const Status s = store.ForEach([](const policyd::InstanceRecord&) {},
                                   [&seen](const OrgRecord&) {
                                     ++seen;
                                     return Status::Ok();
                                   });
    if (!s.ok()) return false;
  }
  return true;
}

// Each page changes 1,000 distinct orgs (an org put twice in one change is refused), from a
// random place in the id space.
bool Writes(policyd::Store& store, const std::vector<std::string>& ids, long ops) {
  std::uint64_t s = 0x9E3779B97F4A7C15ULL;
  const long n = static_cast<long>(ids.size());
  for (long done = 0; done < ops; done += 1000) {
    policyd::StoreChange change;
    const long first = static_cast<long>(Next(s) % ids.size());
    for (long i = 0; i < std::min(1000L, std::min(n, ops - done)); ++i) {
      const long org = (first + i) % n;
      change.put_orgs.push_back({ids[org], Policy(org, done % 2000 == 0)});
    }
    change.cursor = "bench-cursor-" + std::to_string(done);
    const Status st = store.Apply(change, Timestamp{1750000000 + done, 0});
    if (!st.ok()) {
      std::fprintf(stderr, "store_loop: %s\n", st.ToString().c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

// C linkage: a stable name for callgrind's --toggle-collect.
extern "C" [[gnu::noinline]] bool policyd_bench_store_loop(policyd::Store& store, const char* mode,
                                                           const std::vector<std::string>& ids,
                                                           long ops) {
  if (std::strcmp(mode, "read") == 0) return Reads(store, ids, ops);
  if (std::strcmp(mode, "scan") == 0) return Scans(store, ops);
  return Writes(store, ids, ops);
}

int main(int argc, char** argv) {
  std::string dir, mode;
  long orgs = 0, ops = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
    if (std::strcmp(argv[i], "--orgs") == 0) orgs = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--ops") == 0) ops = std::atol(argv[i + 1]);
  }
  if (dir.empty() || orgs <= 0 || ops <= 0 ||
      (mode != "read" && mode != "scan" && mode != "write")) {
    std::fprintf(stderr, "usage: store_loop --dir DIR --orgs N --mode read|scan|write --ops K\n");
    return 2;
  }
  auto store = policyd::OpenRocksStore(dir, policyd::StoreOptions{});
  if (!store) {
    std::fprintf(stderr, "store_loop: %s\n", store.error().ToString().c_str());
    return 1;
  }
  policyd::Snapshot snapshot;
  snapshot.instance.id = "300000000000000001";
  snapshot.instance.policy = Policy(7, false);
  snapshot.instance.policy.details.resource_owner = snapshot.instance.id;
  std::vector<std::string> ids;
  for (long i = 0; i < orgs; ++i) {
    ids.push_back(OrgId(i));
    snapshot.orgs.push_back(
        {ids.back(), i % 100 == 0 ? std::optional(Policy(i, false)) : std::nullopt});
  }
  if (!(*store)->Replace(snapshot, "", "store_loop", Timestamp{1740000000, 0}).ok() ||
      !(*store)->Flush().ok()) {
    std::fprintf(stderr, "store_loop: cannot fill the store\n");
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = policyd_bench_store_loop(**store, mode.c_str(), ids, ops);
  const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - t0;
  if (!ok) {
    std::fprintf(stderr, "store_loop: a %s failed\n", mode.c_str());
    return 1;
  }
  std::printf("%ld ops, %.1f ns per op\n", ops, elapsed.count() / static_cast<double>(ops));
  return 0;
}
