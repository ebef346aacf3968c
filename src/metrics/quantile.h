// Quantiles from a bucketed latency histogram, estimated as PromQL's histogram_quantile() does:
// find the bucket holding the q-th observation and interpolate linearly inside it (the first
// bucket starts at 0). Used by `policyctl top` on the difference of two successive samples.
//
// Pure. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace policyd::metrics {

// The q-quantile (0 <= q <= 1) in the bounds' unit. `counts` are per bucket (not cumulative),
// with one more entry than `bounds` for observations above the last bound; a quantile that falls
// there is reported as the last bound (the histogram cannot say more). nullopt when `counts`
// holds no observation or the sizes do not match.
std::optional<double> HistogramQuantile(std::span<const std::uint64_t> bounds,
                                        std::span<const std::uint64_t> counts, double q);

}  // namespace policyd::metrics
