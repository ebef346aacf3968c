#include "load.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "bench_support.h"
#include "client/client.h"
#include "profile.h"
#include "wire/request.h"

namespace policyd::bench {
namespace {

using Clock = std::chrono::steady_clock;

// What the C threads of one run share.
struct Shared {
  explicit Shared(int conns) : lat(conns), errors(conns, 0), ended(conns), setup_error(conns) {}
  std::vector<std::vector<std::uint32_t>> lat;  // nanoseconds per operation
  std::vector<std::uint64_t> errors;
  std::vector<Clock::time_point> ended;
  std::vector<std::string> setup_error;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<std::int64_t> deadline_ns{0};
};

cpu_set_t CpuMask(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int n = static_cast<int>(std::thread::hardware_concurrency());
  for (int i = 0; i < std::max(n, 1); ++i)
    if (cpu < 0 || i == cpu) CPU_SET(i, &set);
  return set;
}

void ClientThread(const LoadSpec& spec, Shared& sh, int c) {
  if (spec.cpu >= 0) {
    const cpu_set_t set = CpuMask(spec.cpu);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }
  // Room for ~1M operations/s in total without growing inside the timed loop.
  sh.lat[c].reserve(
      static_cast<std::size_t>(std::max(65536.0, spec.seconds * 1'000'000.0 / spec.conns)));
  Rng rng{0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(c + 1)};
  Op op = spec.factory(c, sh.setup_error[c]);
  if (op) {
    for (int i = 0; i < 200 && op; ++i)  // warm-up: connection, caches, branch predictors
      if (!op(rng)) op = nullptr;
    if (!op && sh.setup_error[c].empty()) sh.setup_error[c] = "error during warm-up";
  }
  sh.ready.fetch_add(1);
  sh.go.wait(false, std::memory_order_acquire);  // a futex: no system calls while waiting
  const Clock::time_point deadline{Clock::duration(sh.deadline_ns.load())};
  if (op) {
    for (;;) {
      const auto t0 = Clock::now();
      const bool ok = op(rng);
      const auto t1 = Clock::now();
      if (!ok) {
        ++sh.errors[c];
        break;  // the connection is unusable
      }
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
      sh.lat[c].push_back(static_cast<std::uint32_t>(std::min<long long>(ns, UINT32_MAX)));
      if (t1 >= deadline) break;
    }
  }
  sh.ended[c] = Clock::now();
}

double Percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const auto i = std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()));
  return sorted[i] / 1000.0;
}

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

void PinProcess(pid_t pid, int cpu) {
  const cpu_set_t set = CpuMask(cpu);
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
    sched_setaffinity(std::atoi(task.path().filename().c_str()), sizeof(set), &set);
}

RunResult RunLoad(const LoadSpec& spec) {
  if (spec.cpu >= 0 && spec.server_pid > 0) PinProcess(spec.server_pid, spec.cpu);
  RunResult r;
  r.server = spec.server;
  r.mode = spec.mode;
  r.conns = spec.conns;
  Shared sh(spec.conns);
  std::vector<std::thread> threads;
  for (int c = 0; c < spec.conns; ++c)
    threads.emplace_back([&spec, &sh, c] { ClientThread(spec, sh, c); });
  while (sh.ready.load() < spec.conns) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::optional<SyscallCounter> server_calls, client_calls;
  if (spec.count_syscalls) {
    const std::string base =
        spec.scratch_dir + "/syscalls-" + spec.server + "-C" + std::to_string(spec.conns);
    server_calls.emplace(spec.server_pid, base + "-server.txt");
    client_calls.emplace(getpid(), base + "-client.txt");
  }
  const CpuTime server0 = spec.server_pid > 0 ? ProcessCpu(spec.server_pid) : CpuTime{};
  const CpuTime client0 = SelfCpu();
  const MachineCpu machine0 = ReadMachineCpu();
  const auto start = Clock::now();
  sh.deadline_ns.store(
      std::chrono::duration_cast<Clock::duration>(
          start + std::chrono::duration<double>(spec.seconds) - Clock::time_point{})
          .count());
  sh.go.store(true, std::memory_order_release);
  sh.go.notify_all();
  for (auto& t : threads) t.join();
  const CpuTime server1 = spec.server_pid > 0 ? ProcessCpu(spec.server_pid) : CpuTime{};
  const CpuTime client1 = SelfCpu();
  const MachineCpu machine1 = ReadMachineCpu();
  const SyscallCounts server_calls_seen = server_calls ? server_calls->Stop() : SyscallCounts{};
  const SyscallCounts client_calls_seen = client_calls ? client_calls->Stop() : SyscallCounts{};
  if (spec.cpu >= 0 && spec.server_pid > 0) PinProcess(spec.server_pid, -1);

  std::vector<std::uint32_t> all;
  Clock::time_point last = start;
  for (int c = 0; c < spec.conns; ++c) {
    all.insert(all.end(), sh.lat[c].begin(), sh.lat[c].end());
    r.errors += sh.errors[c];
    last = std::max(last, sh.ended[c]);
    if (!sh.setup_error[c].empty() && r.note.empty()) r.note = sh.setup_error[c];
  }
  const auto failed_setups = static_cast<std::size_t>(std::count_if(
      sh.setup_error.begin(), sh.setup_error.end(), [](auto& e) { return !e.empty(); }));
  if (failed_setups > 0) {
    r.errors += failed_setups;
    r.note = std::to_string(failed_setups) + " connection(s) failed: " + r.note;
  }
  r.seconds = std::chrono::duration<double>(last - start).count();
  r.ops = all.size();
  r.lookups = r.ops * static_cast<std::uint64_t>(spec.lookups_per_op);
  r.rate = r.seconds > 0 ? static_cast<double>(r.lookups) / r.seconds : 0;
  std::sort(all.begin(), all.end());
  r.p50 = Percentile(all, 0.50);
  r.p99 = Percentile(all, 0.99);
  r.p999 = Percentile(all, 0.999);
  if (r.ops > 0) {
    const double per_op = 1e6 / static_cast<double>(r.ops);
    r.server_user_us = (server1.user - server0.user) * per_op;
    r.server_sys_us = (server1.sys - server0.sys) * per_op;
    r.client_us = (client1.user + client1.sys - client0.user - client0.sys) * per_op;
    // The counters start after the warm-up; they also see a few calls of starting and joining.
    const auto ops = static_cast<double>(r.ops);
    if (server_calls_seen.total >= 0) r.server_syscalls = server_calls_seen.total / ops;
    if (client_calls_seen.total >= 0) r.client_syscalls = client_calls_seen.total / ops;
    for (const auto& call : server_calls_seen.calls) {
      if (call.calls / ops < 0.01) break;
      char buf[160];
      std::snprintf(buf, sizeof(buf), "%s%s %.2f", r.server_syscall_detail.empty() ? "" : ", ",
                    call.name.c_str(), call.calls / ops);
      r.server_syscall_detail += buf;
      if (call.errors / ops >= 0.01) {
        std::snprintf(buf, sizeof(buf), " (%.2f failed)", call.errors / ops);
        r.server_syscall_detail += buf;
      }
    }
  }
  if (r.seconds > 0) {
    const double cpus = (machine1.total - machine0.total) / r.seconds;  // wall time x CPUs
    r.cpus_busy = (machine1.busy - machine0.busy) / r.seconds;
    r.cpus_ours = std::min(cpus, (r.server_user_us + r.server_sys_us + r.client_us) *
                                     static_cast<double>(r.ops) / 1e6 / r.seconds);
  }
  if (r.errors > 0 && r.note.empty()) r.note = std::to_string(r.errors) + " error(s)";
  std::fprintf(stderr,
               "  %-12s %-14s C=%-3d %9.0f lookups/s  p50 %7.1f  p99 %7.1f us  server %5.2f+%5.2f "
               "client %5.2f us/op  CPUs %.2f/%.2f%s%s\n",
               spec.server.c_str(), spec.mode.c_str(), spec.conns, r.rate, r.p50, r.p99,
               r.server_user_us, r.server_sys_us, r.client_us, r.cpus_ours, r.cpus_busy,
               r.note.empty() ? "" : "  ", r.note.c_str());
  return r;
}

RunResult Unavailable(const std::string& server, const std::string& mode, int conns,
                      const std::string& why) {
  RunResult r;
  r.server = server;
  r.mode = mode;
  r.conns = conns;
  r.available = false;
  r.note = why;
  return r;
}

RunResult Median(const std::vector<RunResult>& runs) {
  if (runs.empty()) return {};
  RunResult m = runs.front();
  m.rounds = static_cast<int>(runs.size());
  auto median = [&runs](double RunResult::*field) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*field);
    return MedianOf(std::move(v));
  };
  m.rate = median(&RunResult::rate);
  m.p50 = median(&RunResult::p50);
  m.p99 = median(&RunResult::p99);
  m.p999 = median(&RunResult::p999);
  m.server_user_us = median(&RunResult::server_user_us);
  m.server_sys_us = median(&RunResult::server_sys_us);
  m.client_us = median(&RunResult::client_us);
  m.cpus_busy = median(&RunResult::cpus_busy);
  m.cpus_ours = median(&RunResult::cpus_ours);
  m.ops = m.lookups = m.errors = 0;
  for (const auto& r : runs) {
    m.available = m.available && r.available;
    m.ops += r.ops;
    m.lookups += r.lookups;
    m.errors += r.errors;
    if (m.note.empty()) m.note = r.note;
  }
  return m;
}

OpFactory FrameLookups(const std::string& socket, const std::vector<std::string>& orgs, int depth) {
  return [&socket, &orgs, depth](int, std::string& error) -> Op {
    auto conn = std::make_shared<Conn>();
    if (!conn->Connect(socket, error)) return nullptr;
    auto req = std::make_shared<std::vector<std::uint8_t>>();
    req->reserve(4096);
    return [conn, req, &orgs, depth, id = std::uint64_t{0}](Rng& rng) mutable {
      req->clear();
      for (int i = 0; i < depth; ++i)
        AppendGetOrgPolicy(*req, ++id, orgs[rng.Next() % orgs.size()], false);
      if (!conn->WriteAll(*req)) return false;
      for (int i = 0; i < depth; ++i)
        if (conn->ReadFrame().empty()) return false;
      return true;
    };
  };
}

OpFactory BatchLookups(const std::string& socket, const std::vector<std::string>& orgs, int batch) {
  return [&socket, &orgs, batch](int, std::string& error) -> Op {
    auto conn = std::make_shared<Conn>();
    if (!conn->Connect(socket, error)) return nullptr;
    auto req = std::make_shared<std::vector<std::uint8_t>>();
    auto ids = std::make_shared<std::vector<std::string>>(batch, std::string(32, 'x'));
    return [conn, req, ids, &orgs, id = std::uint64_t{0}](Rng& rng) mutable {
      for (auto& s : *ids) s.assign(orgs[rng.Next() % orgs.size()]);  // no allocation: capacity 32
      req->clear();
      AppendGetOrgPolicies(*req, ++id, *ids, false);
      return conn->WriteAll(*req) && !conn->ReadFrame().empty();
    };
  };
}

OpFactory RedisGets(const std::string& socket, const std::vector<std::string>& orgs, int depth) {
  return [&socket, &orgs, depth](int, std::string& error) -> Op {
    auto conn = std::make_shared<Conn>();
    if (!conn->Connect(socket, error)) return nullptr;
    auto cmd = std::make_shared<std::string>();
    cmd->reserve(4096);
    return [conn, cmd, &orgs, depth](Rng& rng) {
      cmd->clear();
      for (int i = 0; i < depth; ++i) {
        const std::string& key = orgs[rng.Next() % orgs.size()];
        cmd->append("*2\r\n$3\r\nGET\r\n$");
        cmd->append(std::to_string(key.size()));
        cmd->append("\r\n");
        cmd->append(key);
        cmd->append("\r\n");
      }
      if (!conn->WriteAll(*cmd)) return false;
      std::string_view value;
      for (int i = 0; i < depth; ++i)
        if (!conn->ReadBulk(value) || value.empty()) return false;
      return true;
    };
  };
}

OpFactory ClientLibraryLookups(const std::string& socket, const std::vector<std::string>& orgs) {
  return [&socket, &orgs](int, std::string& error) -> Op {
    auto client = Client::Connect(socket);
    if (!client) {
      error = client.error().ToString();
      return nullptr;
    }
    auto shared = std::make_shared<Client>(std::move(*client));
    return [shared, &orgs](Rng& rng) {
      return shared->GetOrgPolicy(orgs[rng.Next() % orgs.size()]).has_value();
    };
  };
}

std::vector<RunResult> Interleaved(const std::vector<LoadSpec>& specs, int rounds) {
  std::vector<std::vector<RunResult>> runs(specs.size());
  for (int round = 0; round < rounds; ++round)
    for (std::size_t k = 0; k < specs.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(round)) % specs.size();
      runs[i].push_back(RunLoad(specs[i]));
    }
  std::vector<RunResult> medians;
  for (const auto& r : runs) medians.push_back(Median(r));
  return medians;
}

}  // namespace policyd::bench
