// The fleet section of docs/benchmarks.md (fleet_bench.h). Pure formatting.
#include <sstream>

#include "fleet_bench.h"
#include "report_format.h"

namespace policyd::bench {
namespace {

std::string Ms(const LatencyStats& s) {
  if (s.samples == 0) return "—";
  return Fmt("%.1f", s.p50_ms) + " / " + Fmt("%.1f", s.p99_ms) + " / " + Fmt("%.1f", s.max_ms);
}

std::string Verdict(bool met) { return met ? "met" : "**missed**"; }

void RowsTable(std::ostringstream& o, const FleetResults& r) {
  o << "| followers F | upstream requests/min at rest | write → every follower p50 / p99 / max "
       "ms | upstream change (webhook) → every follower p50 / p99 / max ms | changes | one "
       "lookup on every follower | follower RSS median / max | publisher RSS |\n"
    << "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const FleetRow& row : r.rows) {
    o << "| " << row.followers << " | " << Fmt("%.1f", row.requests_per_minute) << " | "
      << Ms(row.from_write) << " | " << Ms(row.from_change) << " | " << row.from_write.samples
      << " | " << Fmt("%.2f ms", row.sweep_ms) << " | "
      << MB(static_cast<double>(row.follower_rss_kb_median) * 1024.0) << " / "
      << MB(static_cast<double>(row.follower_rss_kb_max) * 1024.0) << " | "
      << MB(static_cast<double>(row.publisher_rss_kb) * 1024.0) << " |\n";
  }
  o << "\n";
}

void Ratios(std::ostringstream& o, const FleetResults& r) {
  if (r.rows.size() < 2) return;
  const FleetRow& first = r.rows.front();
  const FleetRow& last = r.rows.back();
  if (first.requests_per_minute > 0) {
    o << "Upstream load: **" << Fmt("%.2f", last.requests_per_minute / first.requests_per_minute)
      << "×** the requests per minute with " << last.followers << " followers as with "
      << first.followers << " (" << Fmt("%.1f", last.requests_per_minute) << " against "
      << Fmt("%.1f", first.requests_per_minute)
      << "): only the publisher asks the upstream. The same " << last.followers
      << " hosts syncing directly would each poll as the publisher does, about "
      << Fmt("%.0f", last.requests_per_minute * last.followers) << " requests per minute.\n\n";
  }
  const LatencyStats& w = last.from_write;
  if (w.samples > 0) {
    o << "Goal: write → every follower p99 ≤ 100 ms at F = " << last.followers << ": "
      << Fmt("%.1f", w.p99_ms) << " ms, " << Verdict(w.p99_ms <= 100) << ".\n\n";
  }
}

void Polling(std::ostringstream& o, const FleetResults& r) {
  if (r.polling_from_change.samples == 0) return;
  o << "Without the webhook (polling alone, `--poll-interval 5s`, the default; "
    << r.polling_followers << " followers, " << r.polling_from_change.samples
    << " changes at random moments): upstream change → every follower p50 / p99 / max "
    << Ms(r.polling_from_change) << " ms (write → every follower " << Ms(r.polling_from_write)
    << " ms).\n\n";
}

void ColdStart(std::ostringstream& o, const FleetResults& r) {
  if (r.cold_start_s < 0) return;
  o << "Cold start: a follower with an empty data dir, on a bucket of " << r.cold_orgs << " orgs ("
    << r.bucket_messages << " keys, written by a `--snapshot` publisher in "
    << Fmt("%.1f", r.publish_s) << " s from its start, snapshot load included), sent READY=1 after "
    << Fmt("%.3f", r.cold_ready_s) << " s and held every org after **"
    << Fmt("%.2f", r.cold_start_s) << " s** (goal ≤ 5 s: " << Verdict(r.cold_start_s <= 5)
    << "); RSS after looking every org up once " << MB(static_cast<double>(r.cold_rss_kb) * 1024.0)
    << ". Restarted on its store: READY=1 after " << Fmt("%.3f", r.warm_ready_s)
    << " s, RSS after looking every org up once " << MB(static_cast<double>(r.warm_rss_kb) * 1024.0)
    << ".\n\n";
}

}  // namespace

std::string FleetReport(const FleetResults& r, const FleetOptions& options) {
  std::ostringstream o;
  o << "## Fleet mode\n\n"
    << "Real processes on this machine: Debian's nats-server (JetStream, one node), one "
       "publisher (`policyd --upstream` on tests/fake_upstream with "
    << r.orgs
    << " orgs, `--publish-to`, webhook wake-up, default 5 s poll) and F followers (`policyd "
       "--follow`), added in steps. Requests at rest: the fake upstream's count over "
    << Fmt("%g", options.rest_seconds)
    << " s with nothing changing (after the row's changes, from one poll interval after the last). "
       "Latency: an "
       "org's policy is changed upstream and a signed "
       "delivery sent to the publisher's webhook; the benchmark then looks the org up on every "
       "follower in turn until each answers the new policy byte for byte (a pass over all of them "
       "takes the time in the \"one lookup on every follower\" column: the resolution). \"write\" "
       "is the time nats-server stored the publisher's new value (read by a bucket watcher the "
       "benchmark holds; same clock), \"upstream change\" the moment before the change. Changes "
       "250–750 ms apart.\n\n";
  RowsTable(o, r);
  Ratios(o, r);
  Polling(o, r);
  ColdStart(o, r);
  for (const std::string& late : r.late) o << "Late: " << late << "\n\n";
  if (!r.error.empty()) o << "Stopped early: " << r.error << "\n\n";
  return o.str();
}

}  // namespace policyd::bench
