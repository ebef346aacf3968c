// The key layout of the fleet bucket (a NATS JetStream key-value bucket, issue #13).
//
// Every key starts with its kind, so that other policy kinds fit in later without a new layout:
//   domain.instance             the instance entry: its default domain policy and its domains
//   domain.org.<org id>         one org: present = the org exists; its own policy (if any) and
//                               its domains. The org's removal is a delete marker on this key.
//   heartbeat.<publisher id>    one publisher's last successful upstream sync
// The value of each is a FlatBuffers table (schemas/fleet.fbs, fleet/values.h).
//
// Escaping: NATS keys may only hold [-/_=.a-zA-Z0-9] and '.' separates tokens, while an id may be
// any 1..kMaxIdLength bytes without control characters (resolve.h ValidateId). In an id token,
// the bytes [-/_a-zA-Z0-9] stand for themselves and every other byte (including '=' and '.') is
// written "=XX", two upper-case hex digits. The escaping is canonical (a byte that stands for
// itself is never escaped; hex is upper-case), so each id has exactly one key and ParseKey refuses
// any other spelling. ZITADEL ids (digits) are never escaped.
//
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"

namespace policyd::fleet {

enum class KeyKind {
  kInstance,   // domain.instance
  kOrg,        // domain.org.<org id>
  kHeartbeat,  // heartbeat.<publisher id>
};

// A key (or any bucket bytes) as it may appear in a log line or message: in double quotes, bytes
// outside printable ASCII and '"' and '\\' as \xXX, at most `max` bytes of input (then "...").
std::string QuoteKey(std::string_view bytes, std::size_t max);

// "instance", "org", "heartbeat": for log lines and metric labels.
std::string_view KeyKindName(KeyKind kind);

// A parsed key. `id` is the unescaped org or publisher id; empty for kInstance.
struct FleetKey {
  KeyKind kind = KeyKind::kInstance;
  std::string id;

  friend bool operator==(const FleetKey&, const FleetKey&) = default;
};

// The longest key FormatKey can produce ("domain.org." + 3 * kMaxIdLength).
inline constexpr std::size_t kMaxKeyLength = 11 + 3 * kMaxIdLength;

// The key of the instance entry: "domain.instance".
std::string InstanceKey();

// The key of `key`. INVALID_ARGUMENT (from ValidateId, naming the org or publisher id) when the
// kind needs an id and `key.id` is not a valid one, or when kInstance has an id.
Result<std::string> FormatKey(const FleetKey& key);

// Escapes one id token as described above (no validation: any bytes).
std::string EscapeKeyToken(std::string_view id);
// The inverse of EscapeKeyToken. INVALID_ARGUMENT for a byte a key cannot hold, a truncated or
// lower-case "=XX", or a non-canonical escape (a byte that stands for itself).
Result<std::string> UnescapeKeyToken(std::string_view token);

// Parses a bucket key. INVALID_ARGUMENT quoting the key (escaped for a log line) for an unknown
// kind, a wrong number of tokens, a bad escape, or an id ValidateId refuses.
Result<FleetKey> ParseKey(std::string_view key);

}  // namespace policyd::fleet
