// The event reducer: ZITADEL's domain-policy projection (internal/query/projection/
// domain_policy.go), applied to the rows a page of events touches.
//
//   instance.policy.domain.added    set the default row (missing payload keys = false)
//   instance.policy.domain.changed  patch the default row (only the keys present)
//   org.policy.domain.added         set the org's own row (missing keys = false)
//   org.policy.domain.changed       patch the org's own row (no row: no effect)
//   org.policy.domain.removed       delete the org's own row (the org falls back to the default)
//   org.added                       the org exists
//   org.removed                     the org, its own row and its domains disappear
//   instance.removed                everything is gone: a new cold start is needed
//   events of the other policy kinds  their rows (sync/kind_reducer.h), each with its own entry
//                                   version; an org event proves its org exists
//   IdP and IdP link events         the login rows' idps and the IdP table (sync/idp_reducer.h);
//                                   org.removed also drops the org's IdPs from the table
//   org.domain.added/verified/primary.set/removed, instance.domain.added/removed
//                                   the org's or the instance's domain list
//                                   (sync/domain_reducer.h); a domain event also proves its org
//                                   exists
// Legacy names (before ZITADEL's 2022 rename) map onto the same effects:
//   iam.policy.org.iam.added/changed, org.iam.policy.added/changed/removed.
//
// Every row keeps details like the projection: sequence and changeDate of the last event applied
// to it, creationDate of the event that added it, and the event stream (aggregate type and id,
// model/event_stream.h) that sequence counts in. An event of the row's stream whose sequence is
// not newer than the row's is already reflected there and has no effect, which makes replaying
// an overlap harmless. Sequences of different streams are never compared: the upstream starts
// each stream at 1 (an instance moves from "iam"/"IAM" to "instance"/"IAM" to
// "instance"/<instance id>), so an event of another stream is applied, in the order the upstream
// returns the events. Replaying events in order on top of the state they led to gives that state
// again, so this is safe where the cursor (sync/cursor.h) lets an event through twice. A policy
// row whose stream is unknown (read from the upstream's policy API, or a snapshot) takes an event
// as applied when it is newer neither by sequence nor by creation date.
//
// Pure. Thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/domain_policy.h"
#include "model/domains.h"
#include "model/event.h"
#include "model/source_version.h"
#include "store/store.h"
#include "sync/kind_reducer.h"
#include "sync/reduce_outcome.h"

namespace policyd {

// The eventTypes filter for POST /admin/v1/events/_search (at most 30 entries).
const std::vector<std::string>& SyncedEventTypes();

// Policy event types of orgs (new and legacy names) plus org.removed: what a cold start replays
// to rebuild every org's own policy from a complete history.
const std::vector<std::string>& OrgPolicyEventTypes();

// The org-domain and instance-domain event types (a subset of SyncedEventTypes()).
const std::vector<std::string>& DomainEventTypes();

// The aggregate types of `event_types`, each once, in first-seen order: the part of each type
// before its first '.' ("org", "instance", and "iam" for the legacy instance events), which is
// the aggregate type of every event type policyd asks for. A query names them in aggregateTypes
// (upstream/upstream.h EventQuery) so that legacy names match.
std::vector<std::string> AggregateTypesOf(const std::vector<std::string>& event_types);

// The rows a page of events may change, loaded from the store first.
struct WorkingSet {
  struct Org {
    bool exists = false;
    std::optional<PolicyRecord> policy;
    bool touched = false;  // exists or policy changed
    std::vector<OrgDomain> domains{};
    std::uint64_t domains_sequence = 0;  // OrgDomains::sequence
    EventStream domains_stream{};        // OrgDomains::stream
    bool domains_touched = false;
    SourceVersion version{};  // the org entry's version (store.h), raised by applied events
    bool version_touched = false;
    KindRows kinds{};  // its rows of the other policy kinds (sync/kind_reducer.h)
  };
  std::optional<InstanceRecord> instance;
  bool instance_touched = false;
  std::map<std::string, Org, std::less<>> orgs;  // every org the events name
  InstanceDomains instance_domains{};
  bool instance_domains_touched = false;
  SourceVersion instance_version{};  // the instance entry's version, raised by applied events
  bool instance_version_touched = false;
  KindRows instance_kinds{};  // the instance defaults of the other policy kinds
  // "<the upstream's origin>/assets/v1", what label asset URLs start with (sync/kind_reducer.h).
  std::string asset_prefix{};
};

// The stream `e` belongs to.
EventStream StreamOf(const Event& e);

// True when a row last changed by event `sequence` of `stream` already reflects `e`: a sequence
// at least e's, of the same stream. A row of unknown stream (a domain list read from the
// upstream's API, or a row of an older store, which a cold start replaces) compares sequences
// only, as policyd did before it kept streams.
bool IsApplied(const EventStream& stream, std::uint64_t sequence, const Event& e);

// Raises `version` to the position (date, stream, sequence) of `e` when that is newer.
void RaiseVersion(const Event& e, SourceVersion& version);

// True if some of `events` is an event of a policy kind other than the domain policy: only then
// does the WorkingSet need their rows (model/policy_kinds.h).
bool ChangesKinds(const std::vector<const Event*>& events);

// Ids of the orgs `events` may change (to load into a WorkingSet before reducing).
std::vector<std::string> OrgsNamedBy(const std::vector<const Event*>& events);

// True if some of `events` changes a domain list: only then does the WorkingSet need the lists
// (the domains of an org that org.removed removes go with its row, loaded or not).
bool ChangesDomains(const std::vector<const Event*>& events);

// Applies one event to `set`. Every org it names must already be in set.orgs (absent orgs with
// exists=false). An event that changes a row also raises its entry's version (the org's, or the
// instance's) to the event's position (date, stream, sequence) if that is newer: a version never
// goes down.
ReduceOutcome Reduce(const Event& event, WorkingSet& set);

// The store change that writes every touched row of `set` (domain lists and versions only of
// orgs that exist: a removed org's go with it), and the raised versions.
StoreChange ToStoreChange(const WorkingSet& set);

}  // namespace policyd
