#include "server/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

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

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, const Store& s, const ServingState& st, const Clock& c)
      : options(std::move(o)), store(s), state(st), clock(c) {
    unsigned n = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
    workers.reserve(n == 0 ? 1 : n);
    for (unsigned i = 0; i < std::max(1u, n); ++i) workers.push_back(std::make_unique<Worker>());
    acceptor.emplace(workers[0]->io);
    peers = std::make_shared<const PeerPolicy>(options.peers);
  }

  // Checks the peer against the allowlist; a denied peer gets PERMISSION_DENIED and is closed.
  asio::awaitable<bool> Admit(UnixSocket::socket& socket) {
    std::shared_ptr<const PeerPolicy> policy = std::atomic_load(&peers);
    if (!policy->enabled()) co_return true;
    ucred cred{};
    socklen_t len = sizeof(cred);
    const bool known =
        getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
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

  asio::awaitable<void> Serve(Worker& worker, UnixSocket::socket socket) {
    if (!co_await Admit(socket)) co_return;
    auto connection = std::make_shared<Connection>(std::move(socket));
    connection->deadline = std::chrono::steady_clock::now() + options.idle_timeout;
    auto it = worker.connections.insert(worker.connections.end(), connection);
    auto handler = std::make_unique<RequestHandler>(store, state, clock, options.version);
    asio::co_spawn(worker.io, RunIdleWatchdog(connection),
                   [](std::exception_ptr e) { LogIfFailed("idle watchdog", e); });
    co_await RunSession(connection, std::move(handler),
                        SessionLimits{options.max_frame_bytes, options.idle_timeout});
    worker.connections.erase(it);
  }

  asio::awaitable<void> AcceptLoop() {
    std::size_t next = 0;
    while (!stopping.load()) {
      Worker& worker = *workers[next++ % workers.size()];
      auto [ec, socket] = co_await acceptor->async_accept(worker.io.get_executor(), kNoThrow);
      if (ec) {
        if (stopping.load() || ec == asio::error::operation_aborted) co_return;
        spdlog::warn("accept on {} failed: {}", options.socket.path, ec.message());
        // Out of file descriptors and the like: back off instead of spinning.
        asio::steady_timer pause(workers[0]->io, std::chrono::milliseconds(50));
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      asio::co_spawn(worker.io, Serve(worker, std::move(socket)),
                     [](std::exception_ptr e) { LogIfFailed("session", e); });
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

  ServerOptions options;
  const Store& store;
  const ServingState& state;
  const Clock& clock;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<UnixSocket::acceptor> acceptor;
  std::atomic<bool> stopping{false};
  std::shared_ptr<const PeerPolicy> peers;  // std::atomic_load / std::atomic_store
  std::mutex denied_mu;
  std::set<uid_t> denied_uids;  // guarded by denied_mu
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

const std::string& Server::socket_path() const { return impl_->options.socket.path; }
unsigned Server::thread_count() const { return static_cast<unsigned>(impl_->workers.size()); }

Status Server::Start() {
  int fd = impl_->options.listen_fd;
  if (fd < 0) {
    Result<int> listening = ListenUnixSocket(impl_->options.socket);
    if (!listening) return listening.error();
    fd = *listening;
  }
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
