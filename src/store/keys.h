// The RocksDB key layout of the policyd store, format "policyd-store-v2".
//
// All keys live in RocksDB's default column family and are printable, so `ldb scan` and
// `ldb get` show them as they are. Values are the binary records of store/codec.h.
//
//   key                 value                                   written
//   ------------------  --------------------------------------  ------------------------------
//   "instance"          InstanceRecord (codec v1)               when a default is stored
//   "meta:format"       "policyd-store-v2" (plain text)         once, when the store is created
//                                                               (or migrated from v1)
//   "meta:state"        StoreMeta (codec v1)                    with every state change
//   "org:<org id>"      org value: own-policy flag + optional   one per known org
//                       PolicyRecord (codec v1)
//   "domains:<org id>"  org domains: sequence + the org's       one per known org that has (or
//                       domains (codec v1)                      had) domains
//   "instance-domains"  instance domains: sequence + names      when instance domains are stored
//                       (codec v1)
//   "version:<org id>"  the org entry's SourceVersion (codec)   with every change of the org's
//                                                               rows that an event, a fleet
//                                                               value or a snapshot gives one
//   "instance-version"  the instance entry's SourceVersion      likewise, for the instance
//   "verified-domain:   the orgs that have the domain verified, with every change of a
//    <domain, ASCII     each org's spelling of it               "domains:" row, in the same
//    lower case>"       (store/domain_index.h)                  WriteBatch; only while >= 1 org
//
// The verified-domain index is derived from the "domains:" rows alone: a row exists exactly for
// the domains that at least one org's list holds as verified, and lists every such org (the
// upstream lets one org at a time verify a domain, but policyd keeps whatever it is given, so a
// removal from one org never drops another's claim). It lets the login-name check ask "has
// another org verified this domain?" with one point read. Domain names are at most 253 bytes and
// hold no control characters (model/domains.h), so the key is printable too.
//
// One key per org holds both "the org exists" and its own policy, so answering a lookup is one
// point read per org plus the instance key. Org ids are stored as their raw bytes after the
// prefix; ids are 1..kMaxIdLength bytes without control characters (resolve.h ValidateId), so
// byte order of the keys is byte order of the ids and all orgs lie in [kOrgPrefix, kOrgEnd).
//
// An org's domains are one value of their own rather than part of the org value: lookups (and the
// in-memory index, which copies org rows) never pay for them, only the checks that need them
// read them; and a store written before domains were kept simply has none of these keys.
// "domains:<org id>" only exists while "org:<org id>" does (the store refuses anything else).
//
// Room to grow: new kinds of rows get a new "<name>:" prefix, chosen so that it does not start
// with "org:" or "meta:". Old readers never look at prefixes they do not know.
//
// Versioning: "meta:format" is checked when the store is opened; a store with any other value is
// refused. History: v1 had no verified-domain index; v2 added it (and policy/domain rows may carry
// a newer codec version byte). A writable open of a v1 store migrates it in place: the index is
// built from the "domains:" rows and written in batches, the first dropping any index rows a
// crashed earlier migration left, the last also writing "policyd-store-v2"; a crash leaves a v1
// store that migrates again. A read-only open (policyctl dump) of a v1 store reads it as it is and
// answers reads that need the index with FAILED_PRECONDITION. A layout or encoding change that old
// binaries cannot read bumps the format string to "policyd-store-v2"; the v2 binary then either
// migrates a v1 store in place (rewrite every row in batches, then write the new "meta:format"
// last, in the same batch as the final rows, so that a crash leaves a store that is still
// recognisably v1 or fully v2) or drops it and resyncs from the upstream. Compatible additions (a
// new prefix, a new codec version byte that old code never meets) do not need a bump.
//
// Pure: no RocksDB, no I/O. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace policyd::store_keys {

inline constexpr std::string_view kFormatKey = "meta:format";
inline constexpr std::string_view kFormatV1 = "policyd-store-v1";  // migrated on open
inline constexpr std::string_view kFormatV2 = "policyd-store-v2";  // what this binary writes
inline constexpr std::string_view kMetaKey = "meta:state";
inline constexpr std::string_view kInstanceKey = "instance";

// Every org key starts with kOrgPrefix; kOrgEnd is the first key after all of them
// (';' is ':' + 1), for range deletes and iterator upper bounds.
inline constexpr std::string_view kOrgPrefix = "org:";
inline constexpr std::string_view kOrgEnd = "org;";

// Every org-domains key lies in [kOrgDomainsPrefix, kOrgDomainsEnd).
inline constexpr std::string_view kOrgDomainsPrefix = "domains:";
inline constexpr std::string_view kOrgDomainsEnd = "domains;";
inline constexpr std::string_view kInstanceDomainsKey = "instance-domains";

// Every org entry-version key lies in [kOrgVersionPrefix, kOrgVersionEnd). An entry version
// (model/source_version.h) is where the entry stands in the upstream's history; fleet mode orders
// its bucket writes by it. A store written before versions were kept has none: every entry then
// reads as version zero (older than anything), until its next change. Only while "org:<id>" is.
inline constexpr std::string_view kOrgVersionPrefix = "version:";
inline constexpr std::string_view kOrgVersionEnd = "version;";
inline constexpr std::string_view kInstanceVersionKey = "instance-version";

// Every verified-domain index key lies in [kDomainIndexPrefix, kDomainIndexEnd).
inline constexpr std::string_view kDomainIndexPrefix = "verified-domain:";
inline constexpr std::string_view kDomainIndexEnd = "verified-domain;";

// Returns "org:<org_id>".
std::string OrgKey(std::string_view org_id);

// Replaces the contents of `*out` with "org:<org_id>", reusing its capacity.
void OrgKeyInto(std::string_view org_id, std::string* out);

// Appends "org:<org_id>" to `*out` (for building many keys in one buffer).
void AppendOrgKey(std::string_view org_id, std::string* out);

// True if `key` is an org key; then `*org_id` is the id it names (a view into `key`).
bool ParseOrgKey(std::string_view key, std::string_view* org_id);

// Appends "domains:<org_id>" to `*out`.
void AppendOrgDomainsKey(std::string_view org_id, std::string* out);

// True if `key` is an org-domains key; then `*org_id` is the id it names (a view into `key`).
bool ParseOrgDomainsKey(std::string_view key, std::string_view* org_id);

// Appends "version:<org_id>" to `*out`.
void AppendOrgVersionKey(std::string_view org_id, std::string* out);

// True if `key` is an org entry-version key; then `*org_id` is the id it names.
bool ParseOrgVersionKey(std::string_view key, std::string_view* org_id);

// Appends "verified-domain:<domain in ASCII lower case>" to `*out`: the same key for every
// spelling that SameDomain() (model/domains.h) treats as equal.
void AppendDomainIndexKey(std::string_view domain, std::string* out);

}  // namespace policyd::store_keys
