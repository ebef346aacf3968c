#include "fake_upstream/upstream_state.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

#include "json/policy_json.h"

namespace policyd::testing_support {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;

Timestamp FromMicros(std::int64_t micros) {
  return {micros / kMicrosPerSecond, static_cast<std::int32_t>(micros % kMicrosPerSecond * 1000)};
}

std::int64_t ToMicros(Timestamp t) { return t.seconds * kMicrosPerSecond + t.nanos / 1000; }

// {"<key>":"<value>"} with the value escaped like protojson.
std::string StringPayload(std::string_view key, std::string_view value) {
  std::string out = "{";
  AppendJsonString(out, key);
  out += ':';
  AppendJsonString(out, value);
  out += '}';
  return out;
}

// Appends "key":bool to a payload under construction (keys must come in sorted order).
void AppendBool(std::string& out, std::string_view key, bool value) {
  if (out.size() > 1) out += ',';
  out += '"';
  out += key;
  out += "\":";
  out += value ? "true" : "false";
}

// ZITADEL's NewIAMDomainName: lower case, runs of other characters become one '-'.
std::string Slug(std::string_view name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "org" : out;
}

Status NotFoundOrg() { return Status::NotFound("Errors.Org.NotFound (COMMAND-ZxM0c)"); }

// Records `e` as the last event applied to the domain's projection row (`added`: it made the row).
void TouchDomain(FakeOrgDomain& domain, const StoredEvent& e, std::string_view org_id, bool added) {
  domain.details.sequence = e.sequence;
  domain.details.change_date = e.creation_date;
  if (added) domain.details.creation_date = e.creation_date;
  domain.details.resource_owner = std::string(org_id);
}

}  // namespace

std::string AddedPolicyPayload(const PolicyFlags& flags) {
  std::string out = "{";
  if (flags.smtp_sender_address_matches_instance_domain) {
    AppendBool(out, "smtpSenderAddressMatchesInstanceDomain", true);
  }
  if (flags.user_login_must_be_domain) AppendBool(out, "userLoginMustBeDomain", true);
  if (flags.validate_org_domains) AppendBool(out, "validateOrgDomains", true);
  return out + "}";
}

std::optional<std::string> ChangedPolicyPayload(const PolicyFlags& before,
                                                const PolicyFlags& after) {
  if (before == after) return std::nullopt;
  std::string out = "{";
  if (before.smtp_sender_address_matches_instance_domain !=
      after.smtp_sender_address_matches_instance_domain) {
    AppendBool(out, "smtpSenderAddressMatchesInstanceDomain",
               after.smtp_sender_address_matches_instance_domain);
  }
  if (before.user_login_must_be_domain != after.user_login_must_be_domain) {
    AppendBool(out, "userLoginMustBeDomain", after.user_login_must_be_domain);
  }
  if (before.validate_org_domains != after.validate_org_domains) {
    AppendBool(out, "validateOrgDomains", after.validate_org_domains);
  }
  return out + "}";
}

UpstreamState::UpstreamState(const FakeUpstreamOptions& options)
    : instance_id_(options.instance_id),
      instance_name_(options.instance_name),
      editor_user_id_(options.editor_user_id),
      editor_display_name_(options.editor_display_name),
      next_id_(310'000'000'000'000'000) {
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const auto base = options.base_time.IsZero()
                        ? wall
                        : std::chrono::seconds(options.base_time.seconds) +
                              std::chrono::nanoseconds(options.base_time.nanos);
  frozen_ = options.freeze_clock;
  frozen_at_ = base;
  if (!frozen_) offset_ = base - wall;
  std::string domain_payload = "{";
  AppendJsonString(domain_payload, "domain");
  domain_payload += ':';
  AppendJsonString(domain_payload, options.instance_domain);
  domain_payload += ",\"generated\":true}";
  std::vector<NewEvent> setup = {
      InstanceEvent("instance.added", StringPayload("name", instance_name_)),
      InstanceEvent("instance.policy.domain.added", AddedPolicyPayload(options.default_policy)),
      InstanceEvent("instance.domain.added", std::move(domain_payload))};
  if (options.all_policy_kinds) {
    for (NewEvent& e : KindSetupEvents()) setup.push_back(std::move(e));
  }
  Push(std::move(setup));
  // The domain policy row was added by the second event of the push, the domain by the third.
  const StoredEvent& policy_event = events_[1];
  default_policy_.flags = options.default_policy;
  default_policy_.details = {policy_event.sequence, policy_event.creation_date,
                             policy_event.creation_date, instance_id_};
  instance_domains_.push_back(options.instance_domain);
  const StoredEvent& domain_event = events_[2];
  if (options.all_policy_kinds) ApplyKindSetup(3);
  instance_domain_details_[options.instance_domain] = {
      domain_event.sequence, domain_event.creation_date, domain_event.creation_date, instance_id_};
}

Timestamp UpstreamState::Now() const {
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const auto ns = ((frozen_ ? frozen_at_ : wall) + offset_).count();
  return {ns / 1'000'000'000, static_cast<std::int32_t>(ns % 1'000'000'000)};
}

void UpstreamState::EndSharedTimestamp() {
  if (shared_depth_ > 0 && --shared_depth_ == 0) shared_micros_.reset();
}

Timestamp UpstreamState::NextPushTime() {
  if (shared_depth_ > 0 && shared_micros_) return FromMicros(*shared_micros_);
  // Postgres keeps microseconds; pushes must be strictly ordered in time.
  const std::int64_t micros = std::max(ToMicros(Now()), last_push_micros_ + 1);
  last_push_micros_ = micros;
  if (shared_depth_ > 0) shared_micros_ = micros;
  return FromMicros(micros);
}

const StoredEvent& UpstreamState::Push(std::vector<NewEvent> events) {
  const Timestamp when = NextPushTime();
  for (NewEvent& e : events) {
    StoredEvent stored;
    stored.position = events_.size() + 1;
    stored.sequence = ++sequences_[{e.aggregate_type, e.aggregate_id}];
    stored.type = std::move(e.type);
    stored.aggregate_type = std::move(e.aggregate_type);
    stored.aggregate_id = std::move(e.aggregate_id);
    stored.resource_owner = std::move(e.resource_owner);
    stored.creation_date = when;
    stored.payload = std::move(e.payload);
    events_.push_back(std::move(stored));
  }
  return events_.back();
}

UpstreamState::NewEvent UpstreamState::OrgEvent(const FakeOrg& org, std::string type,
                                                std::optional<std::string> payload) const {
  return {std::move(type), "org", org.id, org.id, std::move(payload)};
}

UpstreamState::NewEvent UpstreamState::InstanceEvent(std::string type,
                                                     std::optional<std::string> payload) const {
  return {std::move(type), "instance",
          instance_aggregate_id_.empty() ? instance_id_ : instance_aggregate_id_, instance_id_,
          std::move(payload)};
}

UpstreamState::NewEvent UpstreamState::LegacyInstanceEvent(
    std::string type, std::optional<std::string> payload) const {
  return {std::move(type), std::string(kLegacyInstanceAggregateType),
          std::string(kLegacyInstanceAggregateId), instance_id_, std::move(payload)};
}

const FakeOrg* UpstreamState::FindOrg(std::string_view org_id) const {
  const auto it = orgs_.find(org_id);
  return it == orgs_.end() ? nullptr : &it->second;
}

Details UpstreamState::InstanceDomainDetails(std::string_view domain) const {
  const auto it = instance_domain_details_.find(domain);
  return it == instance_domain_details_.end() ? Details{} : it->second;
}

Result<FakeOrg*> UpstreamState::MutableOrg(std::string_view org_id) {
  const auto it = orgs_.find(org_id);
  if (it == orgs_.end()) return Err(NotFoundOrg());
  return &it->second;
}

DomainPolicy UpstreamState::EffectivePolicy(std::string_view org_id) const {
  const FakeOrg* org = FindOrg(org_id);
  if (org != nullptr && org->policy) return {org->policy->flags, false, org->policy->details};
  return {default_policy_.flags, true, default_policy_.details};
}

bool UpstreamState::DomainTaken(std::string_view domain) const {
  for (const auto& [id, org] : orgs_) {
    for (const FakeOrgDomain& d : org.domains) {
      if (d.name == domain && d.verified) return true;
    }
  }
  return std::find(instance_domains_.begin(), instance_domains_.end(), domain) !=
         instance_domains_.end();
}

std::string UpstreamState::GeneratedDomain(std::string_view org_name) const {
  return Slug(org_name) + "." + instance_domains_.front();
}

Result<std::string> UpstreamState::AddOrg(std::string_view name) {
  if (name.empty()) return Err(Status::InvalidArgument("Errors.Org.Invalid (ORG-mruNY)"));
  for (const auto& [id, org] : orgs_) {
    if (org.name == name)
      return Err({Code::kAlreadyExists, "Errors.Org.AlreadyExists (ORG-2n9f1)"});
  }
  const std::string domain = GeneratedDomain(name);
  if (DomainTaken(domain)) {
    return Err({Code::kAlreadyExists, "Errors.Org.DomainAlreadyExists (ORG-i2nl3)"});
  }
  FakeOrg org;
  org.id = std::to_string(++next_id_);
  org.name = std::string(name);
  const StoredEvent& last =
      Push({OrgEvent(org, "org.added", StringPayload("name", name)),
            OrgEvent(org, "org.domain.added", StringPayload("domain", domain)),
            OrgEvent(org, "org.domain.verified", StringPayload("domain", domain)),
            OrgEvent(org, "org.domain.primary.set", StringPayload("domain", domain))});
  org.domains.push_back({domain, true});
  TouchDomain(org.domains.back(), last, org.id, true);
  org.primary_domain = domain;
  org.details = {last.sequence, last.creation_date, last.creation_date, org.id};
  std::string id = org.id;
  orgs_.emplace(id, std::move(org));
  return id;
}

Status UpstreamState::ChangeOrg(std::string_view org_id, std::string_view name) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  FakeOrg& o = **org;
  if (name.empty()) return Status::InvalidArgument("Errors.Org.Invalid (ORG-mruNY)");
  if (o.name == name) return Status::FailedPrecondition("Errors.Org.NotChanged (ORG-4VSdf)");
  const std::string old_domain = GeneratedDomain(o.name);
  const std::string new_domain = GeneratedDomain(name);
  std::vector<NewEvent> events = {OrgEvent(o, "org.changed", StringPayload("name", name))};
  const bool move_domain = o.primary_domain == old_domain && old_domain != new_domain;
  if (move_domain) {
    if (DomainTaken(new_domain)) {
      return {Code::kAlreadyExists, "Errors.Org.DomainAlreadyExists (ORG-i2nl3)"};
    }
    events.push_back(OrgEvent(o, "org.domain.added", StringPayload("domain", new_domain)));
    events.push_back(OrgEvent(o, "org.domain.verified", StringPayload("domain", new_domain)));
    events.push_back(OrgEvent(o, "org.domain.primary.set", StringPayload("domain", new_domain)));
    events.push_back(OrgEvent(o, "org.domain.removed", StringPayload("domain", old_domain)));
  }
  const StoredEvent& last = Push(std::move(events));
  o.name = std::string(name);
  if (move_domain) {
    std::erase_if(o.domains, [&](const FakeOrgDomain& d) { return d.name == old_domain; });
    o.domains.push_back({new_domain, true});
    TouchDomain(o.domains.back(), events_[events_.size() - 2], o.id, true);  // its primary.set
    o.primary_domain = new_domain;
  }
  o.details.sequence = last.sequence;
  o.details.change_date = last.creation_date;
  return Status::Ok();
}

Status UpstreamState::SetOrgActive(std::string_view org_id, bool active) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  FakeOrg& o = **org;
  if (o.active == active) {
    return Status::FailedPrecondition(active ? "Errors.Org.AlreadyActive (EVENT-bxDt2)"
                                             : "Errors.Org.AlreadyDeactivated (EVENT-Dbs2g)");
  }
  const StoredEvent& last = Push({OrgEvent(o, active ? "org.reactivated" : "org.deactivated")});
  o.active = active;
  o.details.sequence = last.sequence;
  o.details.change_date = last.creation_date;
  return Status::Ok();
}

Status UpstreamState::RemoveOrg(std::string_view org_id) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  Push({OrgEvent(**org, "org.removed")});
  orgs_.erase(orgs_.find(org_id));  // its rows, the login policy's links with them
  std::erase_if(idps_, [&](const auto& idp) { return idp.second.org_id == org_id; });
  return Status::Ok();
}

Status UpstreamState::PushOrgPolicyEvent(FakeOrg& org, std::string type,
                                         std::optional<std::string> payload,
                                         const PolicyFlags& new_flags, bool add, bool remove) {
  const StoredEvent& e = Push({OrgEvent(org, std::move(type), std::move(payload))});
  if (remove) {
    org.policy.reset();
  } else if (add) {
    org.policy = PolicyRecord{new_flags, {e.sequence, e.creation_date, e.creation_date, org.id}};
  } else {
    org.policy->flags = new_flags;
    org.policy->details.sequence = e.sequence;
    org.policy->details.change_date = e.creation_date;
  }
  return Status::Ok();
}

Status UpstreamState::AddOrgPolicy(std::string_view org_id, const PolicyFlags& flags) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  if ((*org)->policy) {
    return {Code::kAlreadyExists, "Errors.Org.DomainPolicy.AlreadyExists (ORG-1M8ds)"};
  }
  return PushOrgPolicyEvent(**org, "org.policy.domain.added", AddedPolicyPayload(flags), flags,
                            true, false);
}

Status UpstreamState::ChangeOrgPolicy(std::string_view org_id, const PolicyFlags& flags) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  if (!(*org)->policy) return Status::NotFound("Errors.Org.DomainPolicy.NotFound (ORG-2N9sd)");
  auto payload = ChangedPolicyPayload((*org)->policy->flags, flags);
  if (!payload) {
    return Status::FailedPrecondition("Errors.Org.LabelPolicy.NotChanged (ORG-3M9ds)");
  }
  return PushOrgPolicyEvent(**org, "org.policy.domain.changed", std::move(payload), flags, false,
                            false);
}

Status UpstreamState::RemoveOrgPolicy(std::string_view org_id) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  if (!(*org)->policy) return Status::NotFound("Errors.Org.DomainPolicy.NotFound (ORG-Dvsh3)");
  return PushOrgPolicyEvent(**org, "org.policy.domain.removed", std::nullopt, {}, false, true);
}

Status UpstreamState::PushDefaultPolicyEvent(NewEvent event, const PolicyFlags& new_flags,
                                             bool reset_creation) {
  const StoredEvent& e = Push({std::move(event)});
  default_policy_.flags = new_flags;
  default_policy_.details.sequence = e.sequence;
  default_policy_.details.change_date = e.creation_date;
  if (reset_creation) default_policy_.details.creation_date = e.creation_date;
  return Status::Ok();
}

Status UpstreamState::ChangeDefaultPolicy(const PolicyFlags& flags) {
  auto payload = ChangedPolicyPayload(default_policy_.flags, flags);
  if (!payload) {
    return Status::FailedPrecondition("Errors.IAM.DomainPolicy.NotChanged (INSTANCE-pl9fN)");
  }
  return PushDefaultPolicyEvent(InstanceEvent("instance.policy.domain.changed", std::move(payload)),
                                flags, false);
}

Status UpstreamState::AddOrgDomain(std::string_view org_id, std::string_view domain) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  FakeOrg& o = **org;
  if (domain.empty()) return Status::InvalidArgument("Errors.Org.InvalidDomain (ORG-R24hb)");
  const bool own = std::any_of(o.domains.begin(), o.domains.end(),
                               [&](const FakeOrgDomain& d) { return d.name == domain; });
  if (own || DomainTaken(domain)) {
    return {Code::kAlreadyExists, "Errors.Org.DomainAlreadyExists (ORG-i2nl3)"};
  }
  const bool verify = !EffectivePolicy(org_id).flags.validate_org_domains;
  std::vector<NewEvent> events = {OrgEvent(o, "org.domain.added", StringPayload("domain", domain))};
  if (verify) events.push_back(OrgEvent(o, "org.domain.verified", StringPayload("domain", domain)));
  const StoredEvent& last = Push(std::move(events));
  o.domains.push_back({std::string(domain), verify});
  TouchDomain(o.domains.back(), last, o.id, true);
  return Status::Ok();
}

Status UpstreamState::VerifyOrgDomain(std::string_view org_id, std::string_view domain) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  FakeOrg& o = **org;
  const auto it = std::find_if(o.domains.begin(), o.domains.end(),
                               [&](const FakeOrgDomain& d) { return d.name == domain; });
  if (it == o.domains.end()) return Status::NotFound("Errors.Org.DomainNotOnOrg (ORG-Sjdi3)");
  if (it->verified) {
    return Status::FailedPrecondition("Errors.Org.DomainAlreadyVerified (ORG-yGs9p)");
  }
  if (DomainTaken(domain)) {
    return {Code::kAlreadyExists, "Errors.Org.DomainAlreadyExists (ORG-i2nl3)"};
  }
  const StoredEvent& e =
      Push({OrgEvent(o, "org.domain.verified", StringPayload("domain", domain))});
  it->verified = true;
  it->validation_type = "DOMAIN_VALIDATION_TYPE_DNS";
  TouchDomain(*it, e, o.id, false);
  return Status::Ok();
}

Status UpstreamState::SetPrimaryOrgDomain(std::string_view org_id, std::string_view domain) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  FakeOrg& o = **org;
  const auto it = std::find_if(o.domains.begin(), o.domains.end(),
                               [&](const FakeOrgDomain& d) { return d.name == domain; });
  if (it == o.domains.end()) return Status::NotFound("Errors.Org.DomainNotOnOrg (ORG-Sjdi3)");
  if (!it->verified) return Status::FailedPrecondition("Errors.Org.DomainNotVerified (ORG-Ggd32)");
  const StoredEvent& e =
      Push({OrgEvent(o, "org.domain.primary.set", StringPayload("domain", domain))});
  for (FakeOrgDomain& d : o.domains) {
    if (d.name == o.primary_domain || d.name == domain) TouchDomain(d, e, o.id, false);
  }
  o.primary_domain = std::string(domain);
  o.details.sequence = e.sequence;
  o.details.change_date = e.creation_date;
  return Status::Ok();
}

Status UpstreamState::RemoveOrgDomain(std::string_view org_id, std::string_view domain) {
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  FakeOrg& o = **org;
  const auto it = std::find_if(o.domains.begin(), o.domains.end(),
                               [&](const FakeOrgDomain& d) { return d.name == domain; });
  if (it == o.domains.end()) return Status::NotFound("Errors.Org.DomainNotOnOrg (ORG-Sjdi3)");
  if (o.primary_domain == domain) {
    return Status::FailedPrecondition("Errors.Org.PrimaryDomainNotDeletable (ORG-Sjdi3)");
  }
  Push({OrgEvent(o, "org.domain.removed", StringPayload("domain", domain))});
  o.domains.erase(it);
  return Status::Ok();
}

Status UpstreamState::AddInstanceDomain(std::string_view domain) {
  if (domain.empty()) return Status::InvalidArgument("Errors.Instance.Domain.Invalid (INST-28nlD)");
  if (DomainTaken(domain)) {
    return {Code::kAlreadyExists, "Errors.Instance.Domain.AlreadyExists (INSTANCE-3m9sD)"};
  }
  const StoredEvent& e =
      Push({InstanceEvent("instance.domain.added", StringPayload("domain", domain))});
  instance_domains_.emplace_back(domain);
  instance_domain_details_[std::string(domain)] = {e.sequence, e.creation_date, e.creation_date,
                                                   instance_id_};
  return Status::Ok();
}

Status UpstreamState::RemoveInstanceDomain(std::string_view domain) {
  const auto it = std::find(instance_domains_.begin(), instance_domains_.end(), domain);
  if (it == instance_domains_.end()) {
    return Status::NotFound("Errors.Instance.Domain.NotFound (INSTANCE-8ls9f)");
  }
  // The generated domain, which org domains are made from, cannot be removed.
  if (it == instance_domains_.begin()) {
    return Status::FailedPrecondition(
        "Errors.Instance.Domain.GeneratedNotRemovable (INSTANCE-9hn3J)");
  }
  Push({InstanceEvent("instance.domain.removed", StringPayload("domain", domain))});
  instance_domain_details_.erase(*it);
  instance_domains_.erase(it);
  return Status::Ok();
}

Status UpstreamState::PushRawEvent(const RawEvent& event) {
  if (event.type.empty() || event.aggregate_type.empty()) {
    return Status::InvalidArgument("raw event needs a type and an aggregate type");
  }
  NewEvent e{event.type, event.aggregate_type, event.aggregate_id, event.resource_owner, {}};
  if (e.aggregate_id.empty()) e.aggregate_id = instance_id_;
  if (e.resource_owner.empty())
    e.resource_owner = e.aggregate_type == "org" ? e.aggregate_id : instance_id_;
  if (event.payload) {
    // Normalised like the real API: compact, keys sorted (protojson sorts Struct keys).
    const auto parsed = nlohmann::json::parse(*event.payload, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return Status::InvalidArgument("raw event payload is not a JSON object");
    }
    e.payload = parsed.dump();
  }
  Push({std::move(e)});
  return Status::Ok();
}

Status UpstreamState::ApplyLegacyPolicyEvent(LegacyPolicyEvent kind, std::string_view org_id,
                                             bool value) {
  std::string payload = "{";
  if (value) AppendBool(payload, "userLoginMustBeDomain", true);
  payload += '}';
  if (kind == LegacyPolicyEvent::kInstanceAdded || kind == LegacyPolicyEvent::kInstanceChanged) {
    PolicyFlags flags =
        kind == LegacyPolicyEvent::kInstanceAdded ? PolicyFlags{} : default_policy_.flags;
    flags.user_login_must_be_domain = value;
    if (kind == LegacyPolicyEvent::kInstanceAdded) {
      return PushDefaultPolicyEvent(LegacyInstanceEvent("iam.policy.org.iam.added", payload), flags,
                                    true);
    }
    auto changed = ChangedPolicyPayload(default_policy_.flags, flags);
    if (!changed) return Status::FailedPrecondition("Errors.IAM.OrgIAMPolicy.NotChanged");
    return PushDefaultPolicyEvent(
        LegacyInstanceEvent("iam.policy.org.iam.changed", std::move(changed)), flags, false);
  }
  auto org = MutableOrg(org_id);
  if (!org) return org.error();
  FakeOrg& o = **org;
  switch (kind) {
    case LegacyPolicyEvent::kOrgAdded:
      if (o.policy) return {Code::kAlreadyExists, "Errors.Org.OrgIAMPolicy.AlreadyExists"};
      return PushOrgPolicyEvent(o, "org.iam.policy.added", payload, PolicyFlags{value}, true,
                                false);
    case LegacyPolicyEvent::kOrgChanged: {
      if (!o.policy) return Status::NotFound("Errors.Org.OrgIAMPolicy.NotFound");
      PolicyFlags flags = o.policy->flags;
      flags.user_login_must_be_domain = value;
      auto changed = ChangedPolicyPayload(o.policy->flags, flags);
      if (!changed) return Status::FailedPrecondition("Errors.Org.OrgIAMPolicy.NotChanged");
      return PushOrgPolicyEvent(o, "org.iam.policy.changed", std::move(changed), flags, false,
                                false);
    }
    default:
      if (!o.policy) return Status::NotFound("Errors.Org.OrgIAMPolicy.NotFound");
      return PushOrgPolicyEvent(o, "org.iam.policy.removed", std::nullopt, {}, false, true);
  }
}

}  // namespace policyd::testing_support
