// A cpp-httplib server on a TCP address, run on threads of its own, the way policyd's small HTTP
// listeners (--metrics-listen, --webhook-listen) run one: two worker threads however many
// clients connect, SO_REUSEADDR only — not cpp-httplib's default SO_REUSEPORT, which would let a
// second daemon bind the same port and silently take half the requests — and 5-s read and write
// timeouts.
//
// Thread-safety: call these from one thread; `server` and `thread` must outlive the serving.
#pragma once

#include <httplib.h>

#include <string_view>
#include <thread>

#include "base/status.h"

namespace policyd::metrics {

// Sets the options above on a server that has not started.
void ConfigureServer(httplib::Server& server);

// Binds `address` ("HOST:PORT", port 0 = any free port) and serves on `*thread`. Returns the port
// bound. Errors, each prefixed by `flag` (e.g. "metrics-listen"): INVALID_ARGUMENT for a bad
// address; FAILED_PRECONDITION when it cannot be bound (in use, not an address of this host).
Result<int> BindAndServe(httplib::Server& server, std::string_view flag, std::string_view address,
                         std::thread* thread);

// Stops a server that BindAndServe started and joins `thread`; does nothing if it never started.
void StopServing(httplib::Server& server, std::thread& thread);

}  // namespace policyd::metrics
