// The server's load limits as pure decisions: how many connections the file-descriptor limit
// allows, how long accept() backs off after failing, when a connection must make progress, and
// logging a burst of refusals once instead of once per refusal.
//
// Pure (time and limits come in as arguments). Thread-safe except BurstCount (one per owner).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace policyd {

// What the process's RLIMIT_NOFILE allows for `wanted` connections when `reserved` descriptors
// must stay free for everything else (the store's files, the listening socket, the event loops'
// epoll/eventfd/timerfd, logs, the upstream's sockets).
struct FdBudget {
  std::uint64_t soft_limit;     // raise the soft limit to this (== soft: leave it)
  std::size_t max_connections;  // `wanted`, or fewer when even the hard limit is too low
};
FdBudget PlanFdBudget(std::uint64_t soft, std::uint64_t hard, std::size_t wanted,
                      std::size_t reserved);

// How long the accept loop waits after its n-th consecutive failure (n >= 1): 10 ms doubling to
// kMaxAcceptRetryDelay. Out of descriptors (EMFILE/ENFILE) the pending connection stays in the
// listen backlog, so retrying at once would spin at full speed; waiting too long would leave
// clients in the backlog after descriptors are free again.
inline constexpr std::chrono::milliseconds kMaxAcceptRetryDelay{250};
std::chrono::milliseconds AcceptRetryDelay(std::uint64_t consecutive_failures);

// A run of like events (failed accepts, refused connections), so that a storm is logged twice,
// when it starts and when it ends, however long it lasts.
class BurstCount {
 public:
  // Counts one event; true for the first of a burst (log it).
  bool Add() { return count_++ == 0; }
  // Events in the burst so far.
  std::uint64_t count() const { return count_; }
  // Ends the burst; how many events it had (0: there was none).
  std::uint64_t End() { return std::exchange(count_, 0); }

 private:
  std::uint64_t count_ = 0;
};

// When a connection waiting to read must have made progress or be closed: `idle` after now,
// but no later than `frame_timeout` after the first byte of a frame still incomplete
// (`frame_started`), so a client dripping a frame byte by byte cannot hold a connection with
// nothing ever to answer.
std::chrono::steady_clock::time_point ReadDeadline(
    std::chrono::steady_clock::time_point now, std::chrono::milliseconds idle,
    std::chrono::milliseconds frame_timeout,
    std::optional<std::chrono::steady_clock::time_point> frame_started);

}  // namespace policyd
