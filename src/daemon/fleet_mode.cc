#include "daemon/fleet_mode.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "fleet/servers.h"
#include "follow/follower.h"
#include "publish/change_feed.h"
#include "publish/plan.h"
#include "publish/publisher.h"

namespace policyd {
namespace {

void LogConnectionEvent(std::string_view role, const nats::ConnEvent& event) {
  switch (event.kind) {
    case nats::ConnEvent::Kind::kConnected:
      spdlog::info("fleet {}: connected to NATS", role);
      break;
    case nats::ConnEvent::Kind::kReconnected:
      spdlog::info("fleet {}: reconnected to NATS", role);
      break;
    case nats::ConnEvent::Kind::kDisconnected:
      spdlog::warn("fleet {}: disconnected from NATS; serving the store, reconnecting", role);
      break;
    case nats::ConnEvent::Kind::kClosed:
      spdlog::info("fleet {}: NATS connection closed", role);
      break;
    case nats::ConnEvent::Kind::kAsyncError:
      spdlog::warn("fleet {}: NATS: {}", role, event.error.ToString());
      break;
  }
}

}  // namespace

std::unique_ptr<FleetMode> FleetMode::Make(const DaemonConfig& config, Store& store,
                                           const Clock& clock) {
  if (config.publish_to.empty() && config.follow.empty()) return nullptr;
  std::unique_ptr<FleetMode> fleet(new FleetMode());
  fleet->store_ = &store;
  fleet->clock_ = &clock;
  fleet->config_ = &config;
  if (!config.publish_to.empty()) {
    fleet->feed_ = std::make_unique<publish::ChangeFeed>(store);
    publish::PublisherOptions options;
    options.connect.urls = fleet::SplitServers(config.publish_to);
    options.connect.creds_file = config.nats_creds;
    options.connect.ca_file = config.nats_ca_file;
    options.connect.name = "policyd publisher " + config.publisher_id;
    options.connect.inbox_prefix =
        config.nats_inbox_prefix.empty() ? "_INBOX_policyd_publisher" : config.nats_inbox_prefix;
    options.bucket = config.nats_bucket;
    options.replicas = static_cast<int>(config.nats_replicas);
    options.publisher_id = config.publisher_id;
    options.resync_interval = config.publish_resync_interval;
    options.static_source = config.upstream.empty();
    options.source = config.upstream.empty() ? publish::SnapshotSource(config.snapshot)
                                             : publish::HeartbeatSource(config.upstream);
    options.policyd_version = POLICYD_VERSION;
    options.on_connection_event = [](const nats::ConnEvent& e) {
      LogConnectionEvent("publisher", e);
    };
    fleet->publisher_ =
        std::make_unique<publish::Publisher>(store, *fleet->feed_, clock, std::move(options));
  }
  return fleet;
}

FleetMode::~FleetMode() { Stop(); }

Store& FleetMode::writer_store() { return feed_ ? *feed_ : *store_; }

std::string FleetMode::freshness_source() const {
  if (config_->follow.empty()) return "";
  return fleet::RedactedServers(fleet::SplitServers(config_->follow));
}

Status FleetMode::Start(ServingState& state) {
  // cnats reads these only when it connects, and retries forever: a file that cannot be read
  // would look like a server that never answers. Refuse it now, with its name.
  for (const std::string* file : {&config_->nats_creds, &config_->nats_ca_file}) {
    if (!file->empty() && access(file->c_str(), R_OK) != 0) {
      return Status::InvalidArgument("cannot read " + *file + ": " + std::strerror(errno));
    }
  }
  if (publisher_) {
    POLICYD_RETURN_IF_ERROR(publisher_->Start());
    spdlog::info("fleet publisher {}: publishing to bucket {} on {}", config_->publisher_id,
                 config_->nats_bucket,
                 fleet::RedactedServers(fleet::SplitServers(config_->publish_to)));
  } else {
    follow::FollowerOptions options;
    options.urls = fleet::SplitServers(config_->follow);
    options.creds_file = config_->nats_creds;
    options.ca_file = config_->nats_ca_file;
    options.bucket = config_->nats_bucket;
    options.inbox_prefix =
        config_->nats_inbox_prefix.empty() ? "_INBOX_policyd_follower" : config_->nats_inbox_prefix;
    follower_ = std::make_unique<follow::Follower>(*store_, state, *clock_, std::move(options));
    follower_->Start();
    spdlog::info("fleet follower: following bucket {} on {}", config_->nats_bucket,
                 freshness_source());
  }
  state_ = &state;
  state.SetFleetSource([this]() -> std::optional<FleetStatus> { return Report(); });
  return Status::Ok();
}

void FleetMode::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (state_ != nullptr) state_->SetFleetSource({});
  if (publisher_) publisher_->Stop();
  if (follower_) follower_->Stop();
  publisher_.reset();
  follower_.reset();
  // cnats's own threads, once no connection is left (its contract: at process exit).
  if (Status s = nats::ShutdownLibrary(std::chrono::seconds(2)); !s.ok()) {
    spdlog::warn("fleet: NATS library shutdown: {}", s.ToString());
  }
}

FleetStatus FleetMode::Report() const {
  // Only called while the source is set, i.e. between Start() and Stop().
  if (publisher_) return publisher_->Status();
  if (follower_) return follower_->Status();
  return {};
}

}  // namespace policyd
