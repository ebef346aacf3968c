// The values of the fleet bucket: model <-> bytes (schemas/fleet.fbs), for the publisher that
// writes them and the follower that reads them (issue #13). Keys: fleet/keys.h; the order of
// versions: fleet/source_version.h.
//
// What each key holds:
//   domain.instance          InstanceEntry: the instance id, its default policy (with details and
//                            stream) and its domain list (with the list's sequence and stream)
//   domain.org.<org id>      OrgEntry: the org (its presence = existence), its own policy if
//                            any, its domain list. A removed org is a KV delete marker, no value.
//   heartbeat.<publisher id> Heartbeat: the publisher's last successful upstream sync
//   <kind>.instance          KindEntry: the instance default of a generic kind (issue #14)
//   <kind>.org.<org id>      KindEntry: the org's own row of the kind, or its tombstone (own row
//                            removed, version kept). A removed org: a delete marker, no value.
// and every value carries the schema version (major 1; another major is refused) and the entry's
// SourceVersion. A heartbeat's version must be {last_sync} (no stream, sequence 0), so an older
// heartbeat never overwrites a newer one.
//
// Decoding refuses, with a Status naming the key and never by crashing:
//   INVALID_ARGUMENT     more than kMaxValueBytes, not a verifiable Value buffer ("PDFL",
//                        nesting and table count bounded), a required field absent, an entry
//                        of another kind than the key's, an id ValidateId refuses, an id that
//                        differs from the key's, a domain list ValidateOrgDomains /
//                        ValidateInstanceDomains refuses, timestamp nanos outside
//                        [0, 1e9), an over-long or control-character string, a heartbeat
//                        whose version is not {last_sync}; for a KindEntry: a kind other than
//                        the key's, a row CheckKindPolicy refuses (an enum number this build
//                        does not know, a bool beyond 1, a string over 4096 bytes, a list over
//                        64), a tombstone under an instance key or one that carries fields,
//                        more than kMaxKindFieldsInValue fields;
//   FAILED_PRECONDITION  a schema major other than kSchemaMajor (a newer publisher; the
//                        follower keeps its store and says so).
// Encoding runs the same field checks first (a publisher never writes what followers refuse)
// and also refuses an output longer than kMaxValueBytes.
//
// Generated FlatBuffers types never leave values.cc. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "base/timestamp.h"
#include "fleet/keys.h"
#include "fleet/source_version.h"
#include "model/domain_policy.h"
#include "model/domains.h"
#include "model/policy_kinds.h"

namespace policyd::fleet {

inline constexpr std::uint32_t kSchemaMajor = 1;
// 1: the generic kinds' keys and KindEntry (issue #14). A reader of minor 0 refuses their keys
// (an unknown kind) and keeps everything else. 2: KindField.links, the login policy's IdP links,
// which a reader of minor 1 ignores (it answers the login policy without them).
inline constexpr std::uint32_t kSchemaMinor = 2;
// Most fields a KindEntry may carry (a spec has at most 32; a newer spec's extra fields are
// ignored, missing trailing ones read as zero).
inline constexpr std::size_t kMaxKindFieldsInValue = 255;
// Largest value: NATS's default max_payload (1 MiB). A full domain list (kMaxDomainsPerList
// names of kMaxDomainLength bytes) encodes to about 300 KB.
inline constexpr std::size_t kMaxValueBytes = 1 << 20;
inline constexpr std::size_t kMaxSourceLength = 255;         // Heartbeat.source
inline constexpr std::size_t kMaxPolicydVersionLength = 64;  // Heartbeat.policyd_version

// Key domain.instance.
struct InstanceEntry {
  InstanceRecord instance;  // id and default policy
  InstanceDomains domains;  // the instance's domain names, sequence, stream

  friend bool operator==(const InstanceEntry&, const InstanceEntry&) = default;
};

// Key domain.org.<id>. `domains.org_id` equals `org.id`.
struct OrgEntry {
  OrgRecord org;       // id and own policy (nullopt: the org uses the instance default)
  OrgDomains domains;  // the org's domains, sequence, stream

  friend bool operator==(const OrgEntry&, const OrgEntry&) = default;
};

// Key heartbeat.<publisher id>.
struct Heartbeat {
  std::string publisher_id;
  Timestamp last_sync;          // the publisher's last successful upstream sync
  std::string source;           // the upstream's host, or the snapshot file (no credentials)
  std::string policyd_version;  // the publisher's version

  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

// Keys <kind>.instance (org_id empty) and <kind>.org.<id>: one stored row of a generic kind.
// `policy` (its kind equal to `kind`) is the instance default or the org's own row; nullopt (org
// keys only) is a tombstone: the org's own row was removed and it falls back to the default.
struct KindEntry {
  PolicyKind kind = PolicyKind::kPasswordComplexity;
  std::string org_id;
  std::optional<KindPolicy> policy;

  friend bool operator==(const KindEntry&, const KindEntry&) = default;
};

// One decoded value. The entry's alternative matches the key's kind.
struct FleetValue {
  SourceVersion version;
  std::variant<InstanceEntry, OrgEntry, Heartbeat, KindEntry> entry;

  friend bool operator==(const FleetValue&, const FleetValue&) = default;
};

// The kind of key `entry` belongs under.
KeyKind KindOf(const FleetValue& value);

// The field checks shared by encoding and decoding (see above), against `key`. The message of
// an error names the key.
Status CheckValue(const FleetKey& key, const FleetValue& value);

// The bytes to write under `key`. Errors: INVALID_ARGUMENT from CheckValue, or the encoding is
// longer than kMaxValueBytes.
Result<std::string> EncodeValue(const FleetKey& key, const FleetValue& value);

// The value read under `key`; errors above. `bytes` need not be aligned.
Result<FleetValue> DecodeValue(const FleetKey& key, std::string_view bytes);

}  // namespace policyd::fleet
