// One client connection: read frames, answer each with RequestHandler, write the answers back.
//
// Frames may arrive pipelined and split anywhere. Complete frames are answered in order, at most
// `max_inflight` of them (or kFlushBytes of answers) before the answers are written; the rest
// wait in the buffer, and nothing more is read until every buffered frame is answered and
// written. So a connection holds at most one read buffer (<= max frame) and one write batch,
// however fast its peer sends, and a peer that sends without reading blocks in its own write
// instead of growing the daemon. Between batches the session yields, so one busy connection
// does not starve the others on its thread.
//
// A Dump request (wire/dump.h) stops the step that answered it: the answers before it are
// written, then its frames one at a time, each made only once the one before was written to the
// socket (an asynchronous write's completion, which also lets the thread's other connections
// run between frames). So a peer that reads slowly holds up its own dump, never the daemon's
// memory, and the idle timeout closes a dump whose peer stopped reading. The requests after it
// are answered once it has ended; a peer that goes away mid-dump ends the session, which
// destroys the dump (and releases its store view).
//
// A bad length prefix is answered with an error and the connection is closed (the stream cannot
// be re-synchronised); a bad FlatBuffer inside a well-framed message is answered with
// INVALID_ARGUMENT and the connection stays open. A connection is closed when it makes no
// progress for the idle timeout (no request, or answers it does not read), and when a frame it
// began is not complete within the frame timeout. When the server stops, each connection keeps
// being served until it has been quiet for kDrainQuiet (or the server's drain deadline passes).
//
// Threads: a session and its watchdog run on one single-threaded io_context; nothing here is
// shared with other threads except the Store / ServingState behind the handler.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/frame_buffer.h"
#include "server/handler.h"

namespace policyd {

// On shutdown, a connection is closed once no request arrived on it for this long.
inline constexpr int kDrainQuiet = 200;  // milliseconds

// Answers are written once this many bytes of them are pending, even below max_inflight (a
// batch lookup's answer is far larger than its request).
inline constexpr std::size_t kFlushBytes = 64 * 1024;

struct SessionLimits {
  std::uint32_t max_frame_bytes;
  std::chrono::milliseconds idle_timeout;
  std::chrono::milliseconds frame_timeout;  // a begun frame must be complete within this
  std::size_t max_inflight;                 // requests answered per write, >= 1
};

struct Connection {
  explicit Connection(asio::local::stream_protocol::socket s)
      : socket(std::move(s)), timer(socket.get_executor()) {}

  asio::local::stream_protocol::socket socket;
  asio::steady_timer timer;                        // idle watchdog
  std::chrono::steady_clock::time_point deadline;  // close unless progress is made by then
  bool stopping = false;  // server shutdown: close once quiet for kDrainQuiet
};

// One step of a session: answers complete frames from `in` into `out` until none is left,
// `max_inflight` were answered, or kFlushBytes of answers are pending. A bad length prefix is
// answered (id 0) and ends the step with `close`.
struct Answered {
  std::size_t frames = 0;
  bool more = false;   // stopped at a limit: complete frames may still be buffered
  bool close = false;  // bad framing: close once the answers are written
  bool dump = false;   // the last frame answered began a dump (RequestHandler::TakeDump)
};
Answered AnswerFrames(FrameBuffer& in, RequestHandler& handler, std::size_t max_inflight,
                      std::vector<std::uint8_t>& out);

// Writes every frame of `dump` to the connection, each once the one before was written, moving
// the connection's deadline on (by `idle_timeout`, or kDrainQuiet while the server stops) after
// each. Returns false when the connection failed (the dump is then dropped).
asio::awaitable<bool> WriteDump(std::shared_ptr<Connection> connection,
                                std::unique_ptr<DumpStream> dump,
                                std::chrono::milliseconds idle_timeout);

// Serves `connection` until the peer closes, an error, idleness or shutdown.
asio::awaitable<void> RunSession(std::shared_ptr<Connection> connection,
                                 std::unique_ptr<RequestHandler> handler, SessionLimits limits);

// Closes `connection` once its deadline passes without activity.
asio::awaitable<void> RunIdleWatchdog(std::shared_ptr<Connection> connection);

}  // namespace policyd
