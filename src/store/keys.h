// The RocksDB key layout of the policyd store, format "policyd-store-v3".
//
// All keys live in RocksDB's default column family and are printable, so `ldb scan` and
// `ldb get` show them as they are. Values are the binary records of store/codec.h.
//
//   key                 value                                   written
//   ------------------  --------------------------------------  ------------------------------
//   "instance"          InstanceRecord + the instance entry's   when a default is stored, and
//                       SourceVersion (codec v3)                with every change of its version
//   "meta:format"       "policyd-store-v3" (plain text)         once, when the store is created
//                                                               (or migrated from v1 or v2)
//   "meta:state"        StoreMeta (codec v1)                    with every state change
//   "org:<org id>"      org value: own-policy flag + optional   one per known org, rewritten
//                       PolicyRecord + the org entry's          with every change of its
//                       SourceVersion (codec v3)                version
//   "domains:<org id>"  org domains: sequence + the org's       one per known org that has (or
//                       domains (codec v1)                      had) domains
//   "instance-domains"  instance domains: sequence + names      when instance domains are stored
//                       (codec v1)
//   "verified-domain:   the orgs that have the domain verified, with every change of a
//    <domain, ASCII     each org's spelling of it               "domains:" row, in the same
//    lower case>"       (store/domain_index.h)                  WriteBatch; only while >= 1 org
//   "kind-default:<k>"  the instance default of generic kind k  when the kind's default is
//                       (decimal 1..8) + its entry version      stored; never removed (only a
//                       (store/kind_codec.h)                    Replace drops it)
//   "kinds:<org id>"    every row of the generic kinds the org  one per known org with a row
//                       has: per kind its own policy or a       (or a tombstone) of some
//                       tombstone, + each row's entry version   generic kind; deleted with the
//                       (store/kind_codec.h)                    org
//
// The verified-domain index is derived from the "domains:" rows alone: a row exists exactly for
// the domains that at least one org's list holds as verified, and lists every such org (the
// upstream lets one org at a time verify a domain, but policyd keeps whatever it is given, so a
// removal from one org never drops another's claim). It lets the login-name check ask "has
// another org verified this domain?" with one point read. Domain names are at most 253 bytes and
// hold no control characters (model/domains.h), so the key is printable too.
//
// One key per org holds "the org exists", its own policy and its entry version (where the org
// stands in the upstream's history, model/source_version.h), so answering a lookup is one point
// read per org plus the instance key, and the sync reducer reads and writes one row per changed
// org, version included. (Format v2 kept each version in a row of its own, which doubled the rows
// a page of events read and wrote.) Org ids are stored as their raw bytes after the
// prefix; ids are 1..kMaxIdLength bytes without control characters (resolve.h ValidateId), so
// byte order of the keys is byte order of the ids and all orgs lie in [kOrgPrefix, kOrgEnd).
//
// An org's domains are one value of their own rather than part of the org value: lookups (and the
// in-memory index, which copies org rows) never pay for them, only the checks that need them
// read them; and a store written before domains were kept simply has none of these keys.
// "domains:<org id>" only exists while "org:<org id>" does (the store refuses anything else).
//
// The generic kinds (issue #14; a compatible addition to v3, old binaries never read these
// prefixes) keep one value per org holding all of its kinds' rows rather than one key per
// (org, kind): org ids may hold any printable byte, so no separator after the id keeps the keys
// of one org adjacent and in org id byte order (ForEachKindRow's order), while "kinds:<org id>"
// sorts exactly like "org:<org id>"; a lookup of every kind of an org is one point read whatever
// the kinds asked; removing an org is one delete; and only ~1% of orgs per kind have a row at
// all, so most orgs have no such key (their lookups stop at the bloom filter). A change of one
// kind rewrites the org's other rows too: a few hundred bytes (a label policy with its asset URLs
// is the largest). A kind whose own row is removed keeps a tombstone with its entry version
// inside the value until the org goes. The defaults are few (one per kind) and each its own key.
//
// Room to grow: new kinds of rows get a new "<name>:" prefix, chosen so that it does not start
// with "org:" or "meta:". Old readers never look at prefixes they do not know.
//
// Versioning: "meta:format" is checked when the store is opened; a store with any other value is
// refused. History: v1 had no verified-domain index; v2 added it (and policy/domain rows may carry
// a newer codec version byte), and later the entry versions as rows of their own,
// "version:<org id>" and "instance-version" (kOrgVersionPrefix below); v3 folds each version
// into its org value or instance record (codec v3) and has no such rows.
//
// A writable open of a v1 store migrates it in place to v2, then on to v3: the index is built
// from the "domains:" rows and written in batches, the first dropping any index rows a crashed
// earlier migration left, the last also writing "policyd-store-v2"; a crash leaves a v1 store
// that migrates again. A writable open of a v2 store migrates it in place to v3: every org row is
// rewritten as codec v3 with the version of its "version:" row (zero if it has none) and that row
// deleted in the same batch, in batches of 10,000 orgs; the last batch also drops version rows of
// no org, rewrites the instance record with the "instance-version" row's version, deletes that
// row and writes "policyd-store-v3". A crash leaves a v2 store whose rewritten org rows carry
// their version already (their version rows gone), which migrates again (a version row, where
// there is one, wins over a version in the org row). A read-only open (policyctl dump) of a v1 or
// v2 store reads it as it is: versions from the version rows; a v1 store answers reads that need
// the index with FAILED_PRECONDITION. A layout or encoding change that old binaries cannot read
// bumps the format string; the new binary then either migrates an older store in place (rewrite
// every row in batches, then write the new "meta:format" last, in the same batch as the final
// rows, so that a crash leaves a store that is still recognisably old or fully new) or drops it
// and resyncs from the upstream. Compatible additions (a new prefix, a new codec version byte
// that old code never meets) do not need a bump.
//
// Pure: no RocksDB, no I/O. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace policyd::store_keys {

inline constexpr std::string_view kFormatKey = "meta:format";
inline constexpr std::string_view kFormatV1 = "policyd-store-v1";  // migrated on open
inline constexpr std::string_view kFormatV2 = "policyd-store-v2";  // migrated on open
inline constexpr std::string_view kFormatV3 = "policyd-store-v3";  // what this binary writes
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

// Format v2 only (read when migrating a v2 store, or opening one read-only): every org
// entry-version key lies in [kOrgVersionPrefix, kOrgVersionEnd), and "instance-version" is the
// instance entry's. An entry version (model/source_version.h) is where the entry stands in the
// upstream's history; fleet mode orders its bucket writes by it. A v2 store written before
// versions were kept has none: every entry then reads as version zero (older than anything).
inline constexpr std::string_view kOrgVersionPrefix = "version:";
inline constexpr std::string_view kOrgVersionEnd = "version;";
inline constexpr std::string_view kInstanceVersionKey = "instance-version";

// The rows of the generic policy kinds (model/policy_kinds.h; values in store/kind_codec.h):
// "kind-default:<kind number in decimal>" is a kind's instance default, and "kinds:<org id>" holds
// every row of the org's own (kinds 1..8, tombstones included), in [kOrgKindsPrefix,
// kOrgKindsEnd).
inline constexpr std::string_view kKindDefaultPrefix = "kind-default:";
inline constexpr std::string_view kKindDefaultEnd = "kind-default;";
inline constexpr std::string_view kOrgKindsPrefix = "kinds:";
inline constexpr std::string_view kOrgKindsEnd = "kinds;";

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

// Appends "kind-default:<number of kind>" to `*out` (kind < 10).
void AppendKindDefaultKey(unsigned kind, std::string* out);

// True if `key` is a kind-default key of a single decimal digit; then `*kind` is that digit.
bool ParseKindDefaultKey(std::string_view key, unsigned* kind);

// Appends "kinds:<org_id>" to `*out`.
void AppendOrgKindsKey(std::string_view org_id, std::string* out);

// True if `key` is an org-kinds key; then `*org_id` is the id it names (a view into `key`).
bool ParseOrgKindsKey(std::string_view key, std::string_view* org_id);

// Appends "verified-domain:<domain in ASCII lower case>" to `*out`: the same key for every
// spelling that SameDomain() (model/domains.h) treats as equal.
void AppendDomainIndexKey(std::string_view domain, std::string* out);

}  // namespace policyd::store_keys
