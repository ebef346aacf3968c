// The domain lists of the upstream's REST API: ListOrgDomains and ListInstanceDomains responses
// (declared in upstream_json.h, with the other upstream bodies).
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "json/internal.h"
#include "json/ondemand.h"
#include "json/upstream_json.h"
#include "model/domains.h"

namespace policyd {
namespace {

using json_internal::FieldName;
using json_internal::JsonPath;
using json_internal::ReadString;
namespace od = json_internal::od;

// The smallest entry, {"domainName":"a"}, takes more; this only bounds the reserve() for a
// hostile "result" array.
constexpr std::size_t kMinElementBytes = 8;

enum ListField { kListDetails, kListResult };
constexpr std::array<FieldName, 2> kListFields = {{{"details", "details"}, {"result", "result"}}};

// The name of a listed domain, checked like every domain name from outside.
Status CheckDomainName(const JsonPath& path, std::string_view field, const std::string& name) {
  if (name.empty()) return json_internal::Missing(path, field);
  if (Status s = ValidateDomainName(json_internal::QuoteForMessage(name), name); !s.ok()) {
    return s.WithContext(path.Field(field).ToString());
  }
  return Status::Ok();
}

// Parses {"details":{…},"result":[…]}, handing each element of "result" to `read_element`.
template <typename T, typename ReadElement>
Status ParseList(std::string_view body, std::uint64_t& total, std::vector<T>& out,
                 ReadElement&& read_element) {
  return json_internal::ParseDocument(body, [&](od::object& root) {
    std::uint32_t seen = 0;
    return json_internal::ForEachField(
        root, JsonPath(), kListFields, seen,
        [&](int index, od::value& field, const JsonPath& field_path) {
          if (index == kListDetails)
            return json_internal::ReadListDetails(field, field_path, total);
          return json_internal::ForEachElement(field, field_path, body.size(), kMinElementBytes,
                                               out, read_element);
        });
  });
}

// ---- ListOrgDomains ----

enum OrgDomainField { kOrgDomainOrgId, kOrgDomainName, kOrgDomainVerified, kOrgDomainPrimary };
constexpr std::array<FieldName, 4> kOrgDomainFields = {{
    {"orgId", "org_id"},
    {"domainName", "domain_name"},
    {"isVerified", "is_verified"},
    {"isPrimary", "is_primary"},
}};

Status ReadOrgDomain(od::value& value, const JsonPath& path, std::string_view org_id,
                     OrgDomain& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::string listed_org;
  std::optional<bool> verified, primary;
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachField(
      object, path, kOrgDomainFields, seen,
      [&](int index, od::value& field, const JsonPath& field_path) {
        switch (index) {
          case kOrgDomainOrgId:
            return ReadString(field, field_path, listed_org);
          case kOrgDomainName:
            return ReadString(field, field_path, out.name);
          case kOrgDomainVerified:
            return json_internal::ReadOptionalBool(field, field_path, verified);
          default:
            return json_internal::ReadOptionalBool(field, field_path, primary);
        }
      }));
  POLICYD_RETURN_IF_ERROR(CheckDomainName(path, "domainName", out.name));
  if (!listed_org.empty() && listed_org != org_id) {
    return json_internal::PathError(
        path.Field("orgId"), "a domain of org " + json_internal::QuoteForMessage(listed_org) +
                                 " in the list of org " + json_internal::QuoteForMessage(org_id) +
                                 " (did the x-zitadel-orgid header reach the upstream?)");
  }
  out.verified = verified.value_or(false);
  out.primary = primary.value_or(false);
  return Status::Ok();
}

// ---- ListInstanceDomains ----

enum InstanceDomainField { kInstanceDomainName, kInstanceDomainPrimary, kInstanceDomainGenerated };
constexpr std::array<FieldName, 3> kInstanceDomainFields = {{
    {"domain", "domain"},
    {"primary", "primary"},
    {"generated", "generated"},
}};

Status ReadInstanceDomain(od::value& value, const JsonPath& path, std::string& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::optional<bool> flag;  // primary, generated: checked to be booleans, not needed
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(
      json_internal::ForEachField(object, path, kInstanceDomainFields, seen,
                                  [&](int index, od::value& field, const JsonPath& field_path) {
                                    if (index == kInstanceDomainName)
                                      return ReadString(field, field_path, out);
                                    return json_internal::ReadOptionalBool(field, field_path, flag);
                                  }));
  return CheckDomainName(path, "domain", out);
}

}  // namespace

Result<OrgDomainPage> ParseListOrgDomainsResponse(std::string_view body, std::string_view org_id) {
  OrgDomainPage page;
  Status s = ParseList(
      body, page.total, page.domains, [&](od::value& element, const JsonPath& element_path) {
        return ReadOrgDomain(element, element_path, org_id, page.domains.emplace_back());
      });
  if (!s.ok()) return Err(std::move(s));
  return page;
}

Result<InstanceDomainPage> ParseListInstanceDomainsResponse(std::string_view body) {
  InstanceDomainPage page;
  Status s = ParseList(
      body, page.total, page.names, [&](od::value& element, const JsonPath& element_path) {
        return ReadInstanceDomain(element, element_path, page.names.emplace_back());
      });
  if (!s.ok()) return Err(std::move(s));
  return page;
}

}  // namespace policyd
