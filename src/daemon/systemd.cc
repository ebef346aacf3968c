#include "daemon/systemd.h"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

namespace policyd {

Result<std::optional<int>> SocketFromSystemd() {
  const int n = sd_listen_fds(/*unset_environment=*/1);
  if (n < 0) return Err(Status::FailedPrecondition("sd_listen_fds failed"));
  if (n == 0) return std::optional<int>();
  if (n > 1) {
    return Err(Status::FailedPrecondition("systemd passed " + std::to_string(n) +
                                          " sockets; policyd.socket must listen on one"));
  }
  const int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, /*listening=*/1, nullptr, 0) <= 0) {
    return Err(Status::FailedPrecondition(
        "the socket systemd passed is not a listening unix stream socket (ListenStream=PATH)"));
  }
  return std::optional<int>(fd);
}

void Notify(const std::string& state) { (void)sd_notify(/*unset_environment=*/0, state.c_str()); }

std::optional<std::chrono::milliseconds> WatchdogInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::milliseconds(std::max<uint64_t>(usec / 2000, 1));
}

}  // namespace policyd
