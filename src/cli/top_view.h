// What `policyctl top` shows: one screen computed from two successive status answers with
// counters (request rates, latency percentiles over the interval, connections, sync state, data
// age and, in fleet mode, a "fleet" line: role, NATS connection, cursor, values applied and
// refused (a publisher: writes) with their rates, and the newest publisher heartbeat's age). The
// daemon only keeps cumulative counts; rates and percentiles are differences of two samples taken
// about a second apart.
//
// Pure (no I/O, no clock: the samples carry the daemon's time). Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "model/store_state.h"

namespace policyd {

// The screen's lines, each at most `width` columns (ASCII only, so any terminal and
// `tmux capture-pane` show it as is). `previous` may be null (first sample, or the daemon
// restarted in between): rates then read "-" until the next sample. `current.counters` must be
// set.
std::vector<std::string> RenderTop(const ServerStatus* previous, const ServerStatus& current,
                                   std::size_t width);

// Lines for when the daemon cannot be asked (`error` says why).
std::vector<std::string> RenderTopUnreachable(const std::string& socket, const std::string& error,
                                              std::size_t width);

// "950ns", "12.5us", "3.2ms", "1.50s".
std::string FormatNanos(double ns);

}  // namespace policyd
