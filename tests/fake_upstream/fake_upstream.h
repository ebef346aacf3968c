// FakeUpstream: an in-process fake of the upstream IAM (ZITADEL) REST API, for integration tests.
//
// It serves exactly the real API's JSON shapes and quirks (../shared/upstream/zitadel-api.md):
//   GET  /admin/v1/policies/domain                    the instance default ({"policy":...})
//   PUT  /admin/v1/policies/domain                    change the default (body: 3 bools)
//   GET  /admin/v1/orgs/{orgId}/policies/domain       effective policy; unknown org -> default
//   POST|PUT|DELETE /admin/v1/orgs/{orgId}/policies/domain   add / change / reset an org's own
//   GET  /management/v1/policies/domain               x-zitadel-orgid; unknown org -> 403
//   GET  /v2/settings/domain?ctx.orgId=|ctx.instance=true    v2 field names
//   GET|PUT /admin/v1/policies/orgiam, GET|POST|PUT|DELETE /admin/v1/orgs/{orgId}/policies/orgiam,
//   GET /management/v1/policies/orgiam    the deprecated Org IAM twins: OrgIAMPolicy bodies
//                                         {details, userLoginMustBeDomain, isDefault}; their
//                                         writes set the other two flags to true
//   GET  /admin/v1/policies/<kind path>               the other kinds' defaults ({"policy":...})
//   GET  /management/v1/policies/<kind path>          x-zitadel-orgid; unknown org -> 403;
//                                                     + top-level isDefault where the real has it
//   GET  /management/v1/policies/default/<kind path>  the default ({"policy":...})
//        kind paths: password/complexity, password/age, lockout, login, privacy, notification,
//        label (the active policy); see policy_kinds.h. The login policy's "idps" lists its
//        linked IdPs ({idpId, idpName, idpType}, link order): the org's own policy's links, else
//        the instance's
//   POST /admin/v1/policies/login/idps/_search        the instance login policy's IdP links
//   POST /management/v1/policies/login/idps/_search   x-zitadel-orgid; the org's links if it has
//        its own login policy, else the instance's; {"query":{offset,limit,asc}} -> {"details":
//        {totalResult,viewTimestamp},"result":[links]} (link order whatever asc says)
//   POST /admin/v1/orgs/_search                       paging, sorted by name
//   POST /admin/v1/events/_search                     filters, asc/desc, limit clamp 1000
//   POST /management/v1/orgs/me/domains/_search       x-zitadel-orgid (else the caller's org);
//                                                     unknown org -> 403; paging, by name
//   POST /admin/v1/domains/_search                    the instance's domains; paging, by name
//   POST /oauth/v2/token                              JWT-profile grant (RS256 assertion)
//   GET  /.well-known/openid-configuration            issuer + token endpoint
// Everything but the token and discovery endpoints needs `Authorization: Bearer <token>` with
// the configured PAT or an unexpired issued token (else 401 Errors.Token.Invalid). Errors are
// google.rpc.Status bodies with ZITADEL's gRPC-code -> HTTP mapping; unknown paths are 404 and a
// known path with the wrong method is 405 (grpc-gateway's routing errors). The token endpoint
// answers 400 {"error","error_description"}: unsupported_grant_type, invalid_request, invalid_scope
// (no ...:zitadel:aud scope; the real server would issue a token that the APIs then reject) and
// invalid_grant (the assertion: signature, kid, iss/sub, aud = base_url(), exp, iat <= 1 h old).
//
// The state (instance, default policy row, orgs with domains and own policy rows, identity
// providers and the login policies' links to them) is the truth,
// kept like ZITADEL's projections, and every mutation is one *push* of events onto an
// append-only log: the events of one push share one creationDate (strictly increasing across
// pushes, microsecond resolution, from the fake clock = wall clock + an adjustable offset) and
// each takes the next sequence *of its aggregate* (org or instance).
//
// Threads: the HTTP server runs on its own threads from construction to destruction. Every public
// method may be called from any thread, also while requests are being served. Mutations return
// Status: NOT_FOUND (unknown org, row or domain), ALREADY_EXISTS, FAILED_PRECONDITION
// ("not changed", already (in)active, domain not verified, primary domain), INVALID_ARGUMENT.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "model/domain_policy.h"
#include "model/domains.h"
#include "model/event.h"

namespace policyd::testing_support {

struct FakeUpstreamOptions {
  std::string instance_id = "300000000000000001";
  std::string instance_name = "ZITADEL";
  std::string instance_domain = "zitadel.example.com";  // orgs get "<slug>.<instance_domain>"
  PolicyFlags default_policy;  // the instance row at setup (ZITADEL v4 defaults: all false)
  // Also set up every other policy kind (issue #14) with ZITADEL v4's defaults, as the upstream's
  // instance setup does: 12 more events at the end of the setup push (see FakeUpstream()).
  bool all_policy_kinds = true;
  // Accepted as a bearer token as is (a personal access token). Empty: none.
  std::string pat = "fake-pat-0123456789";
  // The org of the calling user, used by management/v2 reads without x-zitadel-orgid.
  std::string caller_org_id;
  // The editor shown on every event.
  std::string editor_user_id = "300000000000000002";
  std::string editor_display_name = "ZITADEL Admin";
  // Non-zero: the fake clock starts here (and runs at wall-clock speed). Zero: the wall clock.
  Timestamp base_time;
  // The fake clock stands still (at base_time, or the wall clock at construction) and moves only
  // by AdvanceClock; each push still takes 1 µs more than the last, so timestamps are exact.
  bool freeze_clock = false;
  // expires_in of issued access tokens.
  std::chrono::seconds token_lifetime{std::chrono::hours(12)};
  // Both set: serve HTTPS with this certificate chain and key (PEM files). See GenerateTlsFiles.
  std::string tls_cert_path;
  std::string tls_key_path;
};

// Scripted faults. A request whose path starts with `path_prefix` (empty: every path) takes the
// first pending fault that matches it; each fault affects `times` requests (kForever: until
// ClearFaults). Faults apply before routing and authentication.
enum class FaultKind {
  kInternalError,    // 500, Status body code 13
  kTooManyRequests,  // 429, Status body code 8, header Retry-After: <retry_after seconds>
  kUnavailable,      // 503, Status body code 14
  kSlow,             // waits `delay`, then answers normally
  kTruncatedBody,    // the real answer, but Content-Length promises more than is sent; then close
  kConnectionReset,  // the request is read, then the connection is reset (RST), no answer
  kMalformedJson,    // 200 with a body that is not valid JSON (the real body cut in half)
  kWrongToken,       // 401 Errors.Token.Invalid whatever the token
};

struct Fault {
  static constexpr int kForever = -1;
  FaultKind kind = FaultKind::kInternalError;
  int times = 1;
  std::string path_prefix{};
  std::chrono::milliseconds delay{2000};  // kSlow
  std::chrono::seconds retry_after{1};    // kTooManyRequests
};

// An event appended as is, without any effect on the state (PushRawEvent).
struct RawEvent {
  std::string type{};                    // e.g. "org.iam.policy.added"
  std::string aggregate_type = "org";    // "org", "instance", ...
  std::string aggregate_id{};            // empty: the instance id
  std::string resource_owner{};          // empty: the aggregate id ("org"), else the instance id
  std::optional<std::string> payload{};  // a JSON object; nullopt: no payload
};

// ZITADEL v1 domain-policy ("org IAM policy") events, whose payload carried only
// userLoginMustBeDomain. ApplyLegacyPolicyEvent gives them the effect of their current names.
enum class LegacyPolicyEvent {
  kOrgAdded,         // org.iam.policy.added        like org.policy.domain.added
  kOrgChanged,       // org.iam.policy.changed      like org.policy.domain.changed
  kOrgRemoved,       // org.iam.policy.removed      like org.policy.domain.removed
  kInstanceAdded,    // iam.policy.org.iam.added    sets the default row
  kInstanceChanged,  // iam.policy.org.iam.changed  like instance.policy.domain.changed
};
// The legacy instance events are on the v1 stream: aggregate type "iam", aggregate id "IAM"
// (resourceOwner the instance id). Each stream numbers its events from 1.
inline constexpr std::string_view kLegacyInstanceAggregateType = "iam";
inline constexpr std::string_view kLegacyInstanceAggregateId = "IAM";

// The login policy's factor lists.
enum class LoginFactor {
  kSecond,  // secondFactors: SECOND_FACTOR_TYPE_OTP, _U2F, _OTP_EMAIL, _OTP_SMS
  kMulti,   // multiFactors: MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION
};

// The label policy's assets; events <org|instance>.policy.label.<logo|icon|logo.dark|icon.dark|
// font>.<added|removed>, shown as logoUrl, iconUrl, logoUrlDark, iconUrlDark, fontUrl.
enum class LabelAsset { kLogo, kIcon, kLogoDark, kIconDark, kFont };

// Identity providers (the login policy's idps): the kinds of new-style IdP templates, with the
// domain IDPType each sets (the login policy shows "IDP_TYPE_OIDC" for 1 and "IDP_TYPE_JWT" for 2
// only) and the <x> of its events *.idp.<x>.added/changed.
enum class IdpKind {
  kOidc,              // 1  oidc
  kJwt,               // 2  jwt
  kOAuth,             // 3  oauth
  kLdap,              // 4  instance: ldap.v2, org: ldap
  kAzureAd,           // 5  azure
  kGitHub,            // 6  github                (the name may be empty)
  kGitHubEnterprise,  // 7  github_enterprise
  kGitLab,            // 8  gitlab                (the name may be empty)
  kGitLabSelfHosted,  // 9  gitlab_self_hosted
  kGoogle,            // 10 google                (the name may be empty)
  kApple,             // 11 apple                 (the name may be empty)
  kSaml,              // 12 saml
  kZitadel,           // 13 zitadel
};
// Old-style IdP configs: <iam|org>.idp.config.added, then in the same push the config that sets
// the type: *.idp.oidc.config.added (OIDC, 1) or *.idp.jwt.config.added (JWT, 2); kNone pushes
// none (an old SAML config: type 0).
enum class IdpConfigKind { kOidc, kJwt, kNone };

// A live identity provider as the upstream's templates projection holds it.
struct IdpInfo {
  std::string id;
  std::string org_id;     // the owning org; "" for an instance IdP
  std::string name;       // may be empty
  std::int64_t type = 0;  // domain.IDPType (0 for an old-style config without its config event)
  bool config = false;    // an old-style IdP config (events keyed "idpConfigId")
  bool active = true;     // configs only: false after SetIdpConfigActive(id, false)
};

class FakeUpstreamImpl;

class FakeUpstream {
 public:
  // Sets up the instance (one push: instance.added, instance.policy.domain.added,
  // instance.domain.added; with all_policy_kinds then, as ZITADEL's setup orders them:
  // instance.policy.password.complexity.added, .password.age.added, .login.added,
  // .login.secondfactor.added (OTP), .login.secondfactor.added (U2F), .login.multifactor.added,
  // .privacy.added, .notification.added, .lockout.added, .label.added, .label.activated) and
  // starts serving on 127.0.0.1 at an ephemeral port. If the server
  // cannot start (bad TLS files), the failure is reported to GoogleTest and ok() is false.
  explicit FakeUpstream(FakeUpstreamOptions options = {});
  // Stops the server: in-flight slow faults end at once, open connections are shut down.
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  bool ok() const;
  // "http://127.0.0.1:<port>" or "https://...". Also the JWT audience (issuer).
  std::string base_url() const;
  int port() const;
  const std::string& instance_id() const;

  // --- Mutations: one push each (events of §3 of the API notes) ---
  // org.added, org.domain.added, org.domain.verified, org.domain.primary.set with the generated
  // domain "<slug>.<instance domain>"; no policy event. Returns the new org's id (an 18-digit
  // number), or "" after reporting a failure (duplicate name or domain) to GoogleTest.
  std::string AddOrg(std::string_view name);
  // org.changed; if the primary domain is the generated one, also the new generated domain
  // (added, verified, primary.set) and org.domain.removed for the old one.
  Status ChangeOrg(std::string_view org_id, std::string_view name);
  Status DeactivateOrg(std::string_view org_id);  // org.deactivated
  Status ReactivateOrg(std::string_view org_id);  // org.reactivated
  Status RemoveOrg(std::string_view org_id);      // org.removed; the org and its row disappear
  // org.policy.domain.added (payload omits false keys).
  Status AddOrgPolicy(std::string_view org_id, const PolicyFlags& flags);
  // org.policy.domain.changed with only the keys that changed (explicit false kept).
  Status ChangeOrgPolicy(std::string_view org_id, const PolicyFlags& flags);
  Status RemoveOrgPolicy(std::string_view org_id);  // org.policy.domain.removed, no payload
  // instance.policy.domain.changed with only the keys that changed.
  Status ChangeDefaultPolicy(const PolicyFlags& flags);
  // org.domain.added (+ org.domain.verified in the same push unless the org's effective policy
  // has validateOrgDomains).
  Status AddOrgDomain(std::string_view org_id, std::string_view domain);
  Status VerifyOrgDomain(std::string_view org_id, std::string_view domain);
  Status SetPrimaryOrgDomain(std::string_view org_id, std::string_view domain);  // verified only
  Status RemoveOrgDomain(std::string_view org_id, std::string_view domain);      // not primary
  Status AddInstanceDomain(std::string_view domain);  // instance.domain.added
  // instance.domain.removed; NOT_FOUND for a domain the instance lacks, FAILED_PRECONDITION for
  // the generated one (the first).
  Status RemoveInstanceDomain(std::string_view domain);
  // Appends one event (own push) and changes nothing else. INVALID_ARGUMENT: payload not a JSON
  // object, or empty type.
  Status PushRawEvent(const RawEvent& event);
  // The aggregate id of the instance's events under their current names (aggregate type
  // "instance") from now on: "IAM" for the short time after ZITADEL's rename (2022), before
  // instance ids; "" for the instance id (the default). A new id starts a new stream, whose
  // sequences start at 1.
  void SetInstanceAggregateId(std::string_view aggregate_id);
  // Pushes a legacy event and applies it to the rows. For kInstance*, `org_id` is ignored.
  Status ApplyLegacyPolicyEvent(LegacyPolicyEvent kind, std::string_view org_id,
                                bool user_login_must_be_domain);

  // --- The other policy kinds (issue #14) ---
  // `kind` is the lowerCamel snapshot name: passwordComplexity, passwordAge, lockout, login,
  // privacy, notification, label (INVALID_ARGUMENT otherwise). `fields_json` is the management
  // API's request body for that kind: proto JSON names, durations "864000s", enums by name; an
  // absent field is zero (like the real request messages), so a change replaces every field.
  // The login add body may carry "secondFactors"/"multiFactors" (names) and "idps"
  // ([{"idpId":…,"ownerType":"IDP_OWNER_TYPE_SYSTEM"|"IDP_OWNER_TYPE_ORG"}], ownerType optional
  // here: the IdP's owner then): their factor events, then the links' idpprovider.added events,
  // follow the added event in the same push (FAILED_PRECONDITION for an IdP the org cannot link).
  // A change cannot carry factors or idps (INVALID_ARGUMENT). Each call is one push; the payloads
  // are the upstream's (added: non-zero keys; changed: only the changed keys); the rows' details
  // follow the projections. Label: add/change (also of the default) edit the *preview* row, which
  // GETs show only after ActivateLabelPolicy. FAILED_PRECONDITION when a change changes nothing.
  Status AddOrgKindPolicy(std::string_view kind, std::string_view org_id,
                          std::string_view fields_json);  // org.policy.<x>.added
  Status ChangeOrgKindPolicy(std::string_view kind, std::string_view org_id,
                             std::string_view fields_json);                    // ...changed
  Status RemoveOrgKindPolicy(std::string_view kind, std::string_view org_id);  // ...removed
  Status ChangeDefaultKindPolicy(std::string_view kind,
                                 std::string_view fields_json);  // instance.policy.<x>.changed
  // <org|instance>.policy.login.<secondfactor|multifactor>.<added|removed> {"mfaType":n}, on the
  // org's own login policy (NOT_FOUND without one), or on the default when `org_id` is empty.
  // `factor` is the proto enum name. ALREADY_EXISTS / NOT_FOUND for a factor (not) in the list.
  Status AddLoginFactor(std::string_view org_id, LoginFactor list, std::string_view factor);
  Status RemoveLoginFactor(std::string_view org_id, LoginFactor list, std::string_view factor);
  // <org|instance>.policy.label.activated ({}): the preview row becomes the active one.
  Status ActivateLabelPolicy(std::string_view org_id);
  // <...>.policy.label.<asset>.added {"storeKey":key} on the preview row; returns the key the
  // fake invents ("policy/label/logo-<n>", "policy/label/logo-dark-<n>", ...). Empty org_id: the
  // instance. Removing an asset that is not there is NOT_FOUND.
  Result<std::string> AddLabelAsset(std::string_view org_id, LabelAsset asset);
  Status RemoveLabelAsset(std::string_view org_id, LabelAsset asset);
  // Exact body of GET /management/v1/policies/<path> with x-zitadel-orgid: org_id ("" for an
  // unknown org, which the API answers 403; "" for an unknown kind). "domain" gives the domain
  // policy's. Exact body of GET /admin/v1/policies/<path> for DefaultKindPolicyBody.
  std::string KindPolicyBody(std::string_view kind, std::string_view org_id) const;
  std::string DefaultKindPolicyBody(std::string_view kind) const;
  std::vector<std::string> OrgsWithOwnKindPolicy(std::string_view kind) const;  // sorted by id
  // "<base_url()>/assets/v1": the prefix of the label policy's asset URLs.
  std::string AssetPrefix() const;

  // --- Identity providers and the login policy's links to them ---
  // Payloads (ListEvents' sorted keys) are the upstream's: templates {"id","name",…} with a few
  // keys policyd does not read ("clientId", "issuer", ...; "name" left out when empty), configs
  // {"idpConfigId","name",…}. `org_id` empty: the instance. Each call is one push; a refused one
  // pushes nothing. NOT_FOUND: unknown org or IdP.
  // <instance|org>.idp.<kind>.added. INVALID_ARGUMENT: an empty name for a kind that needs one.
  Result<std::string> AddIdp(std::string_view org_id, IdpKind kind, std::string_view name);
  // <iam|org>.idp.config.added {"idpConfigId","name","stylingType"[,"idpType"]} (+ the config
  // event). The instance's are on the instance aggregate despite the "iam." prefix.
  // INVALID_ARGUMENT: an empty name.
  Result<std::string> AddIdpConfig(std::string_view org_id, IdpConfigKind kind,
                                   std::string_view name);
  // A template's <...>.idp.<kind>.changed {"id"[,"name"]} or a config's
  // <iam|org>.idp.config.changed {"idpConfigId"[,"name"]}; nullopt changes another key
  // ("clientId", "stylingType"), so the name key is absent. The type never changes.
  // FAILED_PRECONDITION: the same name; INVALID_ARGUMENT: empty where the kind needs a name.
  Status ChangeIdp(std::string_view idp_id, std::optional<std::string_view> name);
  // An old-style config's <iam|org>.idp.config.deactivated / .reactivated {"idpConfigId"}: the
  // templates projection does not reduce them, so links show the IdP as before.
  // FAILED_PRECONDITION: a template, or already (in)active.
  Status SetIdpConfigActive(std::string_view idp_id, bool active);
  // <...>.idp.oidc.migrated.<azure|google> with the whole added payload of the new kind: name and
  // type change. FAILED_PRECONDITION: not an OIDC template; INVALID_ARGUMENT: `to` is neither
  // kAzureAd nor kGoogle, or an empty name for Azure AD.
  Status MigrateIdp(std::string_view idp_id, IdpKind to, std::string_view name);
  // Templates: instance.idp.removed / org.idp.removed {"id"} alone. Configs:
  // iam.idp.config.removed {"idpConfigId"} + instance.policy.login.idpprovider.cascade.removed +
  // org.policy.login.idpprovider.removed on an "org" aggregate whose id is the instance id (the
  // command's quirk); org.idp.config.removed + org.policy.login.idpprovider.removed (the org
  // "cascade", stored under the plain name). The links go too: an instance IdP's from the
  // instance and every org, an org IdP's from its org.
  Status RemoveIdp(std::string_view idp_id);
  // <instance|org>.policy.login.idpprovider.added {"idpConfigId"[,"idpProviderType":1]} (1 when
  // an org links its own IdP), appended to the owner's links. NOT_FOUND: no own login policy of
  // the org, unknown IdP, or an IdP of another org (also for the instance linking an org's);
  // ALREADY_EXISTS: linked already.
  Status AddIdpToLoginPolicy(std::string_view org_id, std::string_view idp_id);
  // <...>.policy.login.idpprovider.removed {"idpConfigId"}. NOT_FOUND: not linked.
  Status RemoveIdpFromLoginPolicy(std::string_view org_id, std::string_view idp_id);
  std::vector<IdpInfo> Idps() const;  // live IdPs, sorted by id
  // The ids linked to the own login policy of `org_id` ("" the instance), in link order; empty
  // for an org without one.
  std::vector<std::string> LoginPolicyIdpLinks(std::string_view org_id) const;

  // Between Begin and End, all pushes share one creationDate (like one big transaction), e.g. to
  // make a group of more than 1000 events with the same creationDate. Nestable.
  void BeginSharedTimestamp();
  void EndSharedTimestamp();

  // --- Clock and audit-log retention ---
  Timestamp Now() const;
  void AdvanceClock(std::chrono::nanoseconds by);
  // Events older than Now() - retention are invisible to ListEvents. Zero: unlimited (default).
  void SetAuditLogRetention(std::chrono::nanoseconds retention);

  // --- Views for assertions (what the real API would answer right now) ---
  // Exact body of GET /admin/v1/orgs/{org_id}/policies/domain.
  std::string EffectivePolicyBody(std::string_view org_id) const;
  DomainPolicy EffectivePolicy(std::string_view org_id) const;
  // Exact body of GET /admin/v1/policies/domain.
  std::string DefaultPolicyBody() const;
  std::vector<std::string> OrgIds() const;             // existing orgs, sorted by name
  std::vector<std::string> OrgsWithOwnPolicy() const;  // sorted by id
  // An org's domains in the order they were added, primary marked (empty for an unknown org),
  // and the instance's domains in the order they were added: what policyd must end up holding.
  std::vector<::policyd::OrgDomain> OrgDomains(std::string_view org_id) const;
  std::vector<std::string> InstanceDomains() const;
  std::size_t EventCount() const;
  Timestamp LastEventTime() const;  // creationDate of the newest event
  // The newest event (type, aggregate, resource owner, sequence, creationDate; no payload).
  Event LastEvent() const;

  // --- Authentication ---
  void SetPat(std::string pat);  // empty: PATs rejected
  // Registers a service-account key for the JWT-profile grant. INVALID_ARGUMENT if the PEM is
  // neither a public key nor a private key.
  Status RegisterServiceAccount(std::string_view user_id, std::string_view key_id,
                                std::string_view public_key_pem);
  void SetTokenLifetime(std::chrono::seconds lifetime);  // for tokens issued from now on
  void ExpireIssuedTokens();                             // every issued token becomes invalid
  int TokenRequests() const;                             // POST /oauth/v2/token, any outcome
  int IssuedTokens() const;                              // successful ones

  // --- Faults and request accounting ---
  void InjectFault(Fault fault);
  void ClearFaults();
  int FaultsTriggered() const;
  // Requests to this exact path (no query string), any method, faulted ones included.
  int RequestCount(std::string_view path) const;
  int TotalRequests() const;
  // Succeeds once RequestCount(path) >= n; fails with the count seen after `timeout`.
  ::testing::AssertionResult WaitForRequests(std::string_view path, int n,
                                             std::chrono::milliseconds timeout) const;

 private:
  std::unique_ptr<FakeUpstreamImpl> impl_;
};

// --- Helpers for keys and certificates (OpenSSL) ---

// A service-account key as ZITADEL hands it out.
struct ServiceAccountKey {
  std::string user_id;
  std::string key_id;
  std::string private_key_pem;  // "BEGIN RSA PRIVATE KEY" (PKCS#1) or "BEGIN PRIVATE KEY"
  std::string public_key_pem;   // "BEGIN PUBLIC KEY"
  std::string key_file_path;    // the key-file JSON
};

// Generates an RSA-2048 key pair and writes `dir`/<key_id>.json:
// {"type":"serviceaccount","keyId":...,"key":<PEM>,"expirationDate":"9999-12-31T23:59:59Z",
//  "userId":...}. INTERNAL on an OpenSSL or file error.
Result<ServiceAccountKey> GenerateServiceAccountKey(const std::string& dir, std::string user_id,
                                                    std::string key_id, bool pkcs8 = false);

// Claims of a JWT-profile assertion; times are seconds since the epoch.
struct AssertionClaims {
  std::string issuer;    // iss
  std::string subject;   // sub
  std::string audience;  // aud
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

// An RS256 JWT {"alg":"RS256","kid":key_id} signed with `private_key_pem`.
Result<std::string> SignAssertion(std::string_view private_key_pem, std::string_view key_id,
                                  const AssertionClaims& claims);

// A throwaway CA and a server certificate for 127.0.0.1 and localhost, written to `dir` as
// ca.pem, server.pem (leaf then CA) and server-key.pem.
struct TlsFiles {
  std::string ca_cert_path;
  std::string cert_path;
  std::string key_path;
};
Result<TlsFiles> GenerateTlsFiles(const std::string& dir);

}  // namespace policyd::testing_support
