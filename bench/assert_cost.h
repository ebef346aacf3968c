// What Debian's RocksDB costs because it is built without NDEBUG (assertions and the test-only
// sync points compiled in), for each way policyd uses RocksDB.
//
// Method (no second RocksDB build needed):
//   1. bench/store_loop runs one store operation in a loop — read (a lookup served by RocksDB),
//      scan (ForEach: loading the in-memory index at start), write (Apply of pages of 1,000
//      orgs: sync) — natively, giving nanoseconds per operation, and under callgrind, giving
//      instructions per operation and per instruction address in librocksdb.
//   2. Debug-only functions: inclusive instructions of calls into functions that exist only
//      without NDEBUG (rocksdb::SyncPoint::*, *::AssertHeld, TEST_*).
//   3. Inline assert checks: objdump of librocksdb finds each `call __assert_fail` and the argument
//      set-up before it; every conditional jump to that block is an assert's check. Its executed
//      count (from callgrind) times 2 (the compare and the jump) estimates the check's
//      instructions. Conditions that need extra loads or calls are not counted, so this is a
//      lower bound.
//   4. The cost in time is that share of the instructions applied to the native time per
//      operation (assuming assert code runs at the same instructions per cycle as the rest).
//
// Needs valgrind and objdump in PATH; otherwise `error` says so. Runs child processes only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace policyd::bench {

struct StoreOpCost {
  std::string mode;  // "read", "scan", "write"
  long ops = 0;
  double native_ns = 0;        // per operation
  double instr = 0;            // per operation, everything in the loop (user space)
  double rocksdb_instr = 0;    // of which inside librocksdb
  double debug_fn_instr = 0;   // in debug-only functions
  double assert_branches = 0;  // executed conditional jumps to __assert_fail blocks
  // The estimate: debug functions + 2 instructions per executed check.
  double assert_instr() const { return debug_fn_instr + 2 * assert_branches; }
};

struct AssertCost {
  std::string error;  // non-empty: not measured, and why
  std::string library;
  std::uint64_t assert_sites = 0;         // `call __assert_fail` in the library
  std::uint64_t assert_branch_sites = 0;  // conditional jumps to those blocks
  std::vector<StoreOpCost> ops;
};

// `loop_binary` is store_loop; its stores of `orgs` orgs and the profiles go to `work_dir`.
AssertCost MeasureAssertCost(const std::string& loop_binary, int orgs, const std::string& work_dir);

}  // namespace policyd::bench
