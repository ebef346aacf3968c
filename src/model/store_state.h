// Durable bookkeeping about the stored state, and the runtime status the daemon reports.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>

#include "model/domain_policy.h"

namespace policyd {

// Kept in the store, written in the same atomic batch as the state it describes.
struct StoreMeta {
  std::uint64_t org_count = 0;            // orgs the store knows
  std::uint64_t custom_policy_count = 0;  // orgs with their own policy
  bool has_instance = false;              // an instance default is stored
  std::string cursor;                     // sync cursor, opaque to the store ("" = none)
  std::string source;                     // where the state came from: upstream URL or snapshot
  Timestamp last_change;                  // wall time the state last changed
  Timestamp last_sync;                    // wall time the state was last confirmed current

  friend bool operator==(const StoreMeta&, const StoreMeta&) = default;
};

}  // namespace policyd
