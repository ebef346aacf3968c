// SIGHUP: what a reload may change while policyd runs, and what needs a restart.
//
// Reloadable: the credentials file's contents, the webhook signing key file's contents, the log
// level, the poll interval, the peer allowlist and the connection limits max-connections,
// max-connections-per-peer and reserved-connections (an operator under a connection storm can
// change them without dropping every open connection). Everything else (socket, data dir, threads,
// upstream URL, file paths, staleness settings, timeouts, the per-connection limits max-frame-bytes
// and max-inflight, which each session takes when it starts) is reported as needing a restart and
// left as it is.
//
// Pure: compares two configurations; the daemon applies the result.
#pragma once

#include <string>
#include <vector>

#include "daemon/config.h"

namespace policyd {

struct ReloadPlan {
  bool log_level = false;
  bool poll_interval = false;
  bool peers = false;
  bool max_connections = false;            // any of the three connection limits changed
  bool credentials = false;                // re-read the token/key file (always, with sync)
  bool webhook_key = false;                // re-read the webhook signing key (always, if on)
  std::vector<std::string> needs_restart;  // keys that changed but cannot change at run time
};

ReloadPlan PlanReload(const DaemonConfig& running, const DaemonConfig& fresh);

}  // namespace policyd
