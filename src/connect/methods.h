// The Connect methods policyd serves: the upstream's (ZITADEL's) v1 ManagementService and
// AdminService policy reads, each answered by the REST read of the same data
// (http/compat_routes.h, http/kind_routes.h), so both protocols give the same answer.
//
// Their messages are the upstream's, copied with their package, names and field numbers into
// schemas/zitadel/{management,admin}.proto (connect/codec.h).
//
// Pure. Constant tables; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace policyd::connect {

inline constexpr std::string_view kManagementService = "zitadel.management.v1.ManagementService";
inline constexpr std::string_view kAdminService = "zitadel.admin.v1.AdminService";

struct MethodSpec {
  std::string_view service;  // kManagementService or kAdminService
  std::string_view method;   // "GetDomainPolicy"
  // The REST GET route (http::Router pattern, as the REST routes add it) that answers it.
  std::string_view rest_pattern;
  // The request message has org_id (field 1), which goes to the route's {orgId}; the other
  // requests are empty (a management read's org is the x-zitadel-orgid header, as in REST).
  bool org_id_in_request;
};

// Every method served, management first, in the order of the upstream's service definitions.
std::span<const MethodSpec> Methods();

// The method `method` of `service`, or nullptr when policyd does not serve it.
const MethodSpec* FindMethod(std::string_view service, std::string_view method);

}  // namespace policyd::connect
