// The event reducer: ZITADEL's domain-policy projection (internal/query/projection/
// domain_policy.go), applied to the rows a page of events touches.
//
//   instance.policy.domain.added    set the default row (missing payload keys = false)
//   instance.policy.domain.changed  patch the default row (only the keys present)
//   org.policy.domain.added         set the org's own row (missing keys = false)
//   org.policy.domain.changed       patch the org's own row (no row: no effect)
//   org.policy.domain.removed       delete the org's own row (the org falls back to the default)
//   org.added                       the org exists
//   org.removed                     the org and its own row disappear
//   instance.removed                everything is gone: a new cold start is needed
// Legacy names (before ZITADEL's 2022 rename) map onto the same effects:
//   iam.policy.org.iam.added/changed, org.iam.policy.added/changed/removed.
//
// Every row keeps details like the projection: sequence and changeDate of the last event applied
// to it, creationDate of the event that added it. An event whose sequence is not newer than the
// row's is already reflected there and has no effect, which makes replaying an overlap harmless.
//
// Pure. Thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/domain_policy.h"
#include "model/event.h"
#include "store/store.h"

namespace policyd {

// The eventTypes filter for POST /admin/v1/events/_search (at most 30 entries).
const std::vector<std::string>& SyncedEventTypes();

// Policy event types of orgs (new and legacy names) plus org.removed: what a cold start replays
// to rebuild every org's own policy from a complete history.
const std::vector<std::string>& OrgPolicyEventTypes();

// The rows a page of events may change, loaded from the store first.
struct WorkingSet {
  struct Org {
    bool exists = false;
    std::optional<PolicyRecord> policy;
    bool touched = false;
  };
  std::optional<InstanceRecord> instance;
  bool instance_touched = false;
  std::map<std::string, Org, std::less<>> orgs;  // every org the events name
};

enum class ReduceOutcome {
  kApplied,     // a row changed
  kNoEffect,    // understood, nothing to change (already applied, or not about policies)
  kInvalid,     // malformed (bad aggregate id or type): skipped
  kResnapshot,  // the instance was removed: the state must be rebuilt from scratch
};

// Ids of the orgs `events` may change (to load into a WorkingSet before reducing).
std::vector<std::string> OrgsNamedBy(const std::vector<const Event*>& events);

// Applies one event to `set`. Every org it names must already be in set.orgs (absent orgs with
// exists=false).
ReduceOutcome Reduce(const Event& event, WorkingSet& set);

// The store change that writes every touched row of `set`.
StoreChange ToStoreChange(const WorkingSet& set);

}  // namespace policyd
