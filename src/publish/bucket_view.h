// BucketView: what the publisher knows about the fleet bucket's keys, fed by a watch of the whole
// bucket (nats::KvStream::WatchAll, kept running) and by the publisher's own writes and re-reads.
//
// Why a map rather than a Get per key: a full pass over 100k orgs would cost 100k round trips
// to the stream leader just to learn that nothing changed; with the map a pass that writes
// nothing costs no request per key, and a write needs none besides itself (its compare-and-set
// guard is the revision the map holds). The map may lag the bucket (the watch is asynchronous),
// which is safe: a lagging map only under-reports versions and revisions, so a skip stays right
// and a write carries a stale guard, is refused (ABORTED) and is decided again from a fresh Get.
// Memory: per key, the key, its revision, its value's version (a SourceVersion, whose stream is
// not stored again when it is the org's own) and an FNV-1a hash of its bytes, never the value:
// about 160 heap bytes a key on x86-64 (measured in publish_unit_test), ~16 MB for 100k orgs.
// Heartbeats of other publishers and keys that are not fleet keys are not kept.
//
// Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "nats/kv_bucket.h"
#include "publish/plan.h"

namespace policyd::publish {

// Log lines about the bucket's contents, at most one per `every` (with the number of lines held
// back meanwhile): hostile or foreign values must not flood the log. Thread-safe.
class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::seconds every = std::chrono::seconds(10)) : every_(every) {}
  void Warn(const std::string& line);

 private:
  std::mutex mu_;
  std::chrono::seconds every_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t held_back_ = 0;
};

// The KeyState of a bucket message (delete markers included), decoding its value against the
// key; nullopt for a key that is not a fleet key. Values that do not decode are logged through
// `log` (when given) and summarised as kUnreadable or kNewerSchema (publish/plan.h says why).
std::optional<KeyState> Summarise(const nats::KvEntry& entry, RateLimitedLog* log);

class BucketView {
 public:
  // `own_heartbeat_key`: the only heartbeat key kept (this publisher's).
  explicit BucketView(std::string own_heartbeat_key);

  // Keeps what `entry` says unless a later revision of the key is already known. Entries of
  // keys that are not kept (above) are ignored.
  void Observe(const nats::KvEntry& entry);
  // Keeps `state` for `key` unless a later revision is already known.
  void Set(const std::string& key, const KeyState& state);
  std::optional<KeyState> Find(const std::string& key) const;

  // The watch has delivered every key the bucket held when it started.
  void SetCaughtUp();
  bool caught_up() const;
  // Forgets everything (a new watch starts).
  void Clear();
  std::size_t size() const;

  // A full pass: BeginPass(), Touch() every org key and org kind key the store holds, then
  // UntouchedOrgKeys() lists the keys of orgs (domain.org.<id> and <kind>.org.<id>, with a
  // value, not deleted) the pass did not touch. A key that first appears during a pass counts as
  // touched by it.
  void BeginPass();
  void Touch(const std::string& key);
  std::vector<std::string> UntouchedOrgKeys() const;

 private:
  // A KeyState in fewer bytes: the version's stream is almost always the org's own ("org", the
  // id in the key), which is then not stored again.
  struct Slot {
    std::uint64_t revision = 0;
    std::uint64_t value_hash = 0;
    std::uint64_t sequence = 0;
    Timestamp date;
    std::unique_ptr<EventStream> stream;  // kOtherStream only
    std::uint32_t pass = 0;               // the last pass that touched the key
    KeyState::Kind kind = KeyState::Kind::kValue;
    bool tombstone = false;
    enum class Stream : std::uint8_t { kNone, kOwnOrg, kOtherStream } stream_form = Stream::kNone;
    bool org = false;
  };
  static void Pack(const std::string& key, const KeyState& state, Slot& slot);
  static KeyState Unpack(const std::string& key, const Slot& slot);
  void Keep(const std::string& key, const KeyState& state, bool org);

  const std::string own_heartbeat_key_;
  RateLimitedLog log_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> keys_;  // guarded by mu_
  bool caught_up_ = false;                      // guarded by mu_
  std::uint32_t pass_ = 0;                      // guarded by mu_
};

}  // namespace policyd::publish
