// Internals of MakeHttpUpstream (upstream.h) that tests reach for. Internal to src/upstream/ and
// its tests.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "upstream/upstream.h"

namespace policyd::upstream_internal {

// Checks a base URL and returns it as scheme://host[:port][/path] without a trailing slash, the
// query and fragment. INVALID_ARGUMENT when it does not parse, its scheme is not https (http is
// accepted for loopback hosts only: localhost, 127.0.0.0/8, [::1]), it has no host, or it carries
// user info, a query or a fragment.
Result<std::string> NormalizeBaseUrl(std::string_view url);

// Settings that only tests change.
struct TestingKnobs {
  std::size_t max_body_bytes = 0;  // 0: the default cap (64 MiB)
  std::string default_ca_bundle;   // replaces libcurl's built-in CA bundle; "": keep it
};

// MakeHttpUpstream with testing knobs.
Result<std::unique_ptr<Upstream>> MakeHttpUpstreamForTesting(const UpstreamOptions& options,
                                                             const Clock& clock,
                                                             const TestingKnobs& knobs);

}  // namespace policyd::upstream_internal
