// Clock: the one seam through which code learns the wall-clock time.
//
// Pure modules never read the clock; they take time as an argument. Edges (server, sync,
// daemon) hold a `const Clock&` so tests can substitute a FakeClock.
//
// Thread-safety: SystemClock() is safe from any thread. FakeClock is safe for one writer and
// many readers.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/timestamp.h"

namespace policyd {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The real wall clock (CLOCK_REALTIME).
const Clock& SystemClock();

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : ns_(ToNanos(start)) {}
  Timestamp Now() const override { return FromNanos(ns_.load()); }
  void Advance(std::int64_t nanos) { ns_ += nanos; }
  void Set(Timestamp t) { ns_ = ToNanos(t); }

 private:
  std::atomic<std::int64_t> ns_;
};

// Milliseconds from `from` to `to` (negative if `to` is earlier).
std::int64_t MillisBetween(Timestamp from, Timestamp to);

}  // namespace policyd
