#include "json/kind_json.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "json/internal.h"
#include "json/ondemand.h"
#include "json/policy_json.h"

namespace policyd {
namespace json_internal {
namespace {

// The most seconds an int64 of nanoseconds holds.
constexpr std::int64_t kMaxDurationSeconds =
    std::numeric_limits<std::int64_t>::max() / kNanosPerSecond;

void AppendUnsigned(std::string& out, std::uint64_t value) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

void Key(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

// zitadel.idp.v1.IDPLoginPolicyLink objects: idpId, then idpName and idpType when set.
void AppendLinksJson(std::string& out, const FieldSpec& field, const std::vector<IdpLink>& links) {
  Key(out, field.json_name);
  char separator = '[';
  for (const IdpLink& link : links) {
    out += separator;
    separator = ',';
    out += "{\"idpId\":";
    AppendJsonString(out, link.id);
    if (!link.name.empty()) {
      out += ",\"idpName\":";
      AppendJsonString(out, link.name);
    }
    if (link.type != 0 && link.type < field.enum_spec->values.size() &&
        !field.enum_spec->values[link.type].empty()) {
      out += ",\"idpType\":\"";
      out += field.enum_spec->values[link.type];
      out += '"';
    }
    out += '}';
  }
  out += ']';
}

void AppendFieldJson(std::string& out, const FieldSpec& field, const FieldValue& value) {
  switch (field.type) {
    case FieldType::kBool:
      if (value.number != 0) {
        Key(out, field.json_name);
        out += "true";
      }
      break;
    case FieldType::kUint64:
      if (value.number != 0) {
        Key(out, field.json_name);
        out += '"';
        AppendUnsigned(out, value.number);
        out += '"';
      }
      break;
    case FieldType::kString:
      if (!value.text.empty()) {
        Key(out, field.json_name);
        AppendJsonString(out, value.text);
      }
      break;
    case FieldType::kDuration:
      Key(out, field.json_name);
      out += '"';
      AppendProtoDuration(out, value.duration_nanos());
      out += '"';
      break;
    case FieldType::kEnum:
      if (value.number != 0 && value.number < field.enum_spec->values.size()) {
        Key(out, field.json_name);
        out += '"';
        out += field.enum_spec->values[value.number];
        out += '"';
      }
      break;
    case FieldType::kEnumList:
      if (!value.list.empty()) {
        Key(out, field.json_name);
        char separator = '[';
        for (std::uint32_t number : value.list) {
          out += separator;
          separator = ',';
          out += '"';
          if (number < field.enum_spec->values.size()) out += field.enum_spec->values[number];
          out += '"';
        }
        out += ']';
      }
      break;
    case FieldType::kIdpLinks:
      if (!value.links.empty()) AppendLinksJson(out, field, value.links);
      break;
  }
}

// An enum given by name or number (protojson accepts both).
Status ReadEnum(od::value& value, const JsonPath& path, const EnumSpec& spec, std::uint64_t& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  if (type == od::json_type::string) {
    std::string_view name;
    if (auto error = value.get_string().get(name)) return SyntaxError(path, error);
    for (std::size_t i = 0; i < spec.values.size(); ++i) {
      if (spec.values[i] == name) {
        out = i;
        return Status::Ok();
      }
    }
    return PathError(path, "unknown " + std::string(spec.name) + " value " + QuoteForMessage(name) +
                               " (newer than this policyd)");
  }
  if (type != od::json_type::number) return WrongType(path, "an enum name", type);
  std::int64_t number = 0;
  if (auto error = value.get_int64().get(number)) return SyntaxError(path, error);
  if (number < 0 || static_cast<std::uint64_t>(number) >= spec.values.size()) {
    return PathError(path,
                     "unknown " + std::string(spec.name) + " number " + std::to_string(number));
  }
  out = static_cast<std::uint64_t>(number);
  return Status::Ok();
}

Status ReadEnumList(od::value& value, const JsonPath& path, const EnumSpec& spec,
                    std::vector<std::uint32_t>& out) {
  out.clear();
  std::vector<std::uint32_t> parsed;
  const Status walked =
      ForEachElement(value, path, 1, 1, parsed, [&](od::value& element, const JsonPath& at) {
        if (parsed.size() >= kMaxKindListLength) return PathError(at, "too many values");
        std::uint64_t number = 0;
        POLICYD_RETURN_IF_ERROR(ReadEnum(element, at, spec, number));
        parsed.push_back(static_cast<std::uint32_t>(number));
        return Status::Ok();
      });
  if (!walked.ok()) return walked;
  out = std::move(parsed);
  return Status::Ok();
}

Status ReadDuration(od::value& value, const JsonPath& path, std::uint64_t& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  std::string_view text;
  if (type != od::json_type::string) return WrongType(path, "a duration string", type);
  if (auto error = value.get_string().get(text)) return SyntaxError(path, error);
  auto nanos = ParseProtoDuration(text);
  if (!nanos) return PathError(path, nanos.error().message());
  out = static_cast<std::uint64_t>(*nanos);
  return Status::Ok();
}

Status ReadLimitedString(od::value& value, const JsonPath& path, std::string& out) {
  POLICYD_RETURN_IF_ERROR(ReadString(value, path, out));
  if (out.size() > kMaxKindStringLength) {
    return PathError(path, "longer than " + std::to_string(kMaxKindStringLength) + " bytes");
  }
  return Status::Ok();
}

// One IDPLoginPolicyLink object: idpId required, idpName and idpType optional.
Status ReadLink(od::value& value, const JsonPath& path, const EnumSpec& spec, IdpLink& out) {
  constexpr std::array<FieldName, 3> kFields = {{
      {"idpId", "idp_id"},
      {"idpName", "idp_name"},
      {"idpType", "idp_type"},
  }};
  od::object object;
  POLICYD_RETURN_IF_ERROR(GetObject(value, path, object));
  std::uint32_t seen = 0;
  const Status read = ForEachField(object, path, kFields, seen,
                                   [&](int index, od::value& field, const JsonPath& at) {
                                     if (index == 0) return ReadString(field, at, out.id);
                                     if (index == 1) return ReadLimitedString(field, at, out.name);
                                     std::uint64_t number = 0;
                                     POLICYD_RETURN_IF_ERROR(ReadEnum(field, at, spec, number));
                                     out.type = static_cast<std::uint32_t>(number);
                                     return Status::Ok();
                                   });
  if (!read.ok()) return read;
  if (out.id.empty()) return Missing(path, "idpId");
  if (out.id.size() > kMaxIdLength) return PathError(path.Field("idpId"), "longer than 200 bytes");
  return Status::Ok();
}

Status ReadLinks(od::value& value, const JsonPath& path, const FieldSpec& field,
                 std::vector<IdpLink>& out) {
  out.clear();
  std::vector<IdpLink> parsed;
  const Status walked =
      ForEachElement(value, path, 1, 1, parsed, [&](od::value& element, const JsonPath& at) {
        if (parsed.size() >= kMaxIdpLinks) return PathError(at, "too many links");
        IdpLink link;
        POLICYD_RETURN_IF_ERROR(ReadLink(element, at, *field.enum_spec, link));
        for (const IdpLink& other : parsed) {
          if (other.id == link.id) return PathError(at, "IdP " + link.id + " linked twice");
        }
        parsed.push_back(std::move(link));
        return Status::Ok();
      });
  if (!walked.ok()) return walked;
  out = std::move(parsed);
  return Status::Ok();
}

// A field of a policy object (protojson).
Status ReadFieldValue(od::value& value, const JsonPath& path, const FieldSpec& field,
                      FieldValue& out) {
  switch (field.type) {
    case FieldType::kBool: {
      bool b = out.number != 0;
      POLICYD_RETURN_IF_ERROR(ReadBool(value, path, b));
      out.number = b ? 1 : 0;
      return Status::Ok();
    }
    case FieldType::kUint64:
      return ReadUint64(value, path, out.number);
    case FieldType::kString:
      return ReadLimitedString(value, path, out.text);
    case FieldType::kDuration:
      return ReadDuration(value, path, out.number);
    case FieldType::kEnum:
      return ReadEnum(value, path, *field.enum_spec, out.number);
    case FieldType::kEnumList:
      return ReadEnumList(value, path, *field.enum_spec, out.list);
    case FieldType::kIdpLinks:
      return ReadLinks(value, path, field, out.links);
  }
  return Status::Ok();
}

// An integral JSON number of an event payload (Go's encoding/json writes integers; a float that
// is integral, e.g. 8.64e+14 from a Struct, is accepted too).
Status ReadPayloadInteger(od::value& value, const JsonPath& path, std::int64_t min,
                          std::int64_t& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type != od::json_type::number) return WrongType(path, "a number", type);
  od::number number;
  if (auto error = value.get_number().get(number)) return SyntaxError(path, error);
  if (number.is_int64()) {
    out = number.get_int64();
  } else if (number.is_uint64()) {
    return PathError(path, "number out of range");
  } else {
    const double d = number.get_double();
    if (!(d == std::floor(d)) || d < -9.2e18 || d > 9.2e18) {
      return PathError(path, "expected an integer");
    }
    out = static_cast<std::int64_t>(d);
  }
  if (out < min) return PathError(path, "negative");
  return Status::Ok();
}

// A field of an event payload (the upstream's Go event struct as JSON).
Status ReadPayloadValue(od::value& value, const JsonPath& path, const FieldSpec& field,
                        FieldValue& out) {
  std::int64_t number = 0;
  switch (field.type) {
    case FieldType::kBool: {
      bool b = false;
      POLICYD_RETURN_IF_ERROR(ReadBool(value, path, b));
      out.number = b ? 1 : 0;
      return Status::Ok();
    }
    case FieldType::kString:
      return ReadLimitedString(value, path, out.text);
    case FieldType::kUint64:
      POLICYD_RETURN_IF_ERROR(ReadPayloadInteger(value, path, 0, number));
      out.number = static_cast<std::uint64_t>(number);
      return Status::Ok();
    case FieldType::kDuration:
      POLICYD_RETURN_IF_ERROR(
          ReadPayloadInteger(value, path, std::numeric_limits<std::int64_t>::min(), number));
      out.number = static_cast<std::uint64_t>(number);
      return Status::Ok();
    case FieldType::kEnum: {
      POLICYD_RETURN_IF_ERROR(ReadPayloadInteger(value, path, 0, number));
      const EnumSpec& spec = *field.enum_spec;
      out.number = static_cast<std::uint64_t>(number) < spec.from_event.size()
                       ? spec.from_event[static_cast<std::size_t>(number)]
                       : spec.event_default;
      return Status::Ok();
    }
    case FieldType::kEnumList:
    case FieldType::kIdpLinks:
      break;  // no payload key holds a list
  }
  return ValidateValue(value, path, 0);
}

int FindEventKey(const KindSpec& spec, std::string_view key, bool added) {
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    std::string_view field_key = spec.fields[i].event_key;
    if (added && !spec.fields[i].added_event_key.empty())
      field_key = spec.fields[i].added_event_key;
    if (!field_key.empty() && field_key == key) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Status ParseKindPolicyObject(od::object& object, const JsonPath& path, PolicyKind kind,
                             ParsedKindPolicy& out) {
  const KindSpec& spec = SpecOf(kind);
  out.policy = EmptyKindPolicy(kind);
  out.is_default = false;
  std::vector<bool> seen(spec.fields.size() + 2);  // fields, then details and isDefault
  for (auto field_or_error : object) {
    od::field field;
    if (auto error = std::move(field_or_error).get(field)) return SyntaxError(path, error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return SyntaxError(path, error);
    const JsonPath at = path.Field(key);
    std::size_t slot = 0;
    if (key == "details") {
      slot = spec.fields.size();
    } else if (key == "isDefault" || key == "is_default") {
      slot = spec.fields.size() + 1;
    } else if (const int index = FindKindField(spec, key); index >= 0) {
      slot = static_cast<std::size_t>(index);
    } else {
      POLICYD_RETURN_IF_ERROR(ValidateValue(field.value(), at, 0));
      continue;
    }
    if (seen[slot]) return PathError(at, "duplicate field");
    seen[slot] = true;
    if (slot == spec.fields.size()) {
      POLICYD_RETURN_IF_ERROR(ReadDetails(field.value(), at, out.policy.details));
    } else if (slot == spec.fields.size() + 1) {
      POLICYD_RETURN_IF_ERROR(ReadBool(field.value(), at, out.is_default));
    } else {
      POLICYD_RETURN_IF_ERROR(
          ReadFieldValue(field.value(), at, spec.fields[slot], out.policy.fields[slot]));
    }
  }
  if (out.policy.details.resource_owner.size() > kMaxIdLength) {
    return PathError(path.Field("details").Field("resourceOwner"), "longer than 200 bytes");
  }
  return Status::Ok();
}

Status ParseKindPolicyValue(od::value& value, const JsonPath& path, PolicyKind kind,
                            ParsedKindPolicy& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(GetObject(value, path, object));
  return ParseKindPolicyObject(object, path, kind, out);
}

Status ParseKindPayloadValue(od::value& value, const JsonPath& path, PolicyKind kind, bool added,
                             KindPatch& out) {
  const KindSpec& spec = SpecOf(kind);
  out.fields.clear();
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  od::object object;
  POLICYD_RETURN_IF_ERROR(GetObject(value, path, object));
  for (auto field_or_error : object) {
    od::field field;
    if (auto error = std::move(field_or_error).get(field)) return SyntaxError(path, error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return SyntaxError(path, error);
    const JsonPath at = path.Field(key);
    const int index = FindEventKey(spec, key, added);
    if (index < 0) {
      POLICYD_RETURN_IF_ERROR(ValidateValue(field.value(), at, 0));
      continue;
    }
    for (const auto& [seen_index, unused] : out.fields) {
      if (seen_index == index) return PathError(at, "duplicate field");
    }
    od::json_type value_type;
    od::value field_value = field.value();
    POLICYD_RETURN_IF_ERROR(GetType(field_value, at, value_type));
    if (value_type == od::json_type::null) {  // Go writes a nil pointer as null: not changed
      POLICYD_RETURN_IF_ERROR(ValidateValue(field_value, at, 0));
      continue;
    }
    FieldValue parsed;
    POLICYD_RETURN_IF_ERROR(ReadPayloadValue(field_value, at, spec.fields[index], parsed));
    out.fields.emplace_back(static_cast<std::uint8_t>(index), std::move(parsed));
  }
  return Status::Ok();
}

}  // namespace json_internal

void AppendKindPolicyJson(std::string& out, const KindPolicy& policy, bool is_default) {
  const KindSpec& spec = SpecOf(policy.kind);
  out += "{\"details\":";
  json_internal::AppendDetailsJson(out, policy.details, policy.details.resource_owner);
  for (std::size_t position = 0; position <= spec.fields.size(); ++position) {
    if (position == spec.is_default_index && is_default) out += ",\"isDefault\":true";
    if (position == spec.fields.size()) break;
    const std::size_t i = spec.JsonField(position);
    if (i < policy.fields.size())
      json_internal::AppendFieldJson(out, spec.fields[i], policy.fields[i]);
  }
  out += '}';
}

std::string FormatKindGetResponse(const KindPolicy& policy, bool is_default, bool management) {
  std::string out = "{\"policy\":";
  AppendKindPolicyJson(out, policy, is_default);
  if (management && is_default && SpecOf(policy.kind).management_has_is_default) {
    out += ",\"isDefault\":true";
  }
  out += '}';
  return out;
}

void AppendProtoDuration(std::string& out, std::int64_t nanos) {
  // durationpb.New: seconds and nanos of the same sign; protojson then writes the magnitude with
  // a '-' in front, and 9 fractional digits trimmed by groups of three.
  std::uint64_t magnitude = nanos < 0
                                ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(nanos)
                                : static_cast<std::uint64_t>(nanos);
  if (nanos < 0) out += '-';
  json_internal::AppendUnsigned(out, magnitude / kNanosPerSecond);
  std::uint64_t fraction = magnitude % kNanosPerSecond;
  if (fraction != 0) {
    int digits = 9;
    while (digits > 3 && fraction % 1000 == 0) {
      fraction /= 1000;
      digits -= 3;
    }
    char text[10];
    for (int i = digits - 1; i >= 0; --i) {
      text[i] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    out += '.';
    out.append(text, static_cast<std::size_t>(digits));
  }
  out += 's';
}

Result<std::int64_t> ParseProtoDuration(std::string_view text) {
  const auto bad = [&text] {
    return Err(Status::InvalidArgument("expected a duration like \"864000s\", got " +
                                       json_internal::QuoteForMessage(text)));
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.size() < 2 || s.back() != 's') return bad();
  s.remove_suffix(1);
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 19 || (dot != std::string_view::npos && fraction.empty()) ||
      fraction.size() > 9) {
    return bad();
  }
  std::uint64_t seconds = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad();
    seconds = seconds * 10 + static_cast<std::uint64_t>(c - '0');
  }
  std::int64_t nanos = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    const char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return bad();
    nanos = nanos * 10 + (c - '0');
  }
  std::int64_t total = 0;
  if (seconds > static_cast<std::uint64_t>(json_internal::kMaxDurationSeconds) ||
      __builtin_mul_overflow(static_cast<std::int64_t>(seconds), kNanosPerSecond, &total) ||
      __builtin_add_overflow(total, nanos, &total)) {
    return Err(
        Status::InvalidArgument("duration out of range: " + json_internal::QuoteForMessage(text)));
  }
  return negative ? -total : total;
}

Result<ParsedKindPolicy> ParseKindPolicyJson(PolicyKind kind, std::string_view json) {
  ParsedKindPolicy out;
  Status s = json_internal::ParseDocument(json, [&](json_internal::od::object& object) {
    return json_internal::ParseKindPolicyObject(object, json_internal::JsonPath(), kind, out);
  });
  if (!s.ok()) return Err(std::move(s));
  return out;
}

Result<ParsedKindPolicy> ParseKindGetResponse(PolicyKind kind, std::string_view json) {
  using json_internal::od::value;
  ParsedKindPolicy out;
  bool top_is_default = false;
  constexpr std::array<json_internal::FieldName, 2> kFields = {{
      {"policy", "policy"},
      {"isDefault", "is_default"},
  }};
  std::uint32_t seen = 0;
  Status s = json_internal::ParseDocument(json, [&](json_internal::od::object& object) {
    const json_internal::JsonPath root;
    POLICYD_RETURN_IF_ERROR(json_internal::ForEachField(
        object, root, kFields, seen,
        [&](int index, value& field, const json_internal::JsonPath& at) {
          if (index == 0) return json_internal::ParseKindPolicyValue(field, at, kind, out);
          return json_internal::ReadBool(field, at, top_is_default);
        }));
    if ((seen & 1) == 0) return json_internal::Missing(root, "policy");
    return Status::Ok();
  });
  if (!s.ok()) return Err(std::move(s));
  out.is_default = out.is_default || top_is_default;
  return out;
}

}  // namespace policyd
