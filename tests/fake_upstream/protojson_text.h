// Text forms of protojson (as ZITADEL's grpc-gateway writes them) that the fake upstream's
// policy kinds need: Durations, Timestamps and JSON strings. Written for the fake, independently
// of the daemon's JSON code. Pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/timestamp.h"

namespace policyd::testing_support {

// "864000s", "1.500s", "-0.000000001s": a google.protobuf.Duration in protojson.
std::string FormatDuration(std::int64_t nanos);
// The inverse; nullopt for anything protojson would not accept.
std::optional<std::int64_t> ParseDuration(std::string_view text);
// protojson's Timestamp: "2025-03-01T09:12:44.000001Z".
std::string FormatKindTimestamp(Timestamp t);
// Appends `s` as a JSON string, escaped like protojson.
void AppendQuoted(std::string& out, std::string_view s);
// A JSON object of key -> raw JSON value, compact, keys sorted (how ListEvents shows an event's
// payload Struct, and how the fake writes its bodies).
std::string SortedJsonObject(const std::map<std::string, std::string>& entries);

}  // namespace policyd::testing_support
