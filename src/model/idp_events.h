// The upstream's identity provider (IdP) events, which the login policy's `idps` list follows
// (zitadel.idp.v1.IDPLoginPolicyLink; facts in docs/policy-kinds.md, "The login policy's IdPs").
//
//   <scope>.policy.login.idpprovider.added      link IdP idpConfigId to the scope's login policy
//   <scope>.policy.login.idpprovider.removed    unlink it (.cascade.removed alike)
//   instance.idp.<template>.added, org.idp.<template>.added
//                                               an IdP: payload id and name, type by template
//                                               (instance LDAP: instance.idp.ldap.v2.added)
//   <those>.changed                             its name, when the payload has the key
//   instance|org.idp.oidc.migrated.azure|google name and type
//   iam|org.idp.config.added                    an old-style IdP: idpConfigId and name, type 0,
//                                               which the following iam|org.idp.oidc.config.added
//                                               (OIDC) or .jwt.config.added (JWT) sets
//   iam|org.idp.config.changed                  its name, when the payload has the key
//   instance.idp.removed, iam.idp.config.removed  the IdP and every link to it, of every org
//   org.idp.removed, org.idp.config.removed     the IdP and the org's links to it
// The old-style instance events kept the "iam." prefix on the instance aggregate.
//
// Pure. Constant tables; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policyd {

enum class IdpAction : std::uint8_t {
  kLinkAdded,    // the scope's login policy links IdpPatch::id
  kLinkRemoved,  // it no longer does
  kAdded,        // an IdP: id, name (missing: ""), type IdpEventType::type
  kChanged,      // its name changes when IdpPatch::name is set
  kTyped,        // an old-style IdP's configuration: its type becomes IdpEventType::type
  kMigrated,     // name and type
  kRemoved,      // the IdP and the links to it (an instance IdP: every org's too)
};

struct IdpEventType {
  bool instance;  // the instance's (else an org's)
  IdpAction action;
  std::uint8_t type = 0;    // kAdded, kTyped, kMigrated: the upstream's domain.IDPType
  std::string_view id_key;  // the payload key of the IdP id: "id" or "idpConfigId"
};

// What an IdP event's payload carries (json/upstream_json.cc reads it).
struct IdpPatch {
  std::string id;                   // the IdP's id (the type's id_key)
  std::optional<std::string> name;  // "name", when the payload has it (and it is not null)

  friend bool operator==(const IdpPatch&, const IdpPatch&) = default;
};

// The meaning of event type `type`, or nullopt if it is not an IdP event policyd follows.
std::optional<IdpEventType> ClassifyIdpEvent(std::string_view type);

// Every event type ClassifyIdpEvent knows, in a fixed order.
const std::vector<std::string>& IdpEventTypes();

}  // namespace policyd
