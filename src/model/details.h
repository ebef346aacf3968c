// Details: the zitadel.v1.ObjectDetails of a policy row, shared by every policy kind.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/timestamp.h"

namespace policyd {

// zitadel.v1.ObjectDetails as returned on reads.
struct Details {
  std::uint64_t sequence = 0;  // per-aggregate sequence of the last event applied to the row
  Timestamp creation_date;
  Timestamp change_date;
  std::string resource_owner;  // org id for an org's own policy, instance id for the default

  friend bool operator==(const Details&, const Details&) = default;
};

// Limits on identifiers from outside (upstream: orgId is 1–200 characters).
inline constexpr std::size_t kMaxIdLength = 200;

}  // namespace policyd
