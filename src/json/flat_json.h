// One flat JSON object: members whose values are strings, numbers, booleans or null, nothing
// nested. The benchmark's client drivers (clients/*/bench) report their measurements as one such
// line, and bench/clients_bench.cc reads it with this.
//
// Pure. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policyd {

struct FlatJsonValue {
  enum class Type { kNull, kBool, kNumber, kString };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;  // any JSON number, as a double (large integers lose precision)
  std::string text;   // the unescaped string

  bool operator==(const FlatJsonValue&) const = default;
};

// Member name (unescaped) -> value, in name order.
using FlatJsonObject = std::map<std::string, FlatJsonValue, std::less<>>;

// Parses `json`, which must be one object (whitespace around it allowed) whose values are all
// scalars. INVALID_ARGUMENT naming the JSON path for malformed JSON, a root that is no object,
// an array or object as a value, or a member given twice.
Result<FlatJsonObject> ParseFlatJsonObject(std::string_view json);

// The member `name` when it is a string / a number; nullptr when absent or of another type.
const std::string* FlatString(const FlatJsonObject& object, std::string_view name);
const double* FlatNumber(const FlatJsonObject& object, std::string_view name);

}  // namespace policyd
