// The binary value encoding of the rows of the generic policy kinds (model/policy_kinds.h) in the
// RocksDB store: the values behind "kind-default:<kind>" and "kinds:<org id>" (store/keys.h).
// Shares the conventions of store/codec.h (version byte, little-endian fixed-width integers,
// length-prefixed strings, `time`, `stream` and `version body` as defined there).
//
//   kind row     := u8 kind (a stored generic kind: 1..8), u8 has_policy (0 or 1),
//                   kind policy if has_policy, version body (the row entry's version)
//   kind policy  := u64 sequence, time creation_date, time change_date,
//                   str resource_owner (0..kMaxIdLength bytes), stream,
//                   u8 field count (0..the number of fields of the kind's spec), then per field
//                   in spec order by its FieldType: kBool, kUint64, kEnum, kDuration: u64;
//                   kString: str (0..kMaxKindStringLength bytes); kEnumList: u32 count
//                   (0..kMaxKindListLength), then u32 per value
//   kind default := u8 version (1), kind row (has_policy 1)
//   org kinds    := u8 version (1), u8 count (1..kStoredKindCount - 1), count kind rows in
//                   strictly ascending kind order
//
// The field count lets a later spec append fields: an older row has fewer, and the missing
// trailing fields read as their zero values. A row with more fields than this binary's spec is
// DATA_LOSS (a newer binary that adds fields writes a new version byte). Decoded policies are
// checked with CheckKindPolicy (bool 0/1, known enum numbers, lengths): a value it refuses is
// DATA_LOSS naming the record and the field. An org's "kinds:" row keeps has_policy 0 rows: the
// org's entry of that kind whose own row was removed, kept for its version (the fleet orders its
// writes by it) until the org is removed.
//
// Encoders overwrite `*out`, reusing its capacity, and accept what CheckKindPolicy and
// CheckSourceVersion accept. Decoders treat their input as untrusted (DATA_LOSS, never a crash)
// and assign in place, so reused outputs do not allocate once warmed up.
//
// Pure: no RocksDB, no I/O. Thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/policy_kinds.h"
#include "model/source_version.h"

namespace policyd {

// One stored row of a generic kind, as an org's "kinds:" value holds it.
struct StoredKindRow {
  PolicyKind kind = PolicyKind::kPasswordComplexity;
  bool has_policy = false;
  KindPolicy policy;  // meaningful when has_policy (policy.kind == kind)
  SourceVersion version{};

  friend bool operator==(const StoredKindRow&, const StoredKindRow&) = default;
};

// True for the kinds that have rows of their own here: every stored kind but kDomain.
constexpr bool IsStoredGenericKind(std::uint8_t number) {
  return IsStoredKind(number) && number != static_cast<std::uint8_t>(PolicyKind::kDomain);
}

void EncodeKindDefault(const KindPolicy& policy, const SourceVersion& version, std::string* out);
Status DecodeKindDefault(std::string_view in, KindPolicy* policy, SourceVersion* version);

// `rows`: 1..kStoredKindCount - 1 rows in strictly ascending kind order.
void EncodeOrgKinds(std::span<const StoredKindRow> rows, std::string* out);
// Decodes into the first `*count` elements of `*rows`, which grows as needed but never shrinks
// (elements beyond `*count` keep their capacity for the next call).
Status DecodeOrgKinds(std::string_view in, std::vector<StoredKindRow>* rows, std::size_t* count);

}  // namespace policyd
