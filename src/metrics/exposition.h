// Prometheus text exposition (format 0.0.4): metric families as plain values and the renderer
// that turns them into the text a Prometheus server scrapes.
//
// Families are built at scrape time from counters read elsewhere (see metrics/cells.h for the
// lock-free cells the hot path writes); nothing here is touched by a lookup. The renderer follows
// https://prometheus.io/docs/instrumenting/exposition_formats/: one `# HELP` and one `# TYPE`
// line per family, help text with `\` and newlines escaped, label values with `\`, `"` and
// newlines escaped, histogram buckets cumulative with `le` in increasing order and a final
// `le="+Inf"` bucket equal to `_count`, then `_sum` and `_count`.
//
// Pure. Thread-safe (plain values and free functions).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace policyd::metrics {

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

struct Label {
  std::string name;
  std::string value;
};

struct Sample {
  std::vector<Label> labels;
  double value = 0;
};

// One histogram series. `counts` holds one count per bucket, not cumulative: counts[i] for
// values <= bounds[i] (and above bounds[i-1]), and a last entry for values above every bound.
struct HistogramSeries {
  std::vector<Label> labels;
  std::vector<double> bounds;  // strictly increasing, finite
  std::vector<std::uint64_t> counts;
  double sum = 0;
};

struct MetricFamily {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in _total
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;              // counters and gauges
  std::vector<HistogramSeries> histograms;  // histograms
};

// True for a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool IsValidMetricName(std::string_view name);
// True for a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool IsValidLabelName(std::string_view name);

// A sample value as the text format writes it: shortest round-trip form ("3", "0.25",
// "1e-06"), "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);

// Appends the exposition of `families`, in the given order, to `out`. A histogram series whose
// `counts` does not have bounds.size() + 1 entries is written with the counts it has padded with
// zeros (never a malformed exposition).
void AppendText(std::span<const MetricFamily> families, std::string& out);
std::string RenderText(std::span<const MetricFamily> families);

}  // namespace policyd::metrics
