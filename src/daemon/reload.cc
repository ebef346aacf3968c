#include "daemon/reload.h"

namespace policyd {

ReloadPlan PlanReload(const DaemonConfig& running, const DaemonConfig& fresh) {
  ReloadPlan plan;
  plan.log_level = running.log_level != fresh.log_level;
  plan.poll_interval = running.poll_interval != fresh.poll_interval;
  plan.peers = running.allow_uids != fresh.allow_uids || running.allow_gids != fresh.allow_gids;
  plan.max_connections = running.max_connections != fresh.max_connections ||
                         running.max_connections_per_peer != fresh.max_connections_per_peer ||
                         running.reserved_connections != fresh.reserved_connections;
  plan.credentials = !running.upstream.empty();
  plan.webhook_key = !running.webhook_listen.empty();
  auto fixed = [&plan](const char* key, bool changed) {
    if (changed) plan.needs_restart.emplace_back(key);
  };
  fixed("socket", running.socket_path != fresh.socket_path);
  fixed("socket-mode", running.socket_mode != fresh.socket_mode);
  fixed("socket-owner", running.socket_owner != fresh.socket_owner);
  fixed("socket-group", running.socket_group != fresh.socket_group);
  fixed("data-dir", running.data_dir != fresh.data_dir);
  fixed("snapshot", running.snapshot != fresh.snapshot);
  fixed("threads", running.threads != fresh.threads);
  fixed("max-frame-bytes", running.max_frame_bytes != fresh.max_frame_bytes);
  fixed("idle-timeout", running.idle_timeout != fresh.idle_timeout);
  fixed("frame-timeout", running.frame_timeout != fresh.frame_timeout);
  fixed("max-inflight", running.max_inflight != fresh.max_inflight);
  fixed("block-cache-mb", running.block_cache_mb != fresh.block_cache_mb);
  fixed("metrics-listen", running.metrics_listen != fresh.metrics_listen);
  fixed("http-socket", running.http_socket != fresh.http_socket);
  fixed("http-socket-mode", running.http_socket_mode != fresh.http_socket_mode);
  fixed("upstream", running.upstream != fresh.upstream);
  fixed("token-file", running.token_file != fresh.token_file);
  fixed("key-file", running.key_file != fresh.key_file);
  fixed("ca-file", running.ca_file != fresh.ca_file);
  fixed("max-staleness", running.max_staleness != fresh.max_staleness);
  fixed("refuse-when-stale", running.refuse_when_stale != fresh.refuse_when_stale);
  fixed("request-metrics", running.request_metrics != fresh.request_metrics);
  fixed("connect-timeout", running.connect_timeout != fresh.connect_timeout);
  fixed("request-timeout", running.request_timeout != fresh.request_timeout);
  fixed("webhook-listen", running.webhook_listen != fresh.webhook_listen);
  fixed("webhook-signing-key-file",
        running.webhook_signing_key_file != fresh.webhook_signing_key_file);
  // Fleet mode: the NATS connection and the bucket are set up once, at start.
  fixed("publish-to", running.publish_to != fresh.publish_to);
  fixed("follow", running.follow != fresh.follow);
  fixed("nats-creds", running.nats_creds != fresh.nats_creds);
  fixed("nats-ca-file", running.nats_ca_file != fresh.nats_ca_file);
  fixed("nats-bucket", running.nats_bucket != fresh.nats_bucket);
  fixed("nats-replicas", running.nats_replicas != fresh.nats_replicas);
  fixed("publish-resync-interval",
        running.publish_resync_interval != fresh.publish_resync_interval);
  fixed("publisher-id", running.publisher_id != fresh.publisher_id);
  fixed("nats-inbox-prefix", running.nats_inbox_prefix != fresh.nats_inbox_prefix);
  return plan;
}

}  // namespace policyd
