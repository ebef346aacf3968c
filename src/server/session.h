// One client connection: read frames, answer each with RequestHandler, write the answers back.
//
// Frames may arrive pipelined and split anywhere; all complete frames in one read are answered
// in order with one write. A bad length prefix is answered with an error and the connection is
// closed (the stream cannot be re-synchronised); a bad FlatBuffer inside a well-framed message
// is answered with INVALID_ARGUMENT and the connection stays open. A connection idle for longer
// than the idle timeout is closed. When the server stops, each connection keeps being served
// until it has been quiet for kDrainQuiet (or the server's drain deadline passes).
//
// Threads: a session and its watchdog run on one single-threaded io_context; nothing here is
// shared with other threads except the Store / ServingState behind the handler.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "server/handler.h"

namespace policyd {

// On shutdown, a connection is closed once no request arrived on it for this long.
inline constexpr int kDrainQuiet = 200;  // milliseconds

struct SessionLimits {
  std::uint32_t max_frame_bytes;
  std::chrono::milliseconds idle_timeout;
};

struct Connection {
  explicit Connection(asio::local::stream_protocol::socket s)
      : socket(std::move(s)), timer(socket.get_executor()) {}

  asio::local::stream_protocol::socket socket;
  asio::steady_timer timer;  // idle watchdog
  std::chrono::steady_clock::time_point deadline;
  bool stopping = false;  // server shutdown: close once quiet for kDrainQuiet
};

// Serves `connection` until the peer closes, an error, idleness or shutdown.
asio::awaitable<void> RunSession(std::shared_ptr<Connection> connection,
                                 std::unique_ptr<RequestHandler> handler, SessionLimits limits);

// Closes `connection` once its deadline passes without activity.
asio::awaitable<void> RunIdleWatchdog(std::shared_ptr<Connection> connection);

}  // namespace policyd
