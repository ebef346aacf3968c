// The publisher's threads and life cycle; what it writes is in publisher_writes.cc.
#include "publish/publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "fleet/keys.h"
#include "fleet/servers.h"
#include "resolve/resolve.h"

namespace policyd::publish {

namespace {

using Steady = std::chrono::steady_clock;
using PStatus = ::policyd::Status;

std::string HeartbeatKeyOf(const std::string& id) {
  Result<std::string> key = fleet::FormatKey({fleet::KeyKind::kHeartbeat, id});
  return key ? *key : std::string();
}

}  // namespace

Publisher::Publisher(Store& store, ChangeFeed& feed, const Clock& clock, PublisherOptions options)
    : store_(store),
      feed_(feed),
      clock_(clock),
      options_(std::move(options)),
      heartbeat_key_(HeartbeatKeyOf(options_.publisher_id)),
      view_(heartbeat_key_) {}

Publisher::~Publisher() { Stop(); }

PStatus Publisher::Start() {
  if (thread_.joinable()) return PStatus::FailedPrecondition("publisher already started");
  if (heartbeat_key_.empty()) {
    return ValidateId("publisher id", options_.publisher_id).WithContext("fleet publisher");
  }
  if (!nats::ValidBucketName(options_.bucket)) {
    return PStatus::InvalidArgument("fleet publisher: invalid bucket name \"" + options_.bucket +
                                    "\" (A-Z a-z 0-9 _ - only)");
  }
  Result<std::unique_ptr<nats::NatsConnection>> conn = nats::NatsConnection::Connect(
      options_.connect, [this](const nats::ConnEvent& e) { OnConnectionEvent(e); });
  if (!conn) return conn.error().WithContext("fleet publisher");
  {
    std::lock_guard lock(status_mu_);
    conn_ = std::move(*conn);
  }
  feed_.SetListener([this] { Wake(); });
  thread_ = std::thread([this] { Run(); });
  return PStatus::Ok();
}

void Publisher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stopping_flag_ = true;
  cv_.notify_all();
  feed_.SetListener({});
  // The watch thread notices stopping_flag_ within a second by itself; stream_ belongs to the
  // publisher thread until that one has ended.
  if (thread_.joinable()) thread_.join();
  StopWatch();
  bucket_.reset();
  std::unique_ptr<nats::NatsConnection> conn;
  {
    std::lock_guard lock(status_mu_);
    conn = std::move(conn_);
  }
  conn.reset();  // waits for cnats to confirm the close, outside the lock
}

void Publisher::Resync() {
  resync_requested_ = true;
  Wake();
}

void Publisher::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

bool Publisher::WaitUntil(Steady::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return wake_ || stopping_; });
  wake_ = false;
  return !stopping_;
}

bool Publisher::SleepFor(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, duration, [&] { return stopping_; });
  return !stopping_;
}

void Publisher::OnConnectionEvent(const nats::ConnEvent& event) {
  if (event.kind == nats::ConnEvent::Kind::kConnected ||
      event.kind == nats::ConnEvent::Kind::kReconnected) {
    ever_connected_ = true;
  }
  if (event.kind == nats::ConnEvent::Kind::kReconnected) {
    // Writes of other publishers while this one was away reach the watch, but this publisher's
    // own changes were not written: reconcile.
    reconnected_ = true;
    Wake();
  }
  if (options_.on_connection_event) options_.on_connection_event(event);
}

void Publisher::Run() {
  std::chrono::milliseconds backoff = options_.backoff_initial;
  while (!stopping_flag_) {
    PStatus s = Step();
    if (stopping_flag_) break;
    if (s.ok()) {
      backoff = options_.backoff_initial;
      if (view_.caught_up() && (feed_.HasPending() || reconnected_ || resync_requested_)) {
        continue;
      }
      if (!WaitUntil(NextDeadline())) break;
      continue;
    }
    log_.Warn(s.ToString() + "; retrying in " + std::to_string(backoff.count()) + " ms");
    if (!SleepFor(backoff)) break;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

Steady::time_point Publisher::NextDeadline() const {
  // Until the watch has caught up (it wakes this thread then), look again every second.
  if (!view_.caught_up() || need_full_pass_) return Steady::now() + std::chrono::seconds(1);
  Steady::time_point next = next_resync_;
  if (options_.static_source) {
    next = std::min(next, last_heartbeat_ + options_.heartbeat_interval);
  } else if (heartbeat_due_) {
    next = std::min(next, last_heartbeat_ + options_.heartbeat_min_gap);
  }
  return next;
}

PStatus Publisher::Setup() {
  if (bucket_lost_.exchange(false)) {
    StopWatch();
    bucket_.reset();
  }
  if (!bucket_) {
    nats::BucketConfig config;
    config.bucket = options_.bucket;
    config.replicas = options_.replicas;
    Result<std::unique_ptr<nats::KvBucket>> bucket = nats::KvBucket::CreateOrBind(*conn_, config);
    if (!bucket) return bucket.error().WithContext("bucket " + options_.bucket);
    Result<nats::BucketInfo> info = (*bucket)->Info();
    if (!info) return info.error().WithContext("bucket " + options_.bucket);
    bucket_ = std::move(*bucket);
    bucket_created_ns_ = info->created_ns;
    spdlog::info("publisher {}: bucket {} bound ({} keys and markers, {} replicas)",
                 options_.publisher_id, options_.bucket, info->messages, info->replicas);
  }
  if (watch_failed_.exchange(false)) StopWatch();
  if (!stream_) POLICYD_RETURN_IF_ERROR(StartWatch());
  return PStatus::Ok();
}

PStatus Publisher::StartWatch() {
  view_.Clear();
  Result<std::unique_ptr<nats::KvStream>> stream = nats::KvStream::WatchAll(*bucket_);
  if (!stream) return stream.error().WithContext("watch bucket " + options_.bucket);
  stream_ = std::move(*stream);
  need_full_pass_ = true;
  watch_thread_ = std::thread([this] { WatchLoop(); });
  return PStatus::Ok();
}

void Publisher::StopWatch() {
  if (stream_) stream_->Stop();
  if (watch_thread_.joinable()) watch_thread_.join();
  stream_.reset();
}

void Publisher::WatchLoop() {
  while (!stopping_flag_) {
    Result<nats::KvEvent> event = stream_->Next(std::chrono::seconds(1));
    if (event) {
      if (event->kind == nats::KvEvent::Kind::kCaughtUp) {
        view_.SetCaughtUp();
        Wake();
      } else {
        view_.Observe(event->entry);
      }
      continue;
    }
    const Code code = event.error().code();
    if (code == Code::kDeadlineExceeded || code == Code::kDataLoss) continue;
    if (code != Code::kCancelled) {
      log_.Warn("watch of bucket " + options_.bucket + " ended: " + event.error().ToString());
      watch_failed_ = true;
      Wake();
    }
    return;
  }
}

PStatus Publisher::Step() {
  POLICYD_RETURN_IF_ERROR(Setup());
  if (!view_.caught_up()) return PStatus::Ok();  // woken by the watch when it is
  FeedChanges changes = feed_.Take();
  pending_orgs_.insert(changes.orgs.begin(), changes.orgs.end());
  pending_kind_rows_.insert(changes.kind_rows.begin(), changes.kind_rows.end());
  pending_instance_ = pending_instance_ || changes.instance;
  heartbeat_due_ = heartbeat_due_ || changes.synced;
  const bool reconnected = reconnected_.exchange(false);
  const bool asked = resync_requested_.exchange(false);
  if (changes.everything || reconnected || asked || Steady::now() >= next_resync_ ||
      pending_orgs_.size() > ChangeFeed::kDefaultMaxPendingOrgs ||
      pending_kind_rows_.size() > ChangeFeed::kDefaultMaxPendingOrgs) {
    need_full_pass_ = true;
  }
  if (need_full_pass_) {
    POLICYD_RETURN_IF_ERROR(FullPass());
    need_full_pass_ = false;
    pending_instance_ = false;
    pending_kind_rows_.clear();  // the pass wrote every row the store holds
    next_resync_ = Steady::now() + options_.resync_interval;
  }
  if (pending_instance_) {
    POLICYD_RETURN_IF_ERROR(PublishInstance(false));
    pending_instance_ = false;
  }
  if (!pending_orgs_.empty()) {
    // Also after a full pass: an org the feed named and the store lacks was removed by an event
    // this publisher applied, and gets its delete marker even if the bucket never had the key.
    Result<Horizon> horizon = CurrentHorizon();
    if (!horizon) return horizon.error();
    const std::vector<std::string> ids(pending_orgs_.begin(), pending_orgs_.end());
    // A failure leaves them pending: published again on the next step (done ones are skipped).
    POLICYD_RETURN_IF_ERROR(PublishOrgs(ids, false, horizon->removed, true));
    pending_orgs_.clear();
  }
  if (!pending_kind_rows_.empty()) {
    // After the orgs: a new org's key precedes its kind keys in the bucket.
    POLICYD_RETURN_IF_ERROR(
        PublishKindRows({pending_kind_rows_.begin(), pending_kind_rows_.end()}, false));
    pending_kind_rows_.clear();
  }
  return MaybeHeartbeat(changes.synced);
}

FleetStatus Publisher::Status() const {
  FleetStatus s;
  s.role = FleetRole::kPublisher;
  s.servers = fleet::RedactedServers(options_.connect.urls);
  s.bucket = options_.bucket;
  s.cursor = cursor_;
  {
    std::lock_guard lock(status_mu_);
    s.connection = conn_ ? nats::FleetConnectionOf(conn_->state()) : FleetConnection::kClosed;
    // cnats reports a first connection that keeps failing as "reconnecting".
    if (s.connection == FleetConnection::kReconnecting && !ever_connected_) {
      s.connection = FleetConnection::kConnecting;
    }
    if (!own_heartbeat_.id.empty()) s.publishers.push_back(own_heartbeat_);
  }
  s.writes = writes_;
  s.values_skipped = values_skipped_;
  s.write_conflicts = write_conflicts_;
  s.write_errors = write_errors_;
  s.resync_passes = resync_passes_;
  return s;
}

}  // namespace policyd::publish
