// The binary value encoding of the policyd store (the values behind the keys of store/keys.h).
//
// Every value starts with a version byte, then fixed-width little-endian integers and
// length-prefixed strings, no padding. Policy rows and domain lists are written as kCodecV2, which
// adds the event stream of the row's sequence (model/event_stream.h); kCodecV1 rows, written by
// policyd versions that kept no streams, still decode, with the stream unknown. Org values and
// instance records are written as kCodecV3, which adds the entry's version
// (model/source_version.h) after the v2 fields; v1 and v2 ones (stores of format v1 and v2, which
// kept the version in a row of its own) still decode, with the version zero. Other values are
// kCodecV1.
//
//   policy body  := u8 flags              bit 0 user_login_must_be_domain,
//                                         bit 1 validate_org_domains,
//                                         bit 2 smtp_sender_address_matches_instance_domain,
//                                         bits 3..7 zero
//                   u64 sequence
//                   time creation_date
//                   time change_date
//                   str resource_owner    0..kMaxIdLength bytes
//                   stream                (from v2 on)
//   stream       := str type, str id      each 0..kMaxIdLength bytes (empty type: unknown)
//   version body := time date, str stream type, str stream id (each 0..kMaxIdLength bytes; a
//                   stream id only with a type), u64 sequence
//   time         := i64 seconds, u32 nanos (nanos < 1e9)
//   str          := u32 length, then that many bytes
//
//   PolicyRecord   := u8 version (1 or 2), policy body
//   InstanceRecord := u8 version (1..3), str id (1..kMaxIdLength bytes), policy body,
//                     version body (v3 only: the instance entry's version)
//   org value      := u8 version (1..3), u8 has_policy (0 or 1), policy body if has_policy,
//                     version body (v3 only: the org entry's version)
//   StoreMeta      := u8 version, u64 org_count, u64 custom_policy_count (<= org_count),
//                     u8 has_instance (0 or 1), str cursor, str source (each up to
//                     kMaxMetaStringLength bytes), time last_change, time last_sync
//   org domains    := u8 version, u64 sequence, stream (v2 only), u32 count
//                     (<= kMaxDomainsPerList), then per domain: u8 flags (bit 0 verified, bit 1
//                     primary, bits 2..7 zero), str name (1..kMaxDomainLength bytes)
//   instance domains := u8 version, u64 sequence, stream (v2 only), u32 count
//                     (<= kMaxDomainsPerList), then per domain: str name (1..kMaxDomainLength
//                     bytes)
//   entry version  := u8 version (1), version body   (the "version:<org id>" and
//                     "instance-version" rows of format v2 stores, read when migrating them or
//                     opening them read-only; no longer written by the store)
//
// A reader meeting a version byte it does not know reports DATA_LOSS; a new encoding gets a new
// version byte (and, if old binaries could meet it, a store format bump; see store/keys.h).
//
// Encoders overwrite `*out`, reusing its capacity; they accept any value that the matching Check
// function accepts (anything else would not decode again). Decoders treat their input as
// untrusted: truncation, trailing bytes, an unknown version, bad flag bits, nanos out of range,
// an oversize string or list give DATA_LOSS naming the record and field, never a crash. (Domain
// lists are checked for their shape only; the rules of ValidateOrgDomains are the writer's.)
// Decoders assign into `*out` in place so that a reused output does not allocate; on error `*out`
// is unspecified.
//
// Pure: no RocksDB, no I/O. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/domains.h"
#include "model/source_version.h"
#include "model/store_state.h"

namespace policyd {

inline constexpr std::uint8_t kCodecV1 = 1;
inline constexpr std::uint8_t kCodecV2 = 2;
inline constexpr std::uint8_t kCodecV3 = 3;

// Longest cursor or source the store keeps.
inline constexpr std::size_t kMaxMetaStringLength = 64 * 1024;

// OK if `record` can be stored: nanos of both timestamps in [0, 1e9), and a resource owner and
// stream type and id of at most kMaxIdLength bytes each. INVALID_ARGUMENT naming `what` otherwise.
Status CheckPolicyRecord(std::string_view what, const PolicyRecord& record);

// OK if both parts of `stream` are at most kMaxIdLength bytes; INVALID_ARGUMENT naming `what`
// otherwise.
Status CheckStream(std::string_view what, const EventStream& stream);

// OK if `value` (a cursor or source) is at most kMaxMetaStringLength bytes; INVALID_ARGUMENT
// naming `what` otherwise.
Status CheckMetaString(std::string_view what, std::string_view value);

// OK if `version` (model/source_version.h) can be stored: nanos in [0, 1e9), stream parts of at
// most kMaxIdLength bytes, a stream id only with a type. INVALID_ARGUMENT naming `what` otherwise.
Status CheckSourceVersion(std::string_view what, const SourceVersion& version);

void EncodePolicyRecord(const PolicyRecord& record, std::string* out);
// Entry rows, as kCodecV3 with the entry's `version` (one that CheckSourceVersion accepts).
void EncodeInstanceRecord(const InstanceRecord& record, const SourceVersion& version,
                          std::string* out);
// `policy` is the org's own policy, or nullptr when it uses the instance default.
void EncodeOrgValue(const PolicyRecord* policy, const SourceVersion& version, std::string* out);
void EncodeStoreMeta(const StoreMeta& meta, std::string* out);
// Domain lists: any list that ValidateOrgDomains / ValidateInstanceDomains accepts, with a
// stream that CheckStream accepts.
void EncodeOrgDomains(std::uint64_t sequence, const EventStream& stream,
                      const std::vector<OrgDomain>& domains, std::string* out);
void EncodeInstanceDomains(std::uint64_t sequence, const EventStream& stream,
                           const std::vector<std::string>& names, std::string* out);

// The bytes that `version`'s version body takes at the end of a v3 entry row: what precedes it is
// the row's content (for comparing two rows' content without decoding them).
std::size_t VersionBodySize(const SourceVersion& version);

// The entry-version row of a format v2 store (what the store wrote before kCodecV3 entry rows;
// kept for tests and fuzz seeds that make such rows).
void EncodeSourceVersion(const SourceVersion& version, std::string* out);

Status DecodePolicyRecord(std::string_view in, PolicyRecord* out);
// Entry rows: `*version`, when not nullptr, gets the entry version of a v3 row and zero for a v1
// or v2 one. With nullptr the version's bytes are still checked, but not copied (lookups, which
// never need it, then do not pay for its strings).
Status DecodeInstanceRecord(std::string_view in, InstanceRecord* out,
                            SourceVersion* version = nullptr);
// Sets `*has_policy`; fills `*policy` only when it is true (otherwise leaves it untouched).
Status DecodeOrgValue(std::string_view in, bool* has_policy, PolicyRecord* policy,
                      SourceVersion* version = nullptr);
Status DecodeStoreMeta(std::string_view in, StoreMeta* out);
// Resize `*domains` / `*names` to the stored count and assign in place, so that strings of a
// reused vector keep their capacity.
Status DecodeOrgDomains(std::string_view in, std::uint64_t* sequence, EventStream* stream,
                        std::vector<OrgDomain>* domains);
Status DecodeInstanceDomains(std::string_view in, std::uint64_t* sequence, EventStream* stream,
                             std::vector<std::string>* names);
Status DecodeSourceVersion(std::string_view in, SourceVersion* out);

}  // namespace policyd
