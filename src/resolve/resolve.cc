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
  POLICYD_RETURN_IF_ERROR(CheckOrgLookup(org_id, org.known, strict));
  if (org.known && org.own_policy != nullptr) {
    out.policy.flags = org.own_policy->flags;
    out.policy.is_default = false;
    out.policy.details = org.own_policy->details;  // copy-assignment reuses the capacity
    out.org_known = true;
    return Status::Ok();
  }
  out.org_known = org.known;
  return ResolveDefaultPolicyInto(instance, out.policy);
}

Status CheckOrgLookup(std::string_view org_id, bool org_known, bool strict) {
  POLICYD_RETURN_IF_ERROR(ValidateId("org id", org_id));
  if (!org_known && strict) return Status::NotFound("org " + std::string(org_id) + " is unknown");
  return Status::Ok();
}

Status ResolveKindInto(PolicyKind kind, const KindPolicy* own, const KindPolicy* instance_default,
                       KindResolution& out) {
  if (own != nullptr) {
    out = KindResolution{own, false};
    return Status::Ok();
  }
  if (instance_default == nullptr) {
    return Status::Unavailable("no " + std::string(SpecOf(kind).cli_name) +
                               " policy has been synchronized from the upstream yet");
  }
  out = KindResolution{instance_default, true};
  return Status::Ok();
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
