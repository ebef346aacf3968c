#include "metrics/quantile.h"

#include <algorithm>

namespace policyd::metrics {

std::optional<double> HistogramQuantile(std::span<const std::uint64_t> bounds,
                                        std::span<const std::uint64_t> counts, double q) {
  if (bounds.empty() || counts.size() != bounds.size() + 1) return std::nullopt;
  std::uint64_t total = 0;
  for (std::uint64_t c : counts) total += c;
  if (total == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    const std::uint64_t through = below + counts[i];
    if (counts[i] > 0 && static_cast<double>(through) >= rank) {
      const double lower = i == 0 ? 0.0 : static_cast<double>(bounds[i - 1]);
      const double upper = static_cast<double>(bounds[i]);
      const double into = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
      return lower + (upper - lower) * std::clamp(into, 0.0, 1.0);
    }
    below = through;
  }
  return static_cast<double>(bounds.back());
}

}  // namespace policyd::metrics
