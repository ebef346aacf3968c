// Creating the listening unix socket safely.
//
// The socket file gets its final mode before anyone can connect: the file is created under a
// restrictive umask, chmod'ed, and only then listen() is called (connect() to a bound socket
// that is not listening is refused). A stale socket file left by a crashed daemon is replaced;
// a live one (another daemon answering) or a path that is not a socket is an error.
//
// Thread-safety: call at start-up, before other threads exist (it changes the umask briefly).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/status.h"

namespace policyd {

struct UnixSocketOptions {
  std::string path;
  mode_t mode = 0660;
  uid_t owner = static_cast<uid_t>(-1);  // -1: leave as created
  gid_t group = static_cast<gid_t>(-1);
  int backlog = 1024;
};

// Returns a listening, non-blocking, close-on-exec socket fd.
// Errors: INVALID_ARGUMENT (path too long or empty); FAILED_PRECONDITION (path exists and is not
// a socket, or another process is accepting on it); INTERNAL (a system call failed, with errno).
Result<int> ListenUnixSocket(const UnixSocketOptions& options);

// True when something accepts connections on `path`.
bool UnixSocketIsLive(const std::string& path);

}  // namespace policyd
