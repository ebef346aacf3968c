// Where a server's CPU time goes under load: `perf record -a -e cpu-clock` (a software clock, so
// it works in VMs without hardware counters; all CPUs, because attaching to the server's threads
// makes every context switch pay for perf's bookkeeping, which in a VM tripled the server's
// system time) while the benchmark runs, then the samples of one server process grouped by where
// they landed (kernel, RocksDB, libc, Asio, ...). Combined with the rows' server CPU microseconds
// per operation this gives microseconds per lookup per category.
//
// Needs perf in PATH and permission to record all CPUs (root, or perf_event_paranoid <= 0);
// otherwise `error` says so. Runs child processes only.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "load.h"

namespace policyd::bench {

// A running `perf record`; Stop() ends it and writes the data file.
class PerfRecording {
 public:
  // Starts recording every CPU into `data`; perf's own output goes to `log`.
  PerfRecording(std::string data, std::string log);
  ~PerfRecording() { Stop(); }
  PerfRecording(const PerfRecording&) = delete;
  PerfRecording& operator=(const PerfRecording&) = delete;

  void Stop();
  const std::string& error() const { return error_; }  // non-empty: nothing recorded, and why
  const std::string& data() const { return data_; }

 private:
  std::string data_, log_, error_;
  pid_t pid_ = -1;
};

struct SyscallCounts {
  double total = -1;  // -1: perf could not count
  struct Call {
    std::string name;
    double calls = 0, errors = 0;
  };
  std::vector<Call> calls;  // most frequent first
};

// Counts the system calls of process `pid` (all its threads) from construction to Stop(), with
// `perf trace -s -p <pid>` (a summary: calls and failed calls per system call).
class SyscallCounter {
 public:
  SyscallCounter(pid_t pid, std::string out);
  ~SyscallCounter() { Stop(); }
  SyscallCounter(const SyscallCounter&) = delete;
  SyscallCounter& operator=(const SyscallCounter&) = delete;
  SyscallCounts Stop();

 private:
  std::string out_;
  pid_t pid_ = -1;
  SyscallCounts counts_;
};

struct ServerProfile {
  std::string error;  // non-empty: no profile, and why
  RunResult run;      // the measured row the profile belongs to
  std::uint64_t samples = 0;
  std::vector<std::pair<std::string, double>> categories;   // name, % of the server's samples
  std::vector<std::pair<std::string, double>> top_symbols;  // "[dso] symbol", % (top 8)
};

// The samples of each process pids[i] (the server of runs[i]) in a stopped recording. The
// per-sample text (perf script) is kept in `<data>.txt`.
std::vector<ServerProfile> AnalyzeProfile(const PerfRecording& recording,
                                          const std::vector<RunResult>& runs,
                                          const std::vector<pid_t>& pids);

}  // namespace policyd::bench
