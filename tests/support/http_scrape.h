// Test support: GET the daemon's observability endpoints (--metrics-listen) and read the
// Prometheus text exposition into samples. Header-only; link PkgConfig::CPP_HTTPLIB.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "support/process.h"

namespace policyd::testing_support {

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
  std::string content_type;
};

inline HttpAnswer HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));
  httplib::Result r = client.Get(path.c_str());
  if (!r) return {};
  return {r->status, r->body, r->get_header_value("Content-Type")};
}

// The port a listener of policyd logged: the number right after `needle` in its log, waited for
// (`what` names it in a failure).
inline int LoggedPort(ChildProcess& process, const std::string& needle, const char* what) {
  int port = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string log = process.Log();
        const std::size_t at = log.find(needle);
        if (at == std::string::npos) return false;
        port = std::atoi(log.c_str() + at + needle.size());
        return port > 0;
      },
      std::chrono::seconds(20), what))
      << process.Log();
  return port;
}

// The port policyd logged for --metrics-listen 127.0.0.1:0 ("... over HTTP on 127.0.0.1:PORT").
inline int MetricsPort(ChildProcess& process) {
  return LoggedPort(process, "over HTTP on 127.0.0.1:", "the metrics listener's port in the log");
}

// One scrape: every sample by its series ("name{label=\"v\",...}" exactly as exposed).
struct Scrape {
  int status = 0;
  std::string text;
  std::map<std::string, double> samples;

  // The value of `series`, or nullopt when it is not exposed.
  std::optional<double> Find(const std::string& series) const {
    auto it = samples.find(series);
    if (it == samples.end()) return std::nullopt;
    return it->second;
  }
  // The value of `series`; a failed expectation (and -1) when it is missing.
  double Get(const std::string& series) const {
    std::optional<double> v = Find(series);
    EXPECT_TRUE(v.has_value()) << "no " << series << " in\n" << text;
    return v.value_or(-1);
  }
  // Whether any sample of metric `name` is exposed.
  bool HasMetric(const std::string& name) const {
    for (const auto& [series, value] : samples) {
      if (series == name || series.starts_with(name + "{")) return true;
    }
    return false;
  }
  // Whether `name` is a metric of the exposition: it has samples, or its family is declared
  // (a counter no request has touched yet has only its # HELP and # TYPE lines), or it is the
  // _bucket, _sum or _count series of a declared histogram.
  bool Exposes(const std::string& name) const {
    if (HasMetric(name) || text.find("# TYPE " + name + " ") != std::string::npos) return true;
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix)) {
        const std::string family = name.substr(0, name.size() - suffix.size());
        if (text.find("# TYPE " + family + " histogram\n") != std::string::npos) return true;
      }
    }
    return false;
  }
};

inline Scrape ScrapeMetrics(int port) {
  HttpAnswer a = HttpGet(port, "/metrics");
  Scrape s{a.status, a.body, {}};
  std::istringstream lines(a.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    s.samples[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return s;
}

}  // namespace policyd::testing_support
