// UpstreamState: identity providers and the login policy's links to them, as ZITADEL's
// idp_templates and idp_login_policy_links projections keep them (notes: /work/draft/
// idp-facts.md). An IdP is a row {owner, name, domain type}: templates set the type by their
// kind, old-style configs get 0 from *.idp.config.added and 1 / 2 from the *.oidc / *.jwt config
// event; *.changed events change the name only, migrations name and type. Links live in the
// owner's login row (KindRow::idps) and leave its details alone; removing the login row, the org
// or the IdP removes them.
#include <algorithm>
#include <map>
#include <utility>

#include "fake_upstream/protojson_text.h"
#include "fake_upstream/upstream_state.h"

namespace policyd::testing_support {
namespace {

struct IdpKindSpec {
  IdpKind kind;
  std::string_view event;           // <...>.idp.<event>.added
  std::string_view instance_event;  // the instance's, where it differs (LDAP's "ldap.v2")
  std::int64_t type;                // domain.IDPType
  bool name_optional;               // Google, GitHub, GitLab, Apple: `json:"name,omitempty"`
  // A few more keys of the added payload (raw JSON values), like the real ones; the first one is
  // the key a nameless change changes.
  std::vector<std::pair<std::string_view, std::string_view>> extra;
};

const std::vector<IdpKindSpec>& IdpKinds() {
  using K = IdpKind;
  static const std::vector<IdpKindSpec> kinds = {
      {K::kOidc,
       "oidc",
       "oidc",
       1,
       false,
       {{"clientId", R"("oidc-client")"}, {"issuer", R"("https://issuer.example.com")"}}},
      {K::kJwt,
       "jwt",
       "jwt",
       2,
       false,
       {{"issuer", R"("https://jwt.example.com")"},
        {"jwtEndpoint", R"("https://jwt.example.com/jwt")"}}},
      {K::kOAuth,
       "oauth",
       "oauth",
       3,
       false,
       {{"clientId", R"("oauth-client")"},
        {"authorizationEndpoint", R"("https://oauth.example.com/authorize")"}}},
      {K::kLdap,
       "ldap",
       "ldap.v2",
       4,
       false,
       {{"baseDN", R"("dc=example,dc=com")"}, {"servers", R"(["ldaps://ldap.example.com"])"}}},
      {K::kAzureAd,
       "azure",
       "azure",
       5,
       false,
       {{"client_id", R"("azure-client")"}, {"tenant", R"("common")"}}},
      {K::kGitHub, "github", "github", 6, true, {{"clientId", R"("github-client")"}}},
      {K::kGitHubEnterprise,
       "github_enterprise",
       "github_enterprise",
       7,
       false,
       {{"clientId", R"("ghe-client")"},
        {"authorizationEndpoint", R"("https://ghe.example.com/login/oauth/authorize")"}}},
      {K::kGitLab, "gitlab", "gitlab", 8, true, {{"clientId", R"("gitlab-client")"}}},
      {K::kGitLabSelfHosted,
       "gitlab_self_hosted",
       "gitlab_self_hosted",
       9,
       false,
       {{"clientId", R"("glsh-client")"}, {"issuer", R"("https://gitlab.example.com")"}}},
      {K::kGoogle,
       "google",
       "google",
       10,
       true,
       {{"clientId", R"("google-client")"}, {"scopes", R"(["openid","profile"])"}}},
      {K::kApple,
       "apple",
       "apple",
       11,
       true,
       {{"clientId", R"("apple-client")"}, {"teamId", R"("ALT1234567")"}}},
      {K::kSaml,
       "saml",
       "saml",
       12,
       false,
       {{"metadata", R"("PEVudGl0eURlc2NyaXB0b3IvPg==")"}, {"binding", R"("POST")"}}},
      {K::kZitadel,
       "zitadel",
       "zitadel",
       13,
       false,
       {{"clientId", R"("zitadel-client")"}, {"issuer", R"("https://other.zitadel.cloud")"}}},
  };
  return kinds;
}

const IdpKindSpec& SpecOf(IdpKind kind) {
  for (const IdpKindSpec& k : IdpKinds()) {
    if (k.kind == kind) return k;
  }
  return IdpKinds().front();
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendQuoted(out, s);
  return out;
}

// The template's "<instance|org>.idp.<kind>." event prefix.
std::string TemplatePrefix(std::string_view org_id, const IdpKindSpec& spec) {
  return org_id.empty() ? "instance.idp." + std::string(spec.instance_event) + "."
                        : "org.idp." + std::string(spec.event) + ".";
}

// The old-style configs' "<iam|org>.idp." (the instance's keep the v1 prefix).
std::string ConfigPrefix(std::string_view org_id) {
  return org_id.empty() ? "iam.idp." : "org.idp.";
}

// The whole added payload of a template: {"id","name"(omitted when empty), extra keys}.
std::string TemplateAddedPayload(const IdpKindSpec& spec, std::string_view id,
                                 std::string_view name) {
  std::map<std::string, std::string> entries = {
      {"id", Quoted(id)}, {"isCreationAllowed", "true"}, {"isLinkingAllowed", "true"}};
  if (!name.empty()) entries["name"] = Quoted(name);
  for (const auto& [key, value] : spec.extra) entries[std::string(key)] = std::string(value);
  return SortedJsonObject(entries);
}

std::string IdpConfigIdPayload(std::string_view id) {
  return SortedJsonObject({{"idpConfigId", Quoted(id)}});
}

Status UnknownIdp() { return Status::NotFound("Errors.IDPConfig.NotExisting (COMMAND-fake)"); }

Status NoLoginPolicy() { return Status::NotFound("Errors.Org.LoginPolicy.NotFound (Org-fake)"); }

Status NameNeeded() { return Status::InvalidArgument("Errors.IDP.NameMissing (COMMAND-fake)"); }

}  // namespace

UpstreamState::NewEvent UpstreamState::OwnerEvent(std::string_view org_id, std::string type,
                                                  std::string payload) const {
  if (org_id.empty()) return InstanceEvent(std::move(type), std::move(payload));
  return {std::move(type), "org", std::string(org_id), std::string(org_id), std::move(payload)};
}

Result<FakeIdp*> UpstreamState::MutableIdp(std::string_view idp_id) {
  const auto it = idps_.find(idp_id);
  if (it == idps_.end()) return Err(UnknownIdp());
  return &it->second;
}

Result<std::string> UpstreamState::AddIdp(std::string_view org_id, IdpKind kind,
                                          std::string_view name) {
  if (!org_id.empty() && FindOrg(org_id) == nullptr) {
    return Err(Status::NotFound("Errors.Org.NotFound (COMMAND-ZxM0c)"));
  }
  const IdpKindSpec& spec = SpecOf(kind);
  if (name.empty() && !spec.name_optional) return Err(NameNeeded());
  FakeIdp idp{std::to_string(++next_id_), std::string(org_id), std::string(name), spec.type, kind};
  Push({OwnerEvent(org_id, TemplatePrefix(org_id, spec) + "added",
                   TemplateAddedPayload(spec, idp.id, name))});
  std::string id = idp.id;
  idps_.emplace(id, std::move(idp));
  return id;
}

Result<std::string> UpstreamState::AddIdpConfig(std::string_view org_id, IdpConfigKind kind,
                                                std::string_view name) {
  if (!org_id.empty() && FindOrg(org_id) == nullptr) {
    return Err(Status::NotFound("Errors.Org.NotFound (COMMAND-ZxM0c)"));
  }
  if (name.empty()) return Err(NameNeeded());
  const std::string id = std::to_string(++next_id_);
  const std::string prefix = ConfigPrefix(org_id);
  // The old domain.IDPConfigType: OIDC 0 (omitted), SAML 1, JWT 2.
  std::map<std::string, std::string> added = {
      {"idpConfigId", Quoted(id)}, {"name", Quoted(name)}, {"stylingType", "1"}};
  if (kind != IdpConfigKind::kOidc) added["idpType"] = kind == IdpConfigKind::kJwt ? "2" : "1";
  std::vector<NewEvent> events = {
      OwnerEvent(org_id, prefix + "config.added", SortedJsonObject(added))};
  std::int64_t type = 0;  // the templates projection ignores idpType
  if (kind == IdpConfigKind::kOidc) {
    events.push_back(
        OwnerEvent(org_id, prefix + "oidc.config.added",
                   SortedJsonObject({{"clientId", Quoted("oidc-config-client")},
                                     {"idpConfigId", Quoted(id)},
                                     {"issuer", Quoted("https://accounts.example.com")},
                                     {"scopes", R"(["openid","profile","email"])"}})));
    type = 1;
  } else if (kind == IdpConfigKind::kJwt) {
    events.push_back(
        OwnerEvent(org_id, prefix + "jwt.config.added",
                   SortedJsonObject({{"headerName", Quoted("x-auth-token")},
                                     {"idpConfigId", Quoted(id)},
                                     {"issuer", Quoted("https://jwt.example.com")},
                                     {"jwtEndpoint", Quoted("https://jwt.example.com/jwt")},
                                     {"keysEndpoint", Quoted("https://jwt.example.com/keys")}})));
    type = 2;
  }
  Push(std::move(events));
  idps_.emplace(id, FakeIdp{id, std::string(org_id), std::string(name), type, std::nullopt});
  return id;
}

Status UpstreamState::ChangeIdp(std::string_view idp_id, std::optional<std::string_view> name) {
  auto found = MutableIdp(idp_id);
  if (!found) return found.error();
  FakeIdp& idp = **found;
  if (name && *name == idp.name) {
    return Status::FailedPrecondition("Errors.IDP.NotChanged (COMMAND-fake)");
  }
  const bool optional = idp.kind && SpecOf(*idp.kind).name_optional;
  if (name && name->empty() && !optional) return NameNeeded();
  std::map<std::string, std::string> entries;
  std::string type;
  const std::string other = std::to_string(++idp_changes_);
  if (idp.kind) {
    const IdpKindSpec& spec = SpecOf(*idp.kind);
    entries["id"] = Quoted(idp.id);
    // Another key changes (each kind's first extra key holds a string).
    entries[std::string(spec.extra.front().first)] = Quoted("changed-" + other);
    type = TemplatePrefix(idp.org_id, spec) + "changed";
  } else {
    entries["idpConfigId"] = Quoted(idp.id);
    entries["stylingType"] = idp_changes_ % 2 == 0 ? "1" : "2";
    type = ConfigPrefix(idp.org_id) + "config.changed";
  }
  if (name) {
    // A template renames alone (Name *string, "name":"" kept); a config too.
    entries.erase(idp.kind ? std::string(SpecOf(*idp.kind).extra.front().first) : "stylingType");
    entries["name"] = Quoted(*name);
    idp.name = std::string(*name);
  }
  Push({OwnerEvent(idp.org_id, std::move(type), SortedJsonObject(entries))});
  return Status::Ok();
}

Status UpstreamState::MigrateIdp(std::string_view idp_id, IdpKind to, std::string_view name) {
  if (to != IdpKind::kAzureAd && to != IdpKind::kGoogle) {
    return Status::InvalidArgument("an OIDC IdP migrates to Azure AD or Google only");
  }
  auto found = MutableIdp(idp_id);
  if (!found) return found.error();
  FakeIdp& idp = **found;
  if (idp.kind != IdpKind::kOidc) {
    return Status::FailedPrecondition("Errors.IDP.NotOIDC (COMMAND-fake)");
  }
  const IdpKindSpec& spec = SpecOf(to);
  if (name.empty() && !spec.name_optional) return NameNeeded();
  const std::string prefix = idp.org_id.empty() ? "instance.idp." : "org.idp.";
  Push({OwnerEvent(idp.org_id, prefix + "oidc.migrated." + std::string(spec.event),
                   TemplateAddedPayload(spec, idp.id, name))});
  idp.kind = to;
  idp.name = std::string(name);
  idp.type = spec.type;
  return Status::Ok();
}

Status UpstreamState::SetIdpConfigActive(std::string_view idp_id, bool active) {
  auto found = MutableIdp(idp_id);
  if (!found) return found.error();
  FakeIdp& idp = **found;
  if (idp.kind) return Status::FailedPrecondition("Errors.IDP.NotAConfig (COMMAND-fake)");
  if (idp.active == active) {
    return Status::FailedPrecondition(active ? "Errors.IDPConfig.NotInactive (COMMAND-fake)"
                                             : "Errors.IDPConfig.NotActive (COMMAND-fake)");
  }
  Push({OwnerEvent(
      idp.org_id, ConfigPrefix(idp.org_id) + (active ? "config.reactivated" : "config.deactivated"),
      IdpConfigIdPayload(idp.id))});
  idp.active = active;
  return Status::Ok();
}

Status UpstreamState::RemoveIdp(std::string_view idp_id) {
  auto found = MutableIdp(idp_id);
  if (!found) return found.error();
  const FakeIdp idp = **found;
  std::vector<NewEvent> events;
  if (idp.kind) {
    events.push_back(OwnerEvent(idp.org_id,
                                idp.org_id.empty() ? "instance.idp.removed" : "org.idp.removed",
                                SortedJsonObject({{"id", Quoted(idp.id)}})));
  } else {
    const std::string payload = IdpConfigIdPayload(idp.id);
    events.push_back(OwnerEvent(idp.org_id, ConfigPrefix(idp.org_id) + "config.removed", payload));
    if (idp.org_id.empty()) {
      events.push_back(InstanceEvent("instance.policy.login.idpprovider.cascade.removed", payload));
      // RemoveDefaultIDPConfig also "cascades" on an org aggregate named by the IdP's resource
      // owner, which is the instance.
      events.push_back(
          {"org.policy.login.idpprovider.removed", "org", instance_id_, instance_id_, payload});
    } else {
      // The org's cascade event is stored under the plain removed name.
      events.push_back(OwnerEvent(idp.org_id, "org.policy.login.idpprovider.removed", payload));
    }
  }
  Push(std::move(events));
  DropIdpLinks(idp.org_id, idp.id);
  idps_.erase(idps_.find(idp_id));
  return Status::Ok();
}

void UpstreamState::DropIdpLinks(std::string_view org_id, std::string_view idp_id) {
  const auto drop = [&](KindRows& rows) {
    if (const auto it = rows.rows.find(KindId::kLogin); it != rows.rows.end()) {
      std::erase(it->second.idps, idp_id);
    }
  };
  if (!org_id.empty()) {
    if (const auto it = orgs_.find(org_id); it != orgs_.end()) drop(it->second.kinds);
    return;
  }
  drop(default_kinds_);
  for (auto& [id, org] : orgs_) drop(org.kinds);
}

std::string UpstreamState::IdpProviderAddedPayload(std::string_view org_id,
                                                   const FakeIdp& idp) const {
  // domain.IdentityProviderType: System 0 (omitted), Org 1; only an org's own IdP is Org.
  std::map<std::string, std::string> entries = {{"idpConfigId", Quoted(idp.id)}};
  if (!org_id.empty() && !idp.org_id.empty()) entries["idpProviderType"] = "1";
  return SortedJsonObject(entries);
}

Status UpstreamState::LinkIdp(std::string_view org_id, std::string_view idp_id, bool add) {
  auto rows = MutableKindRows(org_id);
  if (!rows) return rows.error();
  const auto login = (*rows)->rows.find(KindId::kLogin);
  if (login == (*rows)->rows.end()) return NoLoginPolicy();
  std::vector<std::string>& links = login->second.idps;
  const bool linked = std::find(links.begin(), links.end(), idp_id) != links.end();
  if (!add) {
    if (!linked) return Status::NotFound("Errors.IAM.LoginPolicy.IDP.NotExisting (COMMAND-fake)");
    Push({KindEvent(org_id, "policy.login.idpprovider.removed", IdpConfigIdPayload(idp_id))});
    std::erase(links, idp_id);
    return Status::Ok();
  }
  const auto idp = idps_.find(idp_id);
  // The command looks the IdP up among the instance's and the linking org's own.
  if (idp == idps_.end() || (!idp->second.org_id.empty() && idp->second.org_id != org_id)) {
    return UnknownIdp();
  }
  if (linked) {
    return {Code::kAlreadyExists, "Errors.Org.LoginPolicy.IDP.AlreadyExists (COMMAND-fake)"};
  }
  Push({KindEvent(org_id, "policy.login.idpprovider.added",
                  IdpProviderAddedPayload(org_id, idp->second))});
  links.emplace_back(idp_id);
  return Status::Ok();
}

Status UpstreamState::CheckRequestedIdps(std::string_view org_id,
                                         const std::vector<RequestedIdpLink>& idps) const {
  for (std::size_t i = 0; i < idps.size(); ++i) {
    const auto idp = idps_.find(idps[i].idp_id);
    const bool system = idps[i].owner_type == "IDP_OWNER_TYPE_SYSTEM";
    const bool found = idp != idps_.end() &&
                       (idp->second.org_id.empty() ? idps[i].owner_type.empty() || system
                                                   : idp->second.org_id == org_id && !system);
    if (!found) {
      return Status::FailedPrecondition("Errors.IDPConfig.NotExisting (Org-FEd32)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (idps[j].idp_id == idps[i].idp_id) {
        return Status::InvalidArgument("idps: " + idps[i].idp_id + " twice");
      }
    }
  }
  return Status::Ok();
}

std::vector<IdpLinkView> UpstreamState::IdpLinkViews(const KindRow& row) const {
  std::vector<IdpLinkView> views;
  for (const std::string& id : row.idps) {
    const auto it = idps_.find(id);
    if (it == idps_.end()) {
      views.push_back({id, "", 0});  // the LEFT JOIN finds no templates row
    } else {
      views.push_back({id, it->second.name, it->second.type});
    }
  }
  return views;
}

std::vector<IdpLinkView> UpstreamState::EffectiveIdpLinks(std::string_view org_id) const {
  const KindSpec* login = FindKind("login");
  const KindRow* row = login == nullptr ? nullptr : EffectiveKindRow(*login, org_id);
  return row == nullptr ? std::vector<IdpLinkView>{} : IdpLinkViews(*row);
}

}  // namespace policyd::testing_support
