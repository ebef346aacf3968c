// Lock-free counting cells for the hot path: each is written by ONE thread and read by any.
//
// A lookup costs ~3,300 instructions and must not get measurably slower for being counted, so a
// cell is a relaxed atomic that its single writer bumps with a plain load, add and store (no
// lock prefix, no compare-and-swap, no cache line shared with another writer: each serving
// thread owns its cells). Readers (a scrape, a status request) load the values relaxed and sum
// the threads' cells; they may miss increments made meanwhile, never see torn values.
//
// Thread-safety: Add/Record from the owning thread only; Load/AddTo from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "model/counters.h"

namespace policyd::metrics {

class SingleWriterCounter {
 public:
  void Add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t Load() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Latency bucket upper bounds in nanoseconds: 1 µs to 1 s in 1-2-5 steps (a lookup answered from
// the index is written back within a few µs; queueing under load moves it to the ms buckets).
inline constexpr std::array<std::uint64_t, 19> kLatencyBoundsNs = {
    1'000,      2'000,       5'000,       10'000,      20'000,       50'000,     100'000,
    200'000,    500'000,     1'000'000,   2'000'000,   5'000'000,    10'000'000, 20'000'000,
    50'000'000, 100'000'000, 200'000'000, 500'000'000, 1'000'000'000};

// A latency histogram over kLatencyBoundsNs.
class LatencyCells {
 public:
  // Counts `n` requests that each took `ns` nanoseconds.
  void Record(std::uint64_t ns, std::uint64_t n) {
    std::size_t i = 0;
    while (i < kLatencyBoundsNs.size() && ns > kLatencyBoundsNs[i]) ++i;
    counts_[i].Add(n);
    sum_ns_.Add(ns * n);
  }
  // Adds these cells to `h` (sized to kLatencyBoundsNs on first use).
  void AddTo(LatencyHistogram& h) const {
    if (h.bounds_ns.empty()) {
      h.bounds_ns.assign(kLatencyBoundsNs.begin(), kLatencyBoundsNs.end());
      h.counts.assign(kLatencyBoundsNs.size() + 1, 0);
    }
    for (std::size_t i = 0; i < counts_.size() && i < h.counts.size(); ++i) {
      h.counts[i] += counts_[i].Load();
    }
    h.sum_ns += sum_ns_.Load();
  }

 private:
  std::array<SingleWriterCounter, kLatencyBoundsNs.size() + 1> counts_;
  SingleWriterCounter sum_ns_;
};

}  // namespace policyd::metrics
