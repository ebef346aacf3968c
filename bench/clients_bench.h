// The benchmark's "clients" section (issue #16): what a service sees per lookup, the daemon plus
// its client library, for every policyd client next to the Redis client of the same language,
// all against the SAME policyd (the run's main store) and the SAME Redis (which holds, under each
// org id, the bytes policyd answers for that org, so every GET reads a value of the same size).
//
// Rows (RunResult::server) and how each is measured:
//   C++ rows run in this process on load.h's client loop (one thread per caller);
//   the other rows are driver programs, one process per run, each printing one JSON line
//   (json/flat_json.h reads it): clients/python/bench_driver.py (Debian's python3, the client
//   from clients/python) and clients/node/bench/driver.ts (compiled by the pinned tsc into the
//   work dir, run with clients/node/node_modules). Their docstrings say exactly what they time.
// Modes (RunResult::mode; RunResult::conns is the number of callers):
//   kModeOne       one connection, one call at a time
//   kModeCallers   16 callers: C++ and blocking Python: 16 threads, a connection each; Python
//                  asyncio and Node: 16 concurrent calls on ONE connection (pipelined)
//   kModeInFlight  Node only: 64 concurrent calls on one connection (issue #16 item 3)
//   kModePerLookup one call at a time, each on a new connection (connect, ask, close)
// Single-caller modes run the caller (taskset for drivers) and every policyd/Redis thread on the
// pinned CPU like the other sections' C = 1 rows; the concurrent modes are not pinned. Rounds are
// interleaved (every row once per round, rotated) and each row is the median of its rounds. A
// client that is missing here (no node, no python3-redis, no C extension, no policyd_client.aio)
// gives an unavailable row saying why; a driver that fails gives a row with errors.
//
// Threads: RunClients blocks the calling thread (the C++ rows use load.h's threads).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "load.h"

namespace policyd::bench {

inline constexpr const char* kModeOne = "1 connection";
inline constexpr const char* kModeCallers = "16 callers";
inline constexpr const char* kModeInFlight = "64 calls in flight";
inline constexpr const char* kModePerLookup = "connection per lookup";

// Row labels.
inline constexpr const char* kRowCpp = "C++ (policyd::Client)";
inline constexpr const char* kRowCppRedis = "C++ Redis GET (bench's RESP loop, no library)";
inline constexpr const char* kRowPythonPure = "Python (pure)";
inline constexpr const char* kRowPythonExt = "Python (extension)";
inline constexpr const char* kRowPythonAio = "Python asyncio";
inline constexpr const char* kRowRedisPy = "redis-py";
inline constexpr const char* kRowRedisPyAio = "redis-py asyncio";
inline constexpr const char* kRowNode = "Node (PolicydClient)";
inline constexpr const char* kRowIoredis = "Node ioredis";

struct ClientsOptions {
  std::string source_dir;         // the repository: the drivers and clients/node/node_modules
  std::string python_native_dir;  // where policyd_native is built ("" when it is not)
  std::string work_dir;  // for the org list, the compiled Node driver and the drivers' logs
  std::string policyd_socket;
  pid_t policyd_pid = -1;
  std::string redis_socket;
  pid_t redis_pid = -1;
  std::string redis_missing;                  // why Redis is not available ("" when it is)
  const std::vector<std::string>* org_ids{};  // looked up at random; Redis keys
  double seconds = 2;
  int rounds = 3;
  int cpu = -1;  // single-caller rows pinned to this CPU; -1: not pinned
  std::string python = "/usr/bin/python3";
  std::string node = "node";
};

struct ClientsResults {
  std::vector<RunResult> rows;               // medians, in row order
  std::string python_version, node_version;  // "" when not found
};

// Measures every row above.
ClientsResults RunClients(const ClientsOptions& o);

// The Redis row a client row is compared with: the Redis client of the same language
// (kRowCppRedis, kRowRedisPy, kRowRedisPyAio or kRowIoredis); "" for the Redis rows themselves.
std::string BaselineOf(const std::string& row);

// The section's markdown: the rows, what each mode means, and per policyd row its p50 and
// lookups/s against its baseline's at the same mode. `value_bytes`: the size of the value
// every GET reads (policyd's answer without its length prefix).
std::string ClientsReport(const ClientsResults& r, std::size_t value_bytes);

}  // namespace policyd::bench
