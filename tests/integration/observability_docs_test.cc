// docs/grafana-dashboard.json and docs/prometheus-alerts.yml against a running policyd: every
// metric name they use must be one policyd exposes, the dashboard must be importable JSON, and
// (where promtool is installed) the rules must load and pass docs/prometheus-alerts.test.yml,
// which checks that PolicydStale fires within one scrape interval.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "support/daemon.h"
#include "support/http_scrape.h"

namespace policyd::testing_support {
namespace {

std::string ReadDoc(const std::string& name) {
  std::ifstream in(SourceDir() + "/docs/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every policyd_* identifier in `text` (metric names in PromQL expressions and prose).
std::set<std::string> MetricNames(const std::string& text) {
  std::set<std::string> names;
  const std::regex name(R"(policyd_[a-z0-9_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    names.insert(it->str());
  }
  return names;
}

std::string PromtoolPath() {
  CommandResult r = RunCommand({"/bin/sh", "-c", "command -v promtool"});
  return r.exit_code == 0 ? r.out.substr(0, r.out.find('\n')) : "";
}

TEST(ObservabilityDocsTest, EveryMetricTheDashboardAndAlertsUseIsExposed) {
  const std::string dashboard = ReadDoc("grafana-dashboard.json");
  const std::string alerts = ReadDoc("prometheus-alerts.yml");
  std::set<std::string> used = MetricNames(dashboard);
  for (const std::string& n : MetricNames(alerts)) used.insert(n);
  ASSERT_GE(used.size(), 10u);

  TempDir dir;
  WriteSnapshot(MakeSnapshot(10), dir.Join("snapshot.json"));
  // Every family is exposed whether or not the daemon syncs (zeros without an upstream).
  Daemon daemon(dir, {"--snapshot", dir.Join("snapshot.json"), "--metrics-listen", "127.0.0.1:0"});
  const int port = MetricsPort(daemon.process());
  ASSERT_GT(port, 0);
  Scrape scrape;
  ASSERT_TRUE(WaitFor(
      [&] {
        scrape = ScrapeMetrics(port);
        return scrape.status == 200;
      },
      std::chrono::seconds(10), "a scrape"));
  for (const std::string& name : used) {
    EXPECT_TRUE(scrape.Exposes(name)) << name << " is used by docs/ but not exposed";
  }
}

TEST(ObservabilityDocsTest, TheDashboardIsImportableGrafanaJson) {
  const nlohmann::json d = nlohmann::json::parse(ReadDoc("grafana-dashboard.json"));
  EXPECT_EQ(d.at("uid"), "policyd-sidecars");
  EXPECT_EQ(d.at("__inputs").at(0).at("name"), "DS_PROMETHEUS");
  int queries = 0;
  std::set<int> ids;
  for (const nlohmann::json& panel : d.at("panels")) {
    EXPECT_TRUE(ids.insert(panel.at("id").get<int>()).second) << panel.at("title");
    for (const char* key : {"x", "y", "w", "h"}) EXPECT_TRUE(panel.at("gridPos").contains(key));
    if (panel.at("type") == "row") continue;
    ASSERT_FALSE(panel.at("targets").empty()) << panel.at("title");
    for (const nlohmann::json& target : panel.at("targets")) {
      EXPECT_FALSE(target.at("expr").get<std::string>().empty()) << panel.at("title");
      ++queries;
    }
  }
  EXPECT_GE(queries, 15);
}

TEST(ObservabilityDocsTest, AlertRulesLoadAndStaleFiresWithinOneScrapeInterval) {
  const std::string promtool = PromtoolPath();
  if (promtool.empty()) {
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus); the metric names "
                    "are still checked above";
  }
  CommandResult check =
      RunCommand({promtool, "check", "rules", SourceDir() + "/docs/prometheus-alerts.yml"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  CommandResult test =
      RunCommand({promtool, "test", "rules", SourceDir() + "/docs/prometheus-alerts.test.yml"});
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
}

}  // namespace
}  // namespace policyd::testing_support
