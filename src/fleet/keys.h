// The key layout of the fleet bucket (a NATS JetStream key-value bucket, issue #13).
//
// Every key starts with its kind:
//   domain.instance             the instance entry: its default domain policy and its domains
//   domain.org.<org id>         one org: present = the org exists; its own policy (if any) and
//                               its domains. The org's removal is a delete marker on this key.
//   <kind>.instance             the instance default of a generic policy kind (issue #14)
//   <kind>.org.<org id>         an org's own row of that kind, or its tombstone (the own row was
//                               removed: the org falls back to the default; the version stays).
//                               The org's removal is a delete marker here too (after the org key).
//   heartbeat.<publisher id>    one publisher's last successful upstream sync
// <kind> is the kind's `policyctl get --kind` name (password-complexity, password-age, lockout,
// login, privacy, notification, label) or label-preview for the label policy's preview row,
// which only the store and the sync reducer use but a follower must hold to equal a direct-sync
// daemon (an "activated" event copies it onto the active row). An org without a row of a kind
// has no key of that kind.
// The value of each is a FlatBuffers table (schemas/fleet.fbs, fleet/values.h).
//
// Why one key per (kind, org) rather than one key per org carrying all its kinds: the store keeps
// one version per (kind, org) (LookupBatch::kind_version), and the upstream changes one kind at a
// time (its events are per kind), so a key per row orders each write by exactly the version the
// store has, and a change of one kind costs one message of that row (about 100-700 bytes; a label
// policy with long URLs more) instead of rewriting every kind of the org. The cost is keys: a
// bucket holds one key per own row (and per tombstone) besides the org keys; with 1% of the orgs
// having an own row per kind that is 8% more keys than orgs, and an org's removal writes one
// delete marker per kind key it has.
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

#include <array>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/policy_kinds.h"

namespace policyd::fleet {

enum class KeyKind {
  kInstance,      // domain.instance
  kOrg,           // domain.org.<org id>
  kHeartbeat,     // heartbeat.<publisher id>
  kKindInstance,  // <kind>.instance
  kKindOrg,       // <kind>.org.<org id>
};

// The generic kinds the bucket carries (every stored kind but kDomain and kIdpTable, which only a
// publisher's reducer needs: the login rows carry their links' names), in number order.
inline constexpr std::array<PolicyKind, kStoredKindCount - 2> kBucketKinds = {
    PolicyKind::kPasswordComplexity,
    PolicyKind::kPasswordAge,
    PolicyKind::kLockout,
    PolicyKind::kLogin,
    PolicyKind::kPrivacy,
    PolicyKind::kNotification,
    PolicyKind::kLabel,
    PolicyKind::kLabelPreview};

// True for a kind with keys of its own (kBucketKinds).
constexpr bool IsBucketKind(PolicyKind kind) {
  return kind != PolicyKind::kDomain && kind != PolicyKind::kIdpTable &&
         IsStoredKind(static_cast<std::uint8_t>(kind));
}

// The first token of `kind`'s keys: its cli name, "label-preview" for kLabelPreview, "domain"
// for kDomain.
std::string_view KindKeyName(PolicyKind kind);

// A key (or any bucket bytes) as it may appear in a log line or message: in double quotes, bytes
// outside printable ASCII and '"' and '\\' as \xXX, at most `max` bytes of input (then "...").
std::string QuoteKey(std::string_view bytes, std::size_t max);

// "instance", "org", "heartbeat", "kind instance", "kind org": for log lines.
std::string_view KeyKindName(KeyKind kind);

// A parsed key. `id` is the unescaped org or publisher id; empty for kInstance and
// kKindInstance. `policy` is the generic kind of kKindInstance and kKindOrg (IsBucketKind), and
// kDomain for every other key.
struct FleetKey {
  KeyKind kind = KeyKind::kInstance;
  std::string id;
  PolicyKind policy = PolicyKind::kDomain;

  friend bool operator==(const FleetKey&, const FleetKey&) = default;
};

// The longest key FormatKey can produce ("password-complexity.org." + 3 * kMaxIdLength).
inline constexpr std::size_t kMaxKeyLength = 24 + 3 * kMaxIdLength;

// The org key and the kind keys of org `id` (unescaped), or of the instance when `id` is empty.
std::string KindKey(PolicyKind kind, std::string_view org_id);
// True for the key of an org: domain.org.<id> or <kind>.org.<id>.
constexpr bool IsOrgKey(KeyKind kind) { return kind == KeyKind::kOrg || kind == KeyKind::kKindOrg; }

// The key of the instance entry: "domain.instance".
std::string InstanceKey();

// The key of `key`. INVALID_ARGUMENT (from ValidateId, naming the org or publisher id) when the
// kind needs an id and `key.id` is not a valid one, when kInstance or kKindInstance has an id,
// when a kind key's `policy` is not a bucket kind, or another key's is not kDomain.
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
