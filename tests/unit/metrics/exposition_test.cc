// The Prometheus text format rules the renderer must follow.
#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <limits>

namespace policyd::metrics {
namespace {

TEST(ExpositionTest, CounterAndGaugeGetHelpAndTypeLinesThenSamples) {
  MetricFamily counter{"app_requests_total", "Requests.", MetricType::kCounter, {}, {}};
  counter.samples.push_back({{{"kind", "get"}, {"code", "OK"}}, 3});
  counter.samples.push_back({{{"kind", "get"}, {"code", "NOT_FOUND"}}, 1});
  MetricFamily gauge{"app_open", "Open things.", MetricType::kGauge, {{{}, 2}}, {}};
  const std::vector<MetricFamily> families = {counter, gauge};
  EXPECT_EQ(RenderText(families),
            "# HELP app_requests_total Requests.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{kind=\"get\",code=\"OK\"} 3\n"
            "app_requests_total{kind=\"get\",code=\"NOT_FOUND\"} 1\n"
            "# HELP app_open Open things.\n"
            "# TYPE app_open gauge\n"
            "app_open 2\n");
}

TEST(ExpositionTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  MetricFamily f{"x", "a \\ b\nc \"d\"", MetricType::kGauge, {{{}, 1}}, {}};
  EXPECT_EQ(RenderText(std::vector{f}), "# HELP x a \\\\ b\\nc \"d\"\n# TYPE x gauge\nx 1\n");
}

TEST(ExpositionTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  struct Case {
    std::string value;
    std::string rendered;
  };
  const Case cases[] = {
      {"plain", "plain"},
      {"back\\slash", "back\\\\slash"},
      {"say \"hi\"", "say \\\"hi\\\""},
      {"two\nlines", "two\\nlines"},
      {"", ""},
      {"utf-8 \xc3\xa9", "utf-8 \xc3\xa9"},
  };
  for (const Case& c : cases) {
    MetricFamily f{"x", "h", MetricType::kGauge, {{{{"l", c.value}}, 1}}, {}};
    EXPECT_EQ(RenderText(std::vector{f}),
              "# HELP x h\n# TYPE x gauge\nx{l=\"" + c.rendered + "\"} 1\n")
        << c.value;
  }
}

TEST(ExpositionTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricFamily f{"lat_seconds", "Latency.", MetricType::kHistogram, {}, {}};
  f.histograms.push_back({{{"path", "/a"}}, {0.001, 0.01, 0.1}, {1, 2, 0, 4}, 0.5});
  EXPECT_EQ(RenderText(std::vector{f}),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{path=\"/a\",le=\"0.001\"} 1\n"
            "lat_seconds_bucket{path=\"/a\",le=\"0.01\"} 3\n"
            "lat_seconds_bucket{path=\"/a\",le=\"0.1\"} 3\n"
            "lat_seconds_bucket{path=\"/a\",le=\"+Inf\"} 7\n"
            "lat_seconds_sum{path=\"/a\"} 0.5\n"
            "lat_seconds_count{path=\"/a\"} 7\n");
}

TEST(ExpositionTest, AHistogramWithTooFewCountsIsPaddedNeverMalformed) {
  MetricFamily f{"h", "H.", MetricType::kHistogram, {}, {}};
  f.histograms.push_back({{}, {1, 2}, {3}, 3});
  EXPECT_EQ(RenderText(std::vector{f}),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 3\nh_bucket{le=\"+Inf\"} 3\n"
            "h_sum 3\nh_count 3\n");
}

TEST(ExpositionTest, ValuesAreShortestRoundTripWithSpecialValuesSpelledOut) {
  const std::pair<double, std::string> cases[] = {
      {0, "0"},
      {3, "3"},
      {1e15, "1e+15"},
      {0.25, "0.25"},
      {1e-6, "1e-06"},
      {-2.5, "-2.5"},
      {1795539563.7065723, "1795539563.7065723"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& [value, text] : cases) {
    EXPECT_EQ(FormatValue(value), text);
    if (text != "NaN" && text.find("Inf") == std::string::npos) {
      EXPECT_EQ(std::stod(FormatValue(value)), value) << text;
    }
  }
}

TEST(ExpositionTest, NameRules) {
  for (const char* good : {"a", "_a", "a:b", "policyd_requests_total", "A9_"}) {
    EXPECT_TRUE(IsValidMetricName(good)) << good;
  }
  for (const char* bad : {"", "9a", "a-b", "a b", "a.b", "é"}) {
    EXPECT_FALSE(IsValidMetricName(bad)) << bad;
  }
  for (const char* good : {"kind", "_x", "le", "A1"}) EXPECT_TRUE(IsValidLabelName(good)) << good;
  for (const char* bad : {"", "__name", "1a", "a:b", "a-b"}) {
    EXPECT_FALSE(IsValidLabelName(bad)) << bad;
  }
}

}  // namespace
}  // namespace policyd::metrics
