// Generic policy kinds (model/policy_kinds.h) <-> the upstream IAM's JSON, byte-exact.
//
// Output follows the upstream's grpc-gateway marshaller (protojson, EmitUnpopulated=false) like
// json/policy_json.h: compact, details first, then the fields in declaration order with isDefault
// at its place; false, 0, "" and empty lists omitted; uint64 as decimal strings; enums by name;
// google.protobuf.Duration always written (the upstream always sets it) as protojson formats it:
// seconds with 0, 3, 6 or 9 fractional digits and "s" ("864000s", "1.500s", "-0.000000001s").
//
// Input accepts what protojson accepts and the upstream sends: lowerCamel or proto field names,
// unknown fields ignored (but well-formed), null for "not set", uint64 as a string or a number,
// enums by name or number, durations as "<seconds>[.<1-9 digits>]s"; a field given twice, an
// unknown enum name (a newer upstream than this policyd) or a duration beyond ±292 years (a Go
// time.Duration, which is what the upstream keeps) is INVALID_ARGUMENT with a JSON path.
//
// Event payloads are the upstream's Go event structs, not protojson: numbers are JSON numbers,
// durations integer nanoseconds, enums the numbers of the upstream's Go enums (mapped to proto
// numbers by EnumSpec::from_event), and only the keys that `event_key` names are read.
//
// Pure. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/policy_kinds.h"

namespace policyd {

// Appends the <Kind>Policy object of `policy`, with isDefault=true when `is_default`.
void AppendKindPolicyJson(std::string& out, const KindPolicy& policy, bool is_default);

// The whole body of a GET of `policy`'s kind: {"policy":<object>}, and for a management GET of a
// kind whose response has the deprecated top-level isDefault, ,"isDefault":true after it when
// `is_default`.
std::string FormatKindGetResponse(const KindPolicy& policy, bool is_default, bool management);

// A google.protobuf.Duration of `nanos` as protojson writes it, quotes excluded.
void AppendProtoDuration(std::string& out, std::int64_t nanos);
// The inverse: "<seconds>[.<1-9 digits>]s" with an optional '-'. INVALID_ARGUMENT otherwise or
// when out of int64 nanoseconds.
Result<std::int64_t> ParseProtoDuration(std::string_view text);

struct ParsedKindPolicy {
  KindPolicy policy;
  bool is_default = false;
};

// Parses one <Kind>Policy object (the whole of `json`).
Result<ParsedKindPolicy> ParseKindPolicyJson(PolicyKind kind, std::string_view json);

// Parses a GET response body ({"policy":{…}[,"isDefault":…]}): the policy, is_default from the
// policy object (or the top-level field when only that is present).
Result<ParsedKindPolicy> ParseKindGetResponse(PolicyKind kind, std::string_view json);

}  // namespace policyd
