#include "server/session.h"

#include <optional>
#include <tuple>
#include <vector>

#include "server/limits.h"
#include "wire/frame.h"

namespace policyd {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kInitialOut = 4096;
// A write buffer that grew past this (a large batch answer) is given back once written.
constexpr std::size_t kKeepOut = 64 * 1024;

// Moves the connection's deadline; the watchdog sleeps until the deadline it last saw, so an
// earlier one wakes it to re-arm.
void SetDeadline(Connection& c, SteadyClock::time_point deadline) {
  c.deadline = deadline;
  if (deadline < c.timer.expiry()) c.timer.cancel();
}

}  // namespace

Answered AnswerFrames(FrameBuffer& in, RequestHandler& handler, std::size_t max_inflight,
                      std::vector<std::uint8_t>& out) {
  Answered a;
  for (;;) {
    if (a.frames >= max_inflight || out.size() >= kFlushBytes) {
      a.more = true;
      return a;
    }
    Result<std::span<const std::uint8_t>> frame = in.Next();
    if (!frame) {
      handler.AppendError(0, frame.error(), out);
      a.close = true;
      return a;
    }
    if (frame->empty()) return a;
    if (handler.Handle(*frame, out) == FrameSecrets::kMayHoldSecret) in.WipeLast();
    ++a.frames;
    if (handler.dump_pending()) {
      a.dump = true;
      a.more = true;  // the requests after the dump wait until it has been written
      return a;
    }
  }
}

// Sends what of `out` the socket takes at once, without waiting (the usual case is all of it:
// answers are small and the peer reads). Returns the bytes sent; `ec` is set when the connection
// failed. A plain function, not a coroutine: the common path costs no coroutine frame.
std::size_t SendNow(Connection& c, const std::vector<std::uint8_t>& out, asio::error_code& ec) {
  const std::size_t sent = c.socket.write_some(asio::buffer(out), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec.clear();
    return 0;
  }
  return ec ? 0 : sent;
}

// The I/O pattern, chosen by counting system calls per lookup (docs/benchmarks.md): answers are
// written with a plain non-blocking send, falling back to an asynchronous write only for what the
// socket does not take at once. Waiting for an asynchronous write's completion, even one that
// finished at once, goes through the event loop, which polls epoll once more on the way: one
// epoll_wait per answer that the direct send saves. Reads stay asynchronous (async_read_some:
// Asio tries the read at once and waits for readiness only when it finds nothing), which costs a
// recv that finds the socket empty once the peer waits for its answer. The other way to learn
// that the socket is empty, a readiness wait (async_wait), costs an epoll_ctl per wait instead
// (measured: 4.00 calls per round trip at C=1, against 3.5-3.9 this way) and drops the read that
// succeeds at once when the peer pipelines.
asio::awaitable<void> RunSession(std::shared_ptr<Connection> c,
                                 std::unique_ptr<RequestHandler> handler, SessionLimits limits) {
  FrameBuffer in(limits.max_frame_bytes);
  std::vector<std::uint8_t> out;
  out.reserve(kInitialOut);
  asio::error_code ec;
  c->socket.non_blocking(true, ec);
  // Any progress (a read, a finished write) postpones the close; while the server stops, a
  // connection lives on only until it has been quiet for kDrainQuiet, so requests already on
  // their way are still answered.
  auto progress = [&c, &limits](SteadyClock::time_point now) {
    SetDeadline(*c,
                now + (c->stopping ? std::chrono::milliseconds(kDrainQuiet) : limits.idle_timeout));
  };
  // Since when the daemon has been waiting for the rest of an incomplete frame. Only time spent
  // waiting to read counts: while the session writes (to a peer reading slowly, or on a loaded
  // machine) the peer cannot be sending the frame's rest.
  std::optional<SteadyClock::time_point> frame_started;
  // When the last read completed: every frame answered since arrived by then. Latency is taken
  // from it to the end of the write that carried the answers, with the two clock reads the
  // deadlines need anyway, so measuring costs no extra system call per request.
  SteadyClock::time_point read_at = SteadyClock::now();
  while (!ec) {
    const Answered answered = AnswerFrames(in, *handler, limits.max_inflight, out);
    if (answered.frames > 0) frame_started.reset();
    if (!out.empty()) {
      asio::error_code write_ec;
      const std::size_t sent = SendNow(*c, out, write_ec);
      if (!write_ec && sent < out.size()) {
        std::size_t rest = 0;
        std::tie(write_ec, rest) = co_await asio::async_write(
            c->socket, asio::buffer(out.data() + sent, out.size() - sent), kNoThrow);
      }
      const bool written = !write_ec;
      if (out.capacity() > kKeepOut) {
        std::vector<std::uint8_t>().swap(out);
        out.reserve(kInitialOut);
      }
      out.clear();
      if (!written) break;
      const SteadyClock::time_point written_at = SteadyClock::now();
      progress(written_at);
      // A dump's own frames are not a lookup's latency: its request is left out.
      const std::size_t timed = answered.frames - (answered.dump ? 1 : 0);
      if (timed > 0) {
        handler->RecordLatency(
            static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(written_at - read_at).count()),
            timed);
      }
    }
    if (answered.dump && !co_await WriteDump(c, handler->TakeDump(), limits.idle_timeout)) {
      break;
    }
    if (answered.close) break;
    if (answered.more) continue;  // answer what is buffered before reading more
    const SteadyClock::time_point now = SteadyClock::now();
    if (in.Pending() > 0 && !frame_started) frame_started = now;
    SetDeadline(*c, c->stopping ? now + std::chrono::milliseconds(kDrainQuiet)
                                : ReadDeadline(now, limits.idle_timeout, limits.frame_timeout,
                                               frame_started));
    std::span<std::uint8_t> tail = in.WritableTail();
    std::size_t n = 0;
    std::tie(ec, n) =
        co_await c->socket.async_read_some(asio::buffer(tail.data(), tail.size()), kNoThrow);
    if (ec) break;  // end of file, reset, or closed by the idle watchdog
    in.Commit(n);
    read_at = SteadyClock::now();
    progress(read_at);
  }
  asio::error_code ignored;
  c->socket.shutdown(asio::socket_base::shutdown_both, ignored);
  c->socket.close(ignored);
  c->timer.cancel();
}

asio::awaitable<bool> WriteDump(std::shared_ptr<Connection> c, std::unique_ptr<DumpStream> dump,
                                std::chrono::milliseconds idle_timeout) {
  std::vector<std::uint8_t> frame;
  frame.reserve(kDumpChunkBytes + kDumpFrameOverhead + kFrameHeaderBytes);
  for (bool last = false; !last;) {
    frame.clear();
    last = dump->AppendNextFrame(frame);
    // Always asynchronous: the next frame is made only after this one is in the socket, and the
    // completion runs through the event loop, so the thread's other connections are served
    // between frames.
    asio::error_code ec;
    std::size_t written = 0;
    std::tie(ec, written) = co_await asio::async_write(c->socket, asio::buffer(frame), kNoThrow);
    if (ec) co_return false;
    SetDeadline(*c, SteadyClock::now() +
                        (c->stopping ? std::chrono::milliseconds(kDrainQuiet) : idle_timeout));
  }
  co_return true;
}

asio::awaitable<void> RunIdleWatchdog(std::shared_ptr<Connection> c) {
  while (c->socket.is_open()) {
    c->timer.expires_at(c->deadline);
    co_await c->timer.async_wait(kNoThrow);
    // Idle in a read, stuck writing to a peer that does not read, or a frame begun and never
    // finished: either way, close.
    if (c->socket.is_open() && c->deadline <= SteadyClock::now()) {
      asio::error_code ignored;
      c->socket.close(ignored);  // the session's read or write completes with operation_aborted
    }
  }
}

}  // namespace policyd
