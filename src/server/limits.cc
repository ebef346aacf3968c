#include "server/limits.h"

#include <algorithm>

namespace policyd {

FdBudget PlanFdBudget(std::uint64_t soft, std::uint64_t hard, std::size_t wanted,
                      std::size_t reserved) {
  const std::uint64_t needed = static_cast<std::uint64_t>(wanted) + reserved;
  if (needed <= soft) return {soft, wanted};
  // Raising the soft limit up to the hard one needs no privilege (systemd's default is a soft
  // 1024 below a much higher hard limit, precisely so that daemons raise it themselves).
  const std::uint64_t raised = std::min(needed, hard);
  const std::uint64_t usable = raised > reserved ? raised - reserved : 0;
  return {std::max(raised, soft), static_cast<std::size_t>(std::min<std::uint64_t>(
                                      wanted, std::max<std::uint64_t>(usable, 1)))};
}

std::chrono::milliseconds AcceptRetryDelay(std::uint64_t consecutive_failures) {
  const std::uint64_t doublings =
      std::min<std::uint64_t>(consecutive_failures == 0 ? 0 : consecutive_failures - 1, 10);
  return std::min(std::chrono::milliseconds(10 << doublings), kMaxAcceptRetryDelay);
}

std::chrono::steady_clock::time_point ReadDeadline(
    std::chrono::steady_clock::time_point now, std::chrono::milliseconds idle,
    std::chrono::milliseconds frame_timeout,
    std::optional<std::chrono::steady_clock::time_point> frame_started) {
  const auto deadline = now + idle;
  if (!frame_started) return deadline;
  return std::min(deadline, *frame_started + frame_timeout);
}

}  // namespace policyd
