#include "publish/bucket_view.h"

#include <spdlog/spdlog.h>

#include "fleet/keys.h"
#include "fleet/values.h"

namespace policyd::publish {

void RateLimitedLog::Warn(const std::string& line) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < every_) {
    ++held_back_;
    return;
  }
  if (held_back_ > 0) {
    spdlog::warn("publisher: {} ({} similar lines held back)", line, held_back_);
  } else {
    spdlog::warn("publisher: {}", line);
  }
  last_ = now;
  held_back_ = 0;
}

std::optional<KeyState> Summarise(const nats::KvEntry& entry, RateLimitedLog* log) {
  Result<fleet::FleetKey> key = fleet::ParseKey(entry.key);
  if (!key) {
    if (log != nullptr)
      log->Warn("ignoring a key that is not a fleet key: " + key.error().message());
    return std::nullopt;
  }
  KeyState state;
  state.revision = entry.revision;
  if (entry.op != nats::KvOp::kPut) {
    state.kind = KeyState::Kind::kDeleted;
    return state;
  }
  state.value_hash = ValueHash(entry.value);
  Result<fleet::FleetValue> value = fleet::DecodeValue(*key, entry.value);
  if (value) {
    state.kind = KeyState::Kind::kValue;
    state.version = value->version;
    const auto* kind = std::get_if<fleet::KindEntry>(&value->entry);
    state.tombstone = kind != nullptr && !kind->policy;
    return state;
  }
  const bool newer = value.error().code() == Code::kFailedPrecondition;
  state.kind = newer ? KeyState::Kind::kNewerSchema : KeyState::Kind::kUnreadable;
  if (log != nullptr) {
    log->Warn(value.error().message() + " (revision " + std::to_string(entry.revision) +
              (newer ? "; left alone: a newer publisher's schema)"
                     : "; counted as older than any value: rewritten if the store has the entry)"));
  }
  return state;
}

BucketView::BucketView(std::string own_heartbeat_key)
    : own_heartbeat_key_(std::move(own_heartbeat_key)) {}

namespace {

// The org id of an org's key (domain.org.<escaped id> or <kind>.org.<escaped id>); empty for
// any other key.
std::string OrgIdOf(const std::string& key) {
  Result<fleet::FleetKey> parsed = fleet::ParseKey(key);
  if (!parsed || !fleet::IsOrgKey(parsed->kind)) return {};
  return std::move(parsed->id);
}

bool IsOrgKeyString(const std::string& key) { return !OrgIdOf(key).empty(); }

}  // namespace

void BucketView::Observe(const nats::KvEntry& entry) {
  if (entry.key.starts_with("heartbeat.") && entry.key != own_heartbeat_key_) return;
  std::optional<KeyState> state = Summarise(entry, &log_);
  if (!state) return;
  Keep(entry.key, *state, IsOrgKeyString(entry.key));
}

void BucketView::Set(const std::string& key, const KeyState& state) {
  Keep(key, state, IsOrgKeyString(key));
}

void BucketView::Pack(const std::string& key, const KeyState& state, Slot& slot) {
  slot.revision = state.revision;
  slot.value_hash = state.value_hash;
  slot.sequence = state.version.sequence;
  slot.date = state.version.date;
  slot.kind = state.kind;
  slot.tombstone = state.tombstone;
  slot.stream.reset();
  const EventStream& stream = state.version.stream;
  if (stream.type.empty() && stream.id.empty()) {
    slot.stream_form = Slot::Stream::kNone;
  } else if (stream.type == "org" && !stream.id.empty() && stream.id == OrgIdOf(key)) {
    slot.stream_form = Slot::Stream::kOwnOrg;
  } else {
    slot.stream_form = Slot::Stream::kOtherStream;
    slot.stream = std::make_unique<EventStream>(stream);
  }
}

KeyState BucketView::Unpack(const std::string& key, const Slot& slot) {
  KeyState state{
      slot.revision, slot.kind, {slot.date, {}, slot.sequence}, slot.value_hash, slot.tombstone};
  if (slot.stream_form == Slot::Stream::kOwnOrg) {
    state.version.stream = EventStream{"org", OrgIdOf(key)};
  } else if (slot.stream_form == Slot::Stream::kOtherStream) {
    state.version.stream = *slot.stream;
  }
  return state;
}

void BucketView::Keep(const std::string& key, const KeyState& state, bool org) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = keys_.try_emplace(key);
  // A key new to the view counts as touched by the current pass: the pass did not see it in
  // the store's walk because it was written meanwhile, by this publisher or another; the next
  // pass decides about it.
  if (inserted) it->second.pass = pass_;
  if (!inserted && it->second.revision > state.revision) return;
  Pack(key, state, it->second);
  it->second.org = org;
}

std::optional<KeyState> BucketView::Find(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  return Unpack(key, it->second);
}

void BucketView::SetCaughtUp() {
  std::lock_guard lock(mu_);
  caught_up_ = true;
}

bool BucketView::caught_up() const {
  std::lock_guard lock(mu_);
  return caught_up_;
}

void BucketView::Clear() {
  std::lock_guard lock(mu_);
  keys_.clear();
  caught_up_ = false;
}

std::size_t BucketView::size() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

void BucketView::BeginPass() {
  std::lock_guard lock(mu_);
  ++pass_;
}

void BucketView::Touch(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  if (it != keys_.end()) it->second.pass = pass_;
}

std::vector<std::string> BucketView::UntouchedOrgKeys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, slot] : keys_) {
    if (slot.org && slot.pass != pass_ && slot.kind == KeyState::Kind::kValue) {
      out.push_back(key);
    }
  }
  return out;
}

}  // namespace policyd::publish
