#include "json/flat_json.h"

#include "json/ondemand.h"

namespace policyd {

using json_internal::GetType;
using json_internal::JsonPath;
namespace od = json_internal::od;
using json_internal::PathError;
using json_internal::SyntaxError;

namespace {

Status ReadScalar(od::value& value, const JsonPath& path, FlatJsonValue& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  switch (type) {
    case od::json_type::null:
      out.type = FlatJsonValue::Type::kNull;
      return json_internal::ValidateValue(value, path, 0);
    case od::json_type::boolean:
      out.type = FlatJsonValue::Type::kBool;
      if (auto error = value.get_bool().get(out.boolean)) return SyntaxError(path, error);
      return Status::Ok();
    case od::json_type::number:
      out.type = FlatJsonValue::Type::kNumber;
      if (auto error = value.get_double().get(out.number)) return SyntaxError(path, error);
      return Status::Ok();
    case od::json_type::string: {
      out.type = FlatJsonValue::Type::kString;
      std::string_view text;
      POLICYD_RETURN_IF_ERROR(json_internal::GetString(value, path, text));
      out.text = text;
      return Status::Ok();
    }
    default:
      return json_internal::WrongType(path, "a string, number, boolean or null", type);
  }
}

}  // namespace

Result<FlatJsonObject> ParseFlatJsonObject(std::string_view json) {
  FlatJsonObject out;
  const JsonPath root;
  Status s = json_internal::ParseDocument(json, [&](od::object& object) -> Status {
    for (auto field_or_error : object) {
      od::field field;
      if (auto error = std::move(field_or_error).get(field)) return SyntaxError(root, error);
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return SyntaxError(root, error);
      const JsonPath path = root.Field(key);
      FlatJsonValue value;
      POLICYD_RETURN_IF_ERROR(ReadScalar(field.value(), path, value));
      if (!out.emplace(std::string(key), std::move(value)).second)
        return PathError(path, "duplicate field");
    }
    return Status::Ok();
  });
  if (!s.ok()) return Err(std::move(s));
  return out;
}

const std::string* FlatString(const FlatJsonObject& object, std::string_view name) {
  const auto it = object.find(name);
  if (it == object.end() || it->second.type != FlatJsonValue::Type::kString) return nullptr;
  return &it->second.text;
}

const double* FlatNumber(const FlatJsonObject& object, std::string_view name) {
  const auto it = object.find(name);
  if (it == object.end() || it->second.type != FlatJsonValue::Type::kNumber) return nullptr;
  return &it->second.number;
}

}  // namespace policyd
