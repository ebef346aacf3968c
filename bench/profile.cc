#include "profile.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "bench_support.h"

namespace policyd::bench {
namespace {

std::string Category(const std::string& dso, const std::string& symbol) {
  if (dso == "[kernel.kallsyms]") return "kernel";
  if (dso.find("librocksdb") != std::string::npos) return "RocksDB";
  if (dso.find("libc.so") != std::string::npos || dso.find("libstdc++") != std::string::npos ||
      dso.find("ld-linux") != std::string::npos || dso.find("libm.so") != std::string::npos)
    return "libc, libstdc++";
  if (dso == "policyd") {
    if (symbol.find("asio::") != std::string::npos) return "Asio";
    if (symbol.find("flatbuffers::") != std::string::npos) return "FlatBuffers";
    return "policyd";
  }
  if (dso == "policyd_bench") return "echo server";
  if (dso.find("redis") != std::string::npos) return "redis-server";  // a link to redis-check-rdb
  return dso;
}

struct Counts {
  std::uint64_t samples = 0;
  std::map<std::string, std::uint64_t> categories, symbols;
};

// Reads `perf script -F pid,tid,ip,sym,dso` lines: " 3347/3347  ffffffff8226dbf9 sym (dso)",
// counting the samples of each process in `pids`. (perf report --pid drops some processes'
// kernel samples, so the samples are taken apart here.)
std::map<pid_t, Counts> CountSamples(const std::string& path, const std::vector<pid_t>& pids) {
  std::map<pid_t, Counts> counts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    const pid_t pid = std::atoi(line.c_str() + first);
    if (std::find(pids.begin(), pids.end(), pid) == pids.end()) continue;
    const auto open = line.rfind(" (");
    const auto ip_end = line.find_first_of(' ', line.find_first_not_of(' ', line.find(' ', first)));
    if (open == std::string::npos || ip_end == std::string::npos || open < ip_end) continue;
    std::string dso = line.substr(open + 2, line.size() - open - 3);
    dso = dso.substr(dso.rfind('/') + 1);
    const std::string symbol = line.substr(ip_end + 1, open - ip_end - 1);
    Counts& c = counts[pid];
    ++c.samples;
    ++c.categories[Category(dso, symbol)];
    ++c.symbols[dso + " " + symbol];
  }
  return counts;
}

std::vector<std::pair<std::string, double>> Shares(const std::map<std::string, std::uint64_t>& m,
                                                   std::uint64_t total, std::size_t keep) {
  std::vector<std::pair<std::string, double>> v;
  for (const auto& [name, n] : m) v.emplace_back(name, 100.0 * static_cast<double>(n) / total);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > keep) v.resize(keep);
  return v;
}

}  // namespace

PerfRecording::PerfRecording(std::string data, std::string log)
    : data_(std::move(data)), log_(std::move(log)) {
  if (!InPath("perf")) {
    error_ = "perf not installed";
    return;
  }
  std::error_code ec;
  std::filesystem::remove(data_, ec);  // else perf keeps it as .old
  pid_ = Spawn({"perf", "record", "-q", "-a", "-e", "cpu-clock", "-F", "999", "-o", data_}, log_,
               error_);
  if (pid_ < 0) {
    error_ = "cannot start perf: " + error_;
    return;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // recording by then
  if (!ChildRunning(pid_)) {
    pid_ = -1;
    error_ = "perf record failed: " + FileTail(log_, 300);
  }
}

void PerfRecording::Stop() {
  if (pid_ < 0) return;
  StopChild(pid_, SIGINT, 30000);  // perf writes the file on SIGINT
  pid_ = -1;
}

SyscallCounter::SyscallCounter(pid_t pid, std::string out) : out_(std::move(out)) {
  if (!InPath("perf")) return;
  std::string error;
  std::error_code ec;
  std::filesystem::remove(out_, ec);  // else perf keeps it as .old
  pid_ =
      Spawn({"perf", "trace", "-s", "-p", std::to_string(pid), "-o", out_}, out_ + ".log", error);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // attached by then
}

// Reads the per-thread tables of `perf trace -s`: "   epoll_wait   8019   0   634.420 ...".
SyscallCounts SyscallCounter::Stop() {
  if (pid_ < 0) return counts_;
  StopChild(pid_, SIGINT, 10000);  // perf trace prints its summary on SIGINT
  pid_ = -1;
  std::ifstream in(out_);
  std::string line;
  std::map<std::string, std::pair<double, double>> by_name;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, calls, errors;
    if (!(fields >> name >> calls >> errors) || calls.empty() || errors.empty() ||
        calls.find_first_not_of("0123456789") != std::string::npos ||
        errors.find_first_not_of("0123456789") != std::string::npos)
      continue;
    by_name[name].first += std::atof(calls.c_str());
    by_name[name].second += std::atof(errors.c_str());
  }
  if (by_name.empty()) return counts_;
  counts_.total = 0;
  for (const auto& [name, n] : by_name) {
    counts_.total += n.first;
    counts_.calls.push_back({name, n.first, n.second});
  }
  std::sort(counts_.calls.begin(), counts_.calls.end(),
            [](const auto& a, const auto& b) { return a.calls > b.calls; });
  return counts_;
}

std::vector<ServerProfile> AnalyzeProfile(const PerfRecording& recording,
                                          const std::vector<RunResult>& runs,
                                          const std::vector<pid_t>& pids) {
  std::vector<ServerProfile> out(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) out[i].run = runs[i];
  auto fail = [&out](const std::string& why) {
    for (auto& p : out) p.error = why;
    return out;
  };
  if (!recording.error().empty()) return fail(recording.error());
  const std::string script = recording.data() + ".txt";
  if (RunToCompletion({"perf", "script", "-i", recording.data(), "-F", "pid,tid,ip,sym,dso"},
                      script, 300) != 0)
    return fail("perf script failed: " + FileTail(script, 300));
  const std::map<pid_t, Counts> counts = CountSamples(script, pids);
  for (std::size_t i = 0; i < out.size() && i < pids.size(); ++i) {
    const auto it = counts.find(pids[i]);
    if (it == counts.end() || it->second.samples == 0) {
      out[i].error = "perf recorded no samples of the server";
      continue;
    }
    out[i].samples = it->second.samples;
    out[i].categories = Shares(it->second.categories, it->second.samples, 100);
    out[i].top_symbols = Shares(it->second.symbols, it->second.samples, 8);
  }
  return out;
}

}  // namespace policyd::bench
