#include "resolve/resolve.h"

#include <string>

namespace policyd {

Status ValidateId(std::string_view what, std::string_view id) {
  if (id.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  if (id.size() > kMaxIdLength) {
    return Status::InvalidArgument(std::string(what) + " is longer than " +
                                   std::to_string(kMaxIdLength) + " bytes");
  }
  for (unsigned char c : id) {
    // Control characters never occur in upstream ids and would corrupt logs and JSON output.
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(std::string(what) + " contains a control character");
    }
  }
  return Status::Ok();
}

Result<DomainPolicy> ResolveDefaultPolicy(const InstanceRecord* instance) {
  if (instance == nullptr) {
    return Err(
        Status::Unavailable("no instance default policy stored yet (store not synchronized)"));
  }
  DomainPolicy out{instance->policy.flags, /*is_default=*/true, instance->policy.details};
  out.details.resource_owner = instance->id;
  return out;
}

Result<Resolution> ResolveOrgPolicy(std::string_view org_id, const OrgView& org,
                                    const InstanceRecord* instance, bool strict) {
  if (Status s = ValidateId("org id", org_id); !s.ok()) return Err(std::move(s));
  if (org.known && org.own_policy != nullptr) {
    return Resolution{
        DomainPolicy{org.own_policy->flags, /*is_default=*/false, org.own_policy->details},
        /*org_known=*/true};
  }
  if (!org.known && strict) {
    return Err(Status::NotFound("org " + std::string(org_id) + " is unknown"));
  }
  Result<DomainPolicy> fallback = ResolveDefaultPolicy(instance);
  if (!fallback) return Err(fallback.error());
  return Resolution{std::move(*fallback), org.known};
}

}  // namespace policyd
