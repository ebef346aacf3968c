// Default-versus-org resolution, exactly as ZITADEL's DomainPolicyByOrg does it.
//
// ZITADEL selects the rows with id IN (orgID, instanceID), orders them by is_default ascending and
// takes the first (internal/query/domain_policy.go). So an org's own policy wins when it exists;
// otherwise the instance default is returned with isDefault=true and the instance row's details
// (resourceOwner = instance id). ZITADEL does not check that the org exists; policyd reports
// whether it does (`org_known`) and, when the caller asks to be strict, answers NOT_FOUND for an
// unknown org instead of falling back.
//
// Pure: no I/O, no clock. Thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/policy_kinds.h"

namespace policyd {

// What the store knows about one org at one consistent point in time.
struct OrgView {
  bool known = false;                        // the org exists
  const PolicyRecord* own_policy = nullptr;  // its own policy, if any (only when known)
};

struct Resolution {
  DomainPolicy policy;
  bool org_known = false;
};

// Resolves the effective policy of `org_id`.
// `instance` is the instance default, or nullptr when the store holds no state yet.
// Errors:
//   INVALID_ARGUMENT  org_id is empty or longer than kMaxIdLength;
//   NOT_FOUND         strict and the org is unknown;
//   UNAVAILABLE       no instance default is stored yet and the org has no own policy.
Result<Resolution> ResolveOrgPolicy(std::string_view org_id, const OrgView& org,
                                    const InstanceRecord* instance, bool strict);

// The instance default as an effective policy (isDefault=true, resourceOwner = instance id).
// UNAVAILABLE when `instance` is nullptr.
Result<DomainPolicy> ResolveDefaultPolicy(const InstanceRecord* instance);

// The same two, writing into `out`, whose strings keep their capacity from one call to the
// next: the lookup hot path's allocation-free form. On error `out` is unspecified.
Status ResolveOrgPolicyInto(std::string_view org_id, const OrgView& org,
                            const InstanceRecord* instance, bool strict, Resolution& out);
Status ResolveDefaultPolicyInto(const InstanceRecord* instance, DomainPolicy& out);

// The generic kinds (model/policy_kinds.h) resolve the same way, each on its own rows, as the
// upstream's <Kind>PolicyByOrg queries do: the org's own row, else the instance default with
// isDefault=true (its details are the instance row's).
struct KindResolution {
  const KindPolicy* policy = nullptr;  // points into the caller's rows
  bool is_default = false;             // the inherited instance default
};

// What every org lookup checks first, whatever kinds it asks: INVALID_ARGUMENT for a bad org id,
// NOT_FOUND when `strict` and the org is unknown.
Status CheckOrgLookup(std::string_view org_id, bool org_known, bool strict);

// Resolves one generic kind of an org that passed CheckOrgLookup: `own` is the org's own row
// (nullptr: none, or the org is unknown), `instance_default` the kind's instance default
// (nullptr: not stored yet). UNAVAILABLE when both are null.
Status ResolveKindInto(PolicyKind kind, const KindPolicy* own, const KindPolicy* instance_default,
                       KindResolution& out);

// Checks an id from outside: 1..kMaxIdLength bytes. INVALID_ARGUMENT otherwise.
Status ValidateId(std::string_view what, std::string_view id);

}  // namespace policyd
