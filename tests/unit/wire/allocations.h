// Every allocation of wire_test is counted (allocations.cc replaces the global operator new), so
// a test can assert that a code path allocates nothing.
#pragma once

#include <cstdint>

namespace policyd {

// Allocations through operator new since the process started.
std::uint64_t AllocationCount();

}  // namespace policyd
