#include "store/kind_codec.h"

#include "store/codec_io.h"

namespace policyd {
namespace {

using namespace codec_internal;

constexpr std::uint8_t kKindCodecV1 = 1;

void PutKindPolicy(const KindPolicy& p, std::string* out) {
  PutFixed(p.details.sequence, out);
  PutTime(p.details.creation_date, out);
  PutTime(p.details.change_date, out);
  PutString(p.details.resource_owner, out);
  PutStream(p.stream, out);
  const KindSpec& spec = SpecOf(p.kind);
  PutFixed(static_cast<std::uint8_t>(spec.fields.size()), out);
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldValue& v = p.fields[i];
    switch (spec.fields[i].type) {
      case FieldType::kString:
        PutString(v.text, out);
        break;
      case FieldType::kEnumList:
        PutFixed(static_cast<std::uint32_t>(v.list.size()), out);
        for (std::uint32_t n : v.list) PutFixed(n, out);
        break;
      case FieldType::kIdpLinks:
        PutFixed(static_cast<std::uint32_t>(v.links.size()), out);
        for (const IdpLink& link : v.links) {
          PutString(link.id, out);
          PutString(link.name, out);
          PutFixed(link.type, out);
          PutString(link.owner, out);
        }
        break;
      default:
        PutFixed(v.number, out);
        break;
    }
  }
}

void PutKindRow(PolicyKind kind, const KindPolicy* policy, const SourceVersion& version,
                std::string* out) {
  PutFixed(static_cast<std::uint8_t>(kind), out);
  PutFixed(static_cast<std::uint8_t>(policy != nullptr ? 1 : 0), out);
  if (policy != nullptr) PutKindPolicy(*policy, out);
  PutVersionBody(version, out);
}

// Decodes one field's value in place; the members its type does not use are reset, so that a
// reused value holds nothing of an earlier one.
bool LinksOf(Decoder& d, const FieldSpec& field, std::size_t max, std::vector<IdpLink>* links) {
  std::uint32_t n = 0;
  // Each link takes at least 4 length bytes per string and 4 for the type.
  if (!d.Count(field.json_name, max, 16, &n)) return false;
  links->resize(n);
  for (IdpLink& link : *links) {
    if (!d.String("idp id", 1, kMaxIdLength, &link.id) ||
        !d.String("idp name", 0, kMaxKindStringLength, &link.name) ||
        !d.Fixed("idp type", &link.type) || !d.String("idp owner", 0, kMaxIdLength, &link.owner)) {
      return false;
    }
  }
  return true;
}

bool FieldValueOf(Decoder& d, const FieldSpec& field, std::size_t max_links, FieldValue* v) {
  if (field.type != FieldType::kString) v->text.clear();
  if (field.type != FieldType::kEnumList) v->list.clear();
  if (field.type != FieldType::kIdpLinks) v->links.clear();
  if (field.type == FieldType::kString || field.type == FieldType::kEnumList ||
      field.type == FieldType::kIdpLinks) {
    v->number = 0;
  }
  switch (field.type) {
    case FieldType::kIdpLinks:
      return LinksOf(d, field, max_links, &v->links);
    case FieldType::kString:
      return d.String(field.json_name, 0, kMaxKindStringLength, &v->text);
    case FieldType::kEnumList: {
      std::uint32_t n = 0;
      if (!d.Count(field.json_name, kMaxKindListLength, sizeof(std::uint32_t), &n)) return false;
      v->list.resize(n);
      for (std::uint32_t& e : v->list) {
        if (!d.Fixed(field.json_name, &e)) return false;
      }
      return true;
    }
    default:
      return d.Fixed(field.json_name, &v->number);
  }
}

// Sets `*v` to the zero value in place (a field an older row does not have).
void ZeroField(FieldValue* v) {
  v->number = 0;
  v->text.clear();
  v->list.clear();
  v->links.clear();
}

bool KindPolicyOf(Decoder& d, PolicyKind kind, KindPolicy* p) {
  p->kind = kind;
  bool ok = d.Fixed("sequence", &p->details.sequence) &&
            d.Time("creation_date", &p->details.creation_date) &&
            d.Time("change_date", &p->details.change_date) &&
            d.String("resource_owner", 0, kMaxIdLength, &p->details.resource_owner) &&
            d.String("stream type", 0, kMaxIdLength, &p->stream.type) &&
            d.String("stream id", 0, kMaxIdLength, &p->stream.id);
  std::uint8_t count = 0;
  if (!ok || !d.Fixed("field count", &count)) return false;
  const KindSpec& spec = SpecOf(kind);
  if (count > spec.fields.size()) {
    return d.Fail("field count " + std::to_string(count) + " exceeds the " +
                  std::to_string(spec.fields.size()) + " fields of kind " +
                  std::to_string(static_cast<int>(kind)));
  }
  p->fields.resize(spec.fields.size());
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    if (i >= count) {
      ZeroField(&p->fields[i]);
    } else if (!FieldValueOf(d, spec.fields[i], MaxIdpLinks(kind), &p->fields[i])) {
      return false;
    }
  }
  if (Status s = CheckKindPolicy("policy", *p); !s.ok()) return d.Fail(s.message());
  return true;
}

// A kind row: its kind (which must be greater than `after`), presence, policy and version.
bool KindRowOf(Decoder& d, std::uint8_t after, StoredKindRow* row) {
  std::uint8_t kind = 0;
  if (!d.Fixed("kind", &kind)) return false;
  if (!IsStoredGenericKind(kind)) return d.Fail("kind " + std::to_string(kind) + " unknown");
  if (kind <= after) return d.Fail("kind " + std::to_string(kind) + " out of order");
  row->kind = static_cast<PolicyKind>(kind);
  return d.Bool("has_policy", &row->has_policy) &&
         (!row->has_policy || KindPolicyOf(d, row->kind, &row->policy)) &&
         d.VersionBody(&row->version);
}

}  // namespace

void EncodeKindDefault(const KindPolicy& policy, const SourceVersion& version, std::string* out) {
  out->clear();
  PutFixed(kKindCodecV1, out);
  PutKindRow(policy.kind, &policy, version, out);
}

Status DecodeKindDefault(std::string_view in, KindPolicy* policy, SourceVersion* version) {
  Decoder d(in, "kind default");
  thread_local StoredKindRow row;
  std::swap(row.policy, *policy);  // decode into the caller's capacity
  bool ok = d.Version() && KindRowOf(d, 0, &row);
  if (ok && !row.has_policy) ok = d.Fail("has_policy is 0: a default has no tombstone");
  std::swap(row.policy, *policy);
  if (ok) *version = row.version;
  return d.Finish(ok);
}

void EncodeOrgKinds(std::span<const StoredKindRow> rows, std::string* out) {
  out->clear();
  PutFixed(kKindCodecV1, out);
  PutFixed(static_cast<std::uint8_t>(rows.size()), out);
  for (const StoredKindRow& row : rows) {
    PutKindRow(row.kind, row.has_policy ? &row.policy : nullptr, row.version, out);
  }
}

Status DecodeOrgKinds(std::string_view in, std::vector<StoredKindRow>* rows, std::size_t* count) {
  Decoder d(in, "org kinds");
  std::uint8_t n = 0;
  *count = 0;
  bool ok = d.Version() && d.Fixed("count", &n);
  if (ok && (n == 0 || n >= kStoredKindCount)) {
    ok = d.Fail("count " + std::to_string(n) + " outside [1, " +
                std::to_string(kStoredKindCount - 1) + "]");
  }
  if (ok && rows->size() < n) rows->resize(n);
  std::uint8_t after = 0;
  for (std::size_t i = 0; ok && i < n; ++i) {
    ok = KindRowOf(d, after, &(*rows)[i]);
    after = static_cast<std::uint8_t>((*rows)[i].kind);
  }
  if (ok) *count = n;
  Status s = d.Finish(ok);
  if (!s.ok()) *count = 0;
  return s;
}

}  // namespace policyd
