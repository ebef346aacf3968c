// RequestMetrics: one serving thread's request counters, written on the lookup path.
//
// Each serving thread owns one (cache-line aligned, so two threads never write one line); the
// handlers of that thread's connections count into it, and a reader sums every thread's
// RequestMetrics into a DaemonCounters. Counting a request is one plain increment of a cell
// indexed by (kind, code), recording its latency one bucket search and two increments — no
// lock, no atomic read-modify-write, no allocation (see metrics/cells.h).
//
// Thread-safety: Count/RecordLatency/CountBadFrame from the owning thread; AddTo from any.
#pragma once

#include <array>
#include <cstdint>

#include "base/status.h"
#include "metrics/cells.h"
#include "model/counters.h"

namespace policyd {

struct alignas(64) RequestMetrics {
  void Count(std::uint8_t kind, Code code) {
    const auto c = static_cast<std::size_t>(code);
    requests[kind < kCountedKinds ? kind : kKindUndecodable][c < kCountedCodes ? c : 2].Add();
  }
  void RecordLatency(std::uint64_t ns, std::uint64_t requests_answered) {
    latency.Record(ns, requests_answered);
  }
  void CountBadFrame() { bad_frames.Add(); }

  // Adds this thread's counts to `out` (requests merged by (kind, code), none with 0).
  void AddTo(DaemonCounters& out) const;

  std::array<std::array<metrics::SingleWriterCounter, kCountedCodes>, kCountedKinds> requests;
  metrics::LatencyCells latency;
  metrics::SingleWriterCounter bad_frames;
};

inline void RequestMetrics::AddTo(DaemonCounters& out) const {
  for (std::size_t k = 0; k < kCountedKinds; ++k) {
    for (std::size_t c = 0; c < kCountedCodes; ++c) {
      const std::uint64_t n = requests[k][c].Load();
      if (n == 0) continue;
      const auto kind = static_cast<std::uint8_t>(k);
      const auto code = static_cast<Code>(c);
      bool merged = false;
      for (RequestCount& r : out.requests) {
        if (r.kind == kind && r.code == code) {
          r.count += n;
          merged = true;
        }
      }
      if (!merged) out.requests.push_back(RequestCount{kind, code, n});
    }
  }
  latency.AddTo(out.latency);
  out.closed_bad_frame += bad_frames.Load();
}

}  // namespace policyd
