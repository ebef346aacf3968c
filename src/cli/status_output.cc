#include "cli/status_output.h"

#include "json/policy_json.h"
#include "json/timestamp.h"

namespace policyd {
namespace {

std::string TimeOrNever(Timestamp t) { return t.IsZero() ? "never" : FormatTimestamp(t); }

bool IsFollower(const ServerStatus& s) { return s.fleet && s.fleet->role == FleetRole::kFollower; }

// "2025-03-01T09:12:44Z (12 s ago)", "never".
std::string SyncWithAge(Timestamp then, Timestamp now) {
  if (then.IsZero()) return "never";
  std::string out = FormatTimestamp(then);
  const std::optional<std::int64_t> age = AgeMillis(then, now);
  if (!age) return out;
  if (*age < 0) return out + " (" + std::to_string(-*age / 1000) + " s ahead of this daemon)";
  return out + " (" + std::to_string(*age / 1000) + " s ago)";
}

// "applied 11, skipped 12, refused 13, cold starts 14" for a follower; the publisher's counters
// for a publisher.
std::string FleetCounters(const FleetStatus& f) {
  if (f.role == FleetRole::kFollower) {
    return "applied " + std::to_string(f.values_applied) + ", skipped " +
           std::to_string(f.values_skipped) + ", refused " + std::to_string(f.values_refused) +
           ", cold starts " + std::to_string(f.cold_starts);
  }
  return "writes " + std::to_string(f.writes) + ", conflicts " + std::to_string(f.write_conflicts) +
         ", errors " + std::to_string(f.write_errors) + ", skipped " +
         std::to_string(f.values_skipped) + ", resync passes " + std::to_string(f.resync_passes);
}

std::string Or(const std::string& s, const char* none) { return s.empty() ? none : s; }

// The follower's view of where its data comes from: replaces the upstream and cursor lines.
std::string FollowerLines(const FleetStatus& f, Timestamp now) {
  std::string out = "source:          nats\n";
  out += "bucket:          " + Or(f.bucket, "(unknown)") + '\n';
  out += "nats servers:    " + Or(f.servers, "(unknown)") + '\n';
  out += "connection:      " + std::string(FleetConnectionName(f.connection)) + '\n';
  out +=
      "cursor:          " + (f.cursor == 0 ? std::string("(none yet)") : std::to_string(f.cursor)) +
      '\n';
  out += "caught up:       " + std::string(f.caught_up ? "yes" : "no") + '\n';
  if (f.publishers.empty()) out += "publishers:      (no heartbeat read yet)\n";
  for (const FleetPublisher& p : f.publishers) {
    out += "publisher:       " + p.id + ", source " + Or(p.source, "(unknown)") + ", last sync " +
           SyncWithAge(p.last_sync, now) + '\n';
  }
  out += "fleet counters:  " + FleetCounters(f) + '\n';
  return out;
}

// A publisher's (or a newer daemon's unknown role's) NATS side, after the sync lines.
std::string PublisherLines(const FleetStatus& f) {
  std::string out = "fleet:           " + std::string(FleetRoleName(f.role)) + '\n';
  out += "bucket:          " + Or(f.bucket, "(unknown)") + '\n';
  out += "nats servers:    " + Or(f.servers, "(unknown)") + '\n';
  out += "connection:      " + std::string(FleetConnectionName(f.connection)) + '\n';
  out += "last write:      " +
         (f.cursor == 0 ? std::string("(none yet)") : "revision " + std::to_string(f.cursor)) +
         '\n';
  out += "fleet counters:  " + FleetCounters(f) + '\n';
  return out;
}

void Field(std::string& j, std::string_view name) {
  if (j.size() > 1) j += ',';
  AppendJsonString(j, name);
  j += ':';
}

void AppendTimeOrNull(std::string& j, Timestamp t) {
  t.IsZero() ? (void)(j += "null") : AppendJsonString(j, FormatTimestamp(t));
}

void AppendFleetJson(std::string& j, const FleetStatus& f, Timestamp now) {
  std::string o = "{";
  Field(o, "role");
  AppendJsonString(o, FleetRoleName(f.role));
  Field(o, "bucket");
  AppendJsonString(o, f.bucket);
  Field(o, "servers");
  AppendJsonString(o, f.servers);
  Field(o, "connection");
  AppendJsonString(o, FleetConnectionName(f.connection));
  Field(o, "cursor");
  o += std::to_string(f.cursor);
  Field(o, "caughtUp");
  o += f.caught_up ? "true" : "false";
  Field(o, "publishers");
  o += '[';
  for (std::size_t i = 0; i < f.publishers.size(); ++i) {
    const FleetPublisher& p = f.publishers[i];
    o += i == 0 ? "{" : ",{";
    AppendJsonString(o, "id");
    o += ':';
    AppendJsonString(o, p.id);
    o += ",\"source\":";
    AppendJsonString(o, p.source);
    o += ",\"lastSync\":";
    AppendTimeOrNull(o, p.last_sync);
    const std::optional<std::int64_t> age = AgeMillis(p.last_sync, now);
    o += ",\"lastSyncAgeMs\":" + (age ? std::to_string(*age) : std::string("null")) + "}";
  }
  o += ']';
  for (const auto& [name, value] :
       {std::pair{"valuesApplied", f.values_applied}, std::pair{"valuesSkipped", f.values_skipped},
        std::pair{"valuesRefused", f.values_refused}, std::pair{"writes", f.writes},
        std::pair{"writeConflicts", f.write_conflicts}, std::pair{"writeErrors", f.write_errors},
        std::pair{"coldStarts", f.cold_starts}, std::pair{"resyncPasses", f.resync_passes}}) {
    Field(o, name);
    o += std::to_string(value);
  }
  j += o + '}';
}

}  // namespace

std::optional<std::int64_t> AgeMillis(Timestamp then, Timestamp now) {
  if (then.IsZero()) return std::nullopt;
  std::int64_t seconds = 0;
  std::int64_t millis = 0;
  const std::int64_t nanos = static_cast<std::int64_t>(now.nanos) - then.nanos;
  if (__builtin_sub_overflow(now.seconds, then.seconds, &seconds) ||
      __builtin_mul_overflow(seconds, std::int64_t{1000}, &millis) ||
      __builtin_add_overflow(millis, nanos / 1'000'000, &millis)) {
    return std::nullopt;
  }
  return millis;
}

std::string FormatStatusText(const ServerStatus& s) {
  std::string out;
  out += "health:          " + std::string(HealthName(s.health)) + '\n';
  out += "instance:        " + Or(s.instance_id, "(none yet)") + '\n';
  out += "orgs:            " + std::to_string(s.meta.org_count) + " (" +
         std::to_string(s.meta.custom_policy_count) + " with their own policy)\n";
  out += "last change:     " + TimeOrNever(s.meta.last_change) + '\n';
  out += "last sync:       " + TimeOrNever(s.meta.last_sync) + '\n';
  out +=
      "data age:        " +
      (s.data_age_ms < 0 ? std::string("unknown") : std::to_string(s.data_age_ms / 1000) + " s") +
      (s.stale ? " (STALE)" : "") + '\n';
  if (IsFollower(s)) {
    out += FollowerLines(*s.fleet, s.now);
  } else {
    out += "source:          " + Or(s.meta.source, "(none)") + '\n';
    out += "upstream:        " + Or(s.upstream, "(none)") + '\n';
    out += "cursor:          " +
           (s.meta.cursor.empty() ? std::string("(none)")
                                  : s.meta.cursor.substr(0, s.meta.cursor.find('\n'))) +
           '\n';
  }
  out += "sync failures:   " + std::to_string(s.consecutive_failures) + " in a row" +
         (s.last_error.empty() ? "" : ", last: " + s.last_error) + '\n';
  if (s.fleet && !IsFollower(s)) out += PublisherLines(*s.fleet);
  out += "version:         " + s.version + '\n';
  return out;
}

std::string FormatStatusJson(const ServerStatus& s) {
  std::string j = "{";
  Field(j, "health");
  AppendJsonString(j, HealthName(s.health));
  Field(j, "instanceId");
  AppendJsonString(j, s.instance_id);
  Field(j, "orgCount");
  j += std::to_string(s.meta.org_count);
  Field(j, "customPolicyCount");
  j += std::to_string(s.meta.custom_policy_count);
  Field(j, "lastChange");
  AppendTimeOrNull(j, s.meta.last_change);
  Field(j, "lastSync");
  AppendTimeOrNull(j, s.meta.last_sync);
  Field(j, "dataAgeMs");
  j += s.data_age_ms < 0 ? "null" : std::to_string(s.data_age_ms);
  Field(j, "stale");
  j += s.stale ? "true" : "false";
  Field(j, "source");
  AppendJsonString(j, IsFollower(s) ? std::string_view("nats") : s.meta.source);
  Field(j, "upstream");
  AppendJsonString(j, s.upstream);
  Field(j, "cursor");
  AppendJsonString(j, s.meta.cursor);
  Field(j, "consecutiveFailures");
  j += std::to_string(s.consecutive_failures);
  Field(j, "lastError");
  AppendJsonString(j, s.last_error);
  Field(j, "version");
  AppendJsonString(j, s.version);
  Field(j, "now");
  AppendJsonString(j, FormatTimestamp(s.now));
  Field(j, "fleet");
  s.fleet ? AppendFleetJson(j, *s.fleet, s.now) : (void)(j += "null");
  j += "}";
  return j;
}

}  // namespace policyd
