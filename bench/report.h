// The benchmark's results and their markdown report (docs/benchmarks.md): the machine, absolute
// figures, the target ratios of issue 5 with met/missed, and the profile explaining misses.
// Pure formatting: no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "assert_cost.h"
#include "bench_support.h"
#include "clients_bench.h"
#include "echo_server.h"
#include "fleet_bench.h"
#include "load.h"
#include "profile.h"
#include "servers.h"
#include "sync_rate.h"

namespace policyd::bench {

// The suffix of the scale runs' server label on the store with the generic kinds.
inline constexpr const char* kKindsLabel = ", 1% own rows per kind";

struct StoreFacts {
  int orgs = 0;
  double write_snapshot_s = 0, load_snapshot_s = 0, ready_s = 0, answer_s = 0;
  std::uintmax_t snapshot_bytes = 0, store_bytes = 0, sst_bytes = 0;
  long rss_kb = -1;  // after the lookups
  // When the start waited for the lookup index (StartPolicyd wait_for_index): start -> loaded,
  // RSS then, and the daemon's log line about it.
  double index_s = -1;
  long index_rss_kb = -1;
  std::string index_line;
};
StoreFacts FactsOf(const PreparedStore& s);

struct MessageSizes {
  std::size_t request = 0, default_response = 0, own_response = 0;
  std::size_t batch_request = 0, batch_response = 0;
  std::size_t redis_request = 0, redis_reply = 0;
  std::string redis_missing;
};

struct EchoChoice {
  std::vector<RunResult> runs;      // every variant at every concurrency (medians)
  std::map<int, std::string> best;  // concurrency -> the variant used as the limit
};

struct ProfileSection {
  std::vector<ServerProfile> servers;  // policyd, echo, redis at one concurrency
  int conns = 0;
  std::vector<RunResult> syscalls;  // short runs with system calls counted
};

struct BenchResults {
  std::string command_line;
  Machine machine;
  double wall_seconds = 0, seconds = 0;
  int rounds = 0;
  int pin_cpu = -1;  // single-connection runs pinned to this CPU (-1: not pinned)
  std::string load_before, load_after;  // /proc/loadavg
  StoreFacts main_store;
  MessageSizes sizes;
  std::vector<RunResult> compare;  // medians of interleaved rounds
  EchoChoice echo;
  // kinds_store: large_store's orgs with the generic kinds (issue #14; bench_kinds.h).
  std::optional<StoreFacts> small_store, large_store, kinds_store;
  std::vector<RunResult> scale;  // server "policyd <N> orgs" (+ kKindsLabel for kinds_store)
  // The cost of optional work: each row against the "policyd" row of the same C and mode.
  std::vector<RunResult> features;
  // The policy kinds' lookups (kinds_bench.h), at C = 1, on a store of kinds_orgs orgs.
  std::vector<RunResult> kinds;
  int kinds_orgs = 0;
  std::optional<ClientsResults> clients;  // the client libraries against Redis clients
  std::optional<SyncRate> sync;
  std::optional<AssertCost> asserts;
  std::optional<ProfileSection> profile;
  std::optional<FleetResults> fleet;
  FleetOptions fleet_options;
};

std::string Report(const BenchResults& r);

}  // namespace policyd::bench
