// The FlatBuffers tables of the generic policy kinds (schemas/common.fbs PasswordComplexityPolicy
// ... LabelPolicy), built and read once, driven by the kind's KindSpec (model/policy_kinds.h).
//
// Field ids follow the schema's rule for those tables: details is field 0, then the spec's
// fields in order with is_default inserted at is_default_index; a field's vtable offset is
// 4 + 2 * id. The schema and the specs must agree; tests/unit/wire/kind_wire_test.cc reads
// every field of every kind back through the flatc-generated accessors to prove it.
//
// Internal to wire/ (it speaks flatbuffers types). Pure; thread-safe apart from the builder.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>

#include "base/status.h"
#include "model/policy_kinds.h"
#include "wire/response.h"

namespace policyd::fb {
struct PolicyResult;
}  // namespace policyd::fb

namespace policyd::wire {

// Most spec fields a kind may have for BuildKindTable (the login policy has 20; a test checks
// every spec against it).
inline constexpr std::size_t kMaxKindFields = 32;

// The vtable offset of `kind`'s spec field `index`, and of its is_default.
flatbuffers::voffset_t KindFieldOffset(const KindSpec& spec, std::size_t index);
flatbuffers::voffset_t KindIsDefaultOffset(const KindSpec& spec);

// Builds the table of `policy` (which must pass CheckKindPolicy) into `fbb`. Allocates nothing
// beyond the builder's own buffer: strings and enum lists are written before the table, with
// their offsets on the stack. Zero values (false, 0, "", [] ) are left out, as flatc's builders do;
// durations are always written.
flatbuffers::Offset<flatbuffers::Table> BuildKindTable(flatbuffers::FlatBufferBuilder& fbb,
                                                       const KindPolicy& policy, bool is_default);

// Reads the table of `kind` (already checked by the FlatBuffers Verifier as that table). Enum
// numbers this build does not know (a newer daemon's) are kept; INVALID_ARGUMENT for what the
// verifier cannot see: a negative enum number, a string over kMaxKindStringLength bytes, a list
// over kMaxKindListLength entries, a duration whose seconds and nanos differ in sign, have nanos
// beyond +-999,999,999 or overflow Go's int64 nanoseconds, details nanos outside 0..999,999,999,
// a resource owner over kMaxIdLength bytes. `what` names the table in messages.
Result<KindValue> ParseKindTable(PolicyKind kind, const flatbuffers::Table& table,
                                 std::string_view what);

// PolicyResult's kind fields: the offsets of the tables built for `answers` (indexed by kind
// number, 0: absent), then added to a PolicyResult under construction.
using KindOffsets = std::array<flatbuffers::uoffset_t, kPolicyKindCount>;
void BuildResultKinds(flatbuffers::FlatBufferBuilder& fbb, const KindAnswers& answers,
                      KindOffsets& offsets);
void AddResultKinds(flatbuffers::FlatBufferBuilder& fbb, const KindOffsets& offsets);

// Appends to `out` every kind table present in `result`, in kind order.
Status ParseResultKinds(const fb::PolicyResult& result, std::vector<KindValue>& out);

}  // namespace policyd::wire
