// The "clients" section's markdown (clients_bench.h). Pure formatting.
#include <sstream>
#include <string>

#include "clients_bench.h"
#include "report_format.h"

namespace policyd::bench {
namespace {

// `text` fit for a table cell: one line, no column separator.
std::string Cell(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
    if (c == '|') c = '/';
  }
  return text;
}

void RowsTable(std::ostringstream& o, const std::vector<RunResult>& rows) {
  o << "| client | mode | callers | lookups/s | p50 µs | p99 µs | client CPU µs/lookup | notes |\n"
    << "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const RunResult& r : rows) {
    o << "| " << r.server << " | " << r.mode << " | " << r.conns << " | ";
    if (!r.available) {
      o << "— | — | — | — | " << (r.errors > 0 ? "**failed**: " : "unavailable: ") << Cell(r.note)
        << " |\n";
      continue;
    }
    o << Fmt("%.0f", r.rate) << " | " << Fmt("%.1f", r.p50) << " | " << Fmt("%.1f", r.p99) << " | "
      << Fmt("%.1f", r.client_us) << " | " << Cell(r.note) << " |\n";
  }
}

// Per policyd row: against the Redis client of its language at the same mode and callers.
void RatioTable(std::ostringstream& o, const std::vector<RunResult>& rows) {
  o << "| client | mode | callers | against | p50 policyd / Redis | lookups/s policyd / Redis | "
       "at least as fast |\n"
    << "| --- | --- | ---: | --- | ---: | ---: | --- |\n";
  for (const RunResult& r : rows) {
    const std::string baseline = BaselineOf(r.server);
    if (baseline.empty()) continue;
    o << "| " << r.server << " | " << r.mode << " | " << r.conns << " | " << baseline << " | ";
    const RunResult* b = Find(rows, baseline, r.mode, r.conns);
    if (!r.available || r.ops == 0 || b == nullptr || b->p50 <= 0 || b->rate <= 0) {
      o << "— | — | not measured |\n";
      continue;
    }
    const double p50 = r.p50 / b->p50, rate = r.rate / b->rate;
    const bool met = p50 <= 1 && rate >= 1;
    o << Fmt("%.2f", p50) << " | " << Fmt("%.2f", rate) << " | " << (met ? "yes" : "**no**")
      << " |\n";
  }
}

}  // namespace

std::string ClientsReport(const ClientsResults& r, std::size_t value_bytes) {
  std::ostringstream o;
  o << "## Clients (issue #16)\n\n"
    << "What a service sees per lookup: policyd's answer plus its client library, for every "
       "policyd client, next to the Redis client of the same language reading a value of the same "
       "size ("
    << value_bytes
    << " B: Redis holds, under each org id, the bytes policyd answers for it) from the same "
       "Redis over a unix socket. Same run, same policyd (the store above), same Redis; random "
       "orgs. C++ rows run in the benchmark's own client loop; the others are driver processes, "
       "each timing its calls in-process (clients/python/bench_driver.py with "
    << (r.python_version.empty() ? std::string("python3 not found") : r.python_version)
    << ", clients/node/bench/driver.ts with node "
    << (r.node_version.empty() ? std::string("not found") : r.node_version)
    << "). A policyd call verifies and decodes the whole answer into the client's objects; a "
       "Redis GET returns the value's bytes.\n\n"
    << "Modes: `" << kModeOne << "`: one connection, one call at a time. `" << kModeCallers
    << "`: C++, Python (pure, extension) and redis-py: 16 threads, each with its own connection "
       "(Python's GIL runs one at a time); Python asyncio and Node (PolicydClient, ioredis): 16 "
       "concurrent calls on ONE connection (pipelined; policyd answers in order and each answer "
       "carries its request id); redis-py asyncio (`redis.asyncio`, the baseline of Python "
       "asyncio): 16 tasks on one client, whose pool opens a connection per concurrent call. `"
    << kModeInFlight << "`: Node, 64 concurrent calls on one connection. `" << kModePerLookup
    << "`: connect, one call, close, one at a time (what scripts and CLIs do). Single-caller "
       "modes run the caller and every server thread on the pinned CPU, like the C = 1 rows "
       "above; the concurrent modes are not pinned. Latency is per call (from before the call "
       "to its answer); with concurrent callers it includes waiting behind the others. Client "
       "CPU: the caller process's CPU time per lookup. Notes: the implementation the driver "
       "measured (`policyd_client.IMPLEMENTATION`, the Node or Redis client's version). Each row "
       "is the median of the rounds, "
       "which run interleaved.\n\n";
  RowsTable(o, r.rows);
  o << "\nGoal (issue #16): every policyd client at least as fast as the Redis client of its "
       "language (p50 ratio ≤ 1 and throughput ratio ≥ 1). C++ has no Redis client library "
       "among the dependencies: its baseline is the benchmark's own RESP loop (write GET, read "
       "the bulk reply, no parsing beyond it), a lower bound for any C++ Redis client.\n\n";
  RatioTable(o, r.rows);
  o << "\n";
  return o.str();
}

}  // namespace policyd::bench
