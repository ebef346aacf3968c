// UpstreamState: the policy kinds of issue #14 (policy_kinds.h). Rows follow ZITADEL's
// projections (internal/query/projection/<kind>_policy.go): added creates the row (details from
// the event), changed / factor / asset events update it, removed and org.removed delete it; the
// label policy keeps a preview row, which `activated` copies onto the active row.
#include <algorithm>
#include <utility>

#include "fake_upstream/protojson_text.h"
#include "fake_upstream/upstream_state.h"

namespace policyd::testing_support {
namespace {

struct AssetSpec {
  std::string_view event;       // policy.label.<event>.added / .removed
  std::string_view field;       // the URL field of the message
  std::string_view key_prefix;  // of the store keys the fake invents
};

AssetSpec AssetOf(LabelAsset asset) {
  switch (asset) {
    case LabelAsset::kLogo:
      return {"logo", "logoUrl", "policy/label/logo-"};
    case LabelAsset::kIcon:
      return {"icon", "iconUrl", "policy/label/icon-"};
    case LabelAsset::kLogoDark:
      return {"logo.dark", "logoUrlDark", "policy/label/logo-dark-"};
    case LabelAsset::kIconDark:
      return {"icon.dark", "iconUrlDark", "policy/label/icon-dark-"};
    case LabelAsset::kFont:
      break;
  }
  return {"font", "fontUrl", "policy/label/font-"};
}

using Values = std::map<std::string, FieldValue, std::less<>>;

FieldValue Num(std::int64_t n) { return {n, {}}; }
FieldValue Text(std::string_view s) { return {0, std::string(s)}; }

constexpr std::int64_t kHour = 3600LL * 1'000'000'000;

// ZITADEL v4's DefaultInstance values (cmd/defaults.yaml) as rows hold them.
Values DefaultValues(KindId kind) {
  switch (kind) {
    case KindId::kPasswordComplexity:
      return {{"minLength", Num(8)},
              {"hasUppercase", Num(1)},
              {"hasLowercase", Num(1)},
              {"hasNumber", Num(1)},
              {"hasSymbol", Num(1)}};
    case KindId::kLogin:
      return {{"allowUsernamePassword", Num(1)},
              {"allowRegister", Num(1)},
              {"allowExternalIdp", Num(1)},
              {"allowDomainDiscovery", Num(1)},
              {"passwordlessType", Num(1)},
              {"passwordCheckLifetime", Num(240 * kHour)},
              {"externalLoginCheckLifetime", Num(240 * kHour)},
              {"mfaInitSkipLifetime", Num(720 * kHour)},
              {"secondFactorCheckLifetime", Num(18 * kHour)},
              {"multiFactorCheckLifetime", Num(12 * kHour)}};
    case KindId::kPrivacy:
      return {{"docsLink", Text("https://zitadel.com/docs")}};
    case KindId::kNotification:
      return {{"passwordChange", Num(1)}};
    case KindId::kLockout:
      return {{"showLockOutFailures", Num(1)}};
    case KindId::kLabel:
      return {{"primaryColor", Text("#5469d4")},     {"backgroundColor", Text("#fafafa")},
              {"warnColor", Text("#cd3d56")},        {"fontColor", Text("#000000")},
              {"primaryColorDark", Text("#2073c4")}, {"backgroundColorDark", Text("#111827")},
              {"warnColorDark", Text("#ff3b5b")},    {"fontColorDark", Text("#ffffff")}};
    case KindId::kPasswordAge:
      break;
  }
  return {};
}

const KindSpec& Spec(KindId id) {
  for (const KindSpec& k : AllKinds()) {
    if (k.id == id) return k;
  }
  return AllKinds().front();
}

std::string MfaPayload(std::int64_t type) { return "{\"mfaType\":" + std::to_string(type) + "}"; }

std::string StoreKeyPayload(std::string_view key) {
  std::string out = "{\"storeKey\":";
  AppendQuoted(out, key);
  return out + "}";
}

// Records `e` as the last event applied to `row`.
void Touch(KindRow& row, const StoredEvent& e) {
  row.details.sequence = e.sequence;
  row.details.change_date = e.creation_date;
}

KindRow NewRow(Values values, const StoredEvent& e, std::string_view owner, bool is_default) {
  KindRow row;
  row.values = std::move(values);
  row.details = {e.sequence, e.creation_date, e.creation_date, std::string(owner)};
  row.is_default = is_default;
  return row;
}

std::string FactorType(LoginFactor list) {
  return list == LoginFactor::kSecond ? "policy.login.secondfactor." : "policy.login.multifactor.";
}

Status NoPolicy(const KindSpec& kind) {
  return Status::NotFound("Errors.Org." + std::string(kind.name) + "Policy.NotFound");
}

}  // namespace

std::vector<UpstreamState::NewEvent> UpstreamState::KindSetupEvents() const {
  const auto added = [&](KindId id) {
    const KindSpec& k = Spec(id);
    return InstanceEvent("instance." + std::string(k.event_base) + ".added",
                         AddedKindPayload(k, DefaultValues(id)));
  };
  // The order of internal/command/instance.go setupInstanceElements (domain policy before login).
  return {added(KindId::kPasswordComplexity),
          added(KindId::kPasswordAge),
          added(KindId::kLogin),
          InstanceEvent("instance.policy.login.secondfactor.added", MfaPayload(1)),  // TOTP
          InstanceEvent("instance.policy.login.secondfactor.added", MfaPayload(2)),  // U2F
          InstanceEvent("instance.policy.login.multifactor.added", MfaPayload(1)),   // U2F + PIN
          added(KindId::kPrivacy),
          added(KindId::kNotification),
          added(KindId::kLockout),
          added(KindId::kLabel),
          InstanceEvent("instance.policy.label.activated", "{}")};
}

void UpstreamState::ApplyKindSetup(std::size_t first) {
  const auto row = [&](KindId id, std::size_t index) {
    return NewRow(DefaultValues(id), events_[first + index], instance_id_, true);
  };
  KindRows& d = default_kinds_;
  d.rows[KindId::kPasswordComplexity] = row(KindId::kPasswordComplexity, 0);
  d.rows[KindId::kPasswordAge] = row(KindId::kPasswordAge, 1);
  KindRow login = row(KindId::kLogin, 2);
  login.second_factors = {1, 2};
  login.multi_factors = {1};
  Touch(login, events_[first + 5]);
  d.rows[KindId::kLogin] = std::move(login);
  d.rows[KindId::kPrivacy] = row(KindId::kPrivacy, 6);
  d.rows[KindId::kNotification] = row(KindId::kNotification, 7);
  d.rows[KindId::kLockout] = row(KindId::kLockout, 8);
  d.label_preview = row(KindId::kLabel, 9);
  d.label_active = d.label_preview;
  Touch(*d.label_active, events_[first + 10]);
}

Result<KindRows*> UpstreamState::MutableKindRows(std::string_view org_id) {
  if (org_id.empty()) return &default_kinds_;
  auto org = MutableOrg(org_id);
  if (!org) return Err(org.error());
  return &(*org)->kinds;
}

UpstreamState::NewEvent UpstreamState::KindEvent(std::string_view org_id, std::string type,
                                                 std::optional<std::string> payload) const {
  if (org_id.empty()) return InstanceEvent("instance." + type, std::move(payload));
  return {"org." + type, "org", std::string(org_id), std::string(org_id), std::move(payload)};
}

Status UpstreamState::AddOrgKindPolicy(const KindSpec& kind, std::string_view org_id,
                                       const KindFields& fields) {
  if (org_id.empty()) return Status::InvalidArgument("the instance's policies exist from setup");
  auto rows = MutableKindRows(org_id);
  if (!rows) return rows.error();
  KindRows& r = **rows;
  const bool label = kind.id == KindId::kLabel;
  if (label ? r.label_preview.has_value() : r.rows.contains(kind.id)) {
    return {Code::kAlreadyExists, "Errors.Org." + std::string(kind.name) + "Policy.AlreadyExists"};
  }
  if (Status s = CheckRequestedIdps(org_id, fields.idps); !s.ok()) return s;
  const std::string base(kind.event_base);
  std::vector<NewEvent> events = {
      KindEvent(org_id, base + ".added", AddedKindPayload(kind, fields.values))};
  for (const std::int64_t f : fields.second_factors) {
    events.push_back(KindEvent(org_id, "policy.login.secondfactor.added", MfaPayload(f)));
  }
  for (const std::int64_t f : fields.multi_factors) {
    events.push_back(KindEvent(org_id, "policy.login.multifactor.added", MfaPayload(f)));
  }
  // prepareAddLoginPolicy: the links come last, in request order.
  for (const RequestedIdpLink& link : fields.idps) {
    events.push_back(KindEvent(org_id, "policy.login.idpprovider.added",
                               IdpProviderAddedPayload(org_id, idps_.find(link.idp_id)->second)));
  }
  Push(std::move(events));
  // The login row's details come from its last own event: the link events are not its.
  const StoredEvent& last = events_[events_.size() - 1 - fields.idps.size()];
  KindRow row = NewRow(fields.values, last, org_id, false);
  row.second_factors = fields.second_factors;
  row.multi_factors = fields.multi_factors;
  for (const RequestedIdpLink& link : fields.idps) row.idps.push_back(link.idp_id);
  if (label) {
    r.label_preview = std::move(row);
  } else {
    r.rows[kind.id] = std::move(row);
  }
  return Status::Ok();
}

Status UpstreamState::ChangeKindPolicy(const KindSpec& kind, std::string_view org_id,
                                       const KindFields& fields) {
  if (!fields.second_factors.empty() || !fields.multi_factors.empty() || !fields.idps.empty()) {
    return Status::InvalidArgument("factors and idps change through their own methods");
  }
  auto rows = MutableKindRows(org_id);
  if (!rows) return rows.error();
  KindRows& r = **rows;
  KindRow* row = nullptr;
  if (kind.id == KindId::kLabel) {
    if (r.label_preview) row = &*r.label_preview;
  } else if (const auto it = r.rows.find(kind.id); it != r.rows.end()) {
    row = &it->second;
  }
  if (row == nullptr) return NoPolicy(kind);
  Values next = fields.values;
  for (const FieldSpec& f : kind.fields) {  // what requests cannot set stays
    const auto it = row->values.find(f.json);
    if ((f.hidden || f.type == FieldType::kAsset) && it != row->values.end()) {
      next[it->first] = it->second;
    }
  }
  auto payload = ChangedKindPayload(kind, row->values, next);
  if (!payload) {
    return Status::FailedPrecondition("Errors.Org." + std::string(kind.name) + "Policy.NotChanged");
  }
  const StoredEvent& e =
      Push({KindEvent(org_id, std::string(kind.event_base) + ".changed", std::move(payload))});
  row->values = std::move(next);
  Touch(*row, e);
  return Status::Ok();
}

Status UpstreamState::RemoveOrgKindPolicy(const KindSpec& kind, std::string_view org_id) {
  if (org_id.empty()) return Status::InvalidArgument("instance policies cannot be removed");
  auto rows = MutableKindRows(org_id);
  if (!rows) return rows.error();
  KindRows& r = **rows;
  const std::string type = std::string(kind.event_base) + ".removed";
  if (kind.id == KindId::kLabel) {
    if (!r.label_preview && !r.label_active) return NoPolicy(kind);
    Push({KindEvent(org_id, type, "{}")});  // LabelPolicyRemovedEvent's Payload() is the struct
    r.label_preview.reset();
    r.label_active.reset();
    return Status::Ok();
  }
  if (r.rows.erase(kind.id) == 0) return NoPolicy(kind);
  Push({KindEvent(org_id, type)});
  return Status::Ok();
}

Status UpstreamState::ChangeLoginFactor(std::string_view org_id, LoginFactor list,
                                        std::int64_t factor, bool add) {
  auto rows = MutableKindRows(org_id);
  if (!rows) return rows.error();
  const auto it = (*rows)->rows.find(KindId::kLogin);
  if (it == (*rows)->rows.end()) return NoPolicy(Spec(KindId::kLogin));
  KindRow& row = it->second;
  std::vector<std::int64_t>& factors =
      list == LoginFactor::kSecond ? row.second_factors : row.multi_factors;
  const bool present = std::find(factors.begin(), factors.end(), factor) != factors.end();
  if (add && present) return {Code::kAlreadyExists, "Errors.Org.LoginPolicy.MFA.AlreadyExists"};
  if (!add && !present) return Status::NotFound("Errors.Org.LoginPolicy.MFA.NotExisting");
  const StoredEvent& e =
      Push({KindEvent(org_id, FactorType(list) + (add ? "added" : "removed"), MfaPayload(factor))});
  if (add) {
    factors.push_back(factor);  // array_append
  } else {
    std::erase(factors, factor);  // array_remove
  }
  Touch(row, e);
  return Status::Ok();
}

Status UpstreamState::ActivateLabel(std::string_view org_id) {
  auto rows = MutableKindRows(org_id);
  if (!rows) return rows.error();
  KindRows& r = **rows;
  if (!r.label_preview) return NoPolicy(Spec(KindId::kLabel));
  const StoredEvent& e = Push({KindEvent(org_id, "policy.label.activated", "{}")});
  r.label_active = r.label_preview;  // every column but change_date, sequence and state
  Touch(*r.label_active, e);
  return Status::Ok();
}

Result<std::string> UpstreamState::ChangeLabelAsset(std::string_view org_id, LabelAsset asset,
                                                    bool add) {
  auto rows = MutableKindRows(org_id);
  if (!rows) return Err(rows.error());
  KindRows& r = **rows;
  if (!r.label_preview) return Err(NoPolicy(Spec(KindId::kLabel)));
  const AssetSpec spec = AssetOf(asset);
  const auto it = r.label_preview->values.find(spec.field);
  std::string key;
  if (add) {
    key = std::string(spec.key_prefix) + std::to_string(++next_asset_id_);
  } else if (it == r.label_preview->values.end()) {
    return Err(Status::NotFound("Errors.Asset.NotFound"));
  } else {
    key = it->second.text;
  }
  const std::string type =
      "policy.label." + std::string(spec.event) + (add ? ".added" : ".removed");
  const StoredEvent& e = Push({KindEvent(org_id, type, StoreKeyPayload(key))});
  if (add) {
    r.label_preview->values[std::string(spec.field)] = Text(key);
  } else {
    r.label_preview->values.erase(it);
  }
  Touch(*r.label_preview, e);
  return key;
}

const KindRow* UpstreamState::OwnKindRow(const KindSpec& kind, std::string_view org_id) const {
  const FakeOrg* org = FindOrg(org_id);
  if (org == nullptr) return nullptr;
  if (kind.id == KindId::kLabel)
    return org->kinds.label_preview ? &*org->kinds.label_preview : nullptr;
  const auto it = org->kinds.rows.find(kind.id);
  return it == org->kinds.rows.end() ? nullptr : &it->second;
}

const KindRow* UpstreamState::EffectiveKindRow(const KindSpec& kind,
                                               std::string_view org_id) const {
  const FakeOrg* org = org_id.empty() ? nullptr : FindOrg(org_id);
  if (kind.id == KindId::kLabel) {
    // ActiveLabelPolicyByOrg: only active rows count, so an org's preview falls back too.
    if (org != nullptr && org->kinds.label_active) return &*org->kinds.label_active;
    return default_kinds_.label_active ? &*default_kinds_.label_active : nullptr;
  }
  if (org != nullptr) {
    if (const auto it = org->kinds.rows.find(kind.id); it != org->kinds.rows.end()) {
      return &it->second;
    }
  }
  const auto it = default_kinds_.rows.find(kind.id);
  return it == default_kinds_.rows.end() ? nullptr : &it->second;
}

const KindRow* UpstreamState::EffectivePreviewLabelRow(std::string_view org_id) const {
  const FakeOrg* org = org_id.empty() ? nullptr : FindOrg(org_id);
  if (org != nullptr && org->kinds.label_preview) return &*org->kinds.label_preview;
  return default_kinds_.label_preview ? &*default_kinds_.label_preview : nullptr;
}

}  // namespace policyd::testing_support
