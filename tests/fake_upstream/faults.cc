#include "fake_upstream/faults.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <functional>
#include <vector>

namespace policyd::testing_support {
namespace {

int PortOf(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return -1;
}

// The descriptors of connected TCP sockets with the given local port (and peer port, if >= 0).
// The only way to reach a connection the HTTP library does not hand out is by its address.
std::vector<int> FindSockets(int local_port, int remote_port) {
  std::vector<int> found;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_len = sizeof(local);
    socklen_t peer_len = sizeof(peer);
    const int sock = static_cast<int>(fd);
    if (getsockname(sock, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (PortOf(local) != local_port) continue;
    if (getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (remote_port >= 0 && PortOf(peer) != remote_port) continue;
    found.push_back(sock);
  }
  closedir(dir);
  return found;
}

}  // namespace

void FaultInjector::Inject(Fault fault) {
  std::lock_guard lock(mutex_);
  if (fault.times != 0) pending_.push_back(std::move(fault));
}

void FaultInjector::Clear() {
  std::lock_guard lock(mutex_);
  pending_.clear();
}

std::optional<Fault> FaultInjector::Take(std::string_view path) {
  std::lock_guard lock(mutex_);
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (!path.starts_with(it->path_prefix)) continue;
    Fault fault = *it;
    if (it->times > 0 && --it->times == 0) pending_.erase(it);
    ++triggered_;
    return fault;
  }
  return std::nullopt;
}

int FaultInjector::triggered() const {
  std::lock_guard lock(mutex_);
  return triggered_;
}

bool ResetConnection(int local_port, int remote_port) {
  bool reset = false;
  for (int sock : FindSockets(local_port, remote_port)) {
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    // Linux: tcp_disconnect() sends a RST for an established connection.
    if (connect(sock, &unspec, sizeof(unspec)) == 0) {
      reset = true;
    } else {
      shutdown(sock, SHUT_RDWR);
      reset = true;
    }
  }
  return reset;
}

void ShutdownConnections(int local_port) {
  for (int sock : FindSockets(local_port, -1)) shutdown(sock, SHUT_RDWR);
}

}  // namespace policyd::testing_support
