#include "follow/follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "fleet/servers.h"
#include "follow/cursor.h"
#include "follow/stall_watch.h"
#include "nats/connection.h"
#include "nats/kv_bucket.h"
#include "nats/kv_stream.h"

namespace policyd::follow {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Longest a read waits before the loop looks at Stop() (which also wakes it) and the bucket
// check again.
constexpr milliseconds kPoll{500};

Message ToMessage(const nats::KvEntry& entry) {
  MessageOp op = MessageOp::kPut;
  if (entry.op == nats::KvOp::kDelete) op = MessageOp::kDelete;
  if (entry.op == nats::KvOp::kPurge) op = MessageOp::kPurge;
  return Message{entry.key, entry.value, entry.revision, op};
}

}  // namespace

// What one attempt holds: the bound bucket, the incarnation it started on, its stream. The
// stream is declared last so that it is destroyed before the bucket.
struct Follower::Session {
  std::unique_ptr<nats::KvBucket> bucket;
  std::int64_t created_ns = 0;
  std::unique_ptr<nats::KvStream> stream;
  bool caught_up = false;  // the stream's backlog has been read
};

Follower::Follower(Store& store, ServingState& state, const Clock& clock, FollowerOptions options)
    : store_(store),
      state_(state),
      clock_(clock),
      options_(std::move(options)),
      source_(fleet::RedactedServers(options_.urls)) {}

Follower::~Follower() { Stop(); }

void Follower::Start() {
  // The data keeps the age it had when the daemon stopped. The cursor, not the source, says the
  // data came from this bucket (a changed URL list still reaches the same bucket; another
  // incarnation of it means a cold start, which sets the age anew). Recording it twice (the
  // daemon may have done so) is harmless.
  if (Result<StoreMeta> meta = store_.Meta(); meta) {
    Result<FleetCursor> cursor = FleetCursor::Decode(meta->cursor);
    if (cursor && cursor->bucket == options_.bucket) {
      std::lock_guard lock(mu_);
      cursor_ = cursor->revision;
      synced_ = meta->last_sync;
      state_.RecordSync(meta->last_sync);
    }
  }
  std::lock_guard lock(mu_);
  stop_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void Follower::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  {
    // Not under mu_: stopping a stream may wait for the server (deleting its consumer), and
    // Status() must never wait.
    std::lock_guard lock(stream_mu_);
    if (stream_ != nullptr) stream_->Stop();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::unique_ptr<nats::NatsConnection> conn;
  {
    std::lock_guard lock(mu_);
    conn = std::move(conn_);
  }
  conn.reset();  // outside mu_: closing waits up to close_timeout
}

bool Follower::Stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

bool Follower::SetStream(nats::KvStream* stream) {
  std::lock_guard lock(stream_mu_);
  // Stop() sets stop_ before it looks at stream_: either it sees this stream, or this sees stop_.
  if (stream != nullptr && Stopping()) return false;
  stream_ = stream;
  return true;
}

FleetStatus Follower::Status() const {
  FleetStatus s;
  s.role = FleetRole::kFollower;
  s.servers = source_;
  s.bucket = options_.bucket;
  {
    std::lock_guard lock(mu_);
    if (conn_ != nullptr) s.connection = nats::FleetConnectionOf(conn_->state());
    s.cursor = cursor_;
    s.caught_up = caught_up_ && s.connection == FleetConnection::kConnected;
    s.publishers = publishers_.List();
  }
  s.values_applied = counters_.values_applied.load();
  s.values_skipped = counters_.values_skipped.load();
  s.values_refused = counters_.values_refused.load();
  s.cold_starts = counters_.cold_starts.load();
  return s;
}

std::chrono::milliseconds Follower::Backoff(std::uint32_t failures) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const int exponent = static_cast<int>(std::min<std::uint32_t>(std::max(failures, 1u), 20));
  const std::int64_t ceiling = std::max<std::int64_t>(
      1, std::min<std::int64_t>(options_.backoff_max.count(), options_.backoff_initial.count()
                                                                  << (exponent - 1)));
  return milliseconds(std::uniform_int_distribution<std::int64_t>(ceiling / 2, ceiling)(rng));
}

void Follower::Loop() {
  std::uint32_t failures = 0;
  while (!Stopping()) {
    const std::uint64_t cold_before = counters_.cold_starts.load();
    policyd::Status s = RunSession();
    if (Stopping()) break;
    ++counters_.failures;
    // A session that got going (read its backlog) starts the backoff over.
    bool was_live = false;
    {
      std::lock_guard lock(mu_);
      was_live = caught_up_ || counters_.cold_starts.load() != cold_before;
      caught_up_ = false;
    }
    failures = was_live ? 1 : failures + 1;
    state_.RecordSyncFailure("fleet follower: " + s.ToString());
    const milliseconds wait = Backoff(failures);
    spdlog::warn("follower: {}; retrying in {} ms", s.ToString(), wait.count());
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [this] { return stop_; });
  }
}

void Follower::OnConnEvent(const nats::ConnEvent& event) {
  switch (event.kind) {
    case nats::ConnEvent::Kind::kDisconnected:
      spdlog::warn("follower: NATS connection lost; serving the store, reconnecting");
      state_.RecordSyncFailure("NATS connection lost");
      break;
    case nats::ConnEvent::Kind::kReconnected:
      spdlog::info("follower: reconnected to NATS");
      check_bucket_ = true;  // the bucket may have been recreated meanwhile
      break;
    case nats::ConnEvent::Kind::kAsyncError:
      spdlog::warn("follower: NATS: {}", event.error.ToString());
      break;
    default:
      break;
  }
}

policyd::Status Follower::EnsureConnection() {
  if (conn_ != nullptr) return policyd::Status::Ok();  // only this thread writes conn_
  nats::ConnectOptions co;
  co.urls = options_.urls;
  co.creds_file = options_.creds_file;
  co.ca_file = options_.ca_file;
  co.name = "policyd follower";
  co.inbox_prefix = options_.inbox_prefix;
  co.connect_timeout = options_.connect_timeout;
  co.reconnect_wait = options_.reconnect_wait;
  co.request_timeout = options_.request_timeout;
  auto conn = nats::NatsConnection::Connect(
      co, [this](const nats::ConnEvent& event) { OnConnEvent(event); });
  if (!conn) return conn.error().WithContext("connect to NATS");
  std::lock_guard lock(mu_);
  conn_ = std::move(*conn);
  return policyd::Status::Ok();
}

policyd::Status Follower::RunSession() {
  POLICYD_RETURN_IF_ERROR(EnsureConnection());
  Session session;
  auto bucket = nats::KvBucket::Bind(*conn_, options_.bucket);
  if (!bucket) {
    if (bucket.error().code() == Code::kNotFound) {
      return policyd::Status::NotFound(
          "bucket " + options_.bucket +
          " does not exist (a publisher creates it; a follower never does)");
    }
    return bucket.error().WithContext("bind bucket " + options_.bucket);
  }
  session.bucket = std::move(*bucket);
  Result<nats::BucketInfo> info = session.bucket->Info();
  if (!info) return info.error().WithContext("bucket " + options_.bucket + " info");
  session.created_ns = info->created_ns;
  Result<StoreMeta> meta = store_.Meta();
  if (!meta) return meta.error();
  const StartPlan plan =
      PlanStart(meta->cursor, {options_.bucket, info->created_ns, info->first_seq, info->last_seq});
  Result<std::unique_ptr<nats::KvStream>> stream =
      plan.cold ? nats::KvStream::WatchAll(*session.bucket)
                : nats::KvStream::FromRevision(*session.bucket, plan.from_revision,
                                               options_.consumer_heartbeat);
  if (!stream) return stream.error().WithContext("read bucket " + options_.bucket);
  session.stream = std::move(*stream);
  if (!SetStream(session.stream.get())) return policyd::Status::Ok();  // stopping
  policyd::Status s;
  if (plan.cold) {
    spdlog::info("follower: cold start from bucket {} ({} messages): {}", options_.bucket,
                 info->messages, plan.reason);
    s = ColdStart(session);
  } else {
    spdlog::info("follower: warm start from bucket {}: {} (last revision {})", options_.bucket,
                 plan.reason, info->last_seq);
    std::lock_guard lock(mu_);
    cursor_ = plan.from_revision - 1;
  }
  if (s.ok()) s = Follow(session);
  SetStream(nullptr);
  return s;
}

policyd::Status Follower::ReadInitialValues(Session& session, ColdLoad& load) {
  for (;;) {
    Result<nats::KvEvent> event = session.stream->Next(kPoll);
    if (!event) {
      const Code code = event.error().code();
      if (code == Code::kDeadlineExceeded && !Stopping()) continue;
      if (code == Code::kDataLoss) {
        CountRefusal({RefusalReason::kValue, event.error()});
        continue;
      }
      return event.error().WithContext("cold start: read bucket " + options_.bucket);
    }
    if (event->kind == nats::KvEvent::Kind::kCaughtUp) return policyd::Status::Ok();
    ++counters_.messages_read;
    if (std::optional<Refusal> refusal = load.Add(ToMessage(event->entry))) {
      CountRefusal(*refusal);
    }
  }
}

policyd::Status Follower::ColdStart(Session& session) {
  ColdLoad load;
  POLICYD_RETURN_IF_ERROR(ReadInitialValues(session, load));
  std::optional<LocalInstance> local_instance;
  std::vector<LocalOrg> local_orgs;
  std::vector<KindRow> local_kind_rows;
  POLICYD_RETURN_IF_ERROR(ReadKeptEntries(load, local_instance, local_orgs));
  POLICYD_RETURN_IF_ERROR(ReadKeptKindRows(load, local_kind_rows));
  Result<Snapshot> snapshot = load.Build(local_instance, local_orgs, local_kind_rows);
  if (!snapshot) return snapshot.error().WithContext("cold start from bucket " + options_.bucket);
  const FleetCursor cursor{options_.bucket, session.created_ns, load.highest_revision()};
  // Store::Replace stamps its `now` as both last_sync and last_change. The data is as fresh as
  // the newest publisher heartbeat in the bucket, not as the clock: pass that (zero without
  // one, so that a bucket no publisher vouches for is stale; see follower.h).
  const Timestamp synced = load.publishers().newest_sync();
  const policyd::Status written = store_.Replace(*snapshot, cursor.Encode(), source_, synced);
  if (written.ok() || written.code() != Code::kInvalidArgument) {
    state_.SetStoreWritable(written.ok());
  }
  if (!written.ok()) return written.WithContext("cold start: write state");
  if (policyd::Status flushed = store_.Flush(); !flushed.ok()) {
    spdlog::warn("follower: cold start: flush: {}", flushed.ToString());
  }
  ++counters_.cold_starts;
  counters_.values_applied += snapshot->orgs.size() + 1 + snapshot->kind_rows.size();
  pending_kinds_ = PendingKindRows();
  for (const auto& [entry, version] : load.OrphanKindRows(*snapshot)) {
    if (pending_kinds_.Hold(entry, version)) {
      ++counters_.kind_rows_held;
    } else {
      ++counters_.kind_rows_dropped;
    }
  }
  {
    std::lock_guard lock(mu_);
    publishers_ = load.publishers();
    cursor_ = load.highest_revision();
    caught_up_ = true;
    synced_ = synced;
  }
  session.caught_up = true;
  state_.RecordSync(synced);
  spdlog::info(
      "follower: cold start from bucket {}: {} orgs ({} kept from the store for refused values), "
      "revision {}, {} publishers, {}",
      options_.bucket, snapshot->orgs.size(), local_orgs.size(), load.highest_revision(),
      load.publishers().size(),
      synced.IsZero() ? std::string("no heartbeat: the data counts as stale")
                      : fmt::format("data age {} ms (the newest publisher heartbeat)",
                                    MillisBetween(synced, clock_.Now())));
  return policyd::Status::Ok();
}

policyd::Status Follower::ReadKeptEntries(const ColdLoad& load,
                                          std::optional<LocalInstance>& instance,
                                          std::vector<LocalOrg>& orgs) {
  if (load.kept_orgs().empty() && !load.keeps_instance()) return policyd::Status::Ok();
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.set_with_versions(true);
  for (const std::string& id : load.kept_orgs()) batch.Add(id);
  POLICYD_RETURN_IF_ERROR(store_.Read(batch));
  if (load.keeps_instance() && batch.instance() != nullptr) {
    instance = LocalInstance{*batch.instance(), batch.instance_domains(), batch.instance_version()};
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const OrgView view = batch.org(i);
    if (!view.known) continue;
    LocalOrg local;
    local.org.id = std::string(batch.id(i));
    if (view.own_policy != nullptr) local.org.policy = *view.own_policy;
    local.domains = batch.domains(i);
    local.domains.org_id = local.org.id;
    local.version = batch.version(i);
    orgs.push_back(std::move(local));
  }
  return policyd::Status::Ok();
}

policyd::Status Follower::Follow(Session& session) {
  const milliseconds poll = std::min(kPoll, options_.bucket_check_interval);
  auto next_check = steady_clock::now() + options_.bucket_check_interval;
  StallWatch stall;
  for (;;) {
    if (Stopping()) return policyd::Status::Ok();
    if (check_bucket_.exchange(false) || steady_clock::now() >= next_check) {
      next_check = steady_clock::now() + options_.bucket_check_interval;
      Result<nats::BucketInfo> info = session.bucket->Info();
      if (!info && info.error().code() == Code::kNotFound) {
        return policyd::Status::NotFound("bucket " + options_.bucket + " was deleted");
      }
      // Another error: NATS is unreachable; cnats reconnects and resumes the stream by itself.
      if (info && info->created_ns != session.created_ns) {
        return policyd::Status(
            Code::kAborted,
            "bucket " + options_.bucket + " was recreated; starting over with a cold start");
      }
      if (info && stall.Check(CurrentCursor(), info->last_seq)) {
        return policyd::Status::Unavailable("no message from bucket " + options_.bucket + " for " +
                                            std::to_string(options_.bucket_check_interval.count()) +
                                            " ms although it holds revision " +
                                            std::to_string(info->last_seq) +
                                            "; re-creating the consumer from the cursor");
      }
    }
    Result<nats::KvEvent> event = session.stream->Next(poll);
    if (!event) {
      const Code code = event.error().code();
      if (code == Code::kDeadlineExceeded) continue;
      if (code == Code::kCancelled && Stopping()) return policyd::Status::Ok();
      if (code == Code::kDataLoss) {
        CountRefusal({RefusalReason::kValue, event.error()});
        continue;
      }
      return event.error().WithContext("read bucket " + options_.bucket);
    }
    if (event->kind == nats::KvEvent::Kind::kCaughtUp) {
      session.caught_up = true;
      POLICYD_RETURN_IF_ERROR(OnCaughtUp());
      continue;
    }
    ++counters_.messages_read;
    POLICYD_RETURN_IF_ERROR(HandleEntry(session, event->entry));
  }
}

std::uint64_t Follower::CurrentCursor() const {
  std::lock_guard lock(mu_);
  return cursor_;
}

policyd::Status Follower::OnCaughtUp() {
  Timestamp synced;
  bool moved = false;
  std::uint64_t cursor = 0;
  {
    std::lock_guard lock(mu_);
    caught_up_ = true;
    const Timestamp newest = publishers_.newest_sync();
    moved = newest > synced_;
    if (moved) synced_ = newest;
    synced = synced_;
    cursor = cursor_;
  }
  if (moved) {
    StoreChange change;
    change.synced_at = synced;
    POLICYD_RETURN_IF_ERROR(Write(change));
  }
  state_.RecordSync(synced);
  spdlog::info("follower: caught up with bucket {} at revision {}", options_.bucket, cursor);
  return policyd::Status::Ok();
}

Result<SourceVersion> Follower::HeldVersion(const fleet::FleetKey& key) {
  LookupBatch batch;
  batch.set_with_versions(true);
  if (key.kind == fleet::KeyKind::kOrg) batch.Add(key.id);
  if (policyd::Status read = store_.Read(batch); !read.ok()) return Err(read);
  return key.kind == fleet::KeyKind::kOrg ? batch.version(0) : batch.instance_version();
}

// A heartbeat: the publisher table, and while caught up the data's age (Outcome::synced).
void Follower::RecordHeartbeat(const Session& session, const fleet::FleetValue& value,
                               Outcome& out) {
  const auto& heartbeat = std::get<fleet::Heartbeat>(value.entry);
  std::lock_guard lock(mu_);
  if (!publishers_.Record(heartbeat, value.version)) return;
  ++counters_.heartbeats;
  if (session.caught_up && heartbeat.last_sync > synced_) {
    synced_ = heartbeat.last_sync;
    out.synced = synced_;
    out.change.synced_at = synced_;
  }
}

policyd::Status Follower::Decide(const Session& session, const Message& message, Outcome& out) {
  tl::expected<Decoded, Refusal> decoded = DecodeMessage(message);
  if (!decoded) {
    CountRefusal(decoded.error());
  } else if (decoded->key.kind == fleet::KeyKind::kHeartbeat) {
    RecordHeartbeat(session, *decoded->value, out);
  } else if (decoded->key.kind == fleet::KeyKind::kKindInstance ||
             decoded->key.kind == fleet::KeyKind::kKindOrg) {
    return DecideKind(*decoded, out);
  } else {
    Result<SourceVersion> held = HeldVersion(decoded->key);
    if (!held) return held.error().WithContext("read the store's version");
    out.apply = ShouldApply(*decoded, *held);
    if (out.apply && !decoded->value) pending_kinds_.DropOrg(decoded->key.id);
    if (out.apply) {
      out.change = ChangeFor(*decoded);
      // Kind rows held for this org go into the org's batch (they are forgotten once it is
      // written: HandleEntry).
      if (decoded->value) {
        for (KindRowChange& row : pending_kinds_.Take(decoded->key.id)) {
          out.change.put_kind_rows.push_back(row);
          out.held_rows.push_back(std::move(row));
        }
      }
    } else {
      ++counters_.values_skipped;
    }
  }
  return policyd::Status::Ok();
}

policyd::Status Follower::HandleEntry(Session& session, const nats::KvEntry& entry) {
  {
    std::lock_guard lock(mu_);
    // Already applied: a consumer re-created after a reconnect may deliver it again.
    if (entry.revision <= cursor_) return policyd::Status::Ok();
  }
  Outcome out;
  POLICYD_RETURN_IF_ERROR(Decide(session, ToMessage(entry), out));
  out.change.cursor = FleetCursor{options_.bucket, session.created_ns, entry.revision}.Encode();
  policyd::Status written = Write(out.change);
  if (!written.ok() && out.apply && written.code() == Code::kInvalidArgument) {
    // The store refuses what the decoder let through: refuse it like a bad value.
    CountRefusal({RefusalReason::kValue,
                  written.WithContext("bucket revision " + std::to_string(entry.revision))});
    out.apply = false;
    pending_kinds_.Restore(std::move(out.held_rows));  // the org is not stored: still held
    out.held_rows.clear();
    StoreChange cursor_only;
    cursor_only.cursor = std::move(out.change.cursor);
    written = Write(cursor_only);
  }
  if (!written.ok()) {
    pending_kinds_.Restore(std::move(out.held_rows));
    return written.WithContext("apply bucket revision " + std::to_string(entry.revision));
  }
  if (out.apply) ++counters_.values_applied;
  {
    std::lock_guard lock(mu_);
    cursor_ = entry.revision;
    if (session.caught_up) caught_up_ = entry.pending == 0;
  }
  if (out.synced) state_.RecordSync(*out.synced);
  return policyd::Status::Ok();
}

policyd::Status Follower::Write(const StoreChange& change) {
  const policyd::Status written = store_.Apply(change, clock_.Now());
  // INVALID_ARGUMENT is about the change, not the disk: it says nothing about writability.
  if (written.ok() || written.code() != Code::kInvalidArgument) {
    state_.SetStoreWritable(written.ok());
  }
  return written;
}

void Follower::CountRefusal(const Refusal& refusal) {
  ++counters_.values_refused;
  ++counters_.refused_by_reason[static_cast<std::size_t>(refusal.reason)];
  std::lock_guard lock(log_mu_);
  const auto now = steady_clock::now();
  if (last_refusal_log_.time_since_epoch().count() != 0 &&
      now - last_refusal_log_ < options_.refusal_log_interval) {
    ++unlogged_refusals_;
    return;
  }
  spdlog::warn("follower: refused a bucket value ({}): {}{}", RefusalReasonName(refusal.reason),
               refusal.status.ToString(),
               unlogged_refusals_ == 0
                   ? std::string()
                   : fmt::format(" ({} more refused meanwhile)", unlogged_refusals_));
  last_refusal_log_ = now;
  unlogged_refusals_ = 0;
}

}  // namespace policyd::follow
