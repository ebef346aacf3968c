// The Connect methods policyd serves: the upstream's (ZITADEL's) v1 ManagementService and
// AdminService policy reads and the v2 SettingsService's GetDomainSettings, each answered by the
// REST read of the same data (http/compat_routes.h, http/kind_routes.h), so both protocols give
// the same answer.
//
// Their messages are the upstream's, copied with their package, names and field numbers into
// schemas/zitadel/{management,admin,settings_v2}.proto (connect/codec.h).
//
// Pure. Constant tables; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace policyd::connect {

inline constexpr std::string_view kManagementService = "zitadel.management.v1.ManagementService";
inline constexpr std::string_view kAdminService = "zitadel.admin.v1.AdminService";
inline constexpr std::string_view kSettingsService = "zitadel.settings.v2.SettingsService";

// The services whose paths the Connect routes own (unknown methods answered as unimplemented).
inline constexpr std::string_view kServices[] = {kManagementService, kAdminService,
                                                 kSettingsService};

// Where a request message names the org that the REST read answers for.
enum class RequestOrg {
  // An empty request: a management read's org is the x-zitadel-orgid header, as in REST.
  kNone,
  // org_id (field 1), which goes to the route's {orgId} (the admin's GetCustom*Policy).
  kOrgIdInPath,
  // ctx (field 1, zitadel.object.v2.RequestContext{oneof org_id = 1 | instance = 2}), which goes
  // to the route's query: ctx.orgId=<org_id> or ctx.instance=<instance>; without ctx the
  // x-zitadel-orgid header, as in REST (the v2 GetDomainSettings).
  kContextInQuery,
};

struct MethodSpec {
  std::string_view service;  // one of kServices
  std::string_view method;   // "GetDomainPolicy"
  // The REST GET route (http::Router pattern, as the REST routes add it) that answers it.
  std::string_view rest_pattern;
  RequestOrg org;
};

// Every method served, management first, then admin, then settings, each in the order of the
// upstream's service definitions.
std::span<const MethodSpec> Methods();

// The method `method` of `service`, or nullptr when policyd does not serve it.
const MethodSpec* FindMethod(std::string_view service, std::string_view method);

}  // namespace policyd::connect
