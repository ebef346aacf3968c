// RFC 3339 timestamps as the upstream IAM writes them (protojson google.protobuf.Timestamp).
//
// Pure. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"

namespace policyd {

// Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)" (also 't'/'z'), normalised to UTC.
// Years 0001..9999 (after applying the offset), days checked against the month and leap years,
// hour <= 23, minute <= 59, second <= 59 (no leap seconds, as protobuf), offsets up to 23:59.
// Errors: INVALID_ARGUMENT naming what is wrong and quoting (at most 64 bytes of) the input.
Result<Timestamp> ParseTimestamp(std::string_view text);

// Formats like protojson: UTC, "Z", and 0, 3, 6 or 9 fractional digits (the fewest that are
// exact), e.g. "2025-03-01T09:12:44Z", "2025-02-11T08:00:01.500Z", "...44.123456Z".
// Values ParseTimestamp cannot return are still formatted, without undefined behaviour, but do not
// parse back: nanos are clamped to [0, 999999999] and years outside 0000..9999 get as many digits
// (and a sign) as they need.
std::string FormatTimestamp(Timestamp t);

// Same, appended to `out` (no allocation when `out` has capacity).
void AppendTimestamp(std::string& out, Timestamp t);

}  // namespace policyd
