// The daemon's side of the systemd contract, via libsystemd: socket activation and sd_notify.
//
// Everything here is a no-op when policyd does not run under systemd (no LISTEN_FDS, no
// NOTIFY_SOCKET), so the same binary works by hand, in tests and as a service.
//
// Thread-safety: Notify() may be called from any thread (sd_notify is thread-safe).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/status.h"

namespace policyd {

// The listening socket systemd passed (LISTEN_FDS), if any. Errors: FAILED_PRECONDITION when
// systemd passed more than one socket, or one that is not a listening unix stream socket.
Result<std::optional<int>> SocketFromSystemd();

// Sends `state` ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1") to the service manager.
void Notify(const std::string& state);

// The interval at which WATCHDOG=1 must be sent (half of WatchdogSec), if the watchdog is on.
std::optional<std::chrono::milliseconds> WatchdogInterval();

}  // namespace policyd
