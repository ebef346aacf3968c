// Every allocation of store_index_test's threads is counted, each thread on its own
// (thread_allocations.cc replaces the global operator new), so a test can assert that a code
// path allocates nothing while RocksDB's and the index loader's background threads allocate as
// they like.
#pragma once

#include <cstdint>

namespace policyd {

// Allocations through operator new by the calling thread since it started.
std::uint64_t ThreadAllocationCount();

}  // namespace policyd
