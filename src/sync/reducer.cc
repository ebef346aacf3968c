#include "sync/reducer.h"

#include <algorithm>
#include <string_view>

#include "resolve/resolve.h"
#include "sync/domain_reducer.h"
#include "sync/idp_reducer.h"

namespace policyd {
namespace {

enum class Kind {
  kOther,
  kInstancePolicyAdded,
  kInstancePolicyChanged,
  kOrgPolicyAdded,
  kOrgPolicyChanged,
  kOrgPolicyRemoved,
  kOrgAdded,
  kOrgRemoved,
  kInstanceRemoved,
  kOrgDomainAdded,
  kOrgDomainVerified,
  kOrgDomainPrimarySet,
  kOrgDomainRemoved,
  kInstanceDomainAdded,
  kInstanceDomainRemoved,
};

Kind KindOf(std::string_view type) {
  if (type == "org.policy.domain.added" || type == "org.iam.policy.added") {
    return Kind::kOrgPolicyAdded;
  }
  if (type == "org.policy.domain.changed" || type == "org.iam.policy.changed") {
    return Kind::kOrgPolicyChanged;
  }
  if (type == "org.policy.domain.removed" || type == "org.iam.policy.removed") {
    return Kind::kOrgPolicyRemoved;
  }
  if (type == "instance.policy.domain.added" || type == "iam.policy.org.iam.added") {
    return Kind::kInstancePolicyAdded;
  }
  if (type == "instance.policy.domain.changed" || type == "iam.policy.org.iam.changed") {
    return Kind::kInstancePolicyChanged;
  }
  if (type == "org.added") return Kind::kOrgAdded;
  if (type == "org.removed") return Kind::kOrgRemoved;
  if (type == "instance.removed") return Kind::kInstanceRemoved;
  if (type == "org.domain.added") return Kind::kOrgDomainAdded;
  if (type == "org.domain.verified") return Kind::kOrgDomainVerified;
  if (type == "org.domain.primary.set") return Kind::kOrgDomainPrimarySet;
  if (type == "org.domain.removed") return Kind::kOrgDomainRemoved;
  if (type == "instance.domain.added") return Kind::kInstanceDomainAdded;
  if (type == "instance.domain.removed") return Kind::kInstanceDomainRemoved;
  return Kind::kOther;
}

bool IsOrgDomainKind(Kind k) {
  return k == Kind::kOrgDomainAdded || k == Kind::kOrgDomainVerified ||
         k == Kind::kOrgDomainPrimarySet || k == Kind::kOrgDomainRemoved;
}

bool IsOrgKind(Kind k) {
  return k == Kind::kOrgPolicyAdded || k == Kind::kOrgPolicyChanged ||
         k == Kind::kOrgPolicyRemoved || k == Kind::kOrgAdded || k == Kind::kOrgRemoved ||
         IsOrgDomainKind(k);
}

DomainEvent DomainEventOf(Kind k) {
  switch (k) {
    case Kind::kOrgDomainVerified:
      return DomainEvent::kVerified;
    case Kind::kOrgDomainPrimarySet:
      return DomainEvent::kPrimarySet;
    case Kind::kOrgDomainRemoved:
    case Kind::kInstanceDomainRemoved:
      return DomainEvent::kRemoved;
    default:
      return DomainEvent::kAdded;
  }
}

PolicyFlags FlagsFromAdded(const PolicyPatch& p) {
  return {p.user_login_must_be_domain.value_or(false), p.validate_org_domains.value_or(false),
          p.smtp_sender_address_matches_instance_domain.value_or(false)};
}

void Patch(PolicyFlags& flags, const PolicyPatch& p) {
  if (p.user_login_must_be_domain) flags.user_login_must_be_domain = *p.user_login_must_be_domain;
  if (p.validate_org_domains) flags.validate_org_domains = *p.validate_org_domains;
  if (p.smtp_sender_address_matches_instance_domain) {
    flags.smtp_sender_address_matches_instance_domain =
        *p.smtp_sender_address_matches_instance_domain;
  }
}

// The row's resourceOwner, as the upstream's projection sets it: the aggregate's resource owner
// (the org id, or the instance id also on the legacy "iam"/"IAM" stream).
const std::string& OwnerOf(const Event& e) {
  return e.resource_owner.empty() ? e.aggregate_id : e.resource_owner;
}

PolicyRecord Added(const Event& e) {
  return {FlagsFromAdded(e.patch),
          Details{e.sequence, e.creation_date, e.creation_date, OwnerOf(e)}, StreamOf(e)};
}

// True when `row` already reflects `e`: its last change was an event of e's stream at or after
// e's sequence. Events of another stream are applied in the upstream's order. A row of unknown
// stream (read from the upstream's API) reflects `e` if e is neither newer by sequence nor by
// date: an event of a new stream is numbered from 1 but happened after the row's last change.
bool AlreadyApplied(const std::optional<PolicyRecord>& row, const Event& e) {
  if (!row) return false;
  if (row->stream.known()) return IsApplied(row->stream, row->details.sequence, e);
  return row->details.sequence >= e.sequence && !(row->details.change_date < e.creation_date);
}

ReduceOutcome ChangeRow(std::optional<PolicyRecord>& row, const Event& e) {
  if (!row || AlreadyApplied(row, e)) return ReduceOutcome::kNoEffect;
  Patch(row->flags, e.patch);
  row->details.sequence = e.sequence;
  row->details.change_date = e.creation_date;
  row->stream = StreamOf(e);
  return ReduceOutcome::kApplied;
}

ReduceOutcome ReduceInstance(Kind kind, const Event& e, WorkingSet& set) {
  if (kind == Kind::kInstanceRemoved) return ReduceOutcome::kResnapshot;
  if (kind == Kind::kInstanceDomainAdded || kind == Kind::kInstanceDomainRemoved) {
    const ReduceOutcome out = ReduceInstanceDomain(DomainEventOf(kind), e, set.instance_domains);
    if (out == ReduceOutcome::kApplied) set.instance_domains_touched = true;
    return out;
  }
  std::optional<PolicyRecord> row;
  if (set.instance) row = set.instance->policy;
  ReduceOutcome out = ReduceOutcome::kNoEffect;
  if (kind == Kind::kInstancePolicyAdded) {
    if (AlreadyApplied(row, e)) return ReduceOutcome::kNoEffect;
    row = Added(e);
    out = ReduceOutcome::kApplied;
  } else {
    out = ChangeRow(row, e);
  }
  if (out == ReduceOutcome::kApplied) {
    set.instance = InstanceRecord{OwnerOf(e), *row};
    set.instance_touched = true;
  }
  return out;
}

ReduceOutcome ReduceOrg(Kind kind, const Event& e, WorkingSet::Org& org) {
  if (IsOrgDomainKind(kind)) {
    const ReduceOutcome out = ReduceOrgDomain(DomainEventOf(kind), e, org.domains,
                                              org.domains_sequence, org.domains_stream);
    if (out != ReduceOutcome::kApplied) return out;
    org.domains_touched = true;
    if (!org.exists) {  // a domain can only be added to an existing org
      org.exists = true;
      org.touched = true;
    }
    return out;
  }
  switch (kind) {
    case Kind::kOrgAdded:
      if (org.exists) return ReduceOutcome::kNoEffect;
      org.exists = true;
      break;
    case Kind::kOrgRemoved:
      if (!org.exists && !org.policy && org.domains.empty()) return ReduceOutcome::kNoEffect;
      org.exists = false;
      org.policy.reset();
      org.kinds = KindRows{};  // its rows of every kind go with it
      // The domains go with the org (and with its row in the store).
      org.domains.clear();
      if (!IsApplied(org.domains_stream, org.domains_sequence, e)) {
        org.domains_sequence = e.sequence;
        org.domains_stream = StreamOf(e);
      }
      org.domains_touched = true;
      break;
    case Kind::kOrgPolicyAdded:
      if (AlreadyApplied(org.policy, e)) return ReduceOutcome::kNoEffect;
      org.policy = Added(e);
      org.exists = true;  // a policy can only be added to an existing org
      break;
    case Kind::kOrgPolicyChanged:
      if (ChangeRow(org.policy, e) == ReduceOutcome::kNoEffect) return ReduceOutcome::kNoEffect;
      break;
    case Kind::kOrgPolicyRemoved:
      if (!org.policy || AlreadyApplied(org.policy, e)) return ReduceOutcome::kNoEffect;
      org.policy.reset();
      break;
    default:
      return ReduceOutcome::kNoEffect;
  }
  org.touched = true;
  return ReduceOutcome::kApplied;
}

// An event of the other policy kinds: to the instance's rows or the org's.
ReduceOutcome ReduceKind(const Event& e, const KindEventType& t, WorkingSet& set) {
  if (t.instance) return ReduceKindEvent(e, t, set.asset_prefix, set.instance_kinds);
  auto it = set.orgs.find(e.aggregate_id);
  if (it == set.orgs.end()) it = set.orgs.emplace(e.aggregate_id, WorkingSet::Org{}).first;
  WorkingSet::Org& org = it->second;
  const ReduceOutcome out = ReduceKindEvent(e, t, set.asset_prefix, org.kinds);
  if (out == ReduceOutcome::kApplied && !org.exists) {  // only an existing org has policies
    org.exists = true;
    org.touched = true;
  }
  return out;
}

}  // namespace

void RaiseVersion(const Event& e, SourceVersion& version) {
  SourceVersion position{e.creation_date, StreamOf(e), e.sequence};
  if (CompareSourceVersion(position, version) == std::strong_ordering::greater) {
    version = std::move(position);
  }
}

bool ChangesKinds(const std::vector<const Event*>& events) {
  // org.removed: the org's IdPs leave the IdP table.
  return std::any_of(events.begin(), events.end(), [](const Event* e) {
    return ClassifyKindEvent(e->type).has_value() || ClassifyIdpEvent(e->type).has_value() ||
           KindOf(e->type) == Kind::kOrgRemoved;
  });
}

const std::vector<std::string>& SyncedEventTypes() {
  static const std::vector<std::string> kTypes = {
      "instance.policy.domain.added",
      "instance.policy.domain.changed",
      "org.policy.domain.added",
      "org.policy.domain.changed",
      "org.policy.domain.removed",
      "org.added",
      "org.removed",
      "instance.removed",
      "iam.policy.org.iam.added",
      "iam.policy.org.iam.changed",
      "org.iam.policy.added",
      "org.iam.policy.changed",
      "org.iam.policy.removed",
      "org.domain.added",
      "org.domain.verified",
      "org.domain.primary.set",
      "org.domain.removed",
      "instance.domain.added",
      "instance.domain.removed",
  };
  return kTypes;
}

const std::vector<std::string>& DomainEventTypes() {
  static const std::vector<std::string> kTypes = {
      "org.domain.added",   "org.domain.verified",   "org.domain.primary.set",
      "org.domain.removed", "instance.domain.added", "instance.domain.removed",
  };
  return kTypes;
}

const std::vector<std::string>& OrgPolicyEventTypes() {
  static const std::vector<std::string> kTypes = {
      "org.policy.domain.added",
      "org.policy.domain.changed",
      "org.policy.domain.removed",
      "org.iam.policy.added",
      "org.iam.policy.changed",
      "org.iam.policy.removed",
      "org.removed",
  };
  return kTypes;
}

std::vector<std::string> AggregateTypesOf(const std::vector<std::string>& event_types) {
  std::vector<std::string> out;
  for (const std::string& type : event_types) {
    std::string prefix = type.substr(0, type.find('.'));
    if (std::find(out.begin(), out.end(), prefix) == out.end()) out.push_back(std::move(prefix));
  }
  return out;
}

std::vector<std::string> OrgsNamedBy(const std::vector<const Event*>& events) {
  std::vector<std::string> ids;
  for (const Event* e : events) {
    const bool org_kind_event = [e] {
      const auto t = ClassifyKindEvent(e->type);
      const auto idp = ClassifyIdpEvent(e->type);
      return (t && !t->instance) || (idp && !idp->instance);
    }();
    if ((IsOrgKind(KindOf(e->type)) || org_kind_event) &&
        ValidateId("org id", e->aggregate_id).ok()) {
      ids.push_back(e->aggregate_id);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

bool ChangesDomains(const std::vector<const Event*>& events) {
  return std::any_of(events.begin(), events.end(), [](const Event* e) {
    const Kind k = KindOf(e->type);
    return IsOrgDomainKind(k) || k == Kind::kInstanceDomainAdded ||
           k == Kind::kInstanceDomainRemoved;
  });
}

EventStream StreamOf(const Event& e) { return {e.aggregate_type, e.aggregate_id}; }

bool IsApplied(const EventStream& stream, std::uint64_t sequence, const Event& e) {
  if (sequence < e.sequence) return false;
  return !stream.known() || (stream.type == e.aggregate_type && stream.id == e.aggregate_id);
}

ReduceOutcome Reduce(const Event& e, WorkingSet& set) {
  const Kind kind = KindOf(e.type);
  const std::optional<KindEventType> kind_event =
      kind == Kind::kOther ? ClassifyKindEvent(e.type) : std::nullopt;
  const std::optional<IdpEventType> idp_event =
      kind == Kind::kOther && !kind_event ? ClassifyIdpEvent(e.type) : std::nullopt;
  if (kind == Kind::kOther && !kind_event && !idp_event) return ReduceOutcome::kNoEffect;
  // Both name the stream the rows keep (store/codec.h bounds them like ids).
  if (!ValidateId("aggregate id", e.aggregate_id).ok() ||
      !ValidateId("aggregate type", e.aggregate_type).ok()) {
    return ReduceOutcome::kInvalid;
  }
  if (kind_event) return ReduceKind(e, *kind_event, set);
  if (idp_event) return ReduceIdpEvent(e, *idp_event, set);
  if (!IsOrgKind(kind)) {
    const ReduceOutcome out = ReduceInstance(kind, e, set);
    if (out == ReduceOutcome::kApplied) {
      RaiseVersion(e, set.instance_version);
      set.instance_version_touched = true;
    }
    return out;
  }
  auto it = set.orgs.find(e.aggregate_id);
  if (it == set.orgs.end()) it = set.orgs.emplace(e.aggregate_id, WorkingSet::Org{}).first;
  WorkingSet::Org& org = it->second;
  const ReduceOutcome out = ReduceOrg(kind, e, org);
  if (out == ReduceOutcome::kApplied) {
    RaiseVersion(e, org.version);
    org.version_touched = true;
  }
  if (kind == Kind::kOrgRemoved) (void)DropOrgIdps(e, e.aggregate_id, set);
  return out;
}

namespace {

// The touched rows of `rows` (of org `org_id`; empty: the instance) into `change`.
void AddKindRows(const std::string& org_id, const KindRows& rows, StoreChange& change) {
  for (std::size_t k = 0; k < kStoredKindCount; ++k) {
    if (!rows.touched[k]) continue;
    change.put_kind_rows.push_back(
        KindRowChange{static_cast<PolicyKind>(k), org_id, rows.rows[k], rows.versions[k]});
  }
}

}  // namespace

StoreChange ToStoreChange(const WorkingSet& set) {
  StoreChange change;
  AddKindRows("", set.instance_kinds, change);
  if (set.instance_touched && set.instance) change.instance = *set.instance;
  if (set.instance_domains_touched) change.instance_domains = set.instance_domains;
  if (set.instance_version_touched) change.instance_version = set.instance_version;
  for (const auto& [id, org] : set.orgs) {
    if (org.exists) {
      if (org.touched) change.put_orgs.push_back(OrgRecord{id, org.policy});
      if (org.domains_touched) {
        change.put_org_domains.push_back(
            OrgDomains{id, org.domains, org.domains_sequence, org.domains_stream});
      }

      if (org.version_touched) change.org_versions.emplace_back(id, org.version);
      AddKindRows(id, org.kinds, change);
    } else if (org.touched || org.domains_touched) {
      change.removed_orgs.push_back(id);
    }
  }
  return change;
}

}  // namespace policyd
