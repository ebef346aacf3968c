// The servers the benchmark measures, each a child process in the benchmark's temp dir:
// policyd on a generated store, the zero-work echo server, and redis-server holding policyd's
// answers. Every child is registered for Cleanup() (bench_support.h); a setup failure Fail()s.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "echo_server.h"
#include "wire/response.h"

namespace policyd::bench {

// The generated store: org i has id 310000000000000000 + i; every 100th org has its own policy.
std::string OrgId(int i);
bool HasOwnPolicy(int i);
std::vector<std::string> OrgIds(int orgs);
// Writes that store's snapshot of `orgs` orgs (each with its generated domain) to `path` with the
// production writer; returns its size in bytes. Fail()s when it cannot.
std::uintmax_t WriteBenchSnapshot(int orgs, const std::string& path);

struct Policyd {
  pid_t pid = -1;
  std::string socket, data_dir, log;
  double ready_s = -1;   // start -> READY=1 on the NOTIFY_SOCKET the benchmark owns
  double answer_s = -1;  // start -> first answered GetStatus
  // With wait_for_index: start -> the lookup index loaded (its log line), the daemon's RSS then
  // (before any lookup), and what the daemon's log line says ("N orgs, K own rows of other policy
  // kinds, M MiB, in T ms").
  double index_s = -1;
  long index_rss_kb = -1;
  std::string index_line;
};

// Starts `binary` serving `data_dir` on `socket` (with --snapshot when `snapshot` is not empty)
// and waits until it has sent READY=1 and answered GetStatus. With `wait_for_index` it logs at
// info and also waits until it has loaded its lookup index (store/indexed_store.h), so that no
// lookup reads RocksDB (and fills its block cache) meanwhile.
Policyd StartPolicyd(const std::string& binary, const std::string& socket,
                     const std::string& data_dir, const std::string& snapshot,
                     const std::string& log, const std::vector<std::string>& extra_args = {},
                     bool wait_for_index = false);
// SIGTERM, and waits for the exit (policyd flushes the store first).
void StopPolicyd(Policyd& p);

// A store of `orgs` orgs made the way a user would: the snapshot JSON written with the production
// writer, loaded by `policyd --snapshot`, then policyd restarted on the populated data dir.
struct PreparedStore {
  int orgs = 0;
  bool kinds = false;  // with the generic kinds' rows (bench_kinds.h)
  std::vector<std::string> org_ids;
  double write_snapshot_s = 0;  // generating the snapshot file
  double load_snapshot_s = 0;   // start with --snapshot -> first answer (parse, write, flush)
  std::uintmax_t snapshot_bytes = 0, store_bytes = 0, sst_bytes = 0;
  Policyd serving;  // the second start, without --snapshot
};
// `serve_args` are added to the second start's command line. With `kinds`, the snapshot also has
// every generic kind's default and 1% own rows per kind (bench_kinds.h). `wait_for_index`: the
// second start waits for the lookup index (StartPolicyd).
PreparedStore PrepareStore(const std::string& binary, const std::string& dir,
                           const std::string& name, int orgs,
                           const std::vector<std::string>& serve_args = {}, bool kinds = false,
                           bool wait_for_index = false);

// Sends `request` (one frame) on a new connection to `socket` and decodes the answer; Fail()s,
// naming `what`, when policyd does not answer or the answer does not decode. `body`, when not
// null, receives the answer's bytes (without the length prefix).
Response AskPolicyd(const std::string& socket, const std::vector<std::uint8_t>& request,
                    const std::string& what, std::vector<std::uint8_t>* body = nullptr);

// The raw frame policyd answers to GetOrgPolicy(org_ids[index]), prefix included; Fail()s unless
// it decodes to the known org with the expected default/own flag.
std::vector<std::uint8_t> ProbeLookup(const std::string& socket,
                                      const std::vector<std::string>& org_ids, int index);
// The sizes of a GetOrgPolicies request of `batch` orgs and of policyd's answer.
void ProbeBatch(const std::string& socket, const std::string& org_id, int batch,
                std::size_t& request_bytes, std::size_t& response_bytes);

// Looks every org up once (batches of 64), as a daemon that has served for a while has: the
// scale runs compare steady states, not a cold block cache against a warm one.
void ReadEveryOrg(const std::string& socket, const std::vector<std::string>& org_ids);

// Forks an echo server of `variant` on `socket` answering `response_frame`.
pid_t StartEcho(const std::string& socket, const std::vector<std::uint8_t>& response_frame,
                const EchoVariant& variant);

struct Redis {
  pid_t pid = -1;
  std::string socket, log;
  std::string missing;  // why Redis is not measured (not installed, did not start)
  std::size_t request_bytes = 0, reply_bytes = 0;
};
// Starts `server` (a name in PATH or a path) and SETs, for every org, the bytes policyd answers
// for it (read from `policyd_socket`), so GET returns the same number of bytes as a lookup.
Redis StartRedis(const std::string& server, const std::string& dir,
                 const std::string& policyd_socket, const std::vector<std::string>& org_ids);

}  // namespace policyd::bench
