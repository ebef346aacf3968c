#include "fleet/values.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <vector>

#include "fleet_generated.h"
#include "resolve/resolve.h"

namespace policyd::fleet {
namespace {

using StringVector = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;
using DomainVector = flatbuffers::Vector<flatbuffers::Offset<fb::OrgDomain>>;

// ---- checks on the model (shared by encoder and decoder) ----

Status CheckNanos(std::string_view what, Timestamp t) {
  if (t.nanos < 0 || t.nanos >= kNanosPerSecond) {
    return Status::InvalidArgument(std::string(what) + " nanos " + std::to_string(t.nanos) +
                                   " out of range");
  }
  return Status::Ok();
}

// An optional string: at most `max` bytes, no control characters.
Status CheckText(std::string_view what, std::string_view text, std::size_t max) {
  if (text.size() > max) {
    return Status::InvalidArgument(std::string(what) + " is longer than " + std::to_string(max) +
                                   " bytes");
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(std::string(what) + " contains a control character");
    }
  }
  return Status::Ok();
}

Status CheckStream(std::string_view what, const EventStream& s) {
  POLICYD_RETURN_IF_ERROR(CheckText(std::string(what) + " stream type", s.type, kMaxIdLength));
  POLICYD_RETURN_IF_ERROR(CheckText(std::string(what) + " stream id", s.id, kMaxIdLength));
  if (s.type.empty() && !s.id.empty()) {
    return Status::InvalidArgument(std::string(what) + " stream has an id but no type");
  }
  return Status::Ok();
}

Status CheckVersion(const SourceVersion& v) {
  POLICYD_RETURN_IF_ERROR(CheckNanos("version date", v.date));
  return CheckStream("version", v.stream);
}

Status CheckPolicy(std::string_view what, const PolicyRecord& p) {
  POLICYD_RETURN_IF_ERROR(
      CheckNanos(std::string(what) + " creation date", p.details.creation_date));
  POLICYD_RETURN_IF_ERROR(CheckNanos(std::string(what) + " change date", p.details.change_date));
  POLICYD_RETURN_IF_ERROR(
      CheckText(std::string(what) + " resource owner", p.details.resource_owner, kMaxIdLength));
  return CheckStream(what, p.stream);
}

Status CheckEntry(const FleetKey&, const InstanceEntry& e) {
  POLICYD_RETURN_IF_ERROR(ValidateId("instance id", e.instance.id));
  POLICYD_RETURN_IF_ERROR(CheckPolicy("instance policy", e.instance.policy));
  POLICYD_RETURN_IF_ERROR(ValidateInstanceDomains("instance domains", e.domains.names));
  return CheckStream("instance domains", e.domains.stream);
}

Status CheckEntry(const FleetKey& key, const OrgEntry& e) {
  POLICYD_RETURN_IF_ERROR(ValidateId("org id", e.org.id));
  if (e.org.id != key.id) return Status::InvalidArgument("org id differs from the key's");
  if (e.domains.org_id != e.org.id) {
    return Status::InvalidArgument("domain list belongs to another org");
  }
  if (e.org.policy) POLICYD_RETURN_IF_ERROR(CheckPolicy("org policy", *e.org.policy));
  POLICYD_RETURN_IF_ERROR(ValidateOrgDomains("org domains", e.domains.domains));
  return CheckStream("org domains", e.domains.stream);
}

Status CheckEntry(const FleetKey& key, const Heartbeat& h) {
  POLICYD_RETURN_IF_ERROR(ValidateId("publisher id", h.publisher_id));
  if (h.publisher_id != key.id) {
    return Status::InvalidArgument("publisher id differs from the key's");
  }
  POLICYD_RETURN_IF_ERROR(CheckNanos("last sync", h.last_sync));
  POLICYD_RETURN_IF_ERROR(CheckText("source", h.source, kMaxSourceLength));
  return CheckText("policyd version", h.policyd_version, kMaxPolicydVersionLength);
}

Status CheckEntry(const FleetKey& key, const KindEntry& e) {
  if (!IsBucketKind(e.kind) || e.kind != key.policy) {
    return Status::InvalidArgument("kind row of kind " + std::to_string(static_cast<int>(e.kind)) +
                                   " under a key of another kind");
  }
  if (e.org_id != key.id) return Status::InvalidArgument("org id differs from the key's");
  if (!e.org_id.empty()) POLICYD_RETURN_IF_ERROR(ValidateId("org id", e.org_id));
  if (!e.policy) {
    if (e.org_id.empty()) return Status::InvalidArgument("an instance default cannot be removed");
    return Status::Ok();
  }
  if (e.policy->kind != e.kind) return Status::InvalidArgument("row of another kind");
  POLICYD_RETURN_IF_ERROR(CheckKindPolicy("kind row", *e.policy));
  POLICYD_RETURN_IF_ERROR(
      CheckText("kind row resource owner", e.policy->details.resource_owner, kMaxIdLength));
  return CheckStream("kind row", e.policy->stream);
}

// "bucket key domain.org.42: <message>", keeping the code.
Status Named(const FleetKey& key, const Status& s) {
  if (s.ok()) return s;
  auto formatted = FormatKey(key);
  return s.WithContext("bucket key " +
                       (formatted ? *formatted : std::string(KeyKindName(key.kind))));
}

// ---- model -> FlatBuffers ----

fb::Timestamp ToFb(Timestamp t) { return fb::Timestamp(t.seconds, t.nanos); }

flatbuffers::Offset<flatbuffers::String> Str(flatbuffers::FlatBufferBuilder& fbb,
                                             std::string_view s) {
  return s.empty() ? 0 : fbb.CreateString(s.data(), s.size());
}

flatbuffers::Offset<fb::Policy> BuildPolicy(flatbuffers::FlatBufferBuilder& fbb,
                                            const PolicyRecord& p) {
  const fb::Timestamp created = ToFb(p.details.creation_date);
  const fb::Timestamp changed = ToFb(p.details.change_date);
  return fb::CreatePolicy(fbb, p.flags.user_login_must_be_domain, p.flags.validate_org_domains,
                          p.flags.smtp_sender_address_matches_instance_domain, p.details.sequence,
                          &created, &changed, Str(fbb, p.details.resource_owner),
                          Str(fbb, p.stream.type), Str(fbb, p.stream.id));
}

flatbuffers::Offset<void> BuildEntry(flatbuffers::FlatBufferBuilder& fbb, const InstanceEntry& e) {
  std::vector<flatbuffers::Offset<flatbuffers::String>> names;
  names.reserve(e.domains.names.size());
  for (const std::string& n : e.domains.names) names.push_back(fbb.CreateString(n));
  auto id = fbb.CreateString(e.instance.id);
  auto policy = BuildPolicy(fbb, e.instance.policy);
  return fb::CreateInstanceEntry(fbb, id, policy, fbb.CreateVector(names), e.domains.sequence,
                                 Str(fbb, e.domains.stream.type), Str(fbb, e.domains.stream.id))
      .Union();
}

flatbuffers::Offset<void> BuildEntry(flatbuffers::FlatBufferBuilder& fbb, const OrgEntry& e) {
  std::vector<flatbuffers::Offset<fb::OrgDomain>> domains;
  domains.reserve(e.domains.domains.size());
  for (const OrgDomain& d : e.domains.domains) {
    domains.push_back(fb::CreateOrgDomain(fbb, fbb.CreateString(d.name), d.verified, d.primary));
  }
  auto id = fbb.CreateString(e.org.id);
  auto policy = e.org.policy ? BuildPolicy(fbb, *e.org.policy) : 0;
  return fb::CreateOrgEntry(fbb, id, policy, fbb.CreateVector(domains), e.domains.sequence,
                            Str(fbb, e.domains.stream.type), Str(fbb, e.domains.stream.id))
      .Union();
}

flatbuffers::Offset<void> BuildEntry(flatbuffers::FlatBufferBuilder& fbb, const Heartbeat& h) {
  const fb::Timestamp last_sync = ToFb(h.last_sync);
  return fb::CreateHeartbeat(fbb, fbb.CreateString(h.publisher_id), &last_sync, Str(fbb, h.source),
                             Str(fbb, h.policyd_version))
      .Union();
}

// One field's value: only the member its type uses (so that decoding is canonical).
flatbuffers::Offset<fb::KindField> BuildField(flatbuffers::FlatBufferBuilder& fbb,
                                              const FieldSpec& spec, const FieldValue& v) {
  switch (spec.type) {
    case FieldType::kString:
      return fb::CreateKindField(fbb, 0, Str(fbb, v.text));
    case FieldType::kEnumList:
      return fb::CreateKindField(fbb, 0, 0, v.list.empty() ? 0 : fbb.CreateVector(v.list));
    case FieldType::kIdpLinks: {
      if (v.links.empty()) return fb::CreateKindField(fbb);
      std::vector<flatbuffers::Offset<fb::KindLink>> links;
      links.reserve(v.links.size());
      for (const IdpLink& link : v.links) {
        links.push_back(
            fb::CreateKindLink(fbb, fbb.CreateString(link.id), Str(fbb, link.name), link.type));
      }
      return fb::CreateKindField(fbb, 0, 0, 0, fbb.CreateVector(links));
    }
    default:
      return fb::CreateKindField(fbb, v.number);
  }
}

flatbuffers::Offset<void> BuildEntry(flatbuffers::FlatBufferBuilder& fbb, const KindEntry& e) {
  auto org_id = Str(fbb, e.org_id);
  if (!e.policy) {
    return fb::CreateKindEntry(fbb, static_cast<std::uint8_t>(e.kind), org_id, false).Union();
  }
  const KindPolicy& p = *e.policy;
  const KindSpec& spec = SpecOf(p.kind);
  std::vector<flatbuffers::Offset<fb::KindField>> fields;
  fields.reserve(p.fields.size());
  for (std::size_t i = 0; i < p.fields.size() && i < spec.fields.size(); ++i) {
    fields.push_back(BuildField(fbb, spec.fields[i], p.fields[i]));
  }
  const fb::Timestamp created = ToFb(p.details.creation_date);
  const fb::Timestamp changed = ToFb(p.details.change_date);
  return fb::CreateKindEntry(fbb, static_cast<std::uint8_t>(e.kind), org_id, true,
                             fbb.CreateVector(fields), p.details.sequence, &created, &changed,
                             Str(fbb, p.details.resource_owner), Str(fbb, p.stream.type),
                             Str(fbb, p.stream.id))
      .Union();
}

fb::Entry EntryType(const FleetValue& v) {
  switch (KindOf(v)) {
    case KeyKind::kInstance:
      return fb::Entry::InstanceEntry;
    case KeyKind::kOrg:
      return fb::Entry::OrgEntry;
    case KeyKind::kHeartbeat:
      return fb::Entry::Heartbeat;
    case KeyKind::kKindInstance:
    case KeyKind::kKindOrg:
      return fb::Entry::KindEntry;
  }
  return fb::Entry::NONE;
}

// ---- FlatBuffers -> model (after the Verifier) ----

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

Timestamp FromFb(const fb::Timestamp* t) {
  return t == nullptr ? Timestamp{} : Timestamp{t->seconds(), t->nanos()};
}

EventStream Stream(const flatbuffers::String* type, const flatbuffers::String* id) {
  return EventStream{std::string(View(type)), std::string(View(id))};
}

PolicyRecord FromFb(const fb::Policy& p) {
  PolicyRecord r;
  r.flags = {p.user_login_must_be_domain(), p.validate_org_domains(),
             p.smtp_sender_address_matches_instance_domain()};
  r.details = {p.sequence(), FromFb(p.creation_date()), FromFb(p.change_date()),
               std::string(View(p.resource_owner()))};
  r.stream = Stream(p.stream_type(), p.stream_id());
  return r;
}

// A vector longer than a domain list may be is refused before it is copied.
Status CheckCount(std::string_view what, std::size_t n) {
  if (n <= kMaxDomainsPerList) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " holds " + std::to_string(n) +
                                 " domains; the maximum is " + std::to_string(kMaxDomainsPerList));
}

Result<InstanceEntry> FromFb(const fb::InstanceEntry& e) {
  InstanceEntry out;
  out.instance.id = View(e.instance_id());
  out.instance.policy = FromFb(*e.policy());
  if (const StringVector* names = e.domains(); names != nullptr) {
    if (Status s = CheckCount("instance domains", names->size()); !s.ok()) return Err(s);
    for (const flatbuffers::String* n : *names) out.domains.names.emplace_back(View(n));
  }
  out.domains.sequence = e.domains_sequence();
  out.domains.stream = Stream(e.domains_stream_type(), e.domains_stream_id());
  return out;
}

Result<OrgEntry> FromFb(const fb::OrgEntry& e) {
  OrgEntry out;
  out.org.id = View(e.org_id());
  if (e.policy() != nullptr) out.org.policy = FromFb(*e.policy());
  out.domains.org_id = out.org.id;
  if (const DomainVector* domains = e.domains(); domains != nullptr) {
    if (Status s = CheckCount("org domains", domains->size()); !s.ok()) return Err(s);
    for (const fb::OrgDomain* d : *domains) {
      out.domains.domains.push_back({std::string(View(d->name())), d->verified(), d->primary()});
    }
  }
  out.domains.sequence = e.domains_sequence();
  out.domains.stream = Stream(e.domains_stream_type(), e.domains_stream_id());
  return out;
}

Heartbeat FromFb(const fb::Heartbeat& h) {
  return Heartbeat{std::string(View(h.publisher_id())), FromFb(h.last_sync()),
                   std::string(View(h.source())), std::string(View(h.policyd_version()))};
}

// The links of an IdP link field, bounded before they are copied (CheckKindPolicy checks the
// rest).
Status LinksFromFb(const FieldSpec& spec, const fb::KindField& f, std::vector<IdpLink>& out) {
  const auto bad = [&spec](const std::string& problem) {
    return Status::InvalidArgument("kind row field " + std::string(spec.proto_name) + ": " +
                                   problem);
  };
  if (f.links() == nullptr) return Status::Ok();
  if (f.links()->size() > kMaxIdpLinks) {
    return bad("more than " + std::to_string(kMaxIdpLinks) + " links");
  }
  out.reserve(f.links()->size());
  for (const fb::KindLink* link : *f.links()) {
    if (link->id() == nullptr || link->id()->size() > kMaxIdLength ||
        (link->name() != nullptr && link->name()->size() > kMaxKindStringLength)) {
      return bad("a link without an id, or too long");
    }
    out.push_back(
        IdpLink{std::string(View(link->id())), std::string(View(link->name())), link->type(), {}});
  }
  return Status::Ok();
}

// The member of `f` that a field of type `type` uses; the others are ignored. Strings and lists
// are bounded before they are copied.
Status FieldFromFb(const FieldSpec& spec, const fb::KindField& f, FieldValue& out) {
  switch (spec.type) {
    case FieldType::kString:
      if (f.text() != nullptr && f.text()->size() > kMaxKindStringLength) {
        return Status::InvalidArgument("kind row field " + std::string(spec.proto_name) +
                                       " is longer than " + std::to_string(kMaxKindStringLength) +
                                       " bytes");
      }
      out.text = View(f.text());
      return Status::Ok();
    case FieldType::kEnumList:
      if (f.list() != nullptr) {
        if (f.list()->size() > kMaxKindListLength) {
          return Status::InvalidArgument("kind row field " + std::string(spec.proto_name) +
                                         " holds more than " + std::to_string(kMaxKindListLength) +
                                         " values");
        }
        out.list.assign(f.list()->begin(), f.list()->end());
      }
      return Status::Ok();
    case FieldType::kIdpLinks:
      return LinksFromFb(spec, f, out.links);
    default:
      out.number = f.number();
      return Status::Ok();
  }
}

Result<KindEntry> FromFb(const fb::KindEntry& e) {
  KindEntry out;
  const std::uint8_t number = e.kind();
  if (number == 0 || !IsStoredKind(number)) {
    return Err(Status::InvalidArgument("kind row of unknown kind " + std::to_string(number)));
  }
  out.kind = static_cast<PolicyKind>(number);
  out.org_id = View(e.org_id());
  const auto* fields = e.fields();
  if (!e.has_policy()) {
    if ((fields != nullptr && fields->size() != 0) || e.sequence() != 0 ||
        e.resource_owner() != nullptr || e.stream_type() != nullptr) {
      return Err(Status::InvalidArgument("a kind row tombstone carries a row"));
    }
    return out;
  }
  if (fields != nullptr && fields->size() > kMaxKindFieldsInValue) {
    return Err(Status::InvalidArgument("kind row holds " + std::to_string(fields->size()) +
                                       " fields; the maximum is " +
                                       std::to_string(kMaxKindFieldsInValue)));
  }
  KindPolicy& p = out.policy.emplace(EmptyKindPolicy(out.kind));
  const KindSpec& spec = SpecOf(out.kind);
  const std::size_t n =
      fields == nullptr ? 0 : std::min<std::size_t>(fields->size(), spec.fields.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (Status s = FieldFromFb(spec.fields[i], *fields->Get(i), p.fields[i]); !s.ok()) {
      return Err(s);
    }
  }
  p.details = {e.sequence(), FromFb(e.creation_date()), FromFb(e.change_date()),
               std::string(View(e.resource_owner()))};
  p.stream = Stream(e.stream_type(), e.stream_id());
  return out;
}

// The entry of `v`, which the Verifier accepted, if it is of the key's kind.
Result<FleetValue> EntryFromFb(const FleetKey& key, const fb::Value& v) {
  FleetValue out;
  const fb::SourceVersion& sv = *v.version();
  out.version = {FromFb(sv.date()), Stream(sv.stream_type(), sv.stream_id()), sv.sequence()};
  auto wrong_kind = [&] {
    // A union type this reader does not know passes the Verifier (its table is not checked);
    // it is refused here, never read.
    std::string held = fb::EnumNameEntry(v.entry_type());
    if (held.empty())
      held = "unknown entry type " + std::to_string(static_cast<int>(v.entry_type()));
    return Err(Status::InvalidArgument("value holds " + held + ", not the key's kind " +
                                       std::string(KeyKindName(key.kind))));
  };
  switch (key.kind) {
    case KeyKind::kInstance: {
      const fb::InstanceEntry* e = v.entry_as_InstanceEntry();
      if (e == nullptr) return wrong_kind();
      auto entry = FromFb(*e);
      if (!entry) return Err(entry.error());
      out.entry = std::move(*entry);
      return out;
    }
    case KeyKind::kOrg: {
      const fb::OrgEntry* e = v.entry_as_OrgEntry();
      if (e == nullptr) return wrong_kind();
      auto entry = FromFb(*e);
      if (!entry) return Err(entry.error());
      out.entry = std::move(*entry);
      return out;
    }
    case KeyKind::kHeartbeat: {
      const fb::Heartbeat* e = v.entry_as_Heartbeat();
      if (e == nullptr) return wrong_kind();
      out.entry = FromFb(*e);
      return out;
    }
    case KeyKind::kKindInstance:
    case KeyKind::kKindOrg: {
      const fb::KindEntry* e = v.entry_as_KindEntry();
      if (e == nullptr) return wrong_kind();
      auto entry = FromFb(*e);
      if (!entry) return Err(entry.error());
      out.entry = std::move(*entry);
      return out;
    }
  }
  return wrong_kind();
}

// CheckValue without the key's name.
Status CheckFields(const FleetKey& key, const FleetValue& value);

Result<FleetValue> Decode(const FleetKey& key, std::string_view bytes) {
  if (bytes.size() > kMaxValueBytes) {
    return Err(Status::InvalidArgument("value of " + std::to_string(bytes.size()) +
                                       " bytes is longer than " + std::to_string(kMaxValueBytes)));
  }
  // Copied so that the Verifier's alignment checks hold in memory too (a NATS payload has no
  // alignment guarantee); heap storage is aligned for every scalar.
  const std::vector<std::uint8_t> buf(bytes.begin(), bytes.end());
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 8;  // Value > Entry > OrgEntry > [OrgDomain] > OrgDomain > name
  opts.max_tables = 2 * kMaxDomainsPerList + 16;
  flatbuffers::Verifier verifier(buf.data(), buf.size(), opts);
  if (!fb::VerifyValueBuffer(verifier)) {
    return Err(
        Status::InvalidArgument("value is not a valid fleet Value (FlatBuffers verification "
                                "failed)"));
  }
  const fb::Value* v = fb::GetValue(buf.data());
  if (v->schema_major() != kSchemaMajor) {
    return Err(Status::FailedPrecondition("value has schema major version " +
                                          std::to_string(v->schema_major()) +
                                          "; this policyd reads " + std::to_string(kSchemaMajor)));
  }
  auto out = EntryFromFb(key, *v);
  if (!out) return out;
  if (Status s = CheckFields(key, *out); !s.ok()) return Err(s);
  return out;
}

Status CheckFields(const FleetKey& key, const FleetValue& value) {
  if (KindOf(value) != key.kind) {
    return Status::InvalidArgument("value holds an entry of kind " +
                                   std::string(KeyKindName(KindOf(value))));
  }
  POLICYD_RETURN_IF_ERROR(CheckVersion(value.version));
  if (const auto* h = std::get_if<Heartbeat>(&value.entry);
      h != nullptr && !(value.version == SourceVersion{h->last_sync, {}, 0})) {
    return Status::InvalidArgument("heartbeat version is not its last sync date");
  }
  return std::visit([&](const auto& e) { return CheckEntry(key, e); }, value.entry);
}

}  // namespace

KeyKind KindOf(const FleetValue& value) {
  switch (value.entry.index()) {
    case 0:
      return KeyKind::kInstance;
    case 1:
      return KeyKind::kOrg;
    case 2:
      return KeyKind::kHeartbeat;
    default:
      return std::get<KindEntry>(value.entry).org_id.empty() ? KeyKind::kKindInstance
                                                             : KeyKind::kKindOrg;
  }
}

Status CheckValue(const FleetKey& key, const FleetValue& value) {
  return Named(key, CheckFields(key, value));
}

Result<std::string> EncodeValue(const FleetKey& key, const FleetValue& value) {
  if (Status s = CheckValue(key, value); !s.ok()) return Err(s);
  flatbuffers::FlatBufferBuilder fbb(1024);
  const fb::Timestamp date = ToFb(value.version.date);
  auto version = fb::CreateSourceVersion(fbb, &date, Str(fbb, value.version.stream.type),
                                         Str(fbb, value.version.stream.id), value.version.sequence);
  auto entry = std::visit([&](const auto& e) { return BuildEntry(fbb, e); }, value.entry);
  fbb.Finish(fb::CreateValue(fbb, kSchemaMajor, kSchemaMinor, version, EntryType(value), entry),
             fb::ValueIdentifier());
  if (fbb.GetSize() > kMaxValueBytes) {
    return Err(Named(key, Status::InvalidArgument("value encodes to " +
                                                  std::to_string(fbb.GetSize()) + " bytes")));
  }
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Result<FleetValue> DecodeValue(const FleetKey& key, std::string_view bytes) {
  auto out = Decode(key, bytes);
  if (!out) return Err(Named(key, out.error()));
  return out;
}

}  // namespace policyd::fleet
