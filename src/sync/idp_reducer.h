// The reducer of the identity provider (IdP) events (model/idp_events.h): ZITADEL's
// idp_login_policy_links5 and idp_templates6 projections, as the login policy's `idps` shows
// them (zitadel.idp.v1.IDPLoginPolicyLink: the links of the login row the fallback picks, each
// with its IdP's name and type).
//
//   link added      appends {id, name, type} of the IdP (as the IdP table knows it; an unknown IdP
//                   gives an empty name and type, as the upstream's outer join does) to the
//                   scope's login row, if it has one and does not link the IdP yet
//   link removed    drops it from that row
//   IdP added       puts the IdP into the IdP table (the instance's kIdpTable row)
//   IdP changed, typed, migrated
//                   updates the table's entry (a changed event without "name" does nothing) and
//                   every link to it in the login rows at hand
//   IdP removed     drops the table's entry and the links to it: an instance IdP's from the
//                   instance's and every org's row, an org IdP's from that org's row
//   org removed     (sync/reducer.h) drops the org's IdPs from the table
// A login row's details do not change: the upstream's login policy projection does not reduce
// these events. Each row an event changes has its entry version raised, so the fleet publishes
// it. Links are sets in insertion order: applying an overlap of the stream again in order gives
// the same lists.
//
// Completeness: the rows at hand must include every login row that links an IdP the events
// change. A replay holds every row; for an incremental page the syncer loads the orgs
// OrgsLinkingIdps finds (sync/syncer.h).
//
// Pure. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/event.h"
#include "model/idp_events.h"
#include "model/policy_kinds.h"
#include "sync/reduce_outcome.h"

namespace policyd {

struct WorkingSet;

// Applies IdP event `e` of meaning `t` (ClassifyIdpEvent(e.type)) to `set`, whose instance rows
// hold the IdP table. kInvalid for an event without an IdP id.
ReduceOutcome ReduceIdpEvent(const Event& e, const IdpEventType& t, WorkingSet& set);

// Drops the IdPs that org `org_id` owns from the IdP table of `set` (the org was removed).
// Returns true if the table changed (its entry version is then raised to e's).
bool DropOrgIdps(const Event& e, const std::string& org_id, WorkingSet& set);

// Ids of the IdPs whose change `events` carry to the links of other orgs: IdPs renamed, typed,
// migrated or removed. Sorted, each once.
std::vector<std::string> IdpsChangedBy(const std::vector<const Event*>& events);

// True if `policy` (a login row) links one of `sorted_ids`.
bool LinksAnyOf(const KindPolicy& policy, const std::vector<std::string>& sorted_ids);

// The IdP table that the links of `rows` (login rows read from the upstream's API, which carry
// each IdP's name and proto type) show: every linked IdP once, with the first name seen and its
// domain type (OIDC, JWT, or 0 for any other). nullopt when no row links an IdP. Used where a
// cold start reads the current state instead of replaying the IdP events.
std::optional<KindPolicy> IdpTableFromLinks(const std::vector<KindRow>& rows);

// The links of `e` (a link-added event) the IdP table of `set` cannot name: {owner org id (empty:
// the instance), IdP id}. The syncer asks the upstream for the owner's login policy, whose links
// carry the IdP's name and type (AddIdpsFromLinks), before it reduces the page.
struct UnknownIdp {
  std::string owner;
  std::string idp_id;
  friend bool operator==(const UnknownIdp&, const UnknownIdp&) = default;
};
std::vector<UnknownIdp> UnknownLinkedIdps(const std::vector<const Event*>& events,
                                          const WorkingSet& set);

// Adds IdP `idp_id` to the IdP table of `set` as `links` (a login policy's, read from the
// upstream) show it, of unknown owner (kept until the IdP is removed); nothing when `links` lacks
// it or the table has it. Does not raise the table's version (the events that follow do).
void AddIdpFromLinks(const std::vector<IdpLink>& links, const std::string& idp_id, WorkingSet& set);

}  // namespace policyd
