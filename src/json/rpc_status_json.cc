#include "json/rpc_status_json.h"

#include <array>
#include <cstdint>

#include "json/ondemand.h"

namespace policyd {
namespace {

namespace od = simdjson::ondemand;
using json_internal::FieldName;
using json_internal::JsonPath;
using json_internal::ReadString;

// The smallest detail, {}, takes 2 bytes (ForEachElement's reservation bound).
constexpr std::size_t kMinDetailBytes = 2;

enum StatusField { kCode, kMessage, kDetails };
constexpr std::array<FieldName, 3> kStatusFields = {{
    {"code", "code"},
    {"message", "message"},
    {"details", "details"},
}};

enum DetailField { kType, kId, kDetailMessage };
constexpr std::array<FieldName, 3> kDetailFields = {{
    {"@type", "@type"},
    {"id", "id"},
    {"message", "message"},
}};

Status ReadDetail(od::value& value, const JsonPath& path, RpcStatusDetail& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  return json_internal::ForEachField(
      object, path, kDetailFields, seen,
      [&out](int index, od::value& field, const JsonPath& field_path) {
        switch (index) {
          case kType:
            return ReadString(field, field_path, out.type);
          case kId:
            return ReadString(field, field_path, out.id);
          default:
            return ReadString(field, field_path, out.message);
        }
      });
}

// google.rpc.Status's int32 code, as a JSON number (protojson writes it as one).
Status ReadCode(od::value& value, const JsonPath& path, std::uint64_t& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type != od::json_type::number) return json_internal::WrongType(path, "a number", type);
  return json_internal::ReadUnsigned(value, path, UINT32_MAX, out);
}

}  // namespace

Result<RpcStatus> ParseRpcStatus(std::string_view json) {
  RpcStatus status;
  std::uint32_t seen = 0;
  Status s = json_internal::ParseDocument(json, [&](od::object& root) {
    return json_internal::ForEachField(
        root, JsonPath(), kStatusFields, seen,
        [&](int index, od::value& field, const JsonPath& field_path) {
          switch (index) {
            case kCode:
              return ReadCode(field, field_path, status.code);
            case kMessage:
              return ReadString(field, field_path, status.message);
            default:
              return json_internal::ForEachElement(
                  field, field_path, json.size(), kMinDetailBytes, status.details,
                  [&status](od::value& element, const JsonPath& element_path) {
                    return ReadDetail(element, element_path, status.details.emplace_back());
                  });
          }
        });
  });
  if (!s.ok()) return Err(std::move(s));
  if ((seen & (1u << kCode)) == 0) return Err(json_internal::Missing(JsonPath(), "code"));
  return status;
}

}  // namespace policyd
