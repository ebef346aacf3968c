// The fake upstream's policy kinds beyond the domain policy (issue #14): password complexity,
// password age, lockout, login, privacy, notification and label. One table per kind gives the
// zitadel.policy.v1 message's fields in declaration order, with the keys and encodings of its
// events; rows, event payloads and GET bodies are made from that table.
//
// Written from the upstream's sources (notes: /work/draft/kinds-facts.md), independently of the
// daemon's code: the fake is the oracle the daemon is tested against.
//   - GET bodies are protojson as grpc-gateway writes it: fields in declaration order, false / 0 /
//     "" / empty lists / enum 0 omitted, uint64 as strings, Durations always ("864000s"),
//     Timestamps RFC 3339 with 0, 3, 6 or 9 fraction digits.
//   - Event payloads are the Go structs' JSON as ListEvents returns it (a Struct: keys sorted):
//     "added" omits zero values, "changed" has exactly the changed keys, durations are integer
//     nanoseconds, enums the domain's integers.
//   - Label quirks: the added event names disableWatermark "disableMsgPopup"; domain theme modes
//     (0 auto, 1 light, 2 dark) differ from the proto's (AUTO 1, DARK 2, LIGHT 3), and GET shows 0
//     as THEME_MODE_AUTO, so themeMode is always present.
//
// Pure values and functions; not thread-safe state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "model/domain_policy.h"

namespace policyd::testing_support {

enum class KindId {
  kPasswordComplexity,
  kPasswordAge,
  kLockout,
  kLogin,
  kPrivacy,
  kNotification,
  kLabel
};

// What a field holds: in rows, `FieldValue::number` for kBool/kUint64/kEnum (the domain's integer)
// and kDuration (nanoseconds); `text` for kString and kAsset (the label asset's store key).
enum class FieldType {
  kDetails,
  kIsDefault,
  kBool,
  kUint64,
  kString,
  kDuration,
  kEnum,
  kAsset,
  kSecondFactors,
  kMultiFactors,
  kIdps
};

struct FieldValue {
  std::int64_t number = 0;
  std::string text;
  friend bool operator==(const FieldValue&, const FieldValue&) = default;
};

struct FieldSpec {
  std::string_view json;  // proto JSON name (GET bodies and request bodies)
  FieldType type;
  std::string_view added_key{};    // key in the ...added payload; empty: not in the events
  std::string_view changed_key{};  // key in the ...changed payload
  std::string_view enum_name{};    // kEnum: "PasswordlessType" or "ThemeMode"
  bool hidden = false;             // in the events only (lockout showLockOutFailures, label
                                   // errorMsgPopup): not shown, not settable by requests
};

struct KindSpec {
  KindId id;
  std::string_view name;          // lowerCamel snapshot name, e.g. "passwordComplexity"
  std::string_view path;          // after /policies/, e.g. "password/complexity"
  std::string_view event_base;    // e.g. "policy.password.complexity"
  bool management_is_default;     // the management GET response has the top-level isDefault
  std::vector<FieldSpec> fields;  // declaration order of the zitadel.policy.v1 message
};

const std::vector<KindSpec>& AllKinds();
const KindSpec* FindKind(std::string_view name);        // by snapshot name; nullptr: unknown
const KindSpec* FindKindByPath(std::string_view path);  // by path after /policies/

// One projection row of a kind (label: one of its two states).
struct KindRow {
  std::map<std::string, FieldValue, std::less<>> values;  // by JSON name; absent: zero
  std::vector<std::int64_t> second_factors;  // login: domain SecondFactorType, append order
  std::vector<std::int64_t> multi_factors;   // login: domain MultiFactorType
  // login: the linked identity providers' ids in the order they were linked (the link
  // projection's rows of this owner). Link events leave `details` as they are: the login policy
  // projection does not reduce them.
  std::vector<std::string> idps;
  Details details;
  bool is_default = false;
  friend bool operator==(const KindRow&, const KindRow&) = default;
};

// One entry of AddCustomLoginPolicyRequest.idps: {"idpId":…,"ownerType":"IDP_OWNER_TYPE_…"}.
struct RequestedIdpLink {
  std::string idp_id;
  // "IDP_OWNER_TYPE_SYSTEM" (an instance IdP), "IDP_OWNER_TYPE_ORG" (the org's own); "" when the
  // request leaves it out (the fake then takes the IdP's owner).
  std::string owner_type;
};

// The fields of a request body (the management API's Add/UpdateCustom<X>PolicyRequest shape:
// proto JSON names, durations "864000s", enums by name; absent fields are zero, as the real
// request messages' are). The login body may carry "secondFactors" / "multiFactors" (names) and
// "idps" ([{idpId, ownerType}], ownerType by name), returned separately. INVALID_ARGUMENT: not an
// object, unknown or misspelt field, bad value, password complexity minLength 0 or > 72.
struct KindFields {
  std::map<std::string, FieldValue, std::less<>> values;
  std::vector<std::int64_t> second_factors;
  std::vector<std::int64_t> multi_factors;
  std::vector<RequestedIdpLink> idps;
};
Result<KindFields> ParseKindFields(const KindSpec& kind, std::string_view body);

// Payload of "<...>.added" for `values` (sorted keys, zero values left out; "{}" possible).
std::string AddedKindPayload(const KindSpec& kind,
                             const std::map<std::string, FieldValue, std::less<>>& values);
// Payload of "<...>.changed": the keys whose value differs, with the new value; nullopt when none.
std::optional<std::string> ChangedKindPayload(
    const KindSpec& kind, const std::map<std::string, FieldValue, std::less<>>& before,
    const std::map<std::string, FieldValue, std::less<>>& after);

// Login factors: domain integer <-> proto enum name. nullopt / "" for an unknown one.
std::optional<std::int64_t> SecondFactorFromName(std::string_view name);
std::optional<std::int64_t> MultiFactorFromName(std::string_view name);

// One linked identity provider as the login policy shows it: zitadel.idp.v1.IDPLoginPolicyLink
// {idpId, idpName, idpType}. `name` and `type` are the IdP's (the templates projection's row);
// "" and 0 for an IdP the upstream does not know.
struct IdpLinkView {
  std::string id;
  std::string name;
  std::int64_t type = 0;  // domain.IDPType: 1 OIDC, 2 JWT, 3 OAuth, ... 13 ZITADEL
  friend bool operator==(const IdpLinkView&, const IdpLinkView&) = default;
};
// The link as protojson: idpName left out when empty; idpType "IDP_TYPE_OIDC" for domain type 1,
// "IDP_TYPE_JWT" for 2 (proto value 3), left out for every other type (IDPTypeToPb's
// UNSPECIFIED).
std::string RenderIdpLink(const IdpLinkView& link);

// The policy message of `row` as protojson. `asset_prefix` (e.g. "http://host/assets/v1") makes
// the label URLs: <prefix>/<row resourceOwner>/<store key>. `idps`: the login policy's links as
// shown (the row's `idps` resolved against the IdPs), in the "idps" field; left out when empty.
std::string RenderKindPolicy(const KindSpec& kind, const KindRow& row,
                             std::string_view asset_prefix,
                             const std::vector<IdpLinkView>& idps = {});

}  // namespace policyd::testing_support
