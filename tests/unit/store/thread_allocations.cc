// A translation unit of its own, so that no caller's new/delete pair is inlined against these.
#include "unit/store/thread_allocations.h"

#include <cstdlib>
#include <new>

namespace {
thread_local std::uint64_t g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace policyd {

std::uint64_t ThreadAllocationCount() { return g_allocations; }

}  // namespace policyd
