#include "cli/top_view.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "cli/status_output.h"
#include "metrics/endpoints.h"
#include "metrics/quantile.h"

namespace policyd {
namespace {

std::string Printf(const char* format, auto... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), format, args...);
  return buffer;
}

std::string Duration(std::int64_t seconds) {
  if (seconds < 0) return "-";
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 7200)
    return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
  return std::to_string(seconds / 3600) + "h" + std::to_string(seconds / 60 % 60) + "m";
}

double Seconds(Timestamp t) { return static_cast<double>(ToNanos(t)) / 1e9; }

std::uint64_t Requests(const DaemonCounters& c, bool (*which)(const RequestCount&)) {
  std::uint64_t n = 0;
  for (const RequestCount& r : c.requests) {
    if (which(r)) n += r.count;
  }
  return n;
}

bool AnyRequest(const RequestCount&) { return true; }
bool Lookup(const RequestCount& r) { return IsLookupKind(r.kind); }
// As the error-rate alert counts them: NOT_FOUND (a strict lookup of an unknown org) is an
// answer, not an error.
bool Failed(const RequestCount& r) { return r.code != Code::kOk && r.code != Code::kNotFound; }

// Rates over the interval between two samples of one daemon run.
struct Interval {
  const DaemonCounters* before = nullptr;
  double seconds = 0;

  std::string Rate(std::uint64_t now_value, std::uint64_t before_value) const {
    if (before == nullptr || seconds <= 0) return "-";
    const double rate =
        static_cast<double>(now_value - std::min(now_value, before_value)) / seconds;
    return Printf(rate >= 100 ? "%.0f/s" : "%.1f/s", rate);
  }
};

std::string LatencyLine(const LatencyHistogram& now, const LatencyHistogram* before) {
  std::vector<std::uint64_t> counts = now.counts;
  if (before != nullptr && before->counts.size() == counts.size()) {
    for (std::size_t i = 0; i < counts.size(); ++i) {
      counts[i] -= std::min(counts[i], before->counts[i]);
    }
  }
  std::uint64_t n = 0;
  for (std::uint64_t c : counts) n += c;
  std::string line = "latency   ";
  if (n == 0) return line + "no requests " + (before ? "in the last interval" : "yet");
  for (const auto& [label, q] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9},
                                 std::pair{"p99", 0.99}, std::pair{"p99.9", 0.999}}) {
    std::optional<double> v = metrics::HistogramQuantile(now.bounds_ns, counts, q);
    line += std::string(label) + " " + (v ? FormatNanos(*v) : "-") + "  ";
  }
  const std::uint64_t sum = now.sum_ns - (before ? std::min(now.sum_ns, before->sum_ns) : 0);
  line += "mean " + FormatNanos(static_cast<double>(sum) / static_cast<double>(n));
  line += before ? Printf("  (%llu requests)", static_cast<unsigned long long>(n))
                 : std::string("  (since start)");
  return line;
}

std::string SyncLine(const ServerStatus& s, const DaemonCounters& c, const Interval& in) {
  if (s.fleet && s.fleet->role == FleetRole::kFollower) {
    return "sync      from nats bucket " + s.fleet->bucket + " (no upstream), " +
           std::to_string(s.consecutive_failures) + " failures in a row";
  }
  if (s.upstream.empty()) return "sync      off (no upstream; serving " + s.meta.source + ")";
  std::string line = "sync      " + std::to_string(c.sync_successes) + " ok, " +
                     std::to_string(c.SyncFailures()) + " failed";
  std::string causes;
  for (std::size_t i = 0; i < kSyncFailureCauses; ++i) {
    if (c.sync_failures[i] == 0) continue;
    causes += (causes.empty() ? "" : ", ") +
              std::string(SyncFailureCauseName(static_cast<SyncFailureCause>(i))) + " " +
              std::to_string(c.sync_failures[i]);
  }
  if (!causes.empty()) line += " (" + causes + ")";
  line += ", " + std::to_string(s.consecutive_failures) + " in a row";
  line += "  events " + std::to_string(c.events_applied) + " (" +
          in.Rate(c.events_applied, in.before ? in.before->events_applied : 0) + ")";
  line += "  cold starts " + std::to_string(c.cold_starts);
  return line;
}

// The newest heartbeat's age at the daemon's `now` ("none" without one).
std::string NewestHeartbeat(const FleetStatus& f, Timestamp now) {
  Timestamp newest;
  for (const FleetPublisher& p : f.publishers) newest = std::max(newest, p.last_sync);
  if (newest.IsZero()) return "none";
  const std::optional<std::int64_t> age = AgeMillis(newest, now);
  if (!age) return "unknown";
  // A publisher whose clock runs ahead of this daemon's reads as just now.
  return Duration(std::max<std::int64_t>(*age, 0) / 1000) + " ago";
}

// Role, connection, cursor, the counters that move (with rates) and the newest heartbeat.
std::string FleetLine(const FleetStatus& f, const FleetStatus* before, const Interval& in,
                      Timestamp now) {
  const Interval rates = before != nullptr ? in : Interval{};
  const auto counted = [&](const char* name, std::uint64_t FleetStatus::*field) {
    return std::string("  ") + name + " " + std::to_string(f.*field) + " (" +
           rates.Rate(f.*field, before != nullptr ? before->*field : 0) + ")";
  };
  std::string line = "fleet     " + std::string(FleetRoleName(f.role)) + " " +
                     std::string(FleetConnectionName(f.connection));
  if (f.role == FleetRole::kFollower) {
    line +=
        "  cursor " + std::to_string(f.cursor) + (f.caught_up ? " (caught up)" : " (catching up)");
    line += counted("applied", &FleetStatus::values_applied);
    line += counted("refused", &FleetStatus::values_refused);
    line += "  cold starts " + std::to_string(f.cold_starts);
  } else {
    line += "  last write " + std::to_string(f.cursor);
    line += counted("writes", &FleetStatus::writes);
    line += "  conflicts " + std::to_string(f.write_conflicts) + "  errors " +
            std::to_string(f.write_errors);
  }
  return line + "  newest heartbeat " + NewestHeartbeat(f, now);
}

std::vector<std::string> KindLines(const DaemonCounters& c, const Interval& in) {
  std::vector<std::string> lines;
  for (const RequestCount& r : c.requests) {
    std::uint64_t before = 0;
    if (in.before != nullptr) {
      for (const RequestCount& b : in.before->requests) {
        if (b.kind == r.kind && b.code == r.code) before = b.count;
      }
    }
    lines.push_back(Printf("  %-20s %-20s %12s %14llu",
                           std::string(CountedKindName(r.kind)).c_str(),
                           std::string(CodeName(r.code)).c_str(), in.Rate(r.count, before).c_str(),
                           static_cast<unsigned long long>(r.count)));
  }
  return lines;
}

void Fit(std::vector<std::string>& lines, std::size_t width) {
  for (std::string& line : lines) {
    if (line.size() > width) line.resize(width);
  }
}

}  // namespace

std::string FormatNanos(double ns) {
  if (ns < 1e3) return Printf("%.0fns", ns);
  if (ns < 1e6) return Printf(ns < 1e4 ? "%.1fus" : "%.0fus", ns / 1e3);
  if (ns < 1e9) return Printf(ns < 1e7 ? "%.1fms" : "%.0fms", ns / 1e6);
  return Printf("%.2fs", ns / 1e9);
}

std::vector<std::string> RenderTop(const ServerStatus* previous, const ServerStatus& s,
                                   std::size_t width) {
  static const DaemonCounters kNone;
  const DaemonCounters& c = s.counters ? *s.counters : kNone;
  Interval in;
  if (previous != nullptr && previous->counters && previous->counters->started == c.started) {
    in.before = &*previous->counters;
    in.seconds = Seconds(s.now) - Seconds(previous->now);
  }
  const auto before = [&](bool (*which)(const RequestCount&)) {
    return in.before ? Requests(*in.before, which) : 0;
  };
  std::vector<std::string> lines;
  lines.push_back("policyd " + s.version + "  health " + std::string(HealthName(s.health)) +
                  "  up " + Duration(s.now.seconds - c.started.seconds) + "  (q quits)");
  lines.push_back("state     " + metrics::HealthSummary(s));
  lines.push_back("requests  " + in.Rate(Requests(c, AnyRequest), before(AnyRequest)) +
                  "  lookups " + in.Rate(Requests(c, Lookup), before(Lookup)) + "  errors " +
                  in.Rate(Requests(c, Failed), before(Failed)) + "  total " +
                  std::to_string(Requests(c, AnyRequest)) + " (" +
                  std::to_string(Requests(c, Lookup)) + " lookups)");
  lines.push_back(LatencyLine(c.latency, in.before ? &in.before->latency : nullptr));
  lines.push_back("conns     open " + std::to_string(c.connections_open) + "  accepted " +
                  std::to_string(c.connections_accepted) + " (" +
                  in.Rate(c.connections_accepted, in.before ? in.before->connections_accepted : 0) +
                  ")  rejected: max_connections " + std::to_string(c.rejected_max_connections) +
                  ", per_peer " + std::to_string(c.rejected_per_peer) + ", reserved " +
                  std::to_string(c.rejected_reserved) + ", peer_denied " +
                  std::to_string(c.rejected_peer) + ", bad_frame " +
                  std::to_string(c.closed_bad_frame));
  lines.push_back(SyncLine(s, c, in));
  if (s.fleet) {
    const FleetStatus* fleet_before =
        in.before != nullptr && previous->fleet ? &*previous->fleet : nullptr;
    lines.push_back(FleetLine(*s.fleet, fleet_before, in, s.now));
  }
  lines.push_back(
      "data      age " +
      (s.data_age_ms < 0 ? std::string("never synced") : Duration(s.data_age_ms / 1000)) +
      (s.stale ? " (STALE)" : "") + "  orgs " + std::to_string(s.meta.org_count) + " (" +
      std::to_string(s.meta.custom_policy_count) + " own policy)" +
      (s.last_error.empty() || s.consecutive_failures == 0 ? "" : "  last error: " + s.last_error));
  lines.push_back("");
  lines.push_back(Printf("  %-20s %-20s %12s %14s", "kind", "code", "rate", "total"));
  for (std::string& line : KindLines(c, in)) lines.push_back(std::move(line));
  Fit(lines, width);
  return lines;
}

std::vector<std::string> RenderTopUnreachable(const std::string& socket, const std::string& error,
                                              std::size_t width) {
  std::vector<std::string> lines = {"policyd on " + socket + " is not answering  (q quits)",
                                    "          " + error, "          retrying every interval"};
  Fit(lines, width);
  return lines;
}

}  // namespace policyd
