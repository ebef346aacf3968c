#include "server/server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "server/limits.h"
#include "server/session.h"
#include "wire/response.h"

namespace policyd {
namespace {

using UnixSocket = asio::local::stream_protocol;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// One io_context run by one thread; its connections are only touched on that thread.
struct Worker {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::list<std::shared_ptr<Connection>> connections;
  std::optional<asio::steady_timer> heartbeat;
  std::atomic<std::int64_t> last_tick_ms{0};
  RequestMetrics metrics;  // written only by this worker's thread
  // Connections given to this worker and not yet ended (set by the accept loop, lowered here).
  std::atomic<std::size_t> serving{0};
};

std::int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void LogIfFailed(std::string_view what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{} failed: {}", what, ex.what());
  }
}

// The uid a connection is counted under; an unknown peer (SO_PEERCRED failed) counts as uid -1,
// which no user has, and is not privileged.
uid_t PeerUid(const ucred& cred, bool known) { return known ? cred.uid : static_cast<uid_t>(-1); }

// Logs refusals once per burst, so that a storm is two lines however long it lasts. A
// max-connections burst ends when any connection is admitted, a reserved-places burst when an
// ordinary peer's is, a per-peer burst (one per uid) when that uid's is. At most kMaxUids uids
// are followed at once; refusals of further uids are counted but not logged.
class RefusalLog {
 public:
  static constexpr std::size_t kMaxUids = 1024;

  void Refused(Refusal why, const ConnectionLimits& limits, uid_t uid) {
    if (why == Refusal::kMaxConnections && max_.Add()) {
      spdlog::warn(
          "connection limit of {} reached (--max-connections); refusing new connections with "
          "RESOURCE_EXHAUSTED",
          limits.max_connections);
    } else if (why == Refusal::kReserved && reserved_.Add()) {
      spdlog::warn(
          "only the {} reserved places of --max-connections {} are left; refusing connections "
          "from uids other than root and policyd's own with RESOURCE_EXHAUSTED "
          "(--reserved-connections)",
          limits.max_connections - OrdinaryPlaces(limits), limits.max_connections);
    } else if (why == Refusal::kPerPeer &&
               (per_peer_.size() < kMaxUids || per_peer_.contains(uid)) && per_peer_[uid].Add()) {
      spdlog::warn(
          "uid {} holds its maximum of {} connections (--max-connections-per-peer); refusing "
          "its new connections with RESOURCE_EXHAUSTED",
          uid, limits.max_per_peer);
    }
  }

  void Admitted(uid_t uid, bool privileged) {
    if (const std::uint64_t n = max_.End(); n > 0) {
      spdlog::info("below the connection limit again; refused {} connections meanwhile", n);
    }
    if (const std::uint64_t n = privileged ? 0 : reserved_.End(); n > 0) {
      spdlog::info("ordinary places free again; refused {} connections meanwhile (reserved)", n);
    }
    if (auto it = per_peer_.find(uid); it != per_peer_.end()) {
      spdlog::info("uid {} below its per-peer limit again; refused {} connections meanwhile", uid,
                   it->second.count());
      per_peer_.erase(it);
    }
  }

 private:
  BurstCount max_, reserved_;
  std::unordered_map<uid_t, BurstCount> per_peer_;
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, const Store& s, const ServingState& st, const Clock& c)
      : options(std::move(o)), store(s), state(st), clock(c), started(c.Now()) {
    unsigned n = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
    workers.reserve(n == 0 ? 1 : n);
    for (unsigned i = 0; i < std::max(1u, n); ++i) workers.push_back(std::make_unique<Worker>());
    acceptor.emplace(workers[0]->io);
    peers = std::make_shared<const PeerPolicy>(options.peers);
    counters_source = [this](DaemonCounters& out) {
      FillCounters(out);
      if (options.more_counters) options.more_counters(out);
    };
  }

  void FillCounters(DaemonCounters& c) const {
    c.started = started;
    for (const auto& w : workers) w->metrics.AddTo(c);
    std::sort(c.requests.begin(), c.requests.end(),
              [](const RequestCount& a, const RequestCount& b) {
                return std::tie(a.kind, a.code) < std::tie(b.kind, b.code);
              });
    c.connections_open += connections.open();
    c.connections_accepted += accepted.load(std::memory_order_relaxed);
    c.rejected_max_connections += refused_max.load(std::memory_order_relaxed);
    c.rejected_per_peer += refused_per_peer.load(std::memory_order_relaxed);
    c.rejected_reserved += refused_reserved.load(std::memory_order_relaxed);
    c.rejected_peer += denied.load(std::memory_order_relaxed);
  }

  // Checks the peer (`known`: whether SO_PEERCRED gave `cred`) against the allowlist; a denied
  // peer gets PERMISSION_DENIED and is closed.
  asio::awaitable<bool> Admit(UnixSocket::socket& socket, ucred cred, bool known) {
    std::shared_ptr<const PeerPolicy> policy = std::atomic_load(&peers);
    if (!policy->enabled()) co_return true;
    // The peer's supplementary groups, so that clients in SupplementaryGroups= can be allowed.
    std::array<gid_t, 256> groups{};
    socklen_t groups_len = sizeof(groups);
    std::size_t group_count = 0;
    if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERGROUPS, groups.data(), &groups_len) ==
        0) {
      group_count = groups_len / sizeof(gid_t);
    }
    if (known && policy->Permits(cred.uid, cred.gid, {groups.data(), group_count})) {
      co_return true;
    }
    denied.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(denied_mu);
      // One log line per denied uid, so a misbehaving client cannot flood the journal.
      if (denied_uids.insert(known ? cred.uid : static_cast<uid_t>(-1)).second) {
        spdlog::warn("denied a connection from uid {} gid {} pid {} (not in the peer allowlist)",
                     cred.uid, cred.gid, cred.pid);
      }
    }
    std::vector<std::uint8_t> out;
    ResponseEncoder encoder;
    encoder.AppendError(out, 0,
                        Status::PermissionDenied("uid " + std::to_string(cred.uid) +
                                                 " may not use this policyd socket"));
    co_await asio::async_write(socket, asio::buffer(out), kNoThrow);
    asio::error_code ignored;
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
    co_return false;
  }

  // Ends a connection's place in `connections` however its coroutine ends (even destroyed
  // unfinished when the drain deadline stops the io_context).
  struct Counted {
    Counted(ConnectionTable& t, uid_t u) : table(t), uid(u) {}
    ~Counted() { table.Close(uid); }
    ConnectionTable& table;
    uid_t uid;
  };

  asio::awaitable<void> Serve(Worker& worker, UnixSocket::socket socket, ucred cred, bool known) {
    Counted counted(connections, PeerUid(cred, known));
    if (!co_await Admit(socket, cred, known)) co_return;
    accepted.fetch_add(1, std::memory_order_relaxed);
    auto connection = std::make_shared<Connection>(std::move(socket));
    connection->deadline = std::chrono::steady_clock::now() + options.idle_timeout;
    auto it = worker.connections.insert(worker.connections.end(), connection);
    auto handler = std::make_unique<RequestHandler>(
        store, state, clock, options.version, options.count_requests ? &worker.metrics : nullptr,
        &counters_source);
    asio::co_spawn(worker.io, RunIdleWatchdog(connection),
                   [](std::exception_ptr e) { LogIfFailed("idle watchdog", e); });
    co_await RunSession(connection, std::move(handler),
                        SessionLimits{options.max_frame_bytes, options.idle_timeout,
                                      std::min(options.frame_timeout, options.idle_timeout),
                                      std::max<std::size_t>(options.max_inflight, 1)});
    worker.connections.erase(it);
  }

  // Where a new connection is served: on the accepting worker (the first), which is awake and
  // whose reactor already holds the socket, unless it serves two or more connections more than
  // the least busy worker. A connection per request (scripts, CLIs) then costs no wake-up of
  // another thread, and long-lived connections still spread within one of even.
  Worker& PickWorker() {
    Worker* least = workers[0].get();
    for (const auto& w : workers) {
      if (w->serving.load(std::memory_order_relaxed) <
          least->serving.load(std::memory_order_relaxed)) {
        least = w.get();
      }
    }
    Worker& local = *workers[0];
    return local.serving.load(std::memory_order_relaxed) >=
                   least->serving.load(std::memory_order_relaxed) + 2
               ? *least
               : local;
  }

  // The accepted `socket` (on the first worker's reactor) as a socket of `worker`'s reactor;
  // nullopt (the socket closed) when it cannot be moved there.
  template <typename Accepted>
  std::optional<UnixSocket::socket> MoveTo(Worker& worker, Accepted& socket) {
    if (&worker == workers[0].get()) return UnixSocket::socket(std::move(socket));
    asio::error_code ec;
    const int fd = socket.release(ec);
    if (ec) {
      spdlog::warn("cannot hand a new connection to another serving thread: {}", ec.message());
      socket.close(ec);
      return std::nullopt;
    }
    UnixSocket::socket moved(worker.io);
    moved.assign(UnixSocket(), fd, ec);
    if (ec) {
      spdlog::warn("cannot hand a new connection to another serving thread: {}", ec.message());
      ::close(fd);
      return std::nullopt;
    }
    return moved;
  }

  // Over the connection limit: one RESOURCE_EXHAUSTED answer and close, at once, so the client
  // gets a clear error instead of hanging, and a flood of them costs one descriptor at a time.
  // The answer is small enough for a fresh socket's buffer, so a non-blocking write suffices.
  template <typename Socket>
  void Refuse(Socket& socket, Refusal why, const ConnectionLimits& limits, uid_t uid) {
    RefusedCounter(why).fetch_add(1, std::memory_order_relaxed);
    refusal.clear();
    refusal_encoder.AppendError(refusal, 0,
                                Status::ResourceExhausted(RefusalMessage(why, limits, uid)));
    asio::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(refusal), ignored);
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
    socket.close(ignored);
  }

  std::atomic<std::uint64_t>& RefusedCounter(Refusal why) {
    if (why == Refusal::kPerPeer) return refused_per_peer;
    return why == Refusal::kReserved ? refused_reserved : refused_max;
  }

  // Accept failures (out of descriptors, out of memory) are retried after a growing pause and
  // logged once per burst; the loop itself never ends before Stop().
  asio::awaitable<void> AcceptLoop() {
    BurstCount failures;
    asio::steady_timer pause(workers[0]->io);
    while (!stopping.load()) {
      auto [ec, socket] = co_await acceptor->async_accept(workers[0]->io.get_executor(), kNoThrow);
      if (ec) {
        if (stopping.load() || ec == asio::error::operation_aborted) co_return;
        if (failures.Add()) {
          spdlog::warn("accept on {} failed: {}; retrying every {} ms or less until it works{}",
                       options.socket.path, ec.message(), kMaxAcceptRetryDelay.count(),
                       ec == asio::error::no_descriptors
                           ? " (out of file descriptors: raise LimitNOFILE or lower "
                             "--max-connections)"
                           : "");
        }
        pause.expires_after(AcceptRetryDelay(failures.count()));
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      if (const std::uint64_t n = failures.End(); n > 0) {
        spdlog::info("accepting connections again after {} failed attempts", n);
      }
      ucred cred{};
      socklen_t len = sizeof(cred);
      const bool known =
          getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
      const uid_t uid = PeerUid(cred, known);
      if (const Refusal why = connections.Open(uid); why != Refusal::kNone) {
        const ConnectionLimits limits = connections.limits();
        refusal_log.Refused(why, limits, uid);
        Refuse(socket, why, limits, uid);
        continue;
      }
      refusal_log.Admitted(uid, IsPrivilegedPeer(uid, connections.own_euid()));
      Worker& worker = PickWorker();
      std::optional<UnixSocket::socket> served = MoveTo(worker, socket);
      if (!served) {
        connections.Close(uid);
        continue;
      }
      worker.serving.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(worker.io, Serve(worker, std::move(*served), cred, known),
                     [&worker](std::exception_ptr e) {
                       worker.serving.fetch_sub(1, std::memory_order_relaxed);
                       LogIfFailed("session", e);
                     });
    }
  }

  // Each worker ticks; the first also checks that every worker ticked lately and then beats.
  asio::awaitable<void> Heartbeat(Worker& worker, bool first) {
    const auto interval = options.heartbeat_interval;
    while (!stopping.load()) {
      worker.last_tick_ms = SteadyMillis();
      if (first) {
        const std::int64_t oldest = SteadyMillis() - 2 * interval.count();
        const bool all_turning =
            std::all_of(workers.begin(), workers.end(),
                        [oldest](const auto& w) { return w->last_tick_ms.load() >= oldest; });
        if (all_turning) {
          options.on_heartbeat();
        } else {
          spdlog::error("a serving loop has not turned for {} ms; withholding the watchdog",
                        2 * interval.count());
        }
      }
      worker.heartbeat->expires_after(interval);
      co_await worker.heartbeat->async_wait(kNoThrow);
    }
  }

  // Runs on the worker's thread: asks every session to finish what it received and close.
  static void StopConnections(Worker& worker) {
    if (worker.heartbeat) worker.heartbeat->cancel();
    const auto quiet = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDrainQuiet);
    for (const std::shared_ptr<Connection>& c : worker.connections) {
      c->stopping = true;
      c->deadline = std::min(c->deadline, quiet);
      c->timer.cancel();  // the idle watchdog re-arms at the shorter deadline
    }
    worker.guard.reset();
  }

  // Raises RLIMIT_NOFILE (up to its hard limit) so that `wanted` connections fit beside the
  // reserved descriptors; returns how many fit.
  std::size_t FitToDescriptors(std::size_t wanted) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
    const std::size_t reserved = options.reserved_fds + 4 * workers.size();
    FdBudget budget = PlanFdBudget(limit.rlim_cur, limit.rlim_max, wanted, reserved);
    if (budget.soft_limit != limit.rlim_cur) {
      rlimit raised = limit;
      raised.rlim_cur = static_cast<rlim_t>(budget.soft_limit);
      if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
        spdlog::warn("cannot raise the file descriptor limit from {} to {}: {}", limit.rlim_cur,
                     budget.soft_limit, std::strerror(errno));
        budget = PlanFdBudget(limit.rlim_cur, limit.rlim_cur, wanted, reserved);
      }
    }
    if (budget.max_connections < wanted) {
      spdlog::warn(
          "max-connections {} lowered to {}: the file descriptor limit is {} and {} "
          "descriptors are kept for the store and the event loops (raise LimitNOFILE)",
          wanted, budget.max_connections, budget.soft_limit, reserved);
    }
    return budget.max_connections;
  }

  ServerOptions options;
  const Store& store;
  const ServingState& state;
  const Clock& clock;
  // Before `workers`: sessions destroyed with their io_context still count themselves out.
  ConnectionTable connections{geteuid()};
  std::atomic<std::uint64_t> accepted{0};          // admitted connections
  std::atomic<std::uint64_t> refused_max{0};       // Refusal::kMaxConnections
  std::atomic<std::uint64_t> refused_per_peer{0};  // Refusal::kPerPeer
  std::atomic<std::uint64_t> refused_reserved{0};  // Refusal::kReserved
  std::atomic<std::uint64_t> denied{0};            // not in the peer allowlist
  const Timestamp started;                         // when the server was made, just before Start()
  CountersSource counters_source;                  // what status requests with counters get
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<UnixSocket::acceptor> acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<bool> listening{false};       // set by a successful Start()
  std::shared_ptr<const PeerPolicy> peers;  // std::atomic_load / std::atomic_store
  std::mutex denied_mu;
  std::set<uid_t> denied_uids;        // guarded by denied_mu
  ResponseEncoder refusal_encoder;    // accept loop only
  std::vector<std::uint8_t> refusal;  // accept loop only
  RefusalLog refusal_log;             // accept loop only
  std::mutex mu;
  std::condition_variable cv;
  unsigned running = 0;         // guarded by mu
  bool stop_requested = false;  // guarded by mu
};

Server::Server(ServerOptions options, const Store& store, const ServingState& state,
               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), store, state, clock)) {}

Server::~Server() = default;

void Server::SetPeerPolicy(PeerPolicy policy) {
  std::atomic_store(&impl_->peers, std::shared_ptr<const PeerPolicy>(
                                       std::make_shared<const PeerPolicy>(std::move(policy))));
}

ConnectionLimits Server::SetConnectionLimits(ConnectionLimits limits) {
  limits.max_connections =
      impl_->FitToDescriptors(std::max<std::size_t>(limits.max_connections, 1));
  impl_->connections.SetLimits(limits);
  return limits;
}

std::size_t Server::open_connections() const { return impl_->connections.open(); }

void Server::FillCounters(DaemonCounters& out) const { impl_->FillCounters(out); }

bool Server::loops_turning() const {
  const auto interval = impl_->options.heartbeat_interval;
  if (interval.count() <= 0 || !impl_->options.on_heartbeat) return true;
  const std::int64_t oldest = SteadyMillis() - 2 * interval.count();
  return std::all_of(impl_->workers.begin(), impl_->workers.end(),
                     [oldest](const auto& w) { return w->last_tick_ms.load() >= oldest; });
}

bool Server::accepting() const { return impl_->listening.load() && !impl_->stopping.load(); }

const std::string& Server::socket_path() const { return impl_->options.socket.path; }
unsigned Server::thread_count() const { return static_cast<unsigned>(impl_->workers.size()); }

Status Server::Start() {
  int fd = impl_->options.listen_fd;
  if (fd < 0) {
    Result<int> listening = ListenUnixSocket(impl_->options.socket);
    if (!listening) return listening.error();
    fd = *listening;
  }
  SetConnectionLimits({impl_->options.max_connections, impl_->options.max_connections_per_peer,
                       impl_->options.reserved_connections});
  asio::error_code ec;
  impl_->acceptor->assign(UnixSocket(), fd, ec);
  if (ec) return Status::Internal("adopt listening socket: " + ec.message());
  for (auto& w : impl_->workers) w->guard.emplace(w->io.get_executor());
  asio::co_spawn(impl_->workers[0]->io, impl_->AcceptLoop(),
                 [](std::exception_ptr e) { LogIfFailed("accept loop", e); });
  if (impl_->options.heartbeat_interval.count() > 0 && impl_->options.on_heartbeat) {
    for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
      Worker& w = *impl_->workers[i];
      w.heartbeat.emplace(w.io);
      w.last_tick_ms = SteadyMillis();
      asio::co_spawn(w.io, impl_->Heartbeat(w, i == 0),
                     [](std::exception_ptr e) { LogIfFailed("heartbeat", e); });
    }
  }
  impl_->listening = true;
  return Status::Ok();
}

void Server::Run() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.mu);
    impl.running = static_cast<unsigned>(impl.workers.size());
  }
  std::vector<std::thread> threads;
  for (auto& w : impl.workers) {
    threads.emplace_back([&impl, worker = w.get()] {
      worker->io.run();
      std::lock_guard lock(impl.mu);
      --impl.running;
      impl.cv.notify_all();
    });
  }
  {
    std::unique_lock lock(impl.mu);
    impl.cv.wait(lock, [&] { return impl.stop_requested || impl.running == 0; });
    const auto deadline = std::chrono::steady_clock::now() + impl.options.drain_timeout;
    if (!impl.cv.wait_until(lock, deadline, [&] { return impl.running == 0; })) {
      spdlog::warn("sessions still open after the {} ms drain deadline; closing them",
                   impl.options.drain_timeout.count());
      for (auto& w : impl.workers) w->io.stop();
    }
  }
  for (std::thread& t : threads) t.join();
}

void Server::Stop() {
  Impl& impl = *impl_;
  if (impl.stopping.exchange(true)) return;
  asio::post(impl.workers[0]->io, [&impl] {
    asio::error_code ignored;
    impl.acceptor->close(ignored);
    if (!impl.options.socket.path.empty() && impl.options.listen_fd < 0) {
      ::unlink(impl.options.socket.path.c_str());
    }
  });
  for (auto& w : impl.workers) {
    asio::post(w->io, [worker = w.get()] { Impl::StopConnections(*worker); });
  }
  std::lock_guard lock(impl.mu);
  impl.stop_requested = true;
  impl.cv.notify_all();
}

}  // namespace policyd
