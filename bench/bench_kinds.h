// The rows of the generic policy kinds (issue #14) in the benchmark's "1% custom policies per
// kind" store: every kind's instance default (the upstream's defaults) and, for each kind, an own
// row for 1% of the orgs, a different 1% per kind (org i has its own row of kind k when
// i % 100 == k), with realistic values: the upstream's defaults with changed numbers, the login
// policy with a few factors and check lifetimes, the privacy links, the label policy's colours
// and its five asset URLs.
//
// Pure values; thread-compatible.
#pragma once

#include <string>

#include "model/policy_kinds.h"

namespace policyd::bench {

bool HasOwnKind(int i, PolicyKind kind);

// The instance default of `kind` (owned by `instance_id`).
KindPolicy BenchKindDefault(PolicyKind kind, const std::string& instance_id);
// Org i's own row of `kind` (its id `org_id`).
KindPolicy BenchKindPolicy(PolicyKind kind, int i, const std::string& org_id);

}  // namespace policyd::bench
