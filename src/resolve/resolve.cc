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

Status ResolveDefaultPolicyInto(const InstanceRecord* instance, DomainPolicy& out) {
  if (instance == nullptr) {
    return Status::Unavailable("no instance default policy stored yet (store not synchronized)");
  }
  out.flags = instance->policy.flags;
  out.is_default = true;
  out.details.sequence = instance->policy.details.sequence;
  out.details.creation_date = instance->policy.details.creation_date;
  out.details.change_date = instance->policy.details.change_date;
  out.details.resource_owner.assign(instance->id);  // reuses the string's capacity
  return Status::Ok();
}

Result<DomainPolicy> ResolveDefaultPolicy(const InstanceRecord* instance) {
  DomainPolicy out;
  if (Status s = ResolveDefaultPolicyInto(instance, out); !s.ok()) return Err(std::move(s));
  return out;
}

Status ResolveOrgPolicyInto(std::string_view org_id, const OrgView& org,
                            const InstanceRecord* instance, bool strict, Resolution& out) {
  POLICYD_RETURN_IF_ERROR(ValidateId("org id", org_id));
  if (org.known && org.own_policy != nullptr) {
    out.policy.flags = org.own_policy->flags;
    out.policy.is_default = false;
    out.policy.details = org.own_policy->details;  // copy-assignment reuses the capacity
    out.org_known = true;
    return Status::Ok();
  }
  if (!org.known && strict) return Status::NotFound("org " + std::string(org_id) + " is unknown");
  out.org_known = org.known;
  return ResolveDefaultPolicyInto(instance, out.policy);
}

Result<Resolution> ResolveOrgPolicy(std::string_view org_id, const OrgView& org,
                                    const InstanceRecord* instance, bool strict) {
  Resolution out;
  if (Status s = ResolveOrgPolicyInto(org_id, org, instance, strict, out); !s.ok()) {
    return Err(std::move(s));
  }
  return out;
}

}  // namespace policyd
