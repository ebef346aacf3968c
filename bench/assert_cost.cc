#include "assert_cost.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bench_support.h"

namespace policyd::bench {
namespace {

// Functions compiled into RocksDB only when NDEBUG is not defined.
bool DebugOnlyFunction(std::string_view name) {
  return name.find("rocksdb::SyncPoint::") != std::string_view::npos ||
         name.find("::AssertHeld(") != std::string_view::npos ||
         name.find("TEST_") != std::string_view::npos;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::uint64_t Hex(std::string_view s) { return std::strtoull(std::string(s).c_str(), nullptr, 16); }

struct Profile {
  std::uint64_t total = 0, rocksdb = 0, debug_fn = 0;
  std::string library;                                  // librocksdb's path, as loaded
  std::unordered_map<std::uint64_t, std::uint64_t> ir;  // librocksdb address -> executions
};

// Reads a callgrind file written with --dump-instr=yes --dump-line=no --compress-strings=no
// --compress-pos=no: "ob="/"fn=" set the current object and function, "0x<addr> <Ir>" is a self
// cost, and the line after "calls=" is a call's inclusive cost.
bool ReadCallgrind(const std::string& path, Profile& p) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line, ob, fn, cfn;
  bool in_rocksdb = false, next_is_call = false;
  while (std::getline(in, line)) {
    if (next_is_call) {
      next_is_call = false;
      const auto space = line.find(' ');
      if (DebugOnlyFunction(cfn) && !DebugOnlyFunction(fn) && space != std::string::npos)
        p.debug_fn += std::strtoull(line.c_str() + space + 1, nullptr, 10);
    } else if (StartsWith(line, "0x")) {
      const auto space = line.find(' ');
      const std::uint64_t cost = std::strtoull(line.c_str() + space + 1, nullptr, 10);
      p.total += cost;
      if (in_rocksdb) {
        p.rocksdb += cost;
        p.ir[Hex(std::string_view(line).substr(2, space - 2))] += cost;
      }
    } else if (StartsWith(line, "ob=")) {
      ob = line.substr(3);
      in_rocksdb = ob.find("librocksdb") != std::string::npos;
      if (in_rocksdb) p.library = ob;
    } else if (StartsWith(line, "fn=")) {
      fn = line.substr(3);
    } else if (StartsWith(line, "cfn=")) {
      cfn = line.substr(4);
    } else if (StartsWith(line, "calls=")) {
      next_is_call = true;
    }
  }
  return true;
}

struct Insn {
  std::uint64_t addr = 0;
  std::string_view mnemonic;
};

// Splits an objdump line "  2e4c78:\tmov    0x8(%rcx),%rax" into address, mnemonic, operands.
bool ParseInsn(std::string_view line, std::uint64_t& addr, std::string_view& mnemonic,
               std::string_view& operands) {
  const auto colon = line.find(":\t");
  if (colon == std::string_view::npos || colon == 0 || line[0] != ' ') return false;
  addr = Hex(line.substr(0, colon));
  std::string_view rest = line.substr(colon + 2);
  for (;;) {
    const auto end = rest.find_first_of(" \t");
    mnemonic = rest.substr(0, end);
    operands = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    operands.remove_prefix(std::min(operands.find_first_not_of(' '), operands.size()));
    // Prefixes come before the instruction proper.
    if (mnemonic != "bnd" && mnemonic != "notrack" && mnemonic != "rex" && mnemonic != "data16")
      return true;
    rest = operands;
  }
}

// Finds the conditional jumps into blocks that only set up __assert_fail's arguments and call it.
void FindAssertBranches(const std::string& library, AssertCost& out,
                        std::vector<std::uint64_t>& branches) {
  const std::string cmd = "objdump -d --no-show-raw-insn '" + library + "' 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return;
  std::unordered_set<std::uint64_t> assert_blocks;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> jumps;  // (jcc address, target)
  std::vector<std::string> recent_mnemonics;                   // of the last few instructions
  std::vector<std::uint64_t> recent_addrs;
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) {
    std::uint64_t addr = 0;
    std::string_view mnemonic, operands;
    if (!ParseInsn(buf, addr, mnemonic, operands)) continue;
    if (mnemonic.size() > 1 && mnemonic[0] == 'j' && mnemonic != "jmp")
      jumps.emplace_back(addr, Hex(operands.substr(0, operands.find(' '))));
    if (mnemonic == "call" && operands.find("<__assert_fail@plt>") != std::string_view::npos) {
      ++out.assert_sites;
      assert_blocks.insert(addr);
      // The argument set-up before the call: every instruction of it may be a jump's target.
      for (std::size_t i = recent_mnemonics.size(); i-- > 0;) {
        const std::string& m = recent_mnemonics[i];
        if (!StartsWith(m, "lea") && !StartsWith(m, "mov") && !StartsWith(m, "push")) break;
        assert_blocks.insert(recent_addrs[i]);
      }
    }
    if (recent_mnemonics.size() == 8) {
      recent_mnemonics.erase(recent_mnemonics.begin());
      recent_addrs.erase(recent_addrs.begin());
    }
    recent_mnemonics.emplace_back(mnemonic);
    recent_addrs.push_back(addr);
  }
  pclose(pipe);
  for (const auto& [addr, target] : jumps)
    if (assert_blocks.count(target)) branches.push_back(addr);
  out.assert_branch_sites = branches.size();
}

double ParseNsPerOp(const std::string& log) {
  const std::string text = FileTail(log, 4000);
  const auto at = text.rfind("ops, ");
  return at == std::string::npos ? 0 : std::atof(text.c_str() + at + 5);
}

// Runs store_loop in a fresh store directory, optionally under `wrapper` (valgrind ...).
bool RunLoop(const std::string& loop_binary, const std::string& dir, int orgs,
             const std::string& mode, long ops, std::vector<std::string> wrapper,
             const std::string& log) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  wrapper.insert(wrapper.end(), {loop_binary, "--dir", dir, "--orgs", std::to_string(orgs),
                                 "--mode", mode, "--ops", std::to_string(ops)});
  const bool ok = RunToCompletion(wrapper, log, 600) == 0;
  std::filesystem::remove_all(dir, ec);
  return ok;
}

// `result` with `error` set, for the early returns.
AssertCost Failed(AssertCost result, std::string error) {
  result.error = std::move(error);
  return result;
}

}  // namespace

AssertCost MeasureAssertCost(const std::string& loop_binary, int orgs,
                             const std::string& work_dir) {
  AssertCost c;
  if (!InPath("valgrind")) return Failed(c, "valgrind not installed");
  if (!InPath("objdump")) return Failed(c, "objdump not installed");
  // Operations under callgrind (natively 10x as many, for a steadier time).
  const std::pair<const char*, long> modes[] = {
      {"read", 20'000}, {"scan", 50'000}, {"write", 20'000}};
  std::vector<std::uint64_t> branches;
  for (const auto& [mode, ops] : modes) {
    StoreOpCost op;
    op.mode = mode;
    op.ops = ops;
    const std::string base = work_dir + "/store-loop-" + op.mode;
    if (!RunLoop(loop_binary, base + ".db", orgs, op.mode, ops * 10, {}, base + ".log"))
      return Failed(c, "store_loop --mode " + op.mode + " failed: " + FileTail(base + ".log", 300));
    op.native_ns = ParseNsPerOp(base + ".log");
    const std::string out = base + ".callgrind";
    const std::vector<std::string> valgrind = {
        "valgrind",          "--tool=callgrind",     "--callgrind-out-file=" + out,
        "--dump-instr=yes",  "--dump-line=no",       "--compress-strings=no",
        "--compress-pos=no", "--collect-atstart=no", "--toggle-collect=policyd_bench_store_loop"};
    if (!RunLoop(loop_binary, base + ".db", orgs, op.mode, ops, valgrind, base + ".cg.log"))
      return Failed(c, "callgrind of store_loop failed: " + FileTail(base + ".cg.log", 300));
    Profile p;
    if (!ReadCallgrind(out, p) || p.library.empty())
      return Failed(c, "no librocksdb in the callgrind profile " + out);
    if (c.library.empty()) {
      c.library = p.library;
      FindAssertBranches(p.library, c, branches);
      if (c.assert_sites == 0)
        return Failed(c, "objdump found no __assert_fail call in " + p.library);
    }
    std::uint64_t executed = 0;
    for (std::uint64_t addr : branches) {
      const auto it = p.ir.find(addr);
      if (it != p.ir.end()) executed += it->second;
    }
    const auto n = static_cast<double>(ops);
    op.instr = static_cast<double>(p.total) / n;
    op.rocksdb_instr = static_cast<double>(p.rocksdb) / n;
    op.debug_fn_instr = static_cast<double>(p.debug_fn) / n;
    op.assert_branches = static_cast<double>(executed) / n;
    c.ops.push_back(op);
  }
  return c;
}

}  // namespace policyd::bench
