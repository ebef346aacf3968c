#include "clients_bench.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "bench_support.h"
#include "client/client.h"
#include "json/flat_json.h"

namespace policyd::bench {
namespace {

// One row of the table at one mode: run() measures it once.
struct RowSpec {
  std::string row, mode;
  int callers = 1;
  std::function<RunResult()> run;
};

// A driver process: the program and its arguments before the common ones, its environment, and
// why it cannot run here ("" when it can).
struct Driver {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string missing;
};

bool Executable(const std::string& program) {
  return program.find('/') == std::string::npos ? InPath(program)
                                                : access(program.c_str(), X_OK) == 0;
}

// The first line `argv` prints (its --version), "" when it does not run.
std::string FirstLine(const std::vector<std::string>& argv, const std::string& log) {
  std::remove(log.c_str());
  if (RunToCompletion(argv, log, 30) != 0) return "";
  std::string line = FileTail(log, 200);
  return line.substr(0, line.find('\n'));
}

Driver PythonDriver(const ClientsOptions& o) {
  Driver d;
  d.argv = {o.python, o.source_dir + "/clients/python/bench_driver.py"};
  std::string path = o.source_dir + "/clients/python";
  if (!o.python_native_dir.empty()) path += ":" + o.python_native_dir;
  d.env = {"PYTHONPATH=" + path, "PYTHONDONTWRITEBYTECODE=1"};
  if (!Executable(o.python)) d.missing = o.python + " not found";
  return d;
}

// Compiles the Node client and its driver with the pinned tsc into the work dir (the source tree
// is shared by several build dirs, as in tests/clients/node-test.sh).
Driver NodeDriver(const ClientsOptions& o) {
  Driver d;
  const std::string pkg = o.source_dir + "/clients/node";
  const std::string tsc = pkg + "/node_modules/typescript/bin/tsc";
  const std::string out = o.work_dir + "/node";
  d.argv = {o.node, out + "/bench/driver.js"};
  d.env = {"NODE_PATH=" + pkg + "/node_modules"};
  if (!Executable(o.node)) {
    d.missing = o.node + " not found (scripts/install-deps.sh installs nodejs)";
  } else if (access(tsc.c_str(), R_OK) != 0) {
    d.missing = pkg + "/node_modules is missing (scripts/install-deps.sh runs npm ci)";
  } else {
    std::fprintf(stderr, "policyd_bench: clients: compiling the Node client into %s\n",
                 out.c_str());
    const std::string log = o.work_dir + "/tsc.log";
    if (RunToCompletion({o.node, tsc, "-p", pkg, "--outDir", out}, log, 300) != 0)
      d.missing = "tsc failed: " + FileTail(log, 300);
  }
  return d;
}

double Number(const FlatJsonObject& json, const char* name) {
  const double* v = FlatNumber(json, name);
  return v ? *v : 0;
}

// The run's RunResult from the driver's JSON line.
RunResult FromReport(const RowSpec& spec, const FlatJsonObject& json) {
  if (const std::string* why = FlatString(json, "unavailable"))
    return Unavailable(spec.row, spec.mode, spec.callers, *why);
  RunResult r;
  r.server = spec.row;
  r.mode = spec.mode;
  r.conns = spec.callers;
  r.ops = r.lookups = static_cast<std::uint64_t>(Number(json, "lookups"));
  r.errors = static_cast<std::uint64_t>(Number(json, "errors"));
  r.seconds = Number(json, "seconds");
  r.rate = Number(json, "rate");
  r.p50 = Number(json, "p50_us");
  r.p99 = Number(json, "p99_us");
  r.client_us = Number(json, "client_cpu_us");
  if (const std::string* error = FlatString(json, "error")) {
    r.note = *error;
  } else if (const std::string* implementation = FlatString(json, "implementation")) {
    r.note = *implementation;  // "fast", "c", "node v20.20.2", "redis-py 4.3.4", ...
  }
  if (r.ops == 0 && r.errors == 0) r.errors = 1;
  if (r.errors > 0 && r.note.empty()) r.note = std::to_string(r.errors) + " error(s)";
  return r;
}

// The driver's command line for one run of `spec`, behind taskset when `pin`.
std::vector<std::string> DriverArgv(const Driver& driver, const std::vector<std::string>& args,
                                    const RowSpec& spec, const ClientsOptions& o, bool pin,
                                    int cpu) {
  std::vector<std::string> argv;
  if (pin) argv = {"taskset", "-c", std::to_string(cpu)};
  argv.insert(argv.end(), driver.argv.begin(), driver.argv.end());
  argv.insert(argv.end(), args.begin(), args.end());
  const char* mode = spec.mode == kModePerLookup ? "connect"
                     : spec.callers > 1          ? "concurrent"
                                                 : "sequential";
  for (const std::string& a :
       {std::string("--orgs"), o.work_dir + "/orgs.txt", std::string("--mode"), std::string(mode),
        std::string("--callers"), std::to_string(spec.callers), std::string("--seconds"),
        std::to_string(o.seconds)})
    argv.push_back(a);
  return argv;
}

// Waits for `pid` (SIGKILL after `timeout_s`); its wait status.
int WaitForDriver(pid_t pid, double timeout_s) {
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (ChildRunning(pid, &status)) {
    if (std::chrono::steady_clock::now() > deadline) {
      StopChild(pid, SIGKILL, 1000);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

// Runs `driver` once for `spec` (pinned to `cpu` with the server `server_pid` when cpu >= 0)
// and reads its JSON line. A driver that does not report is a row with an error.
RunResult RunDriver(const Driver& driver, const std::vector<std::string>& args, const RowSpec& spec,
                    const ClientsOptions& o, pid_t server_pid, int cpu) {
  static int runs = 0;
  const std::string log = o.work_dir + "/driver-" + std::to_string(++runs) + ".log";
  const bool pin = cpu >= 0 && InPath("taskset");
  if (pin) PinProcess(server_pid, cpu);
  std::string error;
  const pid_t pid = Spawn(DriverArgv(driver, args, spec, o, pin, cpu), log, error, driver.env);
  const int status = pid > 0 ? WaitForDriver(pid, o.seconds * 4 + 120) : -1;
  if (pin) PinProcess(server_pid, -1);
  const std::string output = FileTail(log, 16 * 1024);
  const std::size_t line = output.rfind("\n{");
  Result<FlatJsonObject> json =
      ParseFlatJsonObject(output.substr(line == std::string::npos ? 0 : line + 1));
  RunResult r;
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !json) {
    const std::string how = status == -1         ? "did not run or timed out"
                            : !WIFEXITED(status) ? "killed by a signal"
                            : WEXITSTATUS(status) != 0
                                ? "exit " + std::to_string(WEXITSTATUS(status))
                                : "no JSON line";
    r = Unavailable(spec.row, spec.mode, spec.callers,
                    "driver failed (" + how + "): " + (pid < 0 ? error : FileTail(log, 300)));
    r.errors = 1;
  } else {
    r = FromReport(spec, *json);
  }
  std::fprintf(stderr, "  %-28s %-22s C=%-3d %9.0f lookups/s  p50 %8.1f  p99 %8.1f us%s%s\n",
               r.server.c_str(), r.mode.c_str(), r.conns, r.rate, r.p50, r.p99,
               r.note.empty() ? "" : "  ", r.note.c_str());
  return r;
}

// One policyd::Client per lookup: connect, GetOrgPolicy, close.
OpFactory ClientPerLookup(const std::string& socket, const std::vector<std::string>& orgs) {
  return [&socket, &orgs](int, std::string&) -> Op {
    return [&socket, &orgs](Rng& rng) {
      auto client = Client::Connect(socket);
      return client && client->GetOrgPolicy(orgs[rng.Next() % orgs.size()]).has_value();
    };
  };
}

// One connection per GET: connect, GET, close (the bench's RESP loop, load.h).
OpFactory RedisGetPerConnection(const std::string& socket, const std::vector<std::string>& orgs) {
  return [&socket, &orgs](int, std::string&) -> Op {
    return [&socket, &orgs](Rng& rng) {
      std::string error;
      Conn conn;
      if (!conn.Connect(socket, error)) return false;
      const std::string& key = orgs[rng.Next() % orgs.size()];
      const std::string get =
          "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
      std::string_view value;
      return conn.WriteAll(get) && conn.ReadBulk(value) && !value.empty();
    };
  };
}

int CpuOf(const ClientsOptions& o, int callers) { return callers == 1 ? o.cpu : -1; }

void AddCppRows(const ClientsOptions& o, std::vector<RowSpec>& specs) {
  const auto& ids = *o.org_ids;
  auto add = [&](const char* row, const char* mode, int callers, pid_t pid, OpFactory f) {
    LoadSpec load{row, mode, callers, 1, o.seconds, pid, std::move(f), CpuOf(o, callers)};
    specs.push_back({row, mode, callers, [load] { return RunLoad(load); }});
  };
  const std::string& pd = o.policyd_socket;
  add(kRowCpp, kModeOne, 1, o.policyd_pid, ClientLibraryLookups(pd, ids));
  add(kRowCpp, kModeCallers, 16, o.policyd_pid, ClientLibraryLookups(pd, ids));
  add(kRowCpp, kModePerLookup, 1, o.policyd_pid, ClientPerLookup(pd, ids));
  if (!o.redis_missing.empty()) {
    for (const char* mode : {kModeOne, kModeCallers, kModePerLookup})
      specs.push_back({kRowCppRedis, mode, mode == kModeCallers ? 16 : 1, [&o, mode] {
                         return Unavailable(kRowCppRedis, mode, mode == kModeCallers ? 16 : 1,
                                            o.redis_missing);
                       }});
    return;
  }
  const std::string& rs = o.redis_socket;
  add(kRowCppRedis, kModeOne, 1, o.redis_pid, RedisGets(rs, ids, 1));
  add(kRowCppRedis, kModeCallers, 16, o.redis_pid, RedisGets(rs, ids, 1));
  add(kRowCppRedis, kModePerLookup, 1, o.redis_pid, RedisGetPerConnection(rs, ids));
}

// The rows of one driver target: `modes` as (mode, callers).
void AddDriverRows(const ClientsOptions& o, std::shared_ptr<const Driver> driver, const char* row,
                   const std::string& target, bool redis,
                   const std::vector<std::pair<const char*, int>>& modes,
                   std::vector<RowSpec>& specs) {
  for (const auto& [mode, callers] : modes) {
    RowSpec spec{row, mode, callers, nullptr};
    std::string missing = driver->missing;
    if (missing.empty() && redis && !o.redis_missing.empty()) missing = o.redis_missing;
    spec.run = [&o, driver, spec, target, redis, missing] {
      if (!missing.empty()) return Unavailable(spec.row, spec.mode, spec.callers, missing);
      const std::string& socket = redis ? o.redis_socket : o.policyd_socket;
      return RunDriver(*driver, {"--target", target, "--socket", socket}, spec, o,
                       redis ? o.redis_pid : o.policyd_pid, CpuOf(o, spec.callers));
    };
    specs.push_back(std::move(spec));
  }
}

std::vector<RowSpec> AllRows(const ClientsOptions& o, ClientsResults& r) {
  std::vector<RowSpec> specs;
  AddCppRows(o, specs);
  auto python = std::make_shared<const Driver>(PythonDriver(o));
  if (python->missing.empty())
    r.python_version = FirstLine({o.python, "--version"}, o.work_dir + "/python-version.log");
  auto node = std::make_shared<const Driver>(NodeDriver(o));
  if (node->missing.empty())
    r.node_version = FirstLine({o.node, "--version"}, o.work_dir + "/node-version.log");
  const std::vector<std::pair<const char*, int>> sync = {
      {kModeOne, 1}, {kModeCallers, 16}, {kModePerLookup, 1}};
  const std::vector<std::pair<const char*, int>> pipelined = {{kModeOne, 1}, {kModeCallers, 16}};
  const std::vector<std::pair<const char*, int>> node_modes = {
      {kModeOne, 1}, {kModeCallers, 16}, {kModeInFlight, 64}, {kModePerLookup, 1}};
  AddDriverRows(o, python, kRowPythonPure, "pure", false, sync, specs);
  AddDriverRows(o, python, kRowPythonExt, "ext", false, sync, specs);
  AddDriverRows(o, python, kRowPythonAio, "aio", false, pipelined, specs);
  AddDriverRows(o, python, kRowRedisPy, "redis", true, sync, specs);
  AddDriverRows(o, python, kRowRedisPyAio, "redis-aio", true, pipelined, specs);
  AddDriverRows(o, node, kRowNode, "policyd", false, node_modes, specs);
  AddDriverRows(o, node, kRowIoredis, "ioredis", true, node_modes, specs);
  return specs;
}

}  // namespace

std::string BaselineOf(const std::string& row) {
  if (row == kRowCpp) return kRowCppRedis;
  if (row == kRowPythonPure || row == kRowPythonExt) return kRowRedisPy;
  if (row == kRowPythonAio) return kRowRedisPyAio;
  if (row == kRowNode) return kRowIoredis;
  return "";
}

ClientsResults RunClients(const ClientsOptions& o) {
  ClientsResults r;
  {
    std::ofstream orgs(o.work_dir + "/orgs.txt");
    for (const std::string& id : *o.org_ids) orgs << id << '\n';
  }
  const std::vector<RowSpec> specs = AllRows(o, r);
  std::fprintf(stderr, "policyd_bench: clients, %d rounds of %g s, %zu rows\n", o.rounds, o.seconds,
               specs.size());
  std::vector<std::vector<RunResult>> runs(specs.size());
  for (int round = 0; round < o.rounds; ++round) {
    for (std::size_t k = 0; k < specs.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(round)) % specs.size();
      // What is missing here stays missing: measured once.
      if (!runs[i].empty() && !runs[i].front().available) continue;
      runs[i].push_back(specs[i].run());
    }
  }
  for (const auto& row : runs) r.rows.push_back(Median(row));
  return r;
}

}  // namespace policyd::bench
