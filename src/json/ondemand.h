// simdjson On Demand plumbing for the json module's parsers. Internal to src/json/ (the only
// place that includes simdjson).
//
// On Demand validates lazily: a value that is skipped is only checked for structure, not content.
// The parsers here therefore consume every value, known or not (ValidateValue for unknown
// fields), so a document is accepted only if it is entirely well-formed JSON. Every simdjson
// error code becomes an INVALID_ARGUMENT Status that names the JSON path where it happened
// (RESOURCE_EXHAUSTED for allocation failures); nothing throws.
//
// A JsonPath is a chain of stack frames (one per nesting level) that is rendered to text only when
// an error is reported, so the happy path allocates nothing for paths.
//
// Pure. Thread-compatible: one Document per parse.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "json/kind_json.h"
#include "json/policy_json.h"

namespace policyd::json_internal {

namespace od = simdjson::ondemand;

// Deepest nesting accepted inside ignored (unknown) fields. On Demand itself does not limit depth,
// and ValidateValue recurses, so this bounds the stack.
inline constexpr int kMaxUnknownDepth = 64;

// The position of a value in a document: "orgs[12].policy.details.sequence". The root renders as
// "top level". A path refers to its parent and to the field name; both must outlive it.
class JsonPath {
 public:
  JsonPath() = default;  // the root

  JsonPath Field(std::string_view name) const { return JsonPath(this, name, 0, Kind::kField); }
  JsonPath Index(std::size_t index) const { return JsonPath(this, {}, index, Kind::kIndex); }

  std::string ToString() const;

 private:
  enum class Kind : std::uint8_t { kRoot, kField, kIndex };
  JsonPath(const JsonPath* parent, std::string_view name, std::size_t index, Kind kind)
      : parent_(parent), name_(name), index_(index), kind_(kind) {}
  void AppendTo(std::string& out) const;

  const JsonPath* parent_ = nullptr;
  std::string_view name_;
  std::size_t index_ = 0;
  Kind kind_ = Kind::kRoot;
};

// INVALID_ARGUMENT "<path>: <message>".
Status PathError(const JsonPath& path, std::string_view message);

// A simdjson error at `path`: INVALID_ARGUMENT "<path>: malformed JSON (<simdjson's text>)", or
// RESOURCE_EXHAUSTED for MEMALLOC.
Status SyntaxError(const JsonPath& path, simdjson::error_code error);

// "an object", "a string", ... for messages.
std::string_view TypeName(od::json_type type);

// INVALID_ARGUMENT "<path>: expected <expected>, got <TypeName(actual)>".
Status WrongType(const JsonPath& path, std::string_view expected, od::json_type actual);

// The type of `value` from its first byte; malformed JSON if it starts no JSON value.
Status GetType(od::value& value, const JsonPath& path, od::json_type& type);

// Starts iterating `value` as an object; WrongType if it is another type.
Status GetObject(od::value& value, const JsonPath& path, od::object& object);

// Reads a string value (unescaped; the view lives as long as the document).
Status GetString(od::value& value, const JsonPath& path, std::string_view& out);

// True if `token` (possibly followed by whitespace) is a JSON number by RFC 8259's grammar, of
// any magnitude (simdjson's own number parser refuses integers beyond 64 bits).
bool IsJsonNumber(std::string_view token);

// Consumes `value` entirely, checking that it is well-formed JSON nested at most
// kMaxUnknownDepth - depth levels deeper.
Status ValidateValue(od::value& value, const JsonPath& path, int depth);

// A string field; JSON null means "not set" and leaves `out` as it is.
Status ReadString(od::value& value, const JsonPath& path, std::string& out);

// An RFC 3339 timestamp string (json/timestamp.h); JSON null leaves `out` as it is.
Status ReadTimestamp(od::value& value, const JsonPath& path, Timestamp& out);

// One parse: the padded copy of the input, the parser and the document. Not movable (the
// document points into the other two).
class Document {
 public:
  Document() = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // Copies `json` with simdjson's padding and indexes it. INVALID_ARGUMENT for an empty, too large
  // (over 4 GiB) or lexically malformed (bad UTF-8, unclosed string, ...) document;
  // RESOURCE_EXHAUSTED when the copy or the index cannot be allocated.
  Status Open(std::string_view json);

  // Starts iterating the root, which must be an object.
  Status RootObject(od::object& object);

  // OK when nothing but whitespace follows the root value; call after consuming it.
  Status ExpectEnd();

 private:
  simdjson::padded_string padded_;
  od::parser parser_;
  od::document document_;
};

// The names of a message's known fields: protojson accepts the lowerCamelCase JSON name and the
// original proto name.
struct FieldName {
  std::string_view json_name;
  std::string_view proto_name;
};

template <std::size_t N>
int FindField(const std::array<FieldName, N>& fields, std::string_view key) {
  for (std::size_t i = 0; i < N; ++i) {
    if (key == fields[i].json_name || key == fields[i].proto_name) return static_cast<int>(i);
  }
  return -1;
}

// Iterates the fields of `object` at `path`. For a field named in `known` (under either name),
// calls on_known(int index, od::value& value, const JsonPath& field_path) -> Status, which must
// consume the value; other fields are validated (ValidateValue) and ignored. A known field given
// twice is an error ("duplicate field"), as in protojson. `seen` gets a bit per known field found.
template <std::size_t N, typename OnKnown>
Status ForEachField(od::object& object, const JsonPath& path, const std::array<FieldName, N>& known,
                    std::uint32_t& seen, OnKnown&& on_known) {
  static_assert(N <= 32, "seen is a 32-bit mask");
  seen = 0;
  for (auto field_or_error : object) {
    od::field field;
    if (auto error = std::move(field_or_error).get(field)) return SyntaxError(path, error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return SyntaxError(path, error);
    const JsonPath field_path = path.Field(key);
    const int index = FindField(known, key);
    if (index < 0) {
      POLICYD_RETURN_IF_ERROR(ValidateValue(field.value(), field_path, 0));
      continue;
    }
    const std::uint32_t bit = std::uint32_t{1} << index;
    if ((seen & bit) != 0) return PathError(field_path, "duplicate field");
    seen |= bit;
    POLICYD_RETURN_IF_ERROR(on_known(index, field.value(), field_path));
  }
  return Status::Ok();
}

// Iterates an array value (null: empty), calling on_element(od::value&, const JsonPath&) for each
// element, after reserving room in `out` for as many elements as the document can hold given
// that each takes at least `min_element_bytes` (counting first, a fast structural pass, avoids
// growing a vector of a million elements by doubling).
template <typename T, typename OnElement>
Status ForEachElement(od::value& value, const JsonPath& path, std::size_t document_size,
                      std::size_t min_element_bytes, std::vector<T>& out, OnElement&& on_element) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  if (type != od::json_type::array) return WrongType(path, "an array", type);
  od::array array;
  if (auto error = value.get_array().get(array)) return SyntaxError(path, error);
  std::size_t count = 0;
  if (auto error = array.count_elements().get(count)) {
    return SyntaxError(path, error);
  }
  out.reserve(std::min(count, document_size / min_element_bytes + 1));
  std::size_t index = 0;
  for (auto element_or_error : array) {
    const JsonPath element_path = path.Index(index);
    od::value element;
    if (auto error = std::move(element_or_error).get(element)) {
      return SyntaxError(element_path, error);
    }
    POLICYD_RETURN_IF_ERROR(on_element(element, element_path));
    ++index;
  }
  return Status::Ok();
}

// A boolean; JSON null leaves `out` as it is (defined in policy_json.cc, as the next two).
Status ReadBool(od::value& value, const JsonPath& path, bool& out);

// A uint64 as protojson writes it (a decimal string) or a plain non-negative JSON integer; JSON
// null leaves `out` as it is.
Status ReadUint64(od::value& value, const JsonPath& path, std::uint64_t& out);

// A zitadel.v1.ObjectDetails object; JSON null leaves `out` as it is.
Status ReadDetails(od::value& value, const JsonPath& path, Details& out);

// Parses a DomainPolicy object (the value at `path`) into `out` (defined in policy_json.cc).
Status ParsePolicyValue(od::value& value, const JsonPath& path, ParsedPolicy& out);

// Parses a <Kind>Policy object (the value at `path`) into `out` (defined in kind_json.cc).
Status ParseKindPolicyValue(od::value& value, const JsonPath& path, PolicyKind kind,
                            ParsedKindPolicy& out);

// Reads an added (`added`) or changed event payload of a generic kind (the object at `path`;
// null: no keys) into out.fields: the keys the kind's spec names as event keys, other keys
// validated and ignored (defined in kind_json.cc).
Status ParseKindPayloadValue(od::value& value, const JsonPath& path, PolicyKind kind, bool added,
                             KindPatch& out);

// Parses the whole of `json` as one object, handing the root object (od::object&) to
// `parse_root` (-> Status), and requires nothing but whitespace after it.
template <typename ParseRoot>
Status ParseDocument(std::string_view json, ParseRoot&& parse_root) {
  Document document;
  od::object object;
  POLICYD_RETURN_IF_ERROR(document.Open(json));
  POLICYD_RETURN_IF_ERROR(document.RootObject(object));
  POLICYD_RETURN_IF_ERROR(parse_root(object));
  return document.ExpectEnd();
}

// ---- Shared by the upstream response parsers (defined in upstream_json.cc) ----

// INVALID_ARGUMENT "<path>: missing \"<name>\"".
Status Missing(const JsonPath& path, std::string_view name);

// Sets `is_null` (and consumes the value) when `value` is JSON null, which means "not set".
Status ConsumeIfNull(od::value& value, const JsonPath& path, bool& is_null);

// A boolean; JSON null leaves `out` as it is.
Status ReadOptionalBool(od::value& value, const JsonPath& path, std::optional<bool>& out);

// A non-negative integer given as a decimal string (protojson's int64/uint64) or as a plain JSON
// number, at most `max`; JSON null leaves `out` as it is.
Status ReadUnsigned(od::value& value, const JsonPath& path, std::uint64_t max, std::uint64_t& out);

// ValidateId(what, id), the error prefixed with `path`.
Status CheckId(const JsonPath& path, std::string_view what, std::string_view id);

// A v1 ListDetails object ({"totalResult":"42",…}; null: not set): its totalResult into `total`.
Status ReadListDetails(od::value& value, const JsonPath& path, std::uint64_t& total);

}  // namespace policyd::json_internal
