// The snapshot file format: a complete state as JSON.
//
//   {"instance":{"id":"<instance id>","policy":<DomainPolicy>},
//    "orgs":[{"id":"<org id>","policy":<DomainPolicy>},{"id":"<org id>"}]}
//
// <DomainPolicy> is exactly the upstream's JSON (json/policy_json.h). An org without "policy"
// exists and uses the instance default. The instance policy is written with "isDefault":true
// and its own resourceOwner, or the instance id when that is empty; an org policy must not say
// "isDefault":true.
//
// The writer emits one org per line so dumps diff well and stream without building the whole
// document. Byte for byte, Format writes (\n = one newline, nothing else between tokens):
//
//   {"instance":{"id":"I","policy":<DomainPolicy>},"orgs":[\n
//   {"id":"A","policy":<DomainPolicy>},\n
//   {"id":"B"}\n
//   ]}\n
//
// and with no orgs: {"instance":{...},"orgs":[\n]}\n. See examples/snapshot.json.
// Format(Parse(text)) == text for any text Format produced; Parse(Format(s)) == s for any s with
// valid unique ids, timestamps within 0001..9999 and a non-empty instance resource owner.
//
// The parser accepts any JSON with this meaning: whitespace, field order and unknown fields are
// free, "orgs" may be absent or null, and null stands for an absent "policy". Memory: the padded
// copy of the input, simdjson's index (4 bytes per structural character) and unescaped strings,
// plus the result; no document tree is built.
//
// Pure. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"

namespace policyd {

// Parses and validates a snapshot: instance id and policy present, ids valid (resolve/ValidateId)
// and unique, no org policy claiming isDefault (the instance policy's isDefault is not checked).
// Unknown fields are ignored but must be well-formed JSON.
// Errors: INVALID_ARGUMENT with a JSON path ("orgs[12].id: duplicate org id \"42\" (first at
// orgs[3])") for anything malformed, truncated or over 4 GiB; RESOURCE_EXHAUSTED when memory for
// parsing cannot be allocated.
Result<Snapshot> ParseSnapshot(std::string_view json);

// Streaming writer, for dumping millions of orgs: call Begin once, Org per org in order, End.
// Each call appends to `out`; the caller may flush and clear `out` between calls.
void AppendSnapshotBegin(std::string& out, const InstanceRecord& instance);
void AppendSnapshotOrg(std::string& out, const OrgRecord& org, bool first);
void AppendSnapshotEnd(std::string& out);

// The whole document at once.
std::string FormatSnapshot(const Snapshot& snapshot);

}  // namespace policyd
