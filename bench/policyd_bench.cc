// policyd_bench: policyd side by side with its baselines, in one run on one machine (issue 5).
//
//   policyd_bench [--orgs 10000] [--seconds 2] [--rounds 3] [--out docs/benchmarks.md]
//                 [--sections compare,features,clients,kinds,scale,sync,fleet,asserts,profile]
//                 [--small-orgs 1000] [--large-orgs 1000000] [--pin-cpu N|none]
//                 [--wide-threads 16] [--fleet-followers 1,10,50] [--fleet-cold-orgs 100000]
//                 [--profile-dir DIR] [--policyd PATH] [--redis-server redis-server]
//                 [--nats-server /usr/sbin/nats-server] [--python /usr/bin/python3] [--node node]
//
// Every store is made the way a user would: a snapshot of N orgs (1% with their own policy)
// written with the production writer, loaded by `policyd --snapshot`, and policyd restarted on
// the populated data dir (READY timed on a NOTIFY_SOCKET the benchmark owns). One client loop
// (load.h) drives every server:
//   compare  policyd, the zero-work echo server (the fastest of several designs, chosen per
//            concurrency by a calibration run) and Redis GET of the same bytes: single lookups at
//            C = 1, 16, 64 and pipelined x16; batch x64 and the client library for policyd; at
//            C >= 16 also policyd with --threads 16 (--wide-threads), its own copy of the store;
//   features what optional work costs: policyd against the same store served with
//            --request-metrics false, at C = 1 and 16; and at C = 1 login-name checks against
//            the plain lookup: on random orgs without and with an '@' (the verified-domain index
//            read) and on orgs whose policy makes them read domains;
//   clients  every client library (C++, Python pure / extension / asyncio, Node) next to the
//            Redis client of its language, against the same policyd and Redis: one connection,
//            16 callers, connection per lookup (clients_bench.h; issue #16);
//   kinds    the policy kinds' lookups (issue #14) on a store of --orgs orgs with every kind:
//            one kind, and every kind in one frame, against the domain lookup (kinds_bench.h);
//   scale    single lookups at C = 1 and 16 on stores of --small-orgs and --large-orgs orgs, and of
//            --large-orgs orgs with every generic kind's default and 1% own rows per kind
//            (issue #14); READY time, RSS and size on disk of the large stores;
//   sync     events applied per second from the fake upstream (sync_rate.h);
//   fleet    fleet mode (issue #13) with real processes: one publisher and F followers over
//            nats-server: upstream requests at rest, change-to-every-follower latency, RSS, a
//            follower's cold start from a bucket of --fleet-cold-orgs orgs (fleet_bench.h);
//   asserts  what Debian's assertion-enabled RocksDB costs per read, scan and write
//            (assert_cost.h);
//   profile  where the servers' CPU goes at C = 16 (perf samples over the compare rows) and their
//            system calls per lookup at C = 1 and 16 (profile.h).
// Profiles and raw data go to --profile-dir (kept) or the temp dir (removed at exit).
// Comparisons are interleaved: R rounds, each running every server of a row in rotated order;
// the report shows medians, so drift on a noisy machine hits all servers alike. Single-connection
// runs put the client and the server on one CPU (--pin-cpu, default the last): left alone, the
// scheduler mostly does the same (the woken server takes the CPU its blocked client leaves), but
// now and then it wakes the server on the other, idle CPU, which in a VM costs tens of
// microseconds and whole timer ticks — at random, per run, whatever the server. Those rows are
// also measured unpinned, for reference.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "assert_cost.h"
#include "bench_support.h"
#include "clients_bench.h"
#include "fleet_bench.h"
#include "kinds_bench.h"
#include "load.h"
#include "profile.h"
#include "report.h"
#include "servers.h"
#include "sync_rate.h"
#include "wire/request.h"

namespace policyd::bench {
namespace {

struct Args {
  int orgs = 10'000, small_orgs = 1'000, large_orgs = 1'000'000;
  double seconds = 2.0;
  int rounds = 3;
  int wide_threads = 16;  // also measure policyd with this many threads at C >= 16; 0: not
  int pin_cpu = -2;       // single-connection runs: client and server on this CPU; -1: no pinning
  std::set<std::string> sections = {"compare", "features", "clients", "kinds",  "scale",
                                    "sync",    "fleet",    "asserts", "profile"};
  std::vector<int> fleet_followers = {1, 10, 50};
  int fleet_cold_orgs = 100'000;
  std::string nats_server = "/usr/sbin/nats-server";
  std::string out = "docs/benchmarks.md";
  std::string profile_dir;  // keep perf data here (default: the temp dir, removed)
  std::string policyd;
  std::string redis_server = "redis-server";
  std::string python = "/usr/bin/python3";  // the clients section's Python drivers
  std::string node = "node";                // ... and Node drivers
  std::string command_line;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(
      stderr,
      "policyd_bench: %s\n"
      "usage: policyd_bench [--orgs N] [--seconds S] [--rounds R] [--out FILE]\n"
      "         [--sections compare,features,clients,kinds,scale,sync,fleet,asserts,profile]\n"
      "         [--small-orgs N] [--large-orgs N] [--pin-cpu N|none] [--wide-threads N]\n"
      "         [--fleet-followers N,N,...] [--fleet-cold-orgs N] [--profile-dir DIR]\n"
      "         [--policyd PATH] [--redis-server PATH] [--nats-server PATH]\n"
      "         [--python PATH] [--node PATH]\n",
      why.c_str());
  std::exit(2);
}

int ParseCount(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (*end != '\0' || n < 1 || n > 100'000'000) Usage(flag + " must be 1..100000000");
  return static_cast<int>(n);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  a.policyd = SelfDir() + "/../src/daemon/policyd";
  a.command_line = "policyd_bench";
  for (int i = 1; i < argc; ++i) a.command_line += std::string(" ") + argv[i];
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage("missing value for " + flag);
    const std::string value = argv[i + 1];
    if (flag == "--orgs") {
      a.orgs = ParseCount(flag, value);
    } else if (flag == "--small-orgs") {
      a.small_orgs = ParseCount(flag, value);
    } else if (flag == "--large-orgs") {
      a.large_orgs = ParseCount(flag, value);
    } else if (flag == "--wide-threads") {
      a.wide_threads = value == "0" ? 0 : std::min(ParseCount(flag, value), 1024);
    } else if (flag == "--pin-cpu") {
      char* end = nullptr;
      a.pin_cpu = value == "none" ? -1 : static_cast<int>(std::strtol(value.c_str(), &end, 10));
      if (value != "none" && (*end != '\0' || a.pin_cpu < 0 || a.pin_cpu > 1023))
        Usage("--pin-cpu must be a CPU number or none");
    } else if (flag == "--rounds") {
      a.rounds = std::min(ParseCount(flag, value), 99);
    } else if (flag == "--seconds") {
      char* end = nullptr;
      a.seconds = std::strtod(value.c_str(), &end);
      if (*end != '\0' || !(a.seconds > 0 && a.seconds <= 600))
        Usage("--seconds must be in (0, 600]");
    } else if (flag == "--sections") {
      a.sections.clear();
      std::stringstream list(value);
      std::string s;
      while (std::getline(list, s, ',')) {
        if (s != "compare" && s != "features" && s != "clients" && s != "kinds" && s != "scale" &&
            s != "sync" && s != "fleet" && s != "asserts" && s != "profile")
          Usage("unknown section " + s);
        a.sections.insert(s);
      }
    } else if (flag == "--fleet-followers") {
      a.fleet_followers.clear();
      std::stringstream list(value);
      std::string n;
      while (std::getline(list, n, ',')) a.fleet_followers.push_back(ParseCount(flag, n));
      if (a.fleet_followers.empty()) Usage("--fleet-followers needs at least one count");
    } else if (flag == "--fleet-cold-orgs") {
      a.fleet_cold_orgs = ParseCount(flag, value);
    } else if (flag == "--nats-server") {
      a.nats_server = value;
    } else if (flag == "--out") {
      a.out = value;
    } else if (flag == "--profile-dir") {
      a.profile_dir = value;
    } else if (flag == "--policyd") {
      a.policyd = value;
    } else if (flag == "--redis-server") {
      a.redis_server = value;
    } else if (flag == "--python") {
      a.python = value;
    } else if (flag == "--node") {
      a.node = value;
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (a.pin_cpu == -2)
    a.pin_cpu = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) - 1;
  return a;
}

std::string OrgsLabel(int orgs) {
  std::string digits = std::to_string(orgs), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return "policyd " + out + " orgs";
}

// Everything the sections share: the main store's policyd, the echo servers, Redis.
struct Env {
  std::string dir;
  PreparedStore main;
  std::vector<EchoVariant> echo_variants;
  std::vector<std::string> echo_sockets;
  std::vector<pid_t> echo_pids;
  Redis redis;
  std::optional<PreparedStore> wide;        // policyd with --threads <wide_threads>, for C >= 16
  std::optional<PreparedStore> no_metrics;  // policyd with --request-metrics false
};

LoadSpec Spec(std::string server, std::string mode, int conns, int per_op, double seconds,
              pid_t pid, OpFactory factory, int cpu = -1) {
  return {std::move(server), std::move(mode), conns, per_op, seconds, pid, std::move(factory), cpu};
}

// Measures every echo design at C = 1, 16, 64 and picks the fastest at each.
EchoChoice CalibrateEcho(const Env& env, const Args& a) {
  EchoChoice choice;
  const double seconds = std::max(0.5, a.seconds / 2);
  for (int c : {1, 16, 64}) {
    std::vector<LoadSpec> specs;
    for (std::size_t v = 0; v < env.echo_variants.size(); ++v)
      specs.push_back(Spec(EchoVariantName(env.echo_variants[v]), "single", c, 1, seconds,
                           env.echo_pids[v],
                           FrameLookups(env.echo_sockets[v], env.main.org_ids, 1)));
    std::vector<RunResult> runs = Interleaved(specs, a.rounds);
    // C=1 is about latency (its targets are p50 and p99); higher concurrencies about throughput.
    const auto best = std::min_element(runs.begin(), runs.end(), [c](const auto& x, const auto& y) {
      return c == 1 ? x.p50 < y.p50 : x.rate > y.rate;
    });
    choice.best[c] = best->server;
    choice.runs.insert(choice.runs.end(), runs.begin(), runs.end());
  }
  return choice;
}

std::size_t EchoIndex(const Env& env, const std::string& name) {
  for (std::size_t v = 0; v < env.echo_variants.size(); ++v)
    if (EchoVariantName(env.echo_variants[v]) == name) return v;
  return 0;
}

// policyd, echo (the fastest design at C) and Redis, interleaved; with `perf_dir`, perf records
// the whole group and `profile` gets each server's share of it.
std::vector<RunResult> RunGroup(const Env& env, const Args& a, const EchoChoice& echo,
                                const std::string& mode, int c, int depth, int cpu,
                                const std::string& perf_dir = "",
                                ProfileSection* profile = nullptr) {
  const auto& ids = env.main.org_ids;
  const std::size_t e = EchoIndex(env, echo.best.at(c));
  std::vector<LoadSpec> specs = {Spec("policyd", mode, c, depth, a.seconds, env.main.serving.pid,
                                      FrameLookups(env.main.serving.socket, ids, depth), cpu),
                                 Spec("echo", mode, c, depth, a.seconds, env.echo_pids[e],
                                      FrameLookups(env.echo_sockets[e], ids, depth), cpu)};
  if (env.redis.missing.empty())
    specs.push_back(Spec("redis", mode, c, depth, a.seconds, env.redis.pid,
                         RedisGets(env.redis.socket, ids, depth), cpu));
  if (env.wide && c >= 16)
    specs.push_back(Spec("policyd --threads " + std::to_string(a.wide_threads), mode, c, depth,
                         a.seconds, env.wide->serving.pid,
                         FrameLookups(env.wide->serving.socket, ids, depth), cpu));
  std::optional<PerfRecording> perf;
  if (profile) perf.emplace(perf_dir + "/perf.data", perf_dir + "/perf.log");
  std::vector<RunResult> runs = Interleaved(specs, a.rounds);
  runs[1].note = echo.best.at(c);
  if (profile) {
    perf->Stop();
    profile->conns = c;
    std::vector<pid_t> pids;
    for (const LoadSpec& spec : specs) pids.push_back(spec.server_pid);
    profile->servers = AnalyzeProfile(*perf, runs, pids);
    if (!perf->error().empty())
      std::fprintf(stderr, "policyd_bench: no profile: %s\n", perf->error().c_str());
  }
  if (!env.redis.missing.empty()) runs.push_back(Unavailable("redis", mode, c, env.redis.missing));
  return runs;
}

// System calls per lookup of each server and of the client, counted in separate short runs.
std::vector<RunResult> CountSyscalls(const Env& env, const Args& a, const EchoChoice& echo,
                                     const std::string& dir) {
  std::vector<RunResult> out;
  const double seconds = std::max(0.5, a.seconds / 2);
  for (int c : {1, 16}) {
    const int cpu = c == 1 ? a.pin_cpu : -1;
    const std::size_t e = EchoIndex(env, echo.best.at(c));
    std::vector<LoadSpec> specs = {
        Spec("policyd", "single", c, 1, seconds, env.main.serving.pid,
             FrameLookups(env.main.serving.socket, env.main.org_ids, 1), cpu),
        Spec("echo", "single", c, 1, seconds, env.echo_pids[e],
             FrameLookups(env.echo_sockets[e], env.main.org_ids, 1), cpu)};
    if (env.redis.missing.empty())
      specs.push_back(Spec("redis", "single", c, 1, seconds, env.redis.pid,
                           RedisGets(env.redis.socket, env.main.org_ids, 1), cpu));
    for (LoadSpec& spec : specs) {
      spec.count_syscalls = true;
      spec.scratch_dir = dir;
      out.push_back(RunLoad(spec));
      if (spec.server == "echo") out.back().note = echo.best.at(c);
    }
  }
  return out;
}

std::vector<RunResult> RunCompare(const Env& env, const Args& a, const EchoChoice& echo,
                                  const std::string& perf_dir, ProfileSection* profile) {
  const auto& ids = env.main.org_ids;
  const std::string& pd = env.main.serving.socket;
  const pid_t pd_pid = env.main.serving.pid;
  std::vector<RunResult> out;
  auto add = [&out](std::vector<RunResult> runs) {
    out.insert(out.end(), runs.begin(), runs.end());
  };
  add(RunGroup(env, a, echo, "single", 1, 1, a.pin_cpu));
  add(RunGroup(env, a, echo, "single", 16, 1, -1, perf_dir, profile));
  add(RunGroup(env, a, echo, "single", 64, 1, -1));
  add(RunGroup(env, a, echo, "pipelined x16", 1, 16, a.pin_cpu));
  add(Interleaved(
      {Spec("policyd", "batch x64", 1, 64, a.seconds, pd_pid, BatchLookups(pd, ids, 64), a.pin_cpu),
       Spec("policyd", "client library", 1, 1, a.seconds, pd_pid, ClientLibraryLookups(pd, ids),
            a.pin_cpu)},
      a.rounds));
  // The same C=1 lookups left to the scheduler, for reference (the report says why the pinned
  // rows are the ones compared).
  if (a.pin_cpu >= 0) add(RunGroup(env, a, echo, "single, unpinned", 1, 1, -1));
  return out;
}

// One login-name check per operation (a Check frame, its answer) for a random org of `orgs`:
// "alice@<org>.example.com" (the org's own verified domain) with `at`, else "alice".
OpFactory LoginNameChecks(const std::string& socket, const std::vector<std::string>& orgs,
                          bool at = true) {
  return [&socket, &orgs, at](int, std::string& error) -> Op {
    auto conn = std::make_shared<Conn>();
    if (!conn->Connect(socket, error)) return nullptr;
    auto req = std::make_shared<std::vector<std::uint8_t>>();
    auto name = std::make_shared<std::string>();
    return [conn, req, name, &orgs, at, id = std::uint64_t{0}](Rng& rng) mutable {
      const std::string& org = orgs[rng.Next() % orgs.size()];
      name->assign("alice");
      if (at) name->append("@").append(org).append(".example.com");
      req->clear();
      AppendCheck(*req, ++id, CheckRequest{CheckKind::kLoginName, org, *name, false});
      return conn->WriteAll(*req) && !conn->ReadFrame().empty();
    };
  };
}

// What optional work costs a lookup: policyd as it ships against the same store served without
// request metrics, at C = 1 (pinned, latency) and C = 16 (throughput), interleaved. At C = 1 also
// login-name checks on random orgs (99% inherit the default, userLoginMustBeDomain off): "alice"
// (the policy alone) and "alice@<org>.example.com" (plus one RocksDB point read of the
// verified-domain index: has another org verified the domain?); and on the orgs with their own
// policy (half have the flag on: the org's domains are read from RocksDB).
std::vector<RunResult> RunFeatures(const Env& env, const Args& a) {
  std::vector<RunResult> out;
  const auto& ids = env.main.org_ids;
  std::vector<std::string> domain_orgs;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (HasOwnPolicy(static_cast<int>(i))) domain_orgs.push_back(ids[i]);
  for (int c : {1, 16}) {
    const int cpu = c == 1 ? a.pin_cpu : -1;
    std::vector<LoadSpec> specs = {Spec("policyd", "single", c, 1, a.seconds, env.main.serving.pid,
                                        FrameLookups(env.main.serving.socket, ids, 1), cpu),
                                   Spec("policyd --request-metrics false", "single", c, 1,
                                        a.seconds, env.no_metrics->serving.pid,
                                        FrameLookups(env.no_metrics->serving.socket, ids, 1), cpu)};
    if (c == 1) {
      specs.push_back(Spec("policyd login-name check, no '@'", "single", c, 1, a.seconds,
                           env.main.serving.pid,
                           LoginNameChecks(env.main.serving.socket, ids, false), cpu));
      specs.push_back(Spec("policyd login-name check, index read", "single", c, 1, a.seconds,
                           env.main.serving.pid, LoginNameChecks(env.main.serving.socket, ids),
                           cpu));
      specs.push_back(Spec("policyd login-name check, domains read", "single", c, 1, a.seconds,
                           env.main.serving.pid,
                           LoginNameChecks(env.main.serving.socket, domain_orgs), cpu));
    }
    std::vector<RunResult> runs = Interleaved(specs, a.rounds);
    out.insert(out.end(), runs.begin(), runs.end());
  }
  return out;
}

// The scale stores: --small-orgs and --large-orgs orgs, and --large-orgs orgs with the generic
// kinds (issue #14: every kind's default and 1% own rows per kind, bench_kinds.h), all restarted
// on their populated data dirs; lookups interleaved, RSS after them.
void RunScale(const Args& a, const std::string& binary, const std::string& dir, BenchResults& r) {
  std::fprintf(stderr, "policyd_bench: scale: stores of %d and %d orgs, and %d with kinds\n",
               a.small_orgs, a.large_orgs, a.large_orgs);
  PreparedStore small = PrepareStore(binary, dir, "small", a.small_orgs);
  // The two large stores wait for their lookup index before any lookup (StartPolicyd): their
  // RSS then differs by what the kinds cost, not by how much of RocksDB's block cache the first
  // lookups happened to fill while the index loaded.
  PreparedStore large = PrepareStore(binary, dir, "large", a.large_orgs, {}, false, true);
  PreparedStore kinds = PrepareStore(binary, dir, "kinds", a.large_orgs, {}, true, true);
  for (const PreparedStore* s : {&large, &kinds})
    std::fprintf(stderr,
                 "policyd_bench: %d orgs%s: snapshot written in %.2f s, loaded in %.2f s; "
                 "restart: READY after %.3f s, index loaded after %.3f s (%s), RSS then %ld kB\n",
                 s->orgs, s->kinds ? " with kinds" : "", s->write_snapshot_s, s->load_snapshot_s,
                 s->serving.ready_s, s->serving.index_s, s->serving.index_line.c_str(),
                 s->serving.index_rss_kb);
  ReadEveryOrg(small.serving.socket, small.org_ids);
  ReadEveryOrg(large.serving.socket, large.org_ids);
  ReadEveryOrg(kinds.serving.socket, kinds.org_ids);
  for (int c : {1, 16}) {
    const int cpu = c == 1 ? a.pin_cpu : -1;
    std::vector<RunResult> runs = Interleaved(
        {Spec(OrgsLabel(a.small_orgs), "single", c, 1, a.seconds, small.serving.pid,
              FrameLookups(small.serving.socket, small.org_ids, 1), cpu),
         Spec(OrgsLabel(a.large_orgs), "single", c, 1, a.seconds, large.serving.pid,
              FrameLookups(large.serving.socket, large.org_ids, 1), cpu),
         Spec(OrgsLabel(a.large_orgs) + kKindsLabel, "single", c, 1, a.seconds, kinds.serving.pid,
              FrameLookups(kinds.serving.socket, kinds.org_ids, 1), cpu)},
        a.rounds);
    r.scale.insert(r.scale.end(), runs.begin(), runs.end());
  }
  r.small_store = FactsOf(small);
  r.large_store = FactsOf(large);
  r.kinds_store = FactsOf(kinds);
  r.small_store->rss_kb = RssKb(small.serving.pid);
  r.large_store->rss_kb = RssKb(large.serving.pid);
  r.kinds_store->rss_kb = RssKb(kinds.serving.pid);
  StopPolicyd(small.serving);
  StopPolicyd(large.serving);
  StopPolicyd(kinds.serving);
}

Env SetUp(const Args& a, BenchResults& r) {
  Env env;
  env.dir = MakeTempDir();
  std::fprintf(stderr, "policyd_bench: store of %d orgs in %s\n", a.orgs, env.dir.c_str());
  env.main = PrepareStore(a.policyd, env.dir, "main", a.orgs);
  r.main_store = FactsOf(env.main);
  const std::string& sock = env.main.serving.socket;
  const std::vector<std::uint8_t> response =
      ProbeLookup(sock, env.main.org_ids, a.orgs > 1 ? 1 : 0);
  r.sizes.default_response = response.size();
  r.sizes.own_response = ProbeLookup(sock, env.main.org_ids, 0).size();
  std::vector<std::uint8_t> req;
  AppendGetOrgPolicy(req, 1, env.main.org_ids[0], false);
  r.sizes.request = req.size();
  ProbeBatch(sock, env.main.org_ids[a.orgs / 2], 64, r.sizes.batch_request, r.sizes.batch_response);
  env.echo_variants = AllEchoVariants(r.machine.cpus);
  for (std::size_t v = 0; v < env.echo_variants.size(); ++v) {
    env.echo_sockets.push_back(env.dir + "/echo" + std::to_string(v) + ".sock");
    env.echo_pids.push_back(StartEcho(env.echo_sockets.back(), response, env.echo_variants[v]));
  }
  if (a.wide_threads > 0 && (a.sections.count("compare") || a.sections.count("profile")))
    env.wide = PrepareStore(a.policyd, env.dir, "wide", a.orgs,
                            {"--threads", std::to_string(a.wide_threads)});
  if (a.sections.count("features"))
    env.no_metrics =
        PrepareStore(a.policyd, env.dir, "nometrics", a.orgs, {"--request-metrics", "false"});
  std::fprintf(stderr, "policyd_bench: loading Redis\n");
  env.redis = StartRedis(a.redis_server, env.dir, sock, env.main.org_ids);
  r.sizes.redis_missing = env.redis.missing;
  r.sizes.redis_request = env.redis.request_bytes;
  r.sizes.redis_reply = env.redis.reply_bytes;
  if (!env.redis.missing.empty())
    std::fprintf(stderr, "policyd_bench: redis: not available (%s)\n", env.redis.missing.c_str());
  return env;
}

void RunFleet(const Args& a, const std::string& dir, BenchResults& r) {
  FleetOptions& o = r.fleet_options;
  o.policyd = a.policyd;
  o.nats_server = a.nats_server;
  o.dir = dir + "/fleet";
  o.followers = a.fleet_followers;
  o.cold_orgs = a.fleet_cold_orgs;
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (access(o.nats_server.c_str(), X_OK) != 0) {
    r.fleet.emplace();
    r.fleet->error = o.nats_server + " not found (scripts/install-deps.sh installs nats-server)";
    return;
  }
  r.fleet = MeasureFleet(o);
  if (!r.fleet->error.empty())
    std::fprintf(stderr, "policyd_bench: fleet: %s\n", r.fleet->error.c_str());
}

ClientsResults RunClientsSection(const Env& env, const Args& a) {
  ClientsOptions o;
  o.source_dir = POLICYD_SOURCE_DIR;
  o.python_native_dir = POLICYD_PYTHON_NATIVE_DIR;
  o.work_dir = env.dir;
  o.policyd_socket = env.main.serving.socket;
  o.policyd_pid = env.main.serving.pid;
  o.redis_socket = env.redis.socket;
  o.redis_pid = env.redis.pid;
  o.redis_missing = env.redis.missing;
  o.org_ids = &env.main.org_ids;
  o.seconds = a.seconds;
  o.rounds = a.rounds;
  o.cpu = a.pin_cpu;
  o.python = a.python;
  o.node = a.node;
  return RunClients(o);
}

bool WriteReport(const std::string& path, const std::string& report) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary);
  out << report;
  out.close();
  return static_cast<bool>(out);
}

}  // namespace
}  // namespace policyd::bench

int main(int argc, char** argv) {
  using namespace policyd::bench;
  const auto start = std::chrono::steady_clock::now();
  const Args a = ParseArgs(argc, argv);
  InstallCleanupHandlers();
  BenchResults r;
  r.command_line = a.command_line;
  r.machine = DescribeMachine();
  r.seconds = a.seconds;
  r.rounds = a.rounds;
  r.pin_cpu = a.pin_cpu;
  r.load_before = LoadAverage();

  // The main store, the echo servers and Redis serve the lookup sections only.
  const bool needs_main = a.sections.count("compare") || a.sections.count("features") ||
                          a.sections.count("clients") || a.sections.count("profile");
  Env env;
  if (needs_main) {
    env = SetUp(a, r);
  } else {
    env.dir = MakeTempDir();
  }
  const bool needs_echo = a.sections.count("compare") || a.sections.count("profile");
  if (needs_echo) {
    std::fprintf(stderr, "policyd_bench: echo designs, %d rounds\n", a.rounds);
    r.echo = CalibrateEcho(env, a);
  }
  // Profiles and their raw data go to --profile-dir when given (kept), else the temp dir.
  const std::string work_dir = a.profile_dir.empty() ? env.dir : a.profile_dir;
  if (!a.profile_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(work_dir, ec);
  }
  const bool profile = a.sections.count("profile") > 0;
  if (profile) r.profile.emplace();
  ProfileSection* p = profile ? &*r.profile : nullptr;
  if (a.sections.count("compare")) {
    std::fprintf(stderr, "policyd_bench: compare, %d rounds of %g s\n", a.rounds, a.seconds);
    r.compare = RunCompare(env, a, r.echo, work_dir, p);
  } else if (profile) {
    std::fprintf(stderr, "policyd_bench: profile at C=16, %d rounds of %g s\n", a.rounds,
                 a.seconds);
    r.compare = RunGroup(env, a, r.echo, "single", 16, 1, -1, work_dir, p);
  }
  if (profile) {
    std::fprintf(stderr, "policyd_bench: counting system calls\n");
    r.profile->syscalls = CountSyscalls(env, a, r.echo, work_dir);
  }
  if (a.sections.count("features")) {
    std::fprintf(stderr, "policyd_bench: features, %d rounds of %g s\n", a.rounds, a.seconds);
    r.features = RunFeatures(env, a);
    StopPolicyd(env.no_metrics->serving);
  }
  if (a.sections.count("clients")) r.clients = RunClientsSection(env, a);
  if (a.sections.count("kinds")) {
    r.kinds = RunKindLookups(a.policyd, env.dir, a.orgs, a.seconds, a.rounds, a.pin_cpu);
    r.kinds_orgs = a.orgs;
  }
  if (a.sections.count("scale")) RunScale(a, a.policyd, env.dir, r);
  if (a.sections.count("sync")) {
    std::fprintf(stderr, "policyd_bench: sync\n");
    r.sync = MeasureSyncRate(env.dir, 1000, 50);
  }
  if (a.sections.count("fleet")) RunFleet(a, env.dir, r);
  if (a.sections.count("asserts")) {
    std::fprintf(stderr, "policyd_bench: RocksDB assertion cost (callgrind)\n");
    r.asserts = MeasureAssertCost(SelfDir() + "/store_loop", a.orgs, work_dir);
  }
  r.load_after = LoadAverage();
  if (needs_main) {
    r.main_store.rss_kb = RssKb(env.main.serving.pid);
    StopPolicyd(env.main.serving);
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string report = Report(r);
  std::fputs(report.c_str(), stdout);
  std::fflush(stdout);
  Cleanup();
  if (!WriteReport(a.out, report)) {
    std::fprintf(stderr, "policyd_bench: cannot write %s\n", a.out.c_str());
    return 1;
  }
  std::fprintf(stderr, "policyd_bench: wrote %s after %.0f s\n", a.out.c_str(), r.wall_seconds);
  bool errors = false;
  for (const auto& run : r.compare) errors = errors || run.errors > 0;
  for (const auto& run : r.scale) errors = errors || run.errors > 0;
  for (const auto& run : r.features) errors = errors || run.errors > 0;
  for (const auto& run : r.kinds) errors = errors || run.errors > 0;
  if (r.clients)
    for (const auto& run : r.clients->rows) errors = errors || run.errors > 0;
  return errors ? 1 : 0;
}
