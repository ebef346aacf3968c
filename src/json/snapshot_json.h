// The snapshot file format: a complete state as JSON.
//
//   {"instance":{"id":"<instance id>","policy":<DomainPolicy>,"policies":{<kinds>}},
//    "instanceDomains":[{"domain":"<name>"}],
//    "orgs":[{"id":"<org id>","policy":<DomainPolicy>,"policies":{<kinds>},
//             "domains":[{"domainName":"<name>","isVerified":true,"isPrimary":true}]},
//            {"id":"<org id>"}]}
//
// <DomainPolicy> is exactly the upstream's JSON (json/policy_json.h). An org without "policy"
// exists and uses the instance default. The instance policy is written with "isDefault":true
// and its own resourceOwner, or the instance id when that is empty; an org policy must not say
// "isDefault":true.
//
// <kinds> are the other policy kinds (model/policy_kinds.h): "<name>":<that kind's policy object
// as the upstream's GET returns it> (json/kind_json.h) for the names passwordComplexity,
// passwordAge, lockout, login, privacy, notification and label (the active label policy), each at
// most once, in that order when written. The instance's are its defaults (written with
// "isDefault":true); an org's are its own rows (never "isDefault":true), and a kind it lacks
// falls back to the default. "policies" is written only when there is one, so a snapshot of the
// domain policy alone reads and writes as before; a kind name this policyd does not know is
// ignored (a newer policyd's snapshot still loads).
//
// Domains (model/domains.h) use the upstream's field names (management ListOrgDomains, admin
// ListInstanceDomains); a missing or null boolean is false, and "instanceDomains" or an org's
// "domains" absent, null or [] means none. Names are 1..253 bytes without whitespace or control
// characters, unique (ASCII case-insensitively) within one list; an org has at most one primary
// domain, which must be verified; a list holds at most kMaxDomainsPerList. Snapshots carry no
// domain sequences (0).
//
// The writer emits one org per line so dumps diff well and stream without building the whole
// document. Byte for byte, Format writes (\n = one newline, nothing else between tokens):
//
//   {"instance":{"id":"I","policy":<DomainPolicy>},"instanceDomains":[{"domain":"d"}],"orgs":[\n
//   {"id":"A","policy":<DomainPolicy>,"domains":[{"domainName":"a.com","isVerified":true}]},\n
//   {"id":"B"}\n
//   ]}\n
//
// ("instanceDomains" and "domains" only when not empty; false booleans omitted) and with no orgs:
// {"instance":{...},"orgs":[\n]}\n. See examples/snapshot.json.
// Format(Parse(text)) == text for any text Format produced; Parse(Format(s)) == s for any s with
// valid unique ids, timestamps within 0001..9999, a non-empty instance resource owner, and valid
// domain lists: org_domains in the order of `orgs`, none empty, sequences 0.
//
// The parser accepts any JSON with this meaning: whitespace, field order and unknown fields are
// free, "orgs" may be absent or null, and null stands for an absent "policy". Memory: the padded
// copy of the input, simdjson's index (4 bytes per structural character) and unescaped strings,
// plus the result; no document tree is built.
//
// Pure. Thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/domain_policy.h"

namespace policyd {

// Parses and validates a snapshot: instance id and policy present, ids valid (resolve/ValidateId)
// and unique, no org policy claiming isDefault (the instance policy's isDefault is not checked),
// domain lists as above. Snapshot::org_domains comes out in the order of the orgs.
// Unknown fields are ignored but must be well-formed JSON.
// Errors: INVALID_ARGUMENT with a JSON path ("orgs[12].id: duplicate org id \"42\" (first at
// orgs[3])") for anything malformed, truncated or over 4 GiB; RESOURCE_EXHAUSTED when memory for
// parsing cannot be allocated.
Result<Snapshot> ParseSnapshot(std::string_view json);

// Streaming writer, for dumping millions of orgs: call Begin once, Org per org in order, End.
// Each call appends to `out`; the caller may flush and clear `out` between calls.
// `instance_kinds` / `kinds`: the rows of the other policy kinds of the instance (its defaults)
// and of the org (its own rows), in any order; null entries and label previews are skipped.
void AppendSnapshotBegin(std::string& out, const InstanceRecord& instance,
                         std::span<const std::string> instance_domains = {},
                         std::span<const KindPolicy* const> instance_kinds = {});
void AppendSnapshotOrg(std::string& out, const OrgRecord& org, bool first,
                       std::span<const OrgDomain> domains = {},
                       std::span<const KindPolicy* const> kinds = {});
void AppendSnapshotEnd(std::string& out);

// The whole document at once.
std::string FormatSnapshot(const Snapshot& snapshot);

}  // namespace policyd
