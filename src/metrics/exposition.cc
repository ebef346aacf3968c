#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace policyd::metrics {
namespace {

bool NameChar(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (alpha || (colon && c == ':')) return true;
  return !first && c >= '0' && c <= '9';
}

void AppendEscaped(std::string_view text, bool quote, std::string& out) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// {a="x",b="y"} (nothing when there are no labels); `extra` is appended last (histogram `le`).
void AppendLabels(const std::vector<Label>& labels, const Label* extra, std::string& out) {
  if (labels.empty() && extra == nullptr) return;
  out += '{';
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    AppendEscaped(l.value, /*quote=*/true, out);
    out += '"';
  };
  for (const Label& l : labels) one(l);
  if (extra != nullptr) one(*extra);
  out += '}';
}

void AppendSample(std::string_view name, const std::vector<Label>& labels, const Label* extra,
                  double value, std::string& out) {
  out += name;
  AppendLabels(labels, extra, out);
  out += ' ';
  out += FormatValue(value);
  out += '\n';
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendHistogram(const std::string& name, const HistogramSeries& h, std::string& out) {
  std::uint64_t cumulative = 0;
  const std::string bucket = name + "_bucket";
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    if (i < h.counts.size()) cumulative += h.counts[i];
    const Label le{"le", FormatValue(h.bounds[i])};
    AppendSample(bucket, h.labels, &le, static_cast<double>(cumulative), out);
  }
  for (std::size_t i = h.bounds.size(); i < h.counts.size(); ++i) cumulative += h.counts[i];
  const Label inf{"le", "+Inf"};
  AppendSample(bucket, h.labels, &inf, static_cast<double>(cumulative), out);
  AppendSample(name + "_sum", h.labels, nullptr, h.sum, out);
  AppendSample(name + "_count", h.labels, nullptr, static_cast<double>(cumulative), out);
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, /*colon=*/true)) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, /*colon=*/false)) return false;
  }
  return true;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) return "NaN";  // cannot happen: 32 bytes hold any double
  return std::string(buffer, end);
}

void AppendText(std::span<const MetricFamily> families, std::string& out) {
  for (const MetricFamily& f : families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    AppendEscaped(f.help, /*quote=*/false, out);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += TypeName(f.type);
    out += '\n';
    if (f.type == MetricType::kHistogram) {
      for (const HistogramSeries& h : f.histograms) AppendHistogram(f.name, h, out);
    } else {
      for (const Sample& s : f.samples) AppendSample(f.name, s.labels, nullptr, s.value, out);
    }
  }
}

std::string RenderText(std::span<const MetricFamily> families) {
  std::string out;
  AppendText(families, out);
  return out;
}

}  // namespace policyd::metrics
