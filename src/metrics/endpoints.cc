#include "metrics/endpoints.h"

#include <charconv>

namespace policyd::metrics {
namespace {

constexpr std::string_view kPlainText = "text/plain; charset=utf-8";

HttpReply Plain(int status, std::string body) {
  return HttpReply{status, std::string(kPlainText), std::move(body) + "\n"};
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&] {
    // Appended piecewise: gcc 12 at -O3 warns (-Wrestrict) on "literal" + std::string(...).
    std::string message = "\"";
    message.append(text);
    message.append("\" is not HOST:PORT like 127.0.0.1:9464 or [::1]:9464");
    return Err(Status::InvalidArgument(std::move(message)));
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad();  // an IPv6 literal needs brackets
  }
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return bad();
  }
  return ListenAddress{std::string(host), port};
}

std::string HealthSummary(const ServerStatus& s) {
  std::string line;
  switch (s.health) {
    case Health::kStarting:
      line = "starting: no policy data yet";
      break;
    case Health::kServing:
      line = "serving ";
      break;
    case Health::kStale:
      line = "STALE, serving ";
      break;
    case Health::kDegraded:
      line = "DEGRADED (store not writable), serving ";
      break;
    case Health::kRefusing:
      line = "REFUSING lookups (stale data), holding ";
      break;
  }
  if (s.health != Health::kStarting) {
    line += std::to_string(s.meta.org_count) + " orgs (" +
            std::to_string(s.meta.custom_policy_count) + " with their own policy)";
  }
  // A follower's data comes from the bucket: its syncs and their age are the follower's own.
  const bool follower = s.fleet && s.fleet->role == FleetRole::kFollower;
  if (follower) {
    line += std::string(s.health == Health::kStarting ? ", " : " ") + "from nats bucket " +
            s.fleet->bucket + " (" + std::string(FleetConnectionName(s.fleet->connection)) + ")";
  }
  if (!s.upstream.empty() || follower) {
    if (s.health != Health::kStarting) {
      line += s.data_age_ms < 0 ? ", never synced"
                                : ", last sync " + std::to_string(s.data_age_ms / 1000) + "s ago";
    }
    if (s.consecutive_failures > 0) {
      line += ", " + std::to_string(s.consecutive_failures) + " failed syncs: " + s.last_error;
    }
  }
  return line;
}

std::optional<HttpReply> Endpoints::Answer(std::string_view path) const {
  if (path == "/metrics") return Metrics();
  if (path == "/healthz") return Healthz();
  if (path == "/readyz") return Readyz();
  return std::nullopt;
}

HttpReply Endpoints::Metrics() const {
  Result<ServerStatus> status = sources_.status();
  if (!status) return Plain(503, "cannot read the store: " + status.error().ToString());
  MetricsContext context = sources_.context;
  if (sources_.store_bytes) context.store_bytes = sources_.store_bytes();
  return HttpReply{200, std::string(kTextContentType),
                   RenderText(PolicydFamilies(*status, context))};
}

HttpReply Endpoints::Healthz() const {
  if (sources_.loops_turning && !sources_.loops_turning()) {
    return Plain(503, "not ok: a serving loop has stopped turning");
  }
  Result<ServerStatus> status = sources_.status();
  // Alive even when the store cannot be read: a restart would not fix the disk; /readyz says it.
  return Plain(200, status ? "ok health=" + std::string(HealthName(status->health)) : "ok");
}

HttpReply Endpoints::Readyz() const {
  if (sources_.accepting && !sources_.accepting()) {
    return Plain(503, "not ready: the lookup socket is not accepting connections");
  }
  Result<ServerStatus> status = sources_.status();
  if (!status) return Plain(503, "not ready: store unreadable: " + status.error().ToString());
  const bool ready = IsReady(status->health);
  return Plain(ready ? 200 : 503, std::string(ready ? "ready" : "not ready") +
                                      " health=" + std::string(HealthName(status->health)) + ": " +
                                      HealthSummary(*status));
}

}  // namespace policyd::metrics
