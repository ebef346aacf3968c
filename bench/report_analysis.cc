// The report's analysis sections: what RocksDB's assertions cost, and where the CPU goes at C=16
// (what limits each server, the perf profile, system calls per lookup).
#include <algorithm>
#include <map>

#include "report_format.h"

namespace policyd::bench {
namespace {

// What each store operation is to policyd.
const char* OpMeaning(const std::string& mode) {
  if (mode == "read") return "read: one org + the default (a lookup served by RocksDB)";
  if (mode == "scan") return "scan: per org (loading the in-memory index at start)";
  return "write: per org, pages of 1,000 (sync)";
}

}  // namespace

void AssertSection(std::ostringstream& o, const BenchResults& r) {
  if (!r.asserts) return;
  const AssertCost& a = *r.asserts;
  o << "## RocksDB built with assertions\n\n";
  if (!a.error.empty()) {
    o << "Not measured: " << a.error << "\n\n";
    return;
  }
  o << "Debian's " << a.library << " is built without NDEBUG: " << a.assert_sites
    << " `__assert_fail` call sites, " << a.assert_branch_sites
    << " conditional jumps to them, and the test-only sync points compiled in. What that costs "
       "per operation of bench/store_loop (a store of "
    << r.main_store.orgs
    << " orgs; instructions from callgrind, time measured natively; assert instructions = "
       "debug-only functions (SyncPoint, AssertHeld) + 2 per executed assert check):\n\n"
    << "| operation | ns/op | instructions/op | in RocksDB | assert instructions/op | share | "
       "≈ ns/op |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const StoreOpCost& op : a.ops) {
    const double share = op.instr > 0 ? op.assert_instr() / op.instr : 0;
    o << "| " << OpMeaning(op.mode) << " | " << Fmt("%.0f", op.native_ns) << " | "
      << Fmt("%.0f", op.instr) << " | " << Fmt("%.0f", op.rocksdb_instr) << " | "
      << Fmt("%.0f", op.assert_instr()) << " (" << Fmt("%.0f", op.debug_fn_instr) << " + 2 × "
      << Fmt("%.0f", op.assert_branches) << ") | " << Fmt("%.1f%%", 100 * share) << " | "
      << Fmt("%.0f", share * op.native_ns) << " |\n";
  }
  const RunResult* p1 = Find(r.compare, "policyd", "single", 1);
  o << "\nMethod: bench/assert_cost.h. A lower bound where an assert's condition needs extra "
       "loads or calls; time assumes assert code runs at the operation's average instructions "
       "per cycle.";
  if (p1 && !a.ops.empty() && a.ops.front().mode == "read") {
    const StoreOpCost& read = a.ops.front();
    o << " Against a whole C=1 lookup (" << Fmt("%.1f", p1->p50) << " µs p50) the read's "
      << Fmt("%.0f", read.instr > 0 ? read.assert_instr() / read.instr * read.native_ns : 0)
      << " ns would be "
      << Fmt("%.1f%%", read.instr > 0 ? 100 * read.assert_instr() / read.instr * read.native_ns /
                                            (p1->p50 * 1000)
                                      : 0)
      << ", were the lookup served by RocksDB.";
  }
  o << "\n\n";
}

namespace {

double TotalCpu(const RunResult& r) { return r.server_user_us + r.server_sys_us + r.client_us; }

std::string CpuLine(const std::string& name, const RunResult& x) {
  return name + " " + Fmt("%.1f", TotalCpu(x)) + " µs × " + Fmt("%.0f", x.rate) +
         "/s = " + Fmt("%.2f", x.cpus_ours) + " CPUs";
}

// What limits each server at C=16, and whether 2 x Redis is reachable at all.
void C16Text(std::ostringstream& o, const BenchResults& r) {
  const RunResult* p16 = Find(r.compare, "policyd", "single", 16);
  const RunResult* e16 = Find(r.compare, "echo", "single", 16);
  const RunResult* r16 = Find(r.compare, "redis", "single", 16);
  const RunResult* w16 = nullptr;
  for (const auto& run : r.compare)
    if (run.server.rfind("policyd --threads", 0) == 0 && run.conns == 16 && run.ops > 0) w16 = &run;
  if (!p16 || !e16) return;
  o << "CPU time per lookup (server + client) × lookups/s = CPUs kept busy, of " << r.machine.cpus
    << ": " << CpuLine("policyd", *p16) << "; " << CpuLine("echo", *e16);
  if (r16) o << "; " << CpuLine("Redis", *r16);
  if (w16) o << "; " << CpuLine(w16->server, *w16);
  o << " (all processes on the machine: " << Fmt("%.2f", p16->cpus_busy) << ", "
    << Fmt("%.2f", e16->cpus_busy) << (r16 ? ", " + Fmt("%.2f", r16->cpus_busy) : "")
    << "). A row that keeps fewer CPUs busy than the machine has is limited by waiting, not by "
       "work. ";
  if (w16 && w16->rate > 1.2 * p16->rate)
    o << "policyd's server used " << Fmt("%.1f", p16->server_user_us + p16->server_sys_us)
      << " µs of CPU per lookup (echo " << Fmt("%.1f", e16->server_user_us + e16->server_sys_us)
      << "); with " << w16->server.substr(8) << " it used "
      << Fmt("%.1f", w16->server_user_us + w16->server_sys_us) << " and reached "
      << Fmt("%.2f", w16->rate / p16->rate)
      << "× the lookups/s. That fits what the system time per lookup shows: with one thread per "
         "core, policyd's two serving threads share the CPUs with 16 busy client threads, so a "
         "woken serving thread often waits for a CPU or is woken on the other one, which costs "
         "kernel time in this VM. ";
  else if (w16 && p16->rate > 1.2 * w16->rate)
    o << "In this run " << w16->server.substr(8) << " did not help (" << Fmt("%.0f", w16->rate)
      << " lookups/s). ";
  if (r16) {
    const double echo_x = e16->rate / r16->rate;
    const double wide_x = w16 ? w16->rate / r16->rate : 0;
    const double policyd_x = p16->rate / r16->rate;
    o << "2 × Redis is " << Fmt("%.0f", 2 * r16->rate) << " lookups/s; the zero-work echo server "
      << "reached " << Fmt("%.2f", echo_x) << "× Redis, "
      << (w16 ? w16->server + " " + Fmt("%.2f", wide_x) + "×, " : "") << "policyd "
      << Fmt("%.2f", policyd_x) << "×. ";
    if (std::max({echo_x, wide_x, policyd_x}) < 2) {
      o << "**No server measured here reached 2 × Redis, not even one that does no work**: "
           "Redis is itself close to a zero-work server (per GET "
        << Fmt("%.1f", r16->server_user_us) << " µs in user space and "
        << Fmt("%.1f", r16->server_sys_us) << " µs in the kernel; echo "
        << Fmt("%.1f", e16->server_user_us) << " and " << Fmt("%.1f", e16->server_sys_us) << "). ";
    } else if (policyd_x < 2) {
      o << "So 2 × Redis is within reach on this machine, but policyd with its default threads "
           "did not reach it. ";
    }
  }
  o << "policyd reached " << Fmt("%.2f", p16->rate / e16->rate) << "× the echo limit.\n\n";
}

// µs per lookup of `p` in each category (the profiled run's server CPU × the category's share).
std::map<std::string, double> MicrosByCategory(const ServerProfile& p) {
  std::map<std::string, double> us;
  const double cpu = p.run.server_user_us + p.run.server_sys_us;
  for (const auto& [name, share] : p.categories) us[name] += cpu * share / 100;
  return us;
}

// What policyd's server spends per lookup beyond the zero-work server, by category.
void DifferenceText(std::ostringstream& o, const std::vector<ServerProfile>& servers) {
  const ServerProfile* pd = nullptr;
  const ServerProfile* echo = nullptr;
  for (const auto& p : servers) {
    if (!p.error.empty()) continue;
    if (p.run.server == "policyd") pd = &p;
    if (p.run.server == "echo") echo = &p;
  }
  if (!pd || !echo) return;
  std::map<std::string, double> pd_us = MicrosByCategory(*pd), echo_us = MicrosByCategory(*echo);
  const double extra = (pd->run.server_user_us + pd->run.server_sys_us) -
                       (echo->run.server_user_us + echo->run.server_sys_us);
  o << "Per lookup policyd's process used " << Fmt("%.1f", extra)
    << " µs more CPU than the echo server: kernel "
    << Fmt("%+.1f", pd_us["kernel"] - echo_us["kernel"]) << " µs";
  for (const auto& [name, us] : pd_us)
    if (name != "kernel" && us >= 0.05) o << ", " << name << " " << Fmt("%.2f", us) << " µs";
  o << " (the echo server's own code: "
    << Fmt("%.2f", echo_us["echo server"] + echo_us["libc, libstdc++"]) << " µs).\n\n";
}

void SyscallText(std::ostringstream& o, const std::vector<RunResult>& runs) {
  if (runs.empty()) return;
  o << "System calls per lookup (`perf trace -s -p` on the server and on the client, separate "
       "runs of the same loop, slowed by the tracing; C=1 pinned as above):\n\n"
    << "| server | C | server | client | server's calls per lookup | lookups/s while traced |\n"
    << "| --- | ---: | ---: | ---: | --- | ---: |\n";
  for (const RunResult& x : runs) {
    auto count = [](double v) { return v < 0 ? std::string("—") : Fmt("%.2f", v); };
    o << "| " << x.server << (x.note.empty() || x.server != "echo" ? "" : " (" + x.note + ")")
      << " | " << x.conns << " | " << count(x.server_syscalls) << " | " << count(x.client_syscalls)
      << " | " << x.server_syscall_detail << " | " << Fmt("%.0f", x.rate) << " |\n";
  }
  o << "\n";
}

// Where policyd's C=1 latency over the zero-work server goes: its own CPU (user: the event loop,
// decoding, the lookup, encoding; system: the same socket calls plus its extra ones) and the
// system calls it makes per round trip that the echo server does not.
void C1Text(std::ostringstream& o, const BenchResults& r) {
  const RunResult* p = Find(r.compare, "policyd", "single", 1);
  const RunResult* e = Find(r.compare, "echo", "single", 1);
  const RunResult* ps = Find(r.profile->syscalls, "policyd", "single", 1);
  const RunResult* es = Find(r.profile->syscalls, "echo", "single", 1);
  if (!p || !e) return;
  o << "### Where the C=1 latency goes\n\n"
    << "policyd's p50 is " << Fmt("%.1f", p->p50 - e->p50) << " µs above the echo server's ("
    << Fmt("%.1f", p->p50) << " against " << Fmt("%.1f", e->p50) << " µs, "
    << Fmt("%.2f", p->p50 / e->p50) << "×). Its server CPU per lookup is "
    << Fmt("%.1f", p->server_user_us) << " µs user + " << Fmt("%.1f", p->server_sys_us)
    << " µs system against echo's " << Fmt("%.1f", e->server_user_us) << " + "
    << Fmt("%.1f", e->server_sys_us) << ": " << Fmt("%.1f", p->server_user_us - e->server_user_us)
    << " µs more in user space (Asio's scheduler and coroutine resumption, the frame's "
       "verification and decoding, the lookup, the answer's encoding, counting) and "
    << Fmt("%.1f", p->server_sys_us - e->server_sys_us) << " µs more in the kernel";
  if (ps && es && ps->server_syscalls >= 0 && es->server_syscalls >= 0) {
    o << ", where it makes " << Fmt("%.2f", ps->server_syscalls) << " system calls per lookup ("
      << ps->server_syscall_detail << ") against " << Fmt("%.2f", es->server_syscalls);
  }
  o << ". The extra calls are Asio's: after an answer, the next asynchronous read first tries "
       "recv at once, which fails with EAGAIN while the client waits for that answer, and only "
       "then waits in epoll; the other way to wait, async_wait, re-arms the socket with an "
       "epoll_ctl each time instead (measured once: 4.00 calls per lookup, no fewer). Answers are "
       "written "
       "with a direct send, which already saved one epoll_wait per lookup (4.89 calls before). "
       "What would close the rest: a serving loop that owns its epoll set, level-triggered, and "
       "reads once per readiness event as the echo server does — i.e. not Asio's reactor for "
       "sessions — or io_uring; and less user-space work per request.\n\n";
}

}  // namespace

void ProfileSectionText(std::ostringstream& o, const BenchResults& r) {
  if (!r.profile) return;
  o << "## Where the CPU goes at C=" << r.profile->conns << "\n\n";
  C16Text(o, r);
  o << "Profile: `perf record -a -e cpu-clock -F 999` over all rounds of the C=" << r.profile->conns
    << " rows above, each server's samples taken apart by where they landed; µs = share × the "
       "row's server CPU µs per lookup. Rerun with `scripts/profile-lookup.sh`, which keeps the "
       "perf data for `perf report`.\n\n"
    << "| server | lookups/s | server CPU µs/op | where (µs/op, % of samples) | top symbols |\n"
    << "| --- | ---: | ---: | --- | --- |\n";
  for (const ServerProfile& p : r.profile->servers) {
    if (!p.error.empty()) {
      o << "| " << p.run.server << " | — | — | not profiled: " << p.error << " | |\n";
      continue;
    }
    const double cpu = p.run.server_user_us + p.run.server_sys_us;
    o << "| " << p.run.server << " | " << Fmt("%.0f", p.run.rate) << " | " << Fmt("%.1f", cpu)
      << " | ";
    for (const auto& [name, share] : p.categories)
      if (share >= 0.5)
        o << name << " " << Fmt("%.2f", cpu * share / 100) << " (" << Fmt("%.0f%%", share) << "); ";
    o << " | ";
    for (const auto& [name, share] : p.top_symbols)
      o << "`" << name << "` " << Fmt("%.1f%%", share) << "; ";
    o << " |\n";
  }
  o << "\n";
  DifferenceText(o, r.profile->servers);
  SyscallText(o, r.profile->syscalls);
  C1Text(o, r);
}

}  // namespace policyd::bench
