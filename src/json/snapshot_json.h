// The snapshot file format: a complete state as JSON.
//
//   {"instance":{"id":"<instance id>","policy":<DomainPolicy>},
//    "orgs":[{"id":"<org id>","policy":<DomainPolicy>},{"id":"<org id>"}]}
//
// <DomainPolicy> is exactly the upstream's JSON (json/policy_json.h). An org without "policy"
// exists and uses the instance default. The instance policy is written with "isDefault":true
// and resourceOwner = instance id; an org policy must not say "isDefault":true.
//
// The writer emits one org per line so dumps diff well and stream without building the whole
// document; Parse(Format(s)) == s and Format(Parse(text)) == text for any text Format produced.
//
// Pure. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"

namespace policyd {

// Parses and validates a snapshot: instance id and policy present, ids valid (resolve/ValidateId)
// and unique, no org policy claiming isDefault. Unknown fields are ignored.
// Errors: INVALID_ARGUMENT with a JSON path ("orgs[12].id: duplicate org id \"42\"").
Result<Snapshot> ParseSnapshot(std::string_view json);

// Streaming writer, for dumping millions of orgs: call Begin once, Org per org in order, End.
// Each call appends to `out`; the caller may flush and clear `out` between calls.
void AppendSnapshotBegin(std::string& out, const InstanceRecord& instance);
void AppendSnapshotOrg(std::string& out, const OrgRecord& org, bool first);
void AppendSnapshotEnd(std::string& out);

// The whole document at once.
std::string FormatSnapshot(const Snapshot& snapshot);

}  // namespace policyd
