#include "publish/plan.h"

#include <cstdio>

#include "fleet/values.h"
#include "sync/cursor.h"

namespace policyd::publish {

namespace {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

// FNV-1a over several fields, each followed by its length so that field boundaries count.
class Fnv {
 public:
  explicit Fnv(std::uint64_t basis) : h_(basis) {}
  void Bytes(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= kFnvPrime;
    }
  }
  void Number(std::uint64_t n) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= (n >> (8 * i)) & 0xff;
      h_ *= kFnvPrime;
    }
  }
  void Field(std::string_view bytes) {
    Bytes(bytes);
    Number(bytes.size());
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_;
};

std::uint64_t Hash(std::uint64_t basis, std::string_view key, bool is_delete,
                   const fleet::SourceVersion& version, std::string_view value,
                   std::uint64_t expected_revision) {
  Fnv h(basis);
  h.Field(key);
  h.Number(is_delete ? 1 : 0);
  h.Number(static_cast<std::uint64_t>(version.date.seconds));
  h.Number(static_cast<std::uint64_t>(version.date.nanos));
  h.Field(version.stream.type);
  h.Field(version.stream.id);
  h.Number(version.sequence);
  h.Field(value);
  h.Number(expected_revision);
  return h.value();
}

}  // namespace

std::string_view SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kNone:
      return "none";
    case SkipReason::kNotOlder:
      return "bucket holds the same or a newer version";
    case SkipReason::kMarker:
      return "deleted (final)";
    case SkipReason::kNewerSchema:
      return "newer schema";
    case SkipReason::kAbsent:
      return "absent";
    case SkipReason::kUnreadable:
      return "unreadable value of an org the store lacks";
    case SkipReason::kBeyondHorizon:
      return "newer than this publisher's horizon";
  }
  return "unknown";
}

Decision DecidePut(const KeyState* bucket, const Desired& mine, bool anti_entropy) {
  if (bucket == nullptr) return {Action::kPut, 0, SkipReason::kNone};
  switch (bucket->kind) {
    case KeyState::Kind::kDeleted:
      return {Action::kSkip, 0, SkipReason::kMarker};
    case KeyState::Kind::kNewerSchema:
      return {Action::kSkip, 0, SkipReason::kNewerSchema};
    case KeyState::Kind::kUnreadable:
      return {Action::kPut, bucket->revision, SkipReason::kNone};
    case KeyState::Kind::kValue:
      break;
  }
  if (fleet::PublisherShouldWrite(bucket->version, mine.version)) {
    return {Action::kPut, bucket->revision, SkipReason::kNone};
  }
  if (anti_entropy && bucket->version == mine.version && bucket->value_hash != mine.value_hash) {
    return {Action::kPut, bucket->revision, SkipReason::kNone};
  }
  return {Action::kSkip, 0, SkipReason::kNotOlder};
}

Decision DecideDelete(const KeyState* bucket, Timestamp horizon, bool removal_seen) {
  if (bucket == nullptr) {
    return removal_seen ? Decision{Action::kDelete, 0, SkipReason::kNone}
                        : Decision{Action::kSkip, 0, SkipReason::kAbsent};
  }
  switch (bucket->kind) {
    case KeyState::Kind::kDeleted:
      return {Action::kSkip, 0, SkipReason::kAbsent};
    case KeyState::Kind::kNewerSchema:
      return {Action::kSkip, 0, SkipReason::kNewerSchema};
    case KeyState::Kind::kUnreadable:
      return {Action::kSkip, 0, SkipReason::kUnreadable};
    case KeyState::Kind::kValue:
      break;
  }
  if (bucket->version.date > horizon) return {Action::kSkip, 0, SkipReason::kBeyondHorizon};
  return {Action::kDelete, bucket->revision, SkipReason::kNone};
}

Result<Horizon> HorizonFromCursor(std::string_view cursor) {
  if (cursor.empty()) return Horizon{};
  Result<SyncCursor> decoded = SyncCursor::Decode(cursor);
  if (!decoded) return Err(decoded.error().WithContext("sync cursor"));
  Horizon h;
  h.removed = decoded->newest();
  // No from(): a cold start that found no event; nothing is newer than the epoch then.
  if (decoded->from())
    h.absent = AddNanos(*decoded->from(), -kAbsentMarginSeconds * kNanosPerSecond);
  if (h.absent > h.removed) h.absent = h.removed;
  return h;
}

std::uint64_t ValueHash(std::string_view bytes) {
  Fnv h(kFnvOffset);
  h.Bytes(bytes);
  return h.value();
}

std::string MsgId(std::string_view key, bool is_delete, const fleet::SourceVersion& version,
                  std::string_view value, std::uint64_t expected_revision) {
  // Two FNV-1a runs with different offset bases: 128 bits, no crypto dependency needed (the id
  // only has to tell this publisher's writes apart inside a 2-minute window, not resist anyone).
  const std::uint64_t a = Hash(kFnvOffset, key, is_delete, version, value, expected_revision);
  const std::uint64_t b =
      Hash(kFnvOffset ^ 0x9e3779b97f4a7c15ull, key, is_delete, version, value, expected_revision);
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return std::string(out, 32);
}

std::string HeartbeatSource(std::string_view url) {
  if (std::size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  url = url.substr(0, url.find_first_of("/?#"));
  if (std::size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (!url.empty() && url.front() == '[') {
    std::size_t close = url.find(']');
    if (close != std::string_view::npos) url = url.substr(0, close + 1);
  } else {
    url = url.substr(0, url.find(':'));
  }
  return std::string(url.substr(0, fleet::kMaxSourceLength));
}

std::string SnapshotSource(std::string_view path) {
  if (std::size_t slash = path.rfind('/'); slash != std::string_view::npos) {
    path.remove_prefix(slash + 1);
  }
  return std::string(path.substr(0, fleet::kMaxSourceLength));
}

}  // namespace policyd::publish
