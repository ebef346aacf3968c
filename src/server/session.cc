#include "server/session.h"

#include <cstring>
#include <span>
#include <vector>

#include "wire/frame.h"

namespace policyd {
namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kInitialBuffer = 4096;

// Incoming bytes: frames are parsed from [begin, end); the body handed to the handler must be
// 8-byte aligned, so misaligned bodies are copied into `aligned` first.
class FrameBuffer {
 public:
  FrameBuffer() : data_(kInitialBuffer) {}

  std::span<std::uint8_t> WritableTail() {
    if (begin_ == end_) begin_ = end_ = 0;
    if (end_ == data_.size()) {
      Compact();
      if (end_ == data_.size()) data_.resize(data_.size() * 2);
    }
    return {data_.data() + end_, data_.size() - end_};
  }
  void Commit(std::size_t n) { end_ += n; }
  std::size_t Available() const { return end_ - begin_; }
  const std::uint8_t* Head() const { return data_.data() + begin_; }
  void Consume(std::size_t n) { begin_ += n; }

  // Makes room for a whole frame of `total` bytes starting at the head.
  void Reserve(std::size_t total) {
    if (data_.size() - begin_ >= total) return;
    Compact();
    if (data_.size() < total) data_.resize(total);
  }

  std::span<const std::uint8_t> AlignedBody(const std::uint8_t* body, std::size_t n) {
    if (reinterpret_cast<std::uintptr_t>(body) % 8 == 0) return {body, n};
    aligned_.resize(n / 8 + 1);
    std::memcpy(aligned_.data(), body, n);
    return {reinterpret_cast<const std::uint8_t*>(aligned_.data()), n};
  }

 private:
  void Compact() {
    std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  std::vector<std::uint8_t> data_;
  std::size_t begin_ = 0, end_ = 0;
  std::vector<std::uint64_t> aligned_;
};

// Answers every complete frame in `in`. Returns false when the stream must be closed after the
// answers are written (bad framing).
bool AnswerFrames(FrameBuffer& in, RequestHandler& handler, std::uint32_t max_frame,
                  std::vector<std::uint8_t>& out) {
  while (in.Available() >= kFrameHeaderBytes) {
    Result<std::uint32_t> length = DecodeFrameLength(in.Head(), max_frame);
    if (!length) {
      handler.AppendError(0, length.error(), out);
      return false;
    }
    const std::size_t total = kFrameHeaderBytes + *length;
    if (in.Available() < total) {
      in.Reserve(total);
      break;
    }
    handler.Handle(in.AlignedBody(in.Head() + kFrameHeaderBytes, *length), out);
    in.Consume(total);
  }
  return true;
}

}  // namespace

asio::awaitable<void> RunSession(std::shared_ptr<Connection> c,
                                 std::unique_ptr<RequestHandler> handler, SessionLimits limits) {
  FrameBuffer in;
  std::vector<std::uint8_t> out;
  out.reserve(kInitialBuffer);
  bool open = true;
  while (open) {
    std::span<std::uint8_t> tail = in.WritableTail();
    // While the server stops, a connection lives on only until it has been quiet for
    // kDrainQuiet: requests already on their way are still answered.
    c->deadline = std::chrono::steady_clock::now() +
                  (c->stopping ? std::chrono::milliseconds(kDrainQuiet) : limits.idle_timeout);
    auto [ec, n] =
        co_await c->socket.async_read_some(asio::buffer(tail.data(), tail.size()), kNoThrow);
    if (ec) {
      open = false;
    } else {
      in.Commit(n);
      open = AnswerFrames(in, *handler, limits.max_frame_bytes, out);
    }
    if (!out.empty()) {
      auto [wec, written] = co_await asio::async_write(c->socket, asio::buffer(out), kNoThrow);
      (void)written;
      out.clear();
      if (wec) open = false;
    }
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
    // Idle in a read, or stuck writing to a peer that does not read: either way, close.
    if (c->socket.is_open() && c->deadline <= std::chrono::steady_clock::now()) {
      asio::error_code ignored;
      c->socket.close(ignored);  // the session's read completes with operation_aborted
    }
  }
}

}  // namespace policyd
