#include "server/session.h"

#include <optional>
#include <vector>

#include "server/limits.h"

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
    handler.Handle(*frame, out);
    ++a.frames;
  }
}

asio::awaitable<void> RunSession(std::shared_ptr<Connection> c,
                                 std::unique_ptr<RequestHandler> handler, SessionLimits limits) {
  FrameBuffer in(limits.max_frame_bytes);
  std::vector<std::uint8_t> out;
  out.reserve(kInitialOut);
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
  for (;;) {
    const Answered answered = AnswerFrames(in, *handler, limits.max_inflight, out);
    if (answered.frames > 0) frame_started.reset();
    if (!out.empty()) {
      auto [ec, written] = co_await asio::async_write(c->socket, asio::buffer(out), kNoThrow);
      (void)written;
      if (out.capacity() > kKeepOut) {
        std::vector<std::uint8_t>().swap(out);
        out.reserve(kInitialOut);
      }
      out.clear();
      if (ec) break;
      const SteadyClock::time_point written_at = SteadyClock::now();
      progress(written_at);
      if (answered.frames > 0) {
        handler->RecordLatency(
            static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(written_at - read_at).count()),
            answered.frames);
      }
    }
    if (answered.close) break;
    if (answered.more) continue;  // answer what is buffered before reading more
    const SteadyClock::time_point now = SteadyClock::now();
    if (in.Pending() > 0 && !frame_started) frame_started = now;
    SetDeadline(*c, c->stopping ? now + std::chrono::milliseconds(kDrainQuiet)
                                : ReadDeadline(now, limits.idle_timeout, limits.frame_timeout,
                                               frame_started));
    std::span<std::uint8_t> tail = in.WritableTail();
    auto [ec, n] =
        co_await c->socket.async_read_some(asio::buffer(tail.data(), tail.size()), kNoThrow);
    if (ec) break;
    in.Commit(n);
    read_at = SteadyClock::now();
    progress(read_at);
  }
  asio::error_code ignored;
  c->socket.shutdown(asio::socket_base::shutdown_both, ignored);
  c->socket.close(ignored);
  c->timer.cancel();
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
