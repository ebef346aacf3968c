// policyd: the composition root. Opens the store, loads a snapshot if asked, serves the socket,
// and shuts down cleanly on SIGINT/SIGTERM.
#include <signal.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "connect/connect_api.h"
#include "daemon/config.h"
#include "daemon/fleet_mode.h"
#include "daemon/observability.h"
#include "daemon/reload.h"
#include "daemon/systemd.h"
#include "http/compat_routes.h"
#include "http/http_server.h"
#include "http/kind_routes.h"
#include "json/snapshot_json.h"
#include "metrics/endpoints.h"
#include "server/server.h"
#include "server/serving_state.h"
#include "store/indexed_store.h"
#include "store/store.h"
#include "sync/syncer.h"
#include "upstream/upstream.h"
#include "webhook/listener.h"

namespace policyd {
namespace {

// "<N>" sd-daemon priority prefix, so journald files each line under its syslog priority.
class JournalPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", ""};
    const auto level = static_cast<std::size_t>(msg.level);
    const std::string_view prefix = level < std::size(kPrefix) ? kPrefix[level] : "<6>";
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriorityFlag>();
  }
};

// One line per event on stderr. Under journald (JOURNAL_STREAM is set) lines carry sd-daemon
// priority prefixes and no timestamp (the journal adds its own); elsewhere a timestamp and level.
void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("policyd");
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    formatter->add_flag<JournalPriorityFlag>('*').set_pattern("%*%v");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::InvalidArgument("cannot open " + path));
  std::ostringstream content;
  content << in.rdbuf();
  if (!in.good() && !in.eof()) return Err(Status::InvalidArgument("cannot read " + path));
  return content.str();
}

Status LoadSnapshot(Store& store, const std::string& path, const Clock& clock) {
  Result<std::string> text = ReadFile(path);
  if (!text) return text.error();
  Result<Snapshot> snapshot = ParseSnapshot(*text);
  if (!snapshot) return snapshot.error().WithContext("snapshot " + path);
  snapshot->version = SourceVersion{NewestChangeDate(*snapshot), {}, 0};
  POLICYD_RETURN_IF_ERROR(store.Replace(*snapshot, "", "snapshot:" + path, clock.Now()));
  // Lookups then read sorted files with bloom filters instead of one big memtable, and the next
  // start does not replay the snapshot from the write-ahead log.
  POLICYD_RETURN_IF_ERROR(store.Flush());
  spdlog::info("loaded snapshot {}: instance {}, {} orgs", path, snapshot->instance.id,
               snapshot->orgs.size());
  return Status::Ok();
}

// One line for systemd's STATUS=: what the daemon is doing, in words an operator reads; the
// same words /readyz answers with (metrics/endpoints.h).
std::string StatusLine(const Store& store, const ServingState& state, const Clock& clock) {
  Result<StoreMeta> meta = store.Meta();
  if (!meta) return "store unreadable: " + meta.error().ToString();
  ServerStatus s;
  s.meta = *meta;
  state.FillStatus(clock.Now(), s);
  return metrics::HealthSummary(s);
}

http::HttpServerOptions HttpServerOptionsFor(const DaemonConfig& config) {
  http::HttpServerOptions options;
  options.socket.path = config.http_socket;
  options.socket.mode = config.http_socket_mode;
  options.socket.owner = config.socket_owner;
  options.socket.group = config.socket_group;
  options.socket.backlog = 128;
  return options;
}

sigset_t ShutdownAndReloadSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// The arguments policyd was started with, re-parsed on SIGHUP (which re-reads --config).
std::vector<std::string> g_args;

// SIGHUP: re-reads the configuration and applies what can change at run time. A configuration
// that does not parse changes nothing.
void Reload(DaemonConfig& running, Server& server, Syncer* syncer, Upstream* upstream,
            webhook::WebhookListener* webhook) {
  Notify("RELOADING=1");
  std::vector<char*> argv;
  for (std::string& a : g_args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Parse errors go to stderr as one line, like at start-up.
  ParsedArgs parsed =
      ParseDaemonArgs(static_cast<int>(g_args.size()), argv.data(), POLICYD_VERSION);
  if (!parsed.config) {
    spdlog::error("reload failed: the configuration does not parse; keeping the current one");
    return;
  }
  const DaemonConfig& fresh = *parsed.config;
  const ReloadPlan plan = PlanReload(running, fresh);
  std::vector<std::string> applied;
  if (plan.log_level) {
    spdlog::set_level(spdlog::level::from_str(fresh.log_level));
    running.log_level = fresh.log_level;
    applied.push_back("log-level");
  }
  if (plan.poll_interval && syncer != nullptr) {
    syncer->SetPollInterval(fresh.poll_interval);
    running.poll_interval = fresh.poll_interval;
    applied.push_back("poll-interval");
  }
  if (plan.peers) {
    server.SetPeerPolicy(PeerPolicy{fresh.allow_uids, fresh.allow_gids});
    running.allow_uids = fresh.allow_uids;
    running.allow_gids = fresh.allow_gids;
    applied.push_back("peer allowlist");
  }
  if (plan.max_connections) {
    const ConnectionLimits in_effect = server.SetConnectionLimits(
        {fresh.max_connections, fresh.max_connections_per_peer, fresh.reserved_connections});
    running.max_connections = fresh.max_connections;
    running.max_connections_per_peer = fresh.max_connections_per_peer;
    running.reserved_connections = fresh.reserved_connections;
    applied.push_back("max-connections (" + std::to_string(in_effect.max_connections) +
                      "), max-connections-per-peer (" + std::to_string(in_effect.max_per_peer) +
                      "), reserved-connections (" + std::to_string(in_effect.reserved) + ")");
  }
  if (plan.credentials && upstream != nullptr) {
    if (Status s = upstream->ReloadCredentials(); s.ok()) {
      applied.push_back("credentials");
      if (syncer != nullptr) syncer->Wake();
    } else {
      spdlog::error("reload: keeping the old credentials: {}", s.ToString());
    }
  }
  if (plan.webhook_key && webhook != nullptr) {
    if (Result<std::string> key = webhook::LoadSigningKey(running.webhook_signing_key_file); key) {
      webhook->SetKey(std::move(*key));
      applied.push_back("webhook signing key");
    } else {
      spdlog::error("reload: keeping the old webhook signing key: {}", key.error().ToString());
    }
  }
  for (const std::string& key : plan.needs_restart) {
    spdlog::warn("reload: {} changed but needs a restart to take effect", key);
  }
  std::string list;
  for (const std::string& a : applied) list += (list.empty() ? "" : ", ") + a;
  spdlog::info("reloaded: {}", list.empty() ? "nothing changed" : list);
}

int Run(const DaemonConfig& config) {
  const Clock& clock = SystemClock();
  // The webhook signing key, read first: a bad key file stops the start with one line.
  std::string webhook_key;
  if (!config.webhook_listen.empty()) {
    Result<std::string> key = webhook::LoadSigningKey(config.webhook_signing_key_file);
    if (!key) {
      spdlog::critical("{}", key.error().ToString());
      return kExitConfig;
    }
    webhook_key = std::move(*key);
  }
  StoreOptions store_options;
  store_options.block_cache_bytes = config.block_cache_mb << 20;
  Result<std::unique_ptr<Store>> store = OpenRocksStore(config.data_dir, store_options);
  if (!store) {
    spdlog::critical("{}", store.error().ToString());
    // A data dir that is not ours, not writable or damaged will not fix itself: no restart loop.
    const Code code = store.error().code();
    return code == Code::kFailedPrecondition || code == Code::kDataLoss ? kExitConfig : 1;
  }
  if (!config.snapshot.empty()) {
    // (A publisher's first full pass publishes what this loads: it does not need the feed.)
    if (Status s = LoadSnapshot(**store, config.snapshot, clock); !s.ok()) {
      spdlog::critical("{}", s.ToString());
      return s.code() == Code::kInvalidArgument ? kExitConfig : 1;
    }
  }
  // Lookups are answered from an in-memory index of the store, loaded in the background:
  // until it is complete they read RocksDB, so start-up does not wait for it.
  *store = WithMemoryIndex(std::move(*store), [](const IndexLoad& load) {
    if (load.status.ok()) {
      spdlog::info(
          "lookup index loaded: {} orgs, {} own rows of other policy kinds, {} MiB, in {} ms",
          load.orgs, load.kind_rows, load.bytes >> 20, load.took.count());
    } else {
      spdlog::error("lookup index not loaded, lookups keep reading the store: {}",
                    load.status.ToString());
    }
  });
  Result<StoreMeta> meta = (*store)->Meta();
  if (!meta) {
    spdlog::critical("{}", meta.error().ToString());
    return 1;
  }
  // Fleet mode (--publish-to or --follow): a publisher's sync writes through its change feed; a
  // follower's data is as fresh as the publishers' last sync it has read.
  std::unique_ptr<FleetMode> fleet = FleetMode::Make(config, **store, clock);
  Store& writer_store = fleet ? fleet->writer_store() : **store;
  const std::string freshness_source =
      fleet && fleet->follower() ? fleet->freshness_source() : config.upstream;
  ServingState state(
      FreshnessOptions{freshness_source, config.max_staleness, config.refuse_when_stale});
  // Data synced from this upstream is as fresh as its last sync; data from anywhere else
  // (a snapshot, another upstream) counts as never synced until the first cold start. A
  // follower records its own (Follower::Start).
  if (config.follow.empty() && (config.upstream.empty() || meta->source == config.upstream)) {
    state.RecordSync(meta->last_sync);
  }
  std::unique_ptr<Upstream> upstream;
  std::unique_ptr<Syncer> syncer;
  if (!config.upstream.empty()) {
    UpstreamOptions upstream_options;
    upstream_options.base_url = config.upstream;
    upstream_options.token_file = config.token_file;
    upstream_options.key_file = config.key_file;
    upstream_options.ca_file = config.ca_file;
    upstream_options.connect_timeout = config.connect_timeout;
    upstream_options.total_timeout = config.request_timeout;
    upstream_options.user_agent = std::string("policyd/") + POLICYD_VERSION;
    Result<std::unique_ptr<Upstream>> made = MakeHttpUpstream(upstream_options, clock);
    if (!made) {
      spdlog::critical("{}", made.error().ToString());
      return kExitConfig;
    }
    upstream = std::move(*made);
    SyncOptions sync_options;
    sync_options.source = config.upstream;
    sync_options.poll_interval = config.poll_interval;
    syncer = std::make_unique<Syncer>(writer_store, *upstream, state, clock, sync_options);
  }

  Result<std::optional<int>> activated = SocketFromSystemd();
  if (!activated) {
    spdlog::critical("{}", activated.error().ToString());
    return kExitConfig;
  }
  ServerOptions options;
  if (*activated) options.listen_fd = **activated;
  // WATCHDOG=1 at half of WatchdogSec; STATUS= refreshed at least every 5 s.
  const std::optional<std::chrono::milliseconds> watchdog = WatchdogInterval();
  options.heartbeat_interval = std::min<std::chrono::milliseconds>(
      watchdog.value_or(std::chrono::seconds(5)), std::chrono::seconds(5));
  options.on_heartbeat = [&store = **store, &state, &clock, watchdog,
                          last = std::string()]() mutable {
    if (watchdog) Notify("WATCHDOG=1");
    std::string line = StatusLine(store, state, clock);
    if (line != last) {
      Notify("STATUS=" + line);
      last = std::move(line);
    }
  };
  options.socket.path = config.socket_path;
  options.socket.owner = config.socket_owner;
  options.socket.group = config.socket_group;
  options.peers = PeerPolicy{config.allow_uids, config.allow_gids};
  options.socket.mode = config.socket_mode;
  options.threads = config.threads;
  options.max_frame_bytes = config.max_frame_bytes;
  options.idle_timeout = config.idle_timeout;
  options.frame_timeout = config.frame_timeout;
  options.max_connections = config.max_connections;
  options.max_connections_per_peer = config.max_connections_per_peer;
  options.reserved_connections = config.reserved_connections;
  options.max_inflight = config.max_inflight;
  options.count_requests = config.request_metrics;
  options.drain_timeout = config.drain_timeout;
  options.version = POLICYD_VERSION;
  // The webhook listener, when asked for (it serves from WebhookListener::Start, below).
  std::unique_ptr<webhook::WebhookListener> webhook;
  if (!config.webhook_listen.empty()) {
    webhook::ListenerOptions webhook_options;
    webhook_options.now_unix = [&clock] { return clock.Now().seconds; };
    webhook_options.on_valid = [sync = syncer.get()] { sync->Nudge(); };
    webhook = std::make_unique<webhook::WebhookListener>(std::move(webhook_key), webhook_options);
  }
  options.more_counters = [sync = syncer.get(), hook = webhook.get()](DaemonCounters& c) {
    if (sync != nullptr) AddSyncCounters(*sync, c);
    if (hook != nullptr) hook->AddCounters(c.webhook_requests);
  };
  Server server(options, **store, state, clock);
  // Metrics and health over HTTP, when asked for: bound before the socket is served, so a port
  // that cannot be had stops the start with nothing to undo.
  ObservabilityOptions observability_options;
  observability_options.version = POLICYD_VERSION;
  observability_options.rocksdb_version = POLICYD_ROCKSDB_VERSION;
  observability_options.data_dir = config.data_dir;
  observability_options.max_staleness = config.max_staleness;
  if (webhook) {
    observability_options.more_counters = [hook = webhook.get()](DaemonCounters& c) {
      hook->AddCounters(c.webhook_requests);
    };
  }
  Observability observability(**store, state, clock, server, syncer.get(),
                              std::move(observability_options));
  if (!config.metrics_listen.empty()) {
    if (Status s = observability.StartListener(config.metrics_listen); !s.ok()) {
      spdlog::critical("{}", s.ToString());
      return 1;
    }
    const std::string host = metrics::ParseListenAddress(config.metrics_listen)->host;
    spdlog::info("serving /metrics, /healthz and /readyz over HTTP on {}:{}",
                 host.find(':') == std::string::npos ? host : "[" + host + "]",
                 observability.listener_port());
  }
  if (webhook) {
    if (Status s = webhook->Start(config.webhook_listen); !s.ok()) {
      spdlog::critical("{}", s.ToString());
      return 1;
    }
    spdlog::info("accepting signed ZITADEL event deliveries on {} (port {}) as sync wake-ups",
                 config.webhook_listen, webhook->port());
  }
  // The upstream-compatible HTTP/JSON reads, when asked for: bound before the lookup socket is
  // served, so a socket that cannot be had stops the start with nothing to undo.
  http::Router http_routes;
  const http::CompatApi compat_api(**store, state, clock, config.upstream);
  compat_api.AddRoutes(http_routes);
  const http::KindApi kind_api(**store, state, clock, config.upstream);
  kind_api.AddRoutes(http_routes);
  // The same reads as Connect unary calls (ZITADEL's TypeScript SDK), answered by the routes above.
  if (Status s = connect::ConnectApi::AddRoutes(http_routes); !s.ok()) {
    spdlog::critical("{}", s.ToString());
    return 1;
  }
  AddObservabilityRoutes(observability.endpoints(), http_routes);  // /metrics, /healthz, /readyz
  http::HttpServer http_server(http_routes, HttpServerOptionsFor(config));
  if (!config.http_socket.empty()) {
    if (Status s = http_server.Start(); !s.ok()) {
      spdlog::critical("{}", s.ToString());
      return s.code() == Code::kInternal ? 1 : kExitConfig;
    }
    spdlog::info("serving the upstream's policy reads over HTTP on {}", config.http_socket);
  }
  // Fleet mode: returns at once (NATS is reached in the background); a credentials or CA file
  // that cannot be read stops the start.
  if (fleet) {
    if (Status s = fleet->Start(state); !s.ok()) {
      spdlog::critical("{}", s.ToString());
      return s.code() == Code::kInvalidArgument ? kExitConfig : 1;
    }
  }
  if (Status s = server.Start(); !s.ok()) {
    spdlog::critical("{}", s.ToString());
    return s.code() == Code::kInternal ? 1 : kExitConfig;
  }
  spdlog::info("policyd {} serving {} orgs ({} with their own policy) on {} with {} threads",
               POLICYD_VERSION, meta->org_count, meta->custom_policy_count,
               options.listen_fd >= 0 ? "the socket systemd passed" : config.socket_path,
               server.thread_count());
  // The store is open and the socket listening: clients that connect now wait in the backlog
  // until the serving threads start, an instant later.
  Notify("READY=1\nSTATUS=" + StatusLine(**store, state, clock));
  if (syncer) {
    spdlog::info("syncing from {} every {} ms", config.upstream, config.poll_interval.count());
    syncer->Start();
  }

  // Signals are taken by one thread with sigwait, so no handler runs inside the server's threads.
  DaemonConfig running = config;
  std::thread signals([&] {
    sigset_t set = ShutdownAndReloadSignals();
    for (;;) {
      int signal_number = 0;
      if (sigwait(&set, &signal_number) != 0) continue;
      if (signal_number == SIGHUP) {
        Reload(running, server, syncer.get(), upstream.get(), webhook.get());
        Notify("READY=1\nSTATUS=" + StatusLine(**store, state, clock));
        continue;
      }
      spdlog::info("received {}, shutting down", strsignal(signal_number));
      Notify("STOPPING=1");
      server.Stop();
      return;
    }
  });
  server.Run();
  signals.join();
  http_server.Stop();
  if (webhook) webhook->Stop();
  observability.Stop();
  if (syncer) syncer->Stop();
  if (fleet) fleet->Stop();
  if (Status s = (*store)->Flush(); !s.ok()) spdlog::error("flush at exit: {}", s.ToString());
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace policyd

int main(int argc, char** argv) {
  // Block the shutdown and reload signals before any thread starts; one thread waits for them.
  sigset_t set = policyd::ShutdownAndReloadSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  policyd::g_args.assign(argv, argv + argc);
  signal(SIGPIPE, SIG_IGN);
  // A write past a file-size limit (RLIMIT_FSIZE, LimitFSIZE=) then fails with EFBIG, which the
  // store survives like a full disk, instead of killing the daemon.
  signal(SIGXFSZ, SIG_IGN);

  policyd::ParsedArgs args = policyd::ParseDaemonArgs(argc, argv, POLICYD_VERSION);
  if (!args.config) return args.exit_code;
  policyd::SetUpLogging(args.config->log_level);
  // With a token or key in memory, no core dump and no same-user ptrace or /proc/PID/mem: the
  // secret must not end up in a crash file or be read by another process of the same user.
  if (!args.config->token_file.empty() || !args.config->key_file.empty() ||
      !args.config->webhook_signing_key_file.empty()) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  return policyd::Run(*args.config);
}
