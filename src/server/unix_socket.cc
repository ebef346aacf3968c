#include "server/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace policyd {
namespace {

Status Errno(const std::string& what) { return Status::Internal(what + ": " + strerror(errno)); }

bool FillAddress(const std::string& path, sockaddr_un& addr) {
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return false;
  addr = {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

}  // namespace

bool UnixSocketIsLive(const std::string& path) {
  sockaddr_un addr;
  if (!FillAddress(path, addr)) return false;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return live;
}

Result<int> ListenUnixSocket(const UnixSocketOptions& options) {
  sockaddr_un addr;
  if (!FillAddress(options.path, addr)) {
    return Err(Status::InvalidArgument("socket path \"" + options.path +
                                       "\" is empty or longer than " +
                                       std::to_string(sizeof(addr.sun_path) - 1) + " bytes"));
  }
  struct stat st {};
  if (lstat(options.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Err(Status::FailedPrecondition(options.path + " exists and is not a socket"));
    }
    if (UnixSocketIsLive(options.path)) {
      return Err(Status::FailedPrecondition(options.path +
                                            " is in use by a running process (another policyd?)"));
    }
    // A stale socket from a daemon that died without cleaning up.
    if (unlink(options.path.c_str()) != 0 && errno != ENOENT) {
      return Err(Errno("remove stale socket " + options.path));
    }
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Err(Errno("socket"));
  // Create the file with no more permission than requested, then set it exactly.
  const mode_t old_umask = umask(static_cast<mode_t>(~options.mode & 0777));
  const int bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old_umask);
  if (bound != 0) {
    Status s = Errno("bind " + options.path);
    close(fd);
    return Err(s);
  }
  auto fail = [&](const std::string& what) {
    Status s = Errno(what);
    unlink(options.path.c_str());
    close(fd);
    return Err(s);
  };
  if (chmod(options.path.c_str(), options.mode) != 0) return fail("chmod " + options.path);
  if ((options.owner != static_cast<uid_t>(-1) || options.group != static_cast<gid_t>(-1)) &&
      chown(options.path.c_str(), options.owner, options.group) != 0) {
    return fail("chown " + options.path);
  }
  if (listen(fd, options.backlog) != 0) return fail("listen " + options.path);
  return fd;
}

}  // namespace policyd
