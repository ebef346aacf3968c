// What the publisher writes: full passes, single entries, heartbeats, and the guarded write with
// its retries. Runs on the publisher thread; Converge() and what it calls also run on the writer
// threads of ConvergeAll() (they touch only the view, atomics, the bucket and the log, all
// thread-safe).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "fleet/keys.h"
#include "fleet/values.h"
#include "publish/publisher.h"
#include "publish/publisher_want.h"

namespace policyd::publish {

namespace {

using Steady = std::chrono::steady_clock;
using PStatus = ::policyd::Status;

// Entries read from the store per LookupBatch, then written (values of up to ~300 KB each for a
// full domain list: this bounds the memory a chunk holds).
constexpr std::size_t kReadChunk = 128;
// Fewest writes per writer thread worth starting one for.
constexpr std::size_t kWritesPerWorker = 16;
// Lost compare-and-set races on one key before the step gives up (and retries after a backoff).
constexpr int kMaxConflicts = 10;

bool Transient(const PStatus& s) {
  return s.code() == Code::kDeadlineExceeded || s.code() == Code::kUnavailable;
}

}  // namespace

Result<Horizon> Publisher::CurrentHorizon() const {
  if (options_.static_source) return Horizon{static_horizon_, static_horizon_};
  Result<StoreMeta> meta = store_.Meta();
  if (!meta) return Err(meta.error().WithContext("read store meta"));
  Result<Horizon> horizon = HorizonFromCursor(meta->cursor);
  if (!horizon) {
    // Delete nothing rather than guess: the next sync writes a cursor that decodes.
    spdlog::warn("publisher: {}; deleting no keys until it decodes", horizon.error().ToString());
    return Horizon{};
  }
  return horizon;
}

PStatus Publisher::CheckBucket() {
  Result<nats::BucketInfo> info = bucket_->Info();
  if (!info && info.error().code() != Code::kNotFound) return info.error();
  if (!info || info->created_ns != bucket_created_ns_) {
    // Deleted (or deleted and created again) by an operator: what the watch told is void.
    bucket_lost_ = true;
    return PStatus::Unavailable("bucket " + options_.bucket + " was deleted or recreated");
  }
  return PStatus::Ok();
}

struct Publisher::PassPlan {
  std::vector<std::string> orgs;  // org ids whose key needs a write
  bool instance = false;          // the instance key needs a write
  Timestamp newest;               // the newest entry version date
  std::uint64_t entries = 0;      // entries the store holds
};

PStatus Publisher::PlanPass(PassPlan& plan) {
  // Decides from the view only (no NATS call while the store's view is held): only the keys
  // that need a write are read again and written afterwards.
  auto needs_write = [&](const std::string& key, const fleet::FleetKey& fk,
                         const fleet::FleetValue& value) {
    plan.newest = std::max(plan.newest, value.version.date);
    ++plan.entries;
    std::optional<KeyState> held = view_.Find(key);
    Desired mine{value.version, 0};
    if (held && held->kind == KeyState::Kind::kValue && held->version == value.version) {
      Result<std::string> bytes = fleet::EncodeValue(fk, value);  // only equal versions compare
      mine.value_hash = bytes ? ValueHash(*bytes) : 0;
    }
    const bool write = DecidePut(held ? &*held : nullptr, mine, true).action != Action::kSkip;
    if (!write) ++values_skipped_;
    return write;
  };
  return store_.ForEachEntry(
      [&](const InstanceRecord& instance, const InstanceDomains& domains,
          const SourceVersion& version) {
        const fleet::FleetKey fk{fleet::KeyKind::kInstance, ""};
        plan.instance =
            needs_write(fleet::InstanceKey(), fk,
                        fleet::FleetValue{version, fleet::InstanceEntry{instance, domains}});
        return PStatus::Ok();
      },
      [&](const OrgRecord& org, const OrgDomains& domains, const SourceVersion& version) {
        const fleet::FleetKey fk{fleet::KeyKind::kOrg, org.id};
        Result<std::string> key = fleet::FormatKey(fk);
        if (!key) return PStatus::Ok();  // the store validates ids; nothing to publish
        view_.Touch(*key);
        if (needs_write(*key, fk, fleet::FleetValue{version, fleet::OrgEntry{org, domains}})) {
          plan.orgs.push_back(org.id);
        }
        return PStatus::Ok();
      });
}

PStatus Publisher::FullPass() {
  const Steady::time_point start = Steady::now();
  const std::uint64_t writes_before = writes_;
  POLICYD_RETURN_IF_ERROR(CheckBucket());
  // The horizon first: every event up to it is in the view ForEachEntry reads afterwards.
  Result<Horizon> horizon = CurrentHorizon();
  if (!horizon) return horizon.error();
  view_.BeginPass();
  PassPlan plan;
  if (PStatus s = PlanPass(plan); !s.ok()) return s.WithContext("read store");
  if (options_.static_source) {
    static_horizon_ = plan.newest;
    horizon = Horizon{plan.newest, plan.newest};
  }
  if (plan.instance) POLICYD_RETURN_IF_ERROR(PublishInstance(true));
  POLICYD_RETURN_IF_ERROR(PublishOrgs(plan.orgs, true, horizon->removed, false));
  // The kind rows after the orgs (an org's key precedes its kind keys), from a second view.
  std::vector<std::pair<PolicyKind, std::string>> kind_rows;
  if (PStatus s = PlanKindPass(kind_rows, plan.newest, plan.entries); !s.ok()) {
    return s.WithContext("read store");
  }
  if (options_.static_source && plan.newest > static_horizon_) {
    static_horizon_ = plan.newest;
    horizon = Horizon{plan.newest, plan.newest};
  }
  POLICYD_RETURN_IF_ERROR(PublishKindRows(std::move(kind_rows), true));
  // Keys of orgs the store did not hold, org keys and kind keys (each org read again from the
  // store before its keys are deleted). A kind key holding an own row of an org the store holds
  // with no entry of that kind gets a tombstone (FallBackKindKeys).
  std::vector<std::string> absent;
  std::vector<std::pair<PolicyKind, std::string>> untouched_kinds;
  for (const std::string& key : view_.UntouchedOrgKeys()) {
    Result<fleet::FleetKey> fk = fleet::ParseKey(key);
    if (!fk) continue;
    absent.push_back(fk->id);
    if (fk->kind == fleet::KeyKind::kKindOrg) untouched_kinds.emplace_back(fk->policy, fk->id);
  }
  std::sort(absent.begin(), absent.end());
  absent.erase(std::unique(absent.begin(), absent.end()), absent.end());
  POLICYD_RETURN_IF_ERROR(PublishOrgs(absent, true, horizon->absent, false));
  POLICYD_RETURN_IF_ERROR(FallBackKindKeys(untouched_kinds, horizon->absent));
  ++resync_passes_;
  spdlog::info(
      "publisher: full pass over {} entries and {} keys of orgs the store lacks: {} written, {} ms",
      plan.entries, absent.size(), writes_ - writes_before,
      std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start).count());
  return PStatus::Ok();
}

PStatus Publisher::PublishOrgs(const std::vector<std::string>& ids, bool anti_entropy,
                               Timestamp absent_horizon, bool removals_seen) {
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.set_with_versions(true);
  for (std::size_t begin = 0; begin < ids.size(); begin += kReadChunk) {
    const std::size_t end = std::min(ids.size(), begin + kReadChunk);
    batch.Clear();
    for (std::size_t i = begin; i < end; ++i) batch.Add(ids[i]);
    POLICYD_RETURN_IF_ERROR(store_.Read(batch));
    std::vector<Want> wants;
    wants.reserve(batch.size());
    std::vector<std::string> removed;  // orgs the store lacks
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string& id = ids[begin + i];
      const fleet::FleetKey fk{fleet::KeyKind::kOrg, id};
      Result<std::string> key = fleet::FormatKey(fk);
      if (!key) continue;
      Want want{*key, false, {}, {}, anti_entropy, absent_horizon, removals_seen};
      const OrgView org = batch.org(i);
      if (!org.known) removed.push_back(id);
      if (org.known) {
        OrgRecord record{id, std::nullopt};
        if (org.own_policy != nullptr) record.policy = *org.own_policy;
        OrgDomains domains = batch.domains(i);
        domains.org_id = id;
        const fleet::FleetValue value{batch.version(i), fleet::OrgEntry{record, domains}};
        Result<std::string> bytes = fleet::EncodeValue(fk, value);
        if (!bytes) {
          ++write_errors_;
          log_.Warn("not publishing org " + id + ": " + bytes.error().ToString());
          continue;
        }
        want.present = true;
        want.version = value.version;
        want.value = std::move(*bytes);
      }
      wants.push_back(std::move(want));
    }
    POLICYD_RETURN_IF_ERROR(ConvergeAll(wants));
    // A removed org's kind keys after its org key: a follower that reads them first has
    // already dropped the org with its rows.
    POLICYD_RETURN_IF_ERROR(DeleteKindKeys(removed, anti_entropy, absent_horizon));
  }
  return PStatus::Ok();
}

PStatus Publisher::ConvergeAll(const std::vector<Want>& wants) {
  const std::size_t workers =
      std::clamp<std::size_t>(wants.size() / kWritesPerWorker, 1, options_.write_concurrency);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  PStatus first;  // guarded by mu
  auto work = [&] {
    for (std::size_t i = next++; i < wants.size(); i = next++) {
      {
        std::lock_guard lock(mu);
        if (!first.ok()) return;
      }
      Result<Outcome> done = Converge(wants[i]);
      if (!done) {
        std::lock_guard lock(mu);
        if (first.ok()) first = done.error().WithContext("key " + wants[i].key);
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return first;
}

PStatus Publisher::PublishInstance(bool anti_entropy) {
  LookupBatch batch;
  batch.set_with_domains(true);
  batch.set_with_versions(true);
  POLICYD_RETURN_IF_ERROR(store_.Read(batch));
  // No instance stored: nothing to write (the instance key is never deleted).
  if (batch.instance() == nullptr) return PStatus::Ok();
  const fleet::FleetKey fk{fleet::KeyKind::kInstance, ""};
  const fleet::FleetValue value{batch.instance_version(),
                                fleet::InstanceEntry{*batch.instance(), batch.instance_domains()}};
  Result<std::string> bytes = fleet::EncodeValue(fk, value);
  if (!bytes) {
    ++write_errors_;
    log_.Warn("not publishing the instance: " + bytes.error().ToString());
    return PStatus::Ok();
  }
  Result<Outcome> done = Converge(
      Want{fleet::InstanceKey(), true, value.version, std::move(*bytes), anti_entropy, {}});
  return done ? PStatus::Ok() : done.error().WithContext("key " + fleet::InstanceKey());
}

PStatus Publisher::MaybeHeartbeat(bool synced) {
  const Steady::time_point now = Steady::now();
  const bool first = last_heartbeat_ == Steady::time_point{};
  Timestamp last_sync;
  if (options_.static_source) {
    if (!first && now - last_heartbeat_ < options_.heartbeat_interval) return PStatus::Ok();
    last_sync = clock_.Now();
  } else {
    heartbeat_due_ = heartbeat_due_ || synced;
    if (!heartbeat_due_) return PStatus::Ok();
    if (!first && now - last_heartbeat_ < options_.heartbeat_min_gap) return PStatus::Ok();
    Result<StoreMeta> meta = store_.Meta();
    if (!meta) return meta.error().WithContext("read store meta");
    last_sync = meta->last_sync;
    if (last_sync.IsZero() || last_sync <= heartbeat_written_) {
      heartbeat_due_ = false;
      return PStatus::Ok();
    }
  }
  const fleet::FleetKey fk{fleet::KeyKind::kHeartbeat, options_.publisher_id};
  const fleet::FleetValue value{fleet::SourceVersion{last_sync, {}, 0},
                                fleet::Heartbeat{options_.publisher_id, last_sync, options_.source,
                                                 options_.policyd_version}};
  Result<std::string> bytes = fleet::EncodeValue(fk, value);
  if (!bytes) return bytes.error().WithContext("heartbeat");
  Result<Outcome> done =
      Converge(Want{heartbeat_key_, true, value.version, std::move(*bytes), false, {}, false});
  if (!done) return done.error().WithContext("heartbeat");
  heartbeat_due_ = false;
  last_heartbeat_ = now;
  heartbeat_written_ = last_sync;
  std::lock_guard lock(status_mu_);
  own_heartbeat_ = FleetPublisher{options_.publisher_id, last_sync, options_.source};
  return PStatus::Ok();
}

Result<Publisher::Outcome> Publisher::Converge(const Want& want) {
  std::optional<KeyState> held = view_.Find(want.key);
  const Desired mine{want.version, ValueHash(want.value)};
  for (int conflicts = 0;; ++conflicts) {
    const KeyState* bucket = held ? &*held : nullptr;
    const Decision d = want.present ? DecidePut(bucket, mine, want.anti_entropy)
                                    : DecideDelete(bucket, want.horizon, want.removal_seen);
    if (d.action == Action::kSkip) {
      ++values_skipped_;
      return Outcome::kSkipped;
    }
    nats::WriteRequest request;
    request.key = want.key;
    request.op = want.present ? nats::KvOp::kPut : nats::KvOp::kDelete;
    if (want.present) request.value = want.value;
    request.msg_id =
        MsgId(want.key, !want.present, want.version, request.value, d.expected_revision);
    request.expected_revision = d.expected_revision;
    if (options_.before_write) options_.before_write(request);
    Result<nats::WriteAck> ack = WriteWithRetry(request);
    if (ack) {
      if (!ack->duplicate) ++writes_;
      const KeyState now = want.present ? KeyState{ack->revision, KeyState::Kind::kValue,
                                                   want.version, mine.value_hash}
                                        : KeyState{ack->revision, KeyState::Kind::kDeleted, {}, 0};
      view_.Set(want.key, now);
      // The highest revision written (writes of one chunk run in parallel).
      std::uint64_t cursor = cursor_;
      while (cursor < ack->revision && !cursor_.compare_exchange_weak(cursor, ack->revision)) {
      }
      return Outcome::kWritten;
    }
    if (ack.error().code() != Code::kAborted || conflicts >= kMaxConflicts) return Err(ack.error());
    // Another writer changed the key first (or, on a cluster, our own earlier publish with this
    // id was stored and the guard went stale): read it and decide again.
    ++write_conflicts_;
    Result<std::optional<KeyState>> fresh = Reread(want.key);
    if (!fresh) return Err(fresh.error());
    held = *fresh;
    if (held) view_.Set(want.key, *held);
  }
}

Result<nats::WriteAck> Publisher::WriteWithRetry(const nats::WriteRequest& request) {
  std::chrono::milliseconds backoff = options_.backoff_initial;
  while (true) {
    Result<nats::WriteAck> ack = bucket_->Write(request);
    if (ack || !Transient(ack.error())) return ack;
    ++write_errors_;
    log_.Warn("write " + request.key + ": " + ack.error().ToString() + "; retrying");
    if (backoff == options_.backoff_max) {
      // Failing for a while: if the bucket itself is gone (deleted by an operator), bind or
      // create it again (the next step) instead of retrying into nothing.
      if (PStatus gone = CheckBucket(); bucket_lost_) return Err(gone);
    }
    if (!SleepFor(backoff)) return Err(PStatus(Code::kCancelled, "publisher stopping"));
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

Result<std::optional<KeyState>> Publisher::Reread(const std::string& key) {
  std::chrono::milliseconds backoff = options_.backoff_initial;
  while (true) {
    Result<std::optional<nats::KvEntry>> entry = bucket_->Get(key);
    if (entry) {
      if (!*entry) return std::optional<KeyState>();
      return Summarise(**entry, &log_);
    }
    if (!Transient(entry.error())) return Err(entry.error().WithContext("read " + key));
    if (!SleepFor(backoff)) return Err(PStatus(Code::kCancelled, "publisher stopping"));
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

}  // namespace policyd::publish
