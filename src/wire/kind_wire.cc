#include "wire/kind_wire.h"

#include <algorithm>
#include <array>
#include <limits>
#include <string>

#include "common_generated.h"
#include "response_generated.h"

namespace policyd::wire {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using flatbuffers::uoffset_t;
using flatbuffers::voffset_t;

constexpr voffset_t kDetailsOffset = 4;  // field 0
constexpr std::int64_t kNanos = 1'000'000'000;
constexpr voffset_t OffsetOfId(std::size_t id) { return static_cast<voffset_t>(4 + 2 * id); }

// Go nanoseconds as google.protobuf.Duration: truncating division keeps both parts' signs equal.
fb::Duration ToDuration(std::int64_t nanos) {
  return fb::Duration(nanos / kNanos, static_cast<std::int32_t>(nanos % kNanos));
}

Offset<fb::Details> BuildDetails(FlatBufferBuilder& fbb, const Details& d) {
  auto owner = d.resource_owner.empty()
                   ? Offset<flatbuffers::String>()
                   : fbb.CreateString(d.resource_owner.data(), d.resource_owner.size());
  const fb::Timestamp created(d.creation_date.seconds, d.creation_date.nanos);
  const fb::Timestamp changed(d.change_date.seconds, d.change_date.nanos);
  return fb::CreateDetails(fbb, d.sequence, d.creation_date.IsZero() ? nullptr : &created,
                           d.change_date.IsZero() ? nullptr : &changed, owner);
}

// Writes the string or enum list of field `value` (empty: nothing) and returns its offset (0:
// none).
uoffset_t BuildIndirect(FlatBufferBuilder& fbb, const FieldSpec& field, const FieldValue& value) {
  if (field.type == FieldType::kString) {
    if (value.text.empty()) return 0;
    return fbb.CreateString(value.text.data(), value.text.size()).o;
  }
  if (field.type == FieldType::kIdpLinks) {
    if (value.links.empty()) return 0;
    std::vector<Offset<fb::IdpLink>> links;
    links.reserve(value.links.size());
    for (const IdpLink& link : value.links) {
      auto name = link.name.empty() ? Offset<flatbuffers::String>()
                                    : fbb.CreateString(link.name.data(), link.name.size());
      links.push_back(fb::CreateIdpLink(fbb, fbb.CreateString(link.id.data(), link.id.size()), name,
                                        static_cast<fb::IdpType>(link.type)));
    }
    return fbb.CreateVector(links).o;
  }
  if (field.type != FieldType::kEnumList || value.list.empty()) return 0;
  fbb.StartVector(value.list.size(), sizeof(std::int32_t));
  for (auto it = value.list.rbegin(); it != value.list.rend(); ++it) {
    fbb.PushElement(static_cast<std::int32_t>(*it));
  }
  return fbb.EndVector(value.list.size());
}

void AddField(FlatBufferBuilder& fbb, voffset_t at, const FieldSpec& field, const FieldValue& value,
              uoffset_t indirect) {
  switch (field.type) {
    case FieldType::kBool:
      fbb.AddElement<std::uint8_t>(at, value.number != 0 ? 1 : 0, 0);
      break;
    case FieldType::kUint64:
      fbb.AddElement<std::uint64_t>(at, value.number, 0);
      break;
    case FieldType::kEnum:
      fbb.AddElement<std::int32_t>(at, static_cast<std::int32_t>(value.number), 0);
      break;
    case FieldType::kDuration: {
      const fb::Duration d = ToDuration(value.duration_nanos());
      fbb.AddStruct(at, &d);
      break;
    }
    case FieldType::kString:
    case FieldType::kEnumList:
    case FieldType::kIdpLinks:
      if (indirect != 0) fbb.AddOffset(at, Offset<void>(indirect));
      break;
  }
}

Status Invalid(std::string_view what, const FieldSpec& field, std::string_view problem) {
  return Status::InvalidArgument(std::string(what) + "." + std::string(field.proto_name) + ": " +
                                 std::string(problem));
}

Result<std::int64_t> ParseDuration(const fb::Duration* d, std::string_view what,
                                   const FieldSpec& field) {
  if (d == nullptr) return std::int64_t{0};
  const std::int64_t seconds = d->seconds();
  const std::int64_t nanos = d->nanos();
  if (nanos <= -kNanos || nanos >= kNanos || (seconds > 0 && nanos < 0) ||
      (seconds < 0 && nanos > 0)) {
    return Err(Invalid(what, field, "not a valid duration"));
  }
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  // Same signs (checked above), so neither subtraction overflows.
  if ((seconds > 0 && seconds > (kMax - nanos) / kNanos) ||
      (seconds < 0 && seconds < (kMin - nanos) / kNanos)) {
    return Err(Invalid(what, field, "duration out of range"));
  }
  return seconds * kNanos + nanos;
}

// The links of an IdP link field (the Verifier checked the vector and its tables).
Status ParseLinks(const flatbuffers::Table& table, voffset_t at, const FieldSpec& field,
                  std::string_view what, std::vector<IdpLink>& out) {
  const auto* v = table.GetPointer<const flatbuffers::Vector<Offset<fb::IdpLink>>*>(at);
  if (v == nullptr) return Status::Ok();
  if (v->size() > kMaxIdpLinks) return Invalid(what, field, "too many links");
  out.reserve(v->size());
  for (const fb::IdpLink* link : *v) {
    const flatbuffers::String* id = link->idp_id();
    const flatbuffers::String* name = link->idp_name();
    if (id == nullptr || id->size() == 0 || id->size() > kMaxIdLength) {
      return Invalid(what, field, "a link without a valid idp_id");
    }
    if (name != nullptr && name->size() > kMaxKindStringLength) {
      return Invalid(what, field, "idp_name too long");
    }
    const auto type = static_cast<std::int32_t>(link->idp_type());
    if (type < 0) return Invalid(what, field, "negative idp_type " + std::to_string(type));
    out.push_back(IdpLink{id->str(),
                          name == nullptr ? std::string() : name->str(),
                          static_cast<std::uint32_t>(type),
                          {}});
  }
  return Status::Ok();
}

Status ParseField(const flatbuffers::Table& table, voffset_t at, const FieldSpec& field,
                  std::string_view what, FieldValue& out) {
  switch (field.type) {
    case FieldType::kBool:
      out.number = table.GetField<std::uint8_t>(at, 0) != 0 ? 1 : 0;
      return Status::Ok();
    case FieldType::kUint64:
      out.number = table.GetField<std::uint64_t>(at, 0);
      return Status::Ok();
    case FieldType::kEnum: {
      const std::int32_t n = table.GetField<std::int32_t>(at, 0);
      if (n < 0) return Invalid(what, field, "negative enum number " + std::to_string(n));
      out.number = static_cast<std::uint64_t>(n);
      return Status::Ok();
    }
    case FieldType::kDuration: {
      Result<std::int64_t> nanos =
          ParseDuration(table.GetStruct<const fb::Duration*>(at), what, field);
      if (!nanos) return nanos.error();
      out.number = static_cast<std::uint64_t>(*nanos);
      return Status::Ok();
    }
    case FieldType::kString: {
      const auto* s = table.GetPointer<const flatbuffers::String*>(at);
      if (s == nullptr) return Status::Ok();
      if (s->size() > kMaxKindStringLength) return Invalid(what, field, "too long");
      out.text.assign(s->c_str(), s->size());
      return Status::Ok();
    }
    case FieldType::kEnumList: {
      const auto* v = table.GetPointer<const flatbuffers::Vector<std::int32_t>*>(at);
      if (v == nullptr) return Status::Ok();
      if (v->size() > kMaxKindListLength) return Invalid(what, field, "too long");
      out.list.reserve(v->size());
      for (std::int32_t n : *v) {
        if (n < 0) return Invalid(what, field, "negative enum number " + std::to_string(n));
        out.list.push_back(static_cast<std::uint32_t>(n));
      }
      return Status::Ok();
    }
    case FieldType::kIdpLinks:
      return ParseLinks(table, at, field, what, out.links);
  }
  return Status::Ok();
}

Result<Details> ParseDetails(const fb::Details* d, std::string_view what) {
  Details out;
  if (d == nullptr) return out;
  out.sequence = d->sequence();
  if (const fb::Timestamp* t = d->creation_date()) out.creation_date = {t->seconds(), t->nanos()};
  if (const fb::Timestamp* t = d->change_date()) out.change_date = {t->seconds(), t->nanos()};
  if (out.creation_date.nanos < 0 || out.creation_date.nanos >= kNanos ||
      out.change_date.nanos < 0 || out.change_date.nanos >= kNanos) {
    return Err(Status::InvalidArgument(std::string(what) + ".details: nanos out of range"));
  }
  if (const flatbuffers::String* owner = d->resource_owner()) {
    if (owner->size() > kMaxIdLength) {
      return Err(Status::InvalidArgument(std::string(what) + ".details: resource owner too long"));
    }
    out.resource_owner.assign(owner->c_str(), owner->size());
  }
  return out;
}

// PolicyResult holds one field per generic kind, in kind order from password_complexity.
constexpr voffset_t ResultKindOffset(PolicyKind kind) {
  return static_cast<voffset_t>(fb::PolicyResult::VT_PASSWORD_COMPLEXITY +
                                2 * (static_cast<int>(kind) - 1));
}
static_assert(ResultKindOffset(PolicyKind::kLabel) == fb::PolicyResult::VT_LABEL);
static_assert(ResultKindOffset(PolicyKind::kLogin) == fb::PolicyResult::VT_LOGIN);

// The table of `kind` in `r`, through the generated accessors (so exactly what the Verifier
// checked as that kind's table); null when absent.
template <typename T>
const flatbuffers::Table* AsTable(const T* t) {
  return reinterpret_cast<const flatbuffers::Table*>(t);
}
const flatbuffers::Table* ResultKind(const fb::PolicyResult& r, PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kPasswordComplexity:
      return AsTable(r.password_complexity());
    case PolicyKind::kPasswordAge:
      return AsTable(r.password_age());
    case PolicyKind::kLockout:
      return AsTable(r.lockout());
    case PolicyKind::kLogin:
      return AsTable(r.login());
    case PolicyKind::kPrivacy:
      return AsTable(r.privacy());
    case PolicyKind::kNotification:
      return AsTable(r.notification());
    case PolicyKind::kLabel:
      return AsTable(r.label());
    case PolicyKind::kDomain:
    case PolicyKind::kLabelPreview:
    case PolicyKind::kIdpTable:
      break;
  }
  return nullptr;
}

}  // namespace

voffset_t KindFieldOffset(const KindSpec& spec, std::size_t index) {
  return OffsetOfId(1 + index + (index >= spec.is_default_index ? 1 : 0));
}

voffset_t KindIsDefaultOffset(const KindSpec& spec) {
  return OffsetOfId(1 + spec.is_default_index);
}

Offset<flatbuffers::Table> BuildKindTable(FlatBufferBuilder& fbb, const KindPolicy& policy,
                                          bool is_default) {
  const KindSpec& spec = SpecOf(policy.kind);
  const std::size_t n = std::min({spec.fields.size(), policy.fields.size(), kMaxKindFields});
  std::array<uoffset_t, kMaxKindFields> indirect{};
  for (std::size_t i = 0; i < n; ++i)
    indirect[i] = BuildIndirect(fbb, spec.fields[i], policy.fields[i]);
  auto details = BuildDetails(fbb, policy.details);
  const uoffset_t start = fbb.StartTable();
  fbb.AddOffset(kDetailsOffset, details);
  fbb.AddElement<std::uint8_t>(KindIsDefaultOffset(spec), is_default ? 1 : 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    AddField(fbb, KindFieldOffset(spec, i), spec.fields[i], policy.fields[i], indirect[i]);
  }
  return Offset<flatbuffers::Table>(fbb.EndTable(start));
}

Result<KindValue> ParseKindTable(PolicyKind kind, const flatbuffers::Table& table,
                                 std::string_view what) {
  const KindSpec& spec = SpecOf(kind);
  KindValue out;
  out.policy = EmptyKindPolicy(kind);
  Result<Details> details =
      ParseDetails(table.GetPointer<const fb::Details*>(kDetailsOffset), what);
  if (!details) return Err(details.error());
  out.policy.details = std::move(*details);
  out.is_default = table.GetField<std::uint8_t>(KindIsDefaultOffset(spec), 0) != 0;
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    Status s =
        ParseField(table, KindFieldOffset(spec, i), spec.fields[i], what, out.policy.fields[i]);
    if (!s.ok()) return Err(std::move(s));
  }
  return out;
}

void BuildResultKinds(FlatBufferBuilder& fbb, const KindAnswers& answers, KindOffsets& offsets) {
  offsets.fill(0);
  for (PolicyKind kind : kGenericKinds) {
    const KindAnswer& a = answers.kinds[static_cast<std::size_t>(kind)];
    if (a.policy == nullptr || a.policy->kind != kind) continue;
    offsets[static_cast<std::size_t>(kind)] = BuildKindTable(fbb, *a.policy, a.is_default).o;
  }
}

void AddResultKinds(FlatBufferBuilder& fbb, const KindOffsets& offsets) {
  for (PolicyKind kind : kGenericKinds) {
    const uoffset_t o = offsets[static_cast<std::size_t>(kind)];
    if (o != 0) fbb.AddOffset(ResultKindOffset(kind), Offset<void>(o));
  }
}

Status ParseResultKinds(const fb::PolicyResult& result, std::vector<KindValue>& out) {
  for (PolicyKind kind : kGenericKinds) {
    const flatbuffers::Table* table = ResultKind(result, kind);
    if (table == nullptr) continue;
    Result<KindValue> value = ParseKindTable(kind, *table, SpecOf(kind).message_name);
    if (!value) return value.error();
    out.push_back(std::move(*value));
  }
  return Status::Ok();
}

}  // namespace policyd::wire
