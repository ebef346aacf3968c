// The domain policy model: plain values shared by every module.
//
// A PolicyRecord is one row as the upstream IAM's projection keeps it (the instance default row or
// an org's own row). A DomainPolicy is the *effective* answer for an org after the
// default-versus-org fallback (see resolve/resolve.h): the record plus isDefault.
//
// Field meanings follow ../shared/upstream/zitadel-api.md §1.4 and §2. Timestamps are kept as
// seconds + nanos since the Unix epoch (UTC) so that they are compact in the store and formatted
// exactly as the upstream's protojson does (json/timestamp.h). A zero Timestamp means "absent".
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/timestamp.h"
#include "model/details.h"
#include "model/domains.h"
#include "model/event_stream.h"
#include "model/policy_kinds.h"
#include "model/source_version.h"

namespace policyd {

// The three switches of the domain policy (upstream JSON names in comments).
struct PolicyFlags {
  bool user_login_must_be_domain = false;  // userLoginMustBeDomain
  bool validate_org_domains = false;       // validateOrgDomains
  bool smtp_sender_address_matches_instance_domain =
      false;  // smtpSenderAddressMatchesInstanceDomain

  friend bool operator==(const PolicyFlags&, const PolicyFlags&) = default;
};

// One stored policy row (instance default or an org's own policy).
struct PolicyRecord {
  PolicyFlags flags;
  Details details;
  // The stream of the event that last changed the row (details.sequence counts in it); unknown
  // when the row came from a snapshot file or the upstream's policy API.
  EventStream stream{};

  friend bool operator==(const PolicyRecord&, const PolicyRecord&) = default;
};

// The effective policy for an org, as the upstream's GET .../policies/domain returns it.
struct DomainPolicy {
  PolicyFlags flags;
  bool is_default = false;  // true: the org has no own policy and inherits the instance default
  Details details;

  friend bool operator==(const DomainPolicy&, const DomainPolicy&) = default;
};

// The instance default and the id of the instance it belongs to.
struct InstanceRecord {
  std::string id;
  PolicyRecord policy;

  friend bool operator==(const InstanceRecord&, const InstanceRecord&) = default;
};

// An org the store knows about, with its own policy if it has one.
struct OrgRecord {
  std::string id;
  std::optional<PolicyRecord> policy;  // nullopt: the org uses the instance default

  friend bool operator==(const OrgRecord&, const OrgRecord&) = default;
};

// A complete state: what a snapshot file holds and what a cold start builds.
struct Snapshot {
  InstanceRecord instance;
  std::vector<OrgRecord> orgs;  // ids unique
  // Domains (model/domains.h), apart from `orgs` so that org rows stay small. Each org id at most
  // once and one of `orgs`; an org that is absent has no domains.
  std::vector<OrgDomains> org_domains{};
  InstanceDomains instance_domains{};
  // Entry versions (model/source_version.h): every entry's is `version`, except where
  // `org_versions` (empty, or one per element of `orgs`, in the same order) or
  // `instance_version` says otherwise.
  SourceVersion version{};
  std::vector<SourceVersion> org_versions{};
  std::optional<SourceVersion> instance_version{};
  // The rows of the other policy kinds (model/policy_kinds.h): each kind's instance default and
  // the orgs' own rows, each (kind, org) at most once, every org one of `orgs`. A kind without a
  // default here has none (lookups of it answer UNAVAILABLE until one is synced).
  std::vector<KindRow> kind_rows{};

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

// The newest change date of any policy row of `snapshot` (zero if none has one): the version of
// a snapshot file's entries, which carry no event positions.
Timestamp NewestChangeDate(const Snapshot& snapshot);

}  // namespace policyd
