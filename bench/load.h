// The client loop shared by every server the benchmark measures, and the operations it runs.
//
// A run starts C threads; each makes its connection, warms up (200 operations), waits for the
// common start, then repeats one blocking operation (write a request, read the whole reply) for
// the run's length, recording each operation's latency. Besides throughput and latency
// percentiles a run records the CPU time the server process and the client (this process) spent
// per operation, which says where the machine's two cores went.
//
// Threads: RunLoad blocks the calling thread and uses C threads of its own; the factories and
// operations run on those threads (one operation object per thread, never shared).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace policyd::bench {

struct Rng {  // xorshift64*
  std::uint64_t s;
  std::uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
};

// One blocking operation (one or more lookups); false on any error.
using Op = std::function<bool(Rng&)>;
// Makes thread `index`'s connection and operation; empty Op with `error` set on failure.
using OpFactory = std::function<Op(int index, std::string& error)>;

struct LoadSpec {
  std::string server;  // row label: "policyd", "echo", "redis", "policyd 1M", ...
  std::string mode;    // "single", "pipelined x16", ...
  int conns = 1;
  int lookups_per_op = 1;
  double seconds = 2;
  pid_t server_pid = -1;  // for the server's CPU time; -1: not recorded
  OpFactory factory;
  // >= 0: the client threads and every thread of the server run on this CPU only, for the run.
  int cpu = -1;
  // Count the server's and the client's system calls during the run (perf stat; slows the run a
  // little, so not for the rows whose speed is compared).
  bool count_syscalls = false;
  std::string scratch_dir = {};  // for the counters' files
};

struct RunResult {
  std::string server, mode;
  int conns = 0;
  bool available = true;
  std::string note;  // why unavailable, or errors
  std::uint64_t lookups = 0, ops = 0, errors = 0;
  double seconds = 0, rate = 0;       // lookups per second
  double p50 = 0, p99 = 0, p999 = 0;  // microseconds per operation
  // CPU microseconds per operation: the server process (user, system) and the client.
  double server_user_us = 0, server_sys_us = 0, client_us = 0;
  // CPUs busy during the run: all processes on the machine, and this run's server and client.
  double cpus_busy = 0, cpus_ours = 0;
  int rounds = 1;                                     // runs this result is the median of
  double server_syscalls = -1, client_syscalls = -1;  // per operation; -1: not counted
  std::string server_syscall_detail;  // "epoll_wait 1.00, read 1.00 (0.50 failed), ..."
};

// Restricts every thread of process `pid` to `cpu` (-1: all CPUs again). Threads the process
// starts later inherit the mask of their creator.
void PinProcess(pid_t pid, int cpu);

// Runs one load and prints a one-line summary to stderr.
RunResult RunLoad(const LoadSpec& spec);
RunResult Unavailable(const std::string& server, const std::string& mode, int conns,
                      const std::string& why);
// The median of each figure over `runs` of the same row (errors are summed).
RunResult Median(const std::vector<RunResult>& runs);
// Runs every spec once per round, rotating the order each round (so drift on a noisy machine
// hits every row alike); returns the medians in the order of `specs`.
std::vector<RunResult> Interleaved(const std::vector<LoadSpec>& specs, int rounds);

// Operations. `orgs` and `socket` must outlive the runs.
// `depth` GetOrgPolicy frames written at once, then `depth` answers read (depth 1: single).
OpFactory FrameLookups(const std::string& socket, const std::vector<std::string>& orgs, int depth);
// One GetOrgPolicies frame of `batch` orgs, one answer.
OpFactory BatchLookups(const std::string& socket, const std::vector<std::string>& orgs, int batch);
// `depth` RESP GETs written at once, then `depth` bulk replies read.
OpFactory RedisGets(const std::string& socket, const std::vector<std::string>& orgs, int depth);
// policyd::Client::GetOrgPolicy, which also verifies and decodes the answer.
OpFactory ClientLibraryLookups(const std::string& socket, const std::vector<std::string>& orgs);

}  // namespace policyd::bench
