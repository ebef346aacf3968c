// The policy kinds' lookups (issue #14): what asking for another kind, or for every kind of an org
// in one frame, costs against today's domain lookup, on one store of N orgs with every kind's
// default and 1% own rows per kind (bench_kinds.h), restarted on its data dir and measured once
// its lookup index is loaded. Rows, all at C = 1 on the pinned CPU and interleaved:
//   "policyd domain"               GetOrgPolicy without kinds (what every older client sends)
//   "policyd password-complexity"  GetOrgPolicy naming that kind alone (5 fields)
//   "policyd login"                ... the login policy alone (20 fields, two lists)
//   "policyd all kinds"            ... every kind, the domain policy included, in one frame
// Each row asks random orgs, so about 99% of the answers of a kind are its instance default.
// Before the runs one answer of each shape is decoded and checked (the org and every kind asked,
// with the right default/own flag); a wrong answer Fail()s the benchmark.
#pragma once

#include <string>
#include <vector>

#include "load.h"

namespace policyd::bench {

// Row labels (RunResult::server).
inline constexpr const char* kKindsDomainRow = "policyd domain";
inline constexpr const char* kKindsLoginRow = "policyd login";
inline constexpr const char* kKindsComplexityRow = "policyd password-complexity";
inline constexpr const char* kKindsAllRow = "policyd all kinds";

// Prepares the store of `orgs` orgs in `dir` with `binary`, runs the rows above (`rounds` rounds
// of `seconds` each, pinned to `cpu` when >= 0) and stops the daemon.
std::vector<RunResult> RunKindLookups(const std::string& binary, const std::string& dir, int orgs,
                                      double seconds, int rounds, int cpu);

}  // namespace policyd::bench
