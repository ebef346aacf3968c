// UpstreamState: the fake upstream's truth. The instance with its default policy row and domains,
// the orgs with their domains and own policy rows, the identity providers and the login
// policies' links to them (kept like ZITADEL's projections), and the append-only event log that
// every mutation extends by one push.
//
// Row details follow the projection: sequence = sequence of the last event applied to the row,
// creationDate = when the row was added, changeDate = creationDate of that last event,
// resourceOwner = org id (instance id for the default row).
//
// Not thread-safe: FakeUpstreamImpl guards it with a mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/policy_kinds.h"
#include "model/domain_policy.h"

namespace policyd::testing_support {

struct StoredEvent {
  std::uint64_t position = 0;  // global commit order, 1-based: what ListEvents orders by
  std::string type;
  std::string aggregate_type;
  std::string aggregate_id;
  std::string resource_owner;
  std::uint64_t sequence = 0;          // per aggregate
  Timestamp creation_date;             // shared by all events of one push
  std::optional<std::string> payload;  // compact JSON object, sorted keys; nullopt: no data
};

struct FakeOrgDomain {
  std::string name;
  bool verified = false;
  // DomainValidationType name: "" (UNSPECIFIED: generated, or verified on adding because the
  // org's policy does not validate domains) or "DOMAIN_VALIDATION_TYPE_DNS" (verified through
  // VerifyOrgDomain, which stands for the DNS challenge).
  std::string validation_type{};
  Details details{};  // the org_domains projection row (resourceOwner = org id)
};

// The rows of the other policy kinds (policy_kinds.h) of one owner, org or instance.
struct KindRows {
  std::map<KindId, KindRow> rows;  // every kind but label
  std::optional<KindRow> label_preview;
  std::optional<KindRow> label_active;
};

struct FakeOrg {
  std::string id;
  std::string name;
  bool active = true;
  std::vector<FakeOrgDomain> domains;
  std::string primary_domain;
  Details details;  // the org projection row (resourceOwner = id)
  std::optional<PolicyRecord> policy;
  KindRows kinds;  // the org's own rows
};

// An identity provider: a row of ZITADEL's idp_templates projection (old-style configs too).
struct FakeIdp {
  std::string id;
  std::string org_id;  // the owner; "" for the instance
  std::string name;
  std::int64_t type = 0;        // domain.IDPType
  std::optional<IdpKind> kind;  // a template's kind; nullopt: an old-style IdP config
  bool active = true;           // configs: deactivated / reactivated (no effect on links)
};

class UpstreamState {
 public:
  // Pushes the instance setup (instance.added, instance.policy.domain.added,
  // instance.domain.added).
  explicit UpstreamState(const FakeUpstreamOptions& options);

  // --- Clock ---
  Timestamp Now() const;
  void AdvanceClock(std::chrono::nanoseconds by) { offset_ += by; }
  void BeginSharedTimestamp() { ++shared_depth_; }
  void EndSharedTimestamp();

  // --- Mutations (see FakeUpstream) ---
  Result<std::string> AddOrg(std::string_view name);
  Status ChangeOrg(std::string_view org_id, std::string_view name);
  Status SetOrgActive(std::string_view org_id, bool active);
  Status RemoveOrg(std::string_view org_id);
  Status AddOrgPolicy(std::string_view org_id, const PolicyFlags& flags);
  Status ChangeOrgPolicy(std::string_view org_id, const PolicyFlags& flags);
  Status RemoveOrgPolicy(std::string_view org_id);
  Status ChangeDefaultPolicy(const PolicyFlags& flags);
  Status AddOrgDomain(std::string_view org_id, std::string_view domain);
  Status VerifyOrgDomain(std::string_view org_id, std::string_view domain);
  Status SetPrimaryOrgDomain(std::string_view org_id, std::string_view domain);
  Status RemoveOrgDomain(std::string_view org_id, std::string_view domain);
  Status AddInstanceDomain(std::string_view domain);
  Status RemoveInstanceDomain(std::string_view domain);
  Status PushRawEvent(const RawEvent& event);
  Status ApplyLegacyPolicyEvent(LegacyPolicyEvent kind, std::string_view org_id, bool value);
  void SetInstanceAggregateId(std::string_view aggregate_id) {
    instance_aggregate_id_ = aggregate_id;
  }

  // --- Policy kinds (upstream_kinds.cc). `org_id` empty: the instance's default rows ---
  Status AddOrgKindPolicy(const KindSpec& kind, std::string_view org_id, const KindFields& fields);
  Status ChangeKindPolicy(const KindSpec& kind, std::string_view org_id, const KindFields& fields);
  Status RemoveOrgKindPolicy(const KindSpec& kind, std::string_view org_id);
  Status ChangeLoginFactor(std::string_view org_id, LoginFactor list, std::int64_t factor,
                           bool add);
  Status ActivateLabel(std::string_view org_id);
  // Returns the store key of the added asset (or of the removed one).
  Result<std::string> ChangeLabelAsset(std::string_view org_id, LabelAsset asset, bool add);
  // The row a GET shows: the org's own (label: its active row), else the instance's with
  // is_default; with an empty `org_id` the instance's. nullptr: none.
  const KindRow* EffectiveKindRow(const KindSpec& kind, std::string_view org_id) const;
  // PreviewLabelPolicyByOrg: the org's preview label row, else the instance's (nullptr: none).
  const KindRow* EffectivePreviewLabelRow(std::string_view org_id) const;
  // The org's own row (label: its preview row); nullptr: none.
  const KindRow* OwnKindRow(const KindSpec& kind, std::string_view org_id) const;

  // --- Identity providers and login policy links (upstream_idps.cc; see FakeUpstream) ---
  Result<std::string> AddIdp(std::string_view org_id, IdpKind kind, std::string_view name);
  Result<std::string> AddIdpConfig(std::string_view org_id, IdpConfigKind kind,
                                   std::string_view name);
  Status ChangeIdp(std::string_view idp_id, std::optional<std::string_view> name);
  Status MigrateIdp(std::string_view idp_id, IdpKind to, std::string_view name);
  Status SetIdpConfigActive(std::string_view idp_id, bool active);
  Status RemoveIdp(std::string_view idp_id);
  // AddIdpToLoginPolicy (`add`) or RemoveIdpFromLoginPolicy.
  Status LinkIdp(std::string_view org_id, std::string_view idp_id, bool add);
  const std::map<std::string, FakeIdp, std::less<>>& idps() const { return idps_; }
  // The login row's links as GETs show them (names and types of the IdPs now).
  std::vector<IdpLinkView> IdpLinkViews(const KindRow& row) const;
  // The links of the login policy a GET for `org_id` shows (its own, else the instance's).
  std::vector<IdpLinkView> EffectiveIdpLinks(std::string_view org_id) const;

  // --- Reads ---
  const std::string& instance_id() const { return instance_id_; }
  const PolicyRecord& default_policy() const { return default_policy_; }
  const std::map<std::string, FakeOrg, std::less<>>& orgs() const { return orgs_; }
  const FakeOrg* FindOrg(std::string_view org_id) const;  // nullptr: unknown or removed
  const std::vector<StoredEvent>& events() const { return events_; }
  const std::vector<std::string>& instance_domains() const { return instance_domains_; }
  // The instance_domains projection row of `domain` (resourceOwner = instance id); the first
  // domain is the generated one and the primary (the fake has no SetPrimaryInstanceDomain).
  Details InstanceDomainDetails(std::string_view domain) const;
  // ZITADEL's DomainPolicyByOrg: the org's own row, else the default with isDefault (the org id
  // is not validated).
  DomainPolicy EffectivePolicy(std::string_view org_id) const;
  const std::string& editor_user_id() const { return editor_user_id_; }
  const std::string& editor_display_name() const { return editor_display_name_; }

 private:
  struct NewEvent {
    std::string type;
    std::string aggregate_type;
    std::string aggregate_id;
    std::string resource_owner;
    std::optional<std::string> payload;
  };

  // Appends `events` as one push; returns the last appended event (valid until the next push).
  const StoredEvent& Push(std::vector<NewEvent> events);
  Timestamp NextPushTime();
  NewEvent OrgEvent(const FakeOrg& org, std::string type,
                    std::optional<std::string> payload = std::nullopt) const;
  // An event of the instance's current stream ("instance", instance_aggregate_id_ or the id).
  NewEvent InstanceEvent(std::string type, std::optional<std::string> payload = std::nullopt) const;
  // An event of the v1 instance stream ("iam", "IAM").
  NewEvent LegacyInstanceEvent(std::string type, std::optional<std::string> payload) const;
  Result<FakeOrg*> MutableOrg(std::string_view org_id);
  bool DomainTaken(std::string_view domain) const;
  std::string GeneratedDomain(std::string_view org_name) const;
  // Pushes `type` with `payload` on the org aggregate and applies `patch` to the org's row
  // (adding it if `add`, removing it if `remove`).
  Status PushOrgPolicyEvent(FakeOrg& org, std::string type, std::optional<std::string> payload,
                            const PolicyFlags& new_flags, bool add, bool remove);
  Status PushDefaultPolicyEvent(NewEvent event, const PolicyFlags& new_flags, bool reset_creation);
  // The instance setup events of every other kind, with ZITADEL v4's defaults, and the rows they
  // make once pushed (first = index of the first of them in events_).
  std::vector<NewEvent> KindSetupEvents() const;
  void ApplyKindSetup(std::size_t first);
  // The owner's rows and the event factory for them; NOT_FOUND for an unknown org.
  Result<KindRows*> MutableKindRows(std::string_view org_id);
  NewEvent KindEvent(std::string_view org_id, std::string type,
                     std::optional<std::string> payload = std::nullopt) const;
  // An event with the full `type` on the owner's aggregate (org, or the instance for "").
  NewEvent OwnerEvent(std::string_view org_id, std::string type, std::string payload) const;
  // AddOrgKindPolicy's login links: each requested IdP must be the instance's or the org's.
  Status CheckRequestedIdps(std::string_view org_id,
                            const std::vector<RequestedIdpLink>& idps) const;
  // The payload of <...>.policy.login.idpprovider.added for an `org_id` ("": the instance).
  std::string IdpProviderAddedPayload(std::string_view org_id, const FakeIdp& idp) const;
  // Drops `idp_id` from the login links of the instance and every org (`org_id` empty) or of
  // that org only.
  void DropIdpLinks(std::string_view org_id, std::string_view idp_id);
  Result<FakeIdp*> MutableIdp(std::string_view idp_id);

  std::string instance_id_;
  std::string instance_aggregate_id_;  // empty: instance_id_
  std::string instance_name_;
  std::vector<std::string> instance_domains_;
  std::map<std::string, Details, std::less<>> instance_domain_details_;
  std::string editor_user_id_;
  std::string editor_display_name_;
  PolicyRecord default_policy_;
  KindRows default_kinds_;
  std::map<std::string, FakeOrg, std::less<>> orgs_;
  std::map<std::string, FakeIdp, std::less<>> idps_;
  std::uint64_t idp_changes_ = 0;  // makes each nameless IdP change's value new
  std::vector<StoredEvent> events_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> sequences_;  // (type, id) -> last
  std::uint64_t next_id_ = 0;
  std::uint64_t next_asset_id_ = 320'000'000'000'000'000;  // label asset store keys

  // Fake clock = (frozen_ ? frozen_at_ : wall clock) + offset_.
  bool frozen_ = false;
  std::chrono::nanoseconds frozen_at_{0};
  std::chrono::nanoseconds offset_{0};
  std::int64_t last_push_micros_ = 0;
  int shared_depth_ = 0;
  std::optional<std::int64_t> shared_micros_;
};

// Payload of an "...added" policy event: the true keys only, sorted ("{}" when all are false).
std::string AddedPolicyPayload(const PolicyFlags& flags);
// Payload of a "...changed" policy event: the keys whose value differs, with the new value;
// nullopt when nothing changed.
std::optional<std::string> ChangedPolicyPayload(const PolicyFlags& before,
                                                const PolicyFlags& after);

}  // namespace policyd::testing_support
