// Every kind of policy policyd keeps, and one generic value type for the kinds beyond the domain
// policy.
//
// ZITADEL has one policy per kind per org, with the same default-versus-org fallback for each
// (../shared/upstream/zitadel-events-and-policies.md §3): an org's own row wins, otherwise the
// instance default is answered with isDefault=true. The domain policy keeps its own typed model
// (model/domain_policy.h), which the lookup hot path and the checks are built on. Every other kind
// is described by a KindSpec — its names, REST paths, event names and the fields of its
// zitadel.policy.v1 message in declaration order — and held as a KindPolicy: one FieldValue per
// field of the spec. Encoders, the JSON writer and reader, the event reducer and the FlatBuffers
// builder are written once against the spec, so a kind is a table here, not a module.
//
// Pure. Plain values and constant tables; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/details.h"
#include "model/event_stream.h"
#include "model/source_version.h"

namespace policyd {

// The number of each kind is its wire value (schemas/common.fbs PolicyKind) and its store tag:
// never renumbered.
enum class PolicyKind : std::uint8_t {
  kDomain = 0,
  kPasswordComplexity = 1,
  kPasswordAge = 2,
  kLockout = 3,
  kLogin = 4,
  kPrivacy = 5,
  kNotification = 6,
  kLabel = 7,
  // Not a kind of answer: the label policy's preview row, which the upstream's label events edit
  // and its "activated" event copies onto the active row (kLabel). Only the store and the event
  // reducer hold it; it is never on the wire, in the bucket or in a snapshot.
  kLabelPreview = 8,
  // Not a kind of answer: every identity provider (IdP) of the instance, its own and its orgs',
  // with its name and the upstream's domain IDPType, as one instance-level row (an idps list of
  // IdpLink). The login policy's links take their names and types from it when they are added,
  // and its changes reach every link (sync/idp_reducer.h). Only the store and the event reducer
  // hold it: never on the wire, in the bucket or in a snapshot.
  kIdpTable = 9,
};
// Kinds of answers: kDomain..kLabel.
inline constexpr std::size_t kPolicyKindCount = 8;
// Kinds of stored rows: the answers, kLabelPreview and kIdpTable.
inline constexpr std::size_t kStoredKindCount = 10;

// The kinds held as KindPolicy (all but kDomain), in number order.
inline constexpr std::array<PolicyKind, kPolicyKindCount - 1> kGenericKinds = {
    PolicyKind::kPasswordComplexity,
    PolicyKind::kPasswordAge,
    PolicyKind::kLockout,
    PolicyKind::kLogin,
    PolicyKind::kPrivacy,
    PolicyKind::kNotification,
    PolicyKind::kLabel};

// Every stored kind held as KindPolicy: kGenericKinds, kLabelPreview and kIdpTable, in number
// order.
inline constexpr std::array<PolicyKind, kStoredKindCount - 1> kStoredGenericKinds = {
    PolicyKind::kPasswordComplexity,
    PolicyKind::kPasswordAge,
    PolicyKind::kLockout,
    PolicyKind::kLogin,
    PolicyKind::kPrivacy,
    PolicyKind::kNotification,
    PolicyKind::kLabel,
    PolicyKind::kLabelPreview,
    PolicyKind::kIdpTable};

// A set of kinds, one bit per kind number.
class KindSet {
 public:
  constexpr KindSet() = default;
  static constexpr KindSet Of(PolicyKind kind) { return KindSet(Bit(kind)); }
  // Every kind of answer (kDomain..kLabel).
  static constexpr KindSet All() { return KindSet((1u << kPolicyKindCount) - 1); }
  // Every stored kind: the answers, kLabelPreview and kIdpTable.
  static constexpr KindSet AllStored() { return KindSet((1u << kStoredKindCount) - 1); }
  constexpr bool contains(PolicyKind kind) const { return (bits_ & Bit(kind)) != 0; }
  constexpr void insert(PolicyKind kind) { bits_ |= Bit(kind); }
  constexpr bool empty() const { return bits_ == 0; }
  // True if some kind other than kDomain is in the set.
  constexpr bool has_generic() const { return (bits_ & ~Bit(PolicyKind::kDomain)) != 0; }
  constexpr std::uint32_t bits() const { return bits_; }
  friend constexpr bool operator==(KindSet, KindSet) = default;

 private:
  constexpr explicit KindSet(std::uint32_t bits) : bits_(bits) {}
  static constexpr std::uint32_t Bit(PolicyKind kind) {
    return std::uint32_t{1} << static_cast<unsigned>(kind);
  }
  std::uint32_t bits_ = 0;
};

// What one field of a policy message holds.
enum class FieldType : std::uint8_t {
  kBool,      // JSON true, omitted when false
  kUint64,    // JSON decimal string ("8"), omitted when 0
  kString,    // omitted when empty
  kDuration,  // google.protobuf.Duration: always written ("0s", "864000s", "1.500s")
  kEnum,      // JSON value name, omitted when 0
  kEnumList,  // JSON array of value names, omitted when empty
  // repeated zitadel.idp.v1.IDPLoginPolicyLink: a JSON array of {"idpId","idpName","idpType"}
  // objects (idpName omitted when empty, idpType when 0), omitted when empty
  kIdpLinks,
};

// The names of an enum's values, indexed by number (numbers are dense from 0).
struct EnumSpec {
  std::string_view name;  // proto name, for messages
  std::span<const std::string_view> values;
  // The proto number of each number the upstream's events carry (its Go domain enum, which is
  // numbered differently for some enums), indexed by the event's number; numbers beyond become
  // `event_default`, as the upstream's conversion to proto does.
  std::span<const std::uint32_t> from_event;
  std::uint32_t event_default = 0;
};

// One identity provider link of a login policy (zitadel.idp.v1.IDPLoginPolicyLink), or one IdP
// of the kIdpTable row.
struct IdpLink {
  std::string id;    // idpId: the IdP's id (never empty)
  std::string name;  // idpName (may be empty: the upstream allows unnamed Google, GitHub, ... IdPs)
  // The field's enum_spec numbers it: a login link holds zitadel.idp.v1.IDPType (0 unspecified,
  // 1 OIDC, 3 JWT), a kIdpTable entry the upstream's domain.IDPType (0 unspecified, 1 OIDC, 2 JWT,
  // 3 OAuth, ... 13 ZITADEL), which IdpTypeToProto maps.
  std::uint32_t type = 0;
  // A kIdpTable entry: the org that owns the IdP, empty for the instance's (or not known); its
  // IdPs go when the org does. Empty in a login link.
  std::string owner;

  friend bool operator==(const IdpLink&, const IdpLink&) = default;
};

// zitadel.idp.v1.IDPType of the upstream's domain.IDPType `domain_type`, as its
// IDPTypeToPb: OIDC (1) -> IDP_TYPE_OIDC (1), JWT (2) -> IDP_TYPE_JWT (3), anything else 0.
constexpr std::uint32_t IdpTypeToProto(std::uint32_t domain_type) {
  return domain_type == 1 ? 1 : domain_type == 2 ? 3 : 0;
}
// The inverse for the types a proto link can show (0 stays 0: unknown beyond OIDC and JWT).
constexpr std::uint32_t IdpTypeFromProto(std::uint32_t proto_type) {
  return proto_type == 1 ? 1 : proto_type == 3 ? 2 : 0;
}

struct FieldSpec {
  std::string_view json_name;   // lowerCamel, as the upstream's JSON has it
  std::string_view proto_name;  // snake_case (protojson accepts both on input)
  FieldType type;
  // The key of this field in the kind's added/changed event payloads (empty: no event sets it
  // that way, e.g. the label policy's asset URLs).
  std::string_view event_key;
  const EnumSpec* enum_spec = nullptr;  // kEnum and kEnumList
  // The key in "added" payloads where it differs from event_key (the upstream's label policy
  // writes disableWatermark as "disableMsgPopup" there); empty: event_key.
  std::string_view added_event_key = {};
};

struct KindSpec {
  PolicyKind kind;
  std::string_view cli_name;         // `policyctl get --kind`: "password-complexity"
  std::string_view snapshot_name;    // snapshot "policies" key: "passwordComplexity"
  std::string_view message_name;     // "PasswordComplexityPolicy" (zitadel.policy.v1)
  std::string_view admin_path;       // GET of the instance default: "/admin/v1/policies/..."
  std::string_view management_path;  // GET of an org's effective policy (x-zitadel-orgid)
  // Whether the management GET response has the deprecated top-level `isDefault` (field 2).
  bool management_has_is_default;
  // The middle of its event types: "instance." + event_base + ".added" and so on.
  std::string_view event_base;
  // The fields of the message other than details (always field 1, written first) and is_default,
  // in the order of their store, bucket and wire positions, which never change: new fields are
  // appended. is_default is written just before the field at json position is_default_index
  // (== size(): last).
  std::span<const FieldSpec> fields;
  std::size_t is_default_index;
  // The order of the fields in the message's declaration, which JSON follows, as indexes into
  // `fields`; empty: the order of `fields` (a field appended later but declared earlier, as the
  // login policy's idps, needs it).
  std::span<const std::uint8_t> json_order = {};

  // The index into `fields` of the field at JSON position `position`.
  std::size_t JsonField(std::size_t position) const {
    return json_order.empty() ? position : json_order[position];
  }
};

// The spec of `kind` (any stored kind). kDomain has names and paths but no fields (it keeps its
// typed model); kLabelPreview has kLabel's fields and no names.
const KindSpec& SpecOf(PolicyKind kind);

// The kind whose cli_name (or snapshot_name) is `name`; nullopt for anything else.
std::optional<PolicyKind> KindFromCliName(std::string_view name);
std::optional<PolicyKind> KindFromSnapshotName(std::string_view name);

// True for the number of a kind of answer (the wire and the bucket carry raw numbers).
constexpr bool IsKnownKind(std::uint8_t number) { return number < kPolicyKindCount; }
// True for the number of a stored kind (the store's rows carry raw numbers).
constexpr bool IsStoredKind(std::uint8_t number) { return number < kStoredKindCount; }

// One field's value; which members count depends on the field's type.
struct FieldValue {
  // kBool: 0 or 1; kUint64: the value; kEnum: the number; kDuration: nanoseconds as a two's
  // complement int64 (a Go time.Duration, which is what the upstream keeps).
  std::uint64_t number = 0;
  std::string text;                 // kString
  std::vector<std::uint32_t> list;  // kEnumList: enum numbers, in the upstream's order
  std::vector<IdpLink> links{};     // kIdpLinks: in the order they were added

  std::int64_t duration_nanos() const { return static_cast<std::int64_t>(number); }
  friend bool operator==(const FieldValue&, const FieldValue&) = default;
};

// One stored policy row of a generic kind (an instance default or an org's own policy), kept like
// the upstream's projection row: the field values and the row's details and event stream, with
// the meaning they have for the domain policy (model/domain_policy.h PolicyRecord).
struct KindPolicy {
  PolicyKind kind = PolicyKind::kPasswordComplexity;
  std::vector<FieldValue> fields;  // one per SpecOf(kind).fields, in that order
  Details details;
  EventStream stream{};

  friend bool operator==(const KindPolicy&, const KindPolicy&) = default;
};

// What a generic kind's event carries (json/kind_json.h reads it from the payload).
struct KindPatch {
  // added/changed: the payload's keys, as (field index, value); for "added" a missing key means
  // the zero value, for "changed" it means unchanged.
  std::vector<std::pair<std::uint8_t, FieldValue>> fields;
  std::uint32_t factor = 0;  // login second/multi factor events: the factor, proto-numbered
  std::string store_key;     // label asset added events: where the upstream stored the asset

  friend bool operator==(const KindPatch&, const KindPatch&) = default;
};

// What an event of a generic kind does (the upstream's projections; sync/kind_reducer.h).
enum class KindAction : std::uint8_t {
  kAdded,                // creates the row (the label policy's: its preview row)
  kChanged,              // patches the row (label: the preview row)
  kRemoved,              // org only: deletes the row (label: both rows)
  kSecondFactorAdded,    // login: appends KindPatch::factor to secondFactors
  kSecondFactorRemoved,  // login: removes it
  kMultiFactorAdded,     // login: appends to multiFactors
  kMultiFactorRemoved,
  kLabelActivated,  // label: copies the preview row onto the active row
  kAssetAdded,      // label: sets the preview row's asset_field to the asset's URL
  kAssetRemoved,    // label: clears it
  kAssetsRemoved,   // label: clears every asset URL of the preview row
};

struct KindEventType {
  PolicyKind kind;  // the kind of answer (kLabel for every label event)
  bool instance;    // an "instance." event (else "org.")
  KindAction action;
  std::uint8_t asset_field = 0;  // kAssetAdded/kAssetRemoved: the field index of the URL
};

// The meaning of event type `type`, or nullopt if it is not an event of a generic kind.
std::optional<KindEventType> ClassifyKindEvent(std::string_view type);

// Every event type ClassifyKindEvent knows, instance ones first, in a fixed order.
const std::vector<std::string>& KindEventTypes();

// One row of a generic kind as a snapshot (and a fleet value) carries it: an instance default
// (org_id empty) or an org's own policy, with the row's entry version (model/source_version.h).
struct KindRow {
  std::string org_id;  // empty: the instance default of policy.kind
  KindPolicy policy;
  SourceVersion version{};

  friend bool operator==(const KindRow&, const KindRow&) = default;
};

// A policy of `kind` with every field at its zero value.
KindPolicy EmptyKindPolicy(PolicyKind kind);

// OK if `policy` has one value per field of its kind's spec and every value fits its field: bool
// 0/1, enum numbers the spec names (lists too), strings of at most kMaxKindStringLength bytes,
// lists of at most kMaxKindListLength; links with a non-empty id of at most kMaxIdLength bytes, a
// name of at most kMaxKindStringLength and a type the field's enum names, each id once, at most
// kMaxIdpLinks of them (kMaxIdpTableSize in the kIdpTable row). INVALID_ARGUMENT naming `what`
// and the field otherwise.
inline constexpr std::size_t kMaxKindStringLength = 4096;
inline constexpr std::size_t kMaxKindListLength = 64;
inline constexpr std::size_t kMaxIdpLinks = 1000;
inline constexpr std::size_t kMaxIdpTableSize = 100'000;
// The most links a field of `kind` may hold.
constexpr std::size_t MaxIdpLinks(PolicyKind kind) {
  return kind == PolicyKind::kIdpTable ? kMaxIdpTableSize : kMaxIdpLinks;
}
Status CheckKindPolicy(std::string_view what, const KindPolicy& policy);

// The index of the field whose json_name (or proto_name) is `name` in `spec`, or -1.
int FindKindField(const KindSpec& spec, std::string_view name);

// The IdP links of a login row (its `idps`) or the entries of the IdP table. Requires
// `row.kind` to be kLogin or kIdpTable and `row.fields` to have its spec's size.
std::vector<IdpLink>& IdpLinksOf(KindPolicy& row);
const std::vector<IdpLink>& IdpLinksOf(const KindPolicy& row);

}  // namespace policyd
