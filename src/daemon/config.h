// policyd's command line, validated into a DaemonConfig.
//
// Bad input is one clear line and exit code 78 (EX_CONFIG), so systemd's
// RestartPreventExitStatus=78 stops a restart loop on a broken configuration.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policyd {

inline constexpr int kExitConfig = 78;  // EX_CONFIG

struct DaemonConfig {
  std::string socket_path = "/run/policyd/policyd.sock";
  mode_t socket_mode = 0660;
  std::string data_dir = "/var/lib/policyd";
  std::string snapshot;  // load this snapshot at start ("" = serve the store as it is)
  unsigned threads = 0;  // 0: one per core
  std::uint32_t max_frame_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds frame_timeout{std::chrono::seconds(10)};  // begun frame complete in
  std::size_t max_connections = 4096;                                 // README "Limits" says why
  std::size_t max_connections_per_peer = 512;  // per peer uid; root and our own uid exempt
  // Of max_connections, places only root and our own uid may use; always < max_connections
  // (a default that does not fit a small max_connections is lowered to max_connections - 1).
  std::size_t reserved_connections = 8;
  std::size_t max_inflight = 128;  // requests answered per write, per connection
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
  std::size_t block_cache_mb = 64;
  std::string log_level = "info";
  // "HOST:PORT" on which to serve /metrics, /healthz and /readyz over HTTP ("" = off).
  std::string metrics_listen;
  // Unix socket for the upstream-compatible HTTP/JSON reads ("" = off), and its file mode. It
  // gets socket-owner/socket-group like the lookup socket.
  std::string http_socket;
  mode_t http_socket_mode = 0660;

  // Sync from the upstream IAM (off when `upstream` is empty).
  std::string upstream;    // base URL, e.g. https://iam.example.com
  std::string token_file;  // Personal Access Token
  std::string key_file;    // service-account key JSON (JWT profile)
  std::string ca_file;     // extra trust anchor
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
  std::chrono::milliseconds max_staleness{std::chrono::minutes(5)};
  bool refuse_when_stale = false;
  bool request_metrics = true;  // count and time requests by kind and status
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  // Webhook wake-up (off when `webhook_listen` is empty): "HOST:PORT" on which ZITADEL Actions
  // v2 event deliveries are accepted, and the file holding the target's signing key. Needs
  // `upstream` (it wakes the sync); both or neither.
  std::string webhook_listen;
  std::string webhook_signing_key_file;
  // Fleet mode (docs/fleet.md): a publisher writes the store to a NATS JetStream key-value
  // bucket; a follower takes its data from one instead of an upstream or a snapshot. URLs are
  // comma-separated "nats://HOST:PORT" ("" = off); follow excludes upstream, snapshot and
  // publish-to; publish-to needs upstream or snapshot.
  std::string publish_to;
  std::string follow;
  std::string nats_creds;    // credentials file (JWT + NKey seed)
  std::string nats_ca_file;  // trust anchor; turns TLS on
  std::string nats_bucket = "policyd";
  std::uint32_t nats_replicas = 1;  // of a bucket the publisher creates
  std::chrono::milliseconds publish_resync_interval{std::chrono::hours(1)};
  std::string publisher_id;  // heartbeat.<id>; the host name unless set
  // Prefix of NATS reply subjects, for servers that scope a user's subscriptions; "" = by role,
  // "_INBOX_policyd_publisher" or "_INBOX_policyd_follower" (examples/nats/policyd-users.conf).
  std::string nats_inbox_prefix;
  std::string config_file;  // where the settings came from, for reloads

  // Who may connect: socket file ownership, and an optional peer allowlist (SO_PEERCRED).
  uid_t socket_owner = static_cast<uid_t>(-1);  // -1: leave as created
  gid_t socket_group = static_cast<gid_t>(-1);
  std::set<uid_t> allow_uids;  // empty with allow_gids empty: file permissions decide
  std::set<gid_t> allow_gids;
};

// Parses "250ms", "5s", "2m", "1h" or a plain number of seconds ("5", "0.5").
// Errors: INVALID_ARGUMENT.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Either a config to run with, or an exit code to return right away (after --help, --version
// or an error, whose message has already been printed).
struct ParsedArgs {
  std::optional<DaemonConfig> config;
  int exit_code = 0;
};

// `config_text`, when given, is taken as the contents of the file named by --config instead of
// reading that file (tests and the config fuzzer parse TOML from memory; the daemon reads files).
ParsedArgs ParseDaemonArgs(int argc, char** argv, const std::string& version,
                           std::optional<std::string_view> config_text = std::nullopt);

}  // namespace policyd
