#include "store/kind_table.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <utility>

namespace policyd {
namespace {

constexpr std::size_t kMinSlots = 16;
constexpr std::uint8_t kOwnerIsOrg = 1;
constexpr std::uint8_t kStreamIsOrg = 2;
constexpr std::uint8_t kStreamEmpty = 4;
constexpr std::string_view kOrgStreamType = "org";

void PutVarint(std::uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void PutText(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

void PutTime(const Timestamp& t, std::string* out) {
  PutVarint(ZigZag(t.seconds), out);
  PutVarint(static_cast<std::uint32_t>(t.nanos), out);
}

std::size_t SharedPrefix(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

void Encode(std::string_view org_id, const KindPolicy& p, std::string* out) {
  PutVarint(p.details.sequence, out);
  PutTime(p.details.creation_date, out);
  PutTime(p.details.change_date, out);
  const bool owner_is_org = p.details.resource_owner == org_id;
  const bool stream_empty = p.stream.type.empty() && p.stream.id.empty();
  const bool stream_is_org =
      !org_id.empty() && p.stream.type == kOrgStreamType && p.stream.id == org_id;
  out->push_back(static_cast<char>((owner_is_org ? kOwnerIsOrg : 0) |
                                   (stream_is_org ? kStreamIsOrg : 0) |
                                   (stream_empty ? kStreamEmpty : 0)));
  if (!owner_is_org) PutText(p.details.resource_owner, out);
  if (!stream_is_org && !stream_empty) {
    PutText(p.stream.type, out);
    PutText(p.stream.id, out);
  }
  const KindSpec& spec = SpecOf(p.kind);
  std::string_view previous;  // the last string field's value
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldValue& v = p.fields[i];
    switch (spec.fields[i].type) {
      case FieldType::kString: {
        const std::size_t shared = SharedPrefix(previous, v.text);
        PutVarint(shared, out);
        PutText(std::string_view(v.text).substr(shared), out);
        previous = v.text;
        break;
      }
      case FieldType::kEnumList:
        PutVarint(v.list.size(), out);
        for (std::uint32_t n : v.list) PutVarint(n, out);
        break;
      case FieldType::kIdpLinks:  // only login links live here: no owner
        PutVarint(v.links.size(), out);
        for (const IdpLink& link : v.links) {
          PutText(link.id, out);
          PutText(link.name, out);
          PutVarint(link.type, out);
        }
        break;
      case FieldType::kDuration:
        PutVarint(ZigZag(v.duration_nanos()), out);
        break;
      default:
        PutVarint(v.number, out);
        break;
    }
  }
}

// Reads what Encode wrote. The bytes are our own (never from outside), but a reader past the
// end yields zeros and empty strings rather than reading beyond the row.
class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}
  std::uint64_t Varint() {
    std::uint64_t v = 0;
    for (int shift = 0; p_ < end_ && shift < 64; shift += 7) {
      const auto b = static_cast<std::uint8_t>(*p_++);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    return v;
  }
  std::uint8_t Byte() { return p_ < end_ ? static_cast<std::uint8_t>(*p_++) : 0; }
  void Text(std::string* out) {
    out->clear();
    AppendText(out);
  }
  // A string field: the first `shared` bytes of `previous`, then the rest.
  void FrontCodedText(const std::string& previous, std::string* out) {
    const auto shared =
        static_cast<std::size_t>(std::min<std::uint64_t>(Varint(), previous.size()));
    out->assign(previous, 0, shared);
    AppendText(out);
  }
  void AppendText(std::string* out) {
    const std::uint64_t n = Varint();
    const auto take =
        static_cast<std::size_t>(std::min<std::uint64_t>(n, static_cast<std::uint64_t>(end_ - p_)));
    out->append(p_, take);
    p_ += take;
  }
  void Time(Timestamp* t) {
    t->seconds = UnZigZag(Varint());
    t->nanos = static_cast<std::int32_t>(Varint());
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

// The header, then the org id bytes, then the encoding.
struct SharedKindRow::Blob {
  std::uint32_t refs;
  std::uint32_t size;  // of the whole allocation
  PolicyKind kind;
  std::uint8_t id_length;

  const char* id() const { return reinterpret_cast<const char*>(this + 1); }
  const char* encoding() const { return id() + id_length; }
  const char* end() const { return reinterpret_cast<const char*>(this) + size; }
};

SharedKindRow SharedKindRow::Make(std::string_view org_id, const KindPolicy& policy) {
  assert(org_id.size() <= 255 && policy.fields.size() == SpecOf(policy.kind).fields.size());
  thread_local std::string encoded;
  encoded.clear();
  Encode(org_id, policy, &encoded);
  const std::size_t size = sizeof(Blob) + org_id.size() + encoded.size();
  void* memory = ::operator new(size);
  auto* blob = new (memory) Blob{1, static_cast<std::uint32_t>(size), policy.kind,
                                 static_cast<std::uint8_t>(org_id.size())};
  char* bytes = reinterpret_cast<char*>(blob + 1);
  std::memcpy(bytes, org_id.data(), org_id.size());
  std::memcpy(bytes + org_id.size(), encoded.data(), encoded.size());
  return SharedKindRow(blob);
}

SharedKindRow::SharedKindRow(const SharedKindRow& other) : blob_(other.blob_) {
  if (blob_ != nullptr) ++blob_->refs;
}
SharedKindRow::SharedKindRow(SharedKindRow&& other) noexcept
    : blob_(std::exchange(other.blob_, nullptr)) {}
SharedKindRow& SharedKindRow::operator=(const SharedKindRow& other) {
  Blob* const blob = other.blob_;  // before Release(): `other` may be *this
  if (blob != nullptr) ++blob->refs;
  Release();
  blob_ = blob;
  return *this;
}
SharedKindRow& SharedKindRow::operator=(SharedKindRow&& other) noexcept {
  if (this != &other) {
    Release();
    blob_ = std::exchange(other.blob_, nullptr);
  }
  return *this;
}
SharedKindRow::~SharedKindRow() { Release(); }

void SharedKindRow::Release() {
  if (blob_ != nullptr && --blob_->refs == 0) {
    blob_->~Blob();
    ::operator delete(blob_);
  }
  blob_ = nullptr;
}

PolicyKind SharedKindRow::kind() const { return blob_->kind; }
std::string_view SharedKindRow::org_id() const { return {blob_->id(), blob_->id_length}; }
std::size_t SharedKindRow::bytes() const { return blob_->size; }

void SharedKindRow::DecodeInto(KindPolicy* out) const {
  Reader r(blob_->encoding(), blob_->end());
  out->kind = blob_->kind;
  out->details.sequence = r.Varint();
  r.Time(&out->details.creation_date);
  r.Time(&out->details.change_date);
  const std::uint8_t flags = r.Byte();
  if ((flags & kOwnerIsOrg) != 0) {
    out->details.resource_owner.assign(org_id());
  } else {
    r.Text(&out->details.resource_owner);
  }
  if ((flags & kStreamIsOrg) != 0) {
    out->stream.type.assign(kOrgStreamType);
    out->stream.id.assign(org_id());
  } else if ((flags & kStreamEmpty) != 0) {
    out->stream.type.clear();
    out->stream.id.clear();
  } else {
    r.Text(&out->stream.type);
    r.Text(&out->stream.id);
  }
  const KindSpec& spec = SpecOf(blob_->kind);
  out->fields.resize(spec.fields.size());
  static const std::string kNone;
  const std::string* previous = &kNone;  // the last string field's value
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    FieldValue& v = out->fields[i];
    const FieldType type = spec.fields[i].type;
    // Members the type does not use are reset, so a reused value holds nothing of an earlier one.
    v.number = 0;
    if (type != FieldType::kString) v.text.clear();
    if (type != FieldType::kEnumList) v.list.clear();
    if (type != FieldType::kIdpLinks) v.links.clear();
    switch (type) {
      case FieldType::kString:
        r.FrontCodedText(*previous, &v.text);
        previous = &v.text;
        break;
      case FieldType::kEnumList:
        v.list.resize(
            static_cast<std::size_t>(std::min<std::uint64_t>(r.Varint(), kMaxKindListLength)));
        for (std::uint32_t& n : v.list) n = static_cast<std::uint32_t>(r.Varint());
        break;
      case FieldType::kIdpLinks:
        v.links.resize(static_cast<std::size_t>(std::min<std::uint64_t>(r.Varint(), kMaxIdpLinks)));
        for (IdpLink& link : v.links) {
          r.Text(&link.id);
          r.Text(&link.name);
          link.type = static_cast<std::uint32_t>(r.Varint());
          link.owner.clear();
        }
        break;
      case FieldType::kDuration:
        v.number = static_cast<std::uint64_t>(UnZigZag(r.Varint()));
        break;
      default:
        v.number = r.Varint();
        break;
    }
  }
}

std::uint64_t KindTable::HashId(std::string_view org_id) {
  return static_cast<std::uint64_t>(std::hash<std::string_view>{}(org_id));
}

std::uint64_t KindTable::SlotHash(std::uint64_t id_hash, PolicyKind kind) {
  // splitmix64's finalizer over the id's hash and the kind: the kinds of one org spread apart.
  std::uint64_t h = id_hash + 0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(kind) + 1);
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return (h ^ (h >> 31)) | 1u;
}

std::size_t KindTable::Probe(std::string_view org_id, PolicyKind kind, std::uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.hash == 0 || (s.hash == hash && s.row.kind() == kind && s.row.org_id() == org_id)) {
      return i;
    }
  }
}

std::uint64_t KindTable::NewSerial() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t KindTable::DefaultSerial(PolicyKind kind) const {
  const auto k = static_cast<std::size_t>(kind);
  return k < default_serials_.size() && defaults_[k] ? default_serials_[k] : 0;
}

const SharedKindRow* KindTable::FindDefault(PolicyKind kind) const {
  const auto k = static_cast<std::size_t>(kind);
  if (k >= defaults_.size() || !defaults_[k]) return nullptr;
  return &defaults_[k];
}

const SharedKindRow* KindTable::Find(std::string_view org_id, std::uint64_t id_hash,
                                     PolicyKind kind) const {
  if (size_ == 0) return nullptr;
  const Slot& s = slots_[Probe(org_id, kind, SlotHash(id_hash, kind))];
  return s.hash == 0 ? nullptr : &s.row;
}

void KindTable::Put(SharedKindRow row, std::uint64_t default_serial) {
  assert(row && row.kind() != PolicyKind::kDomain &&
         static_cast<std::size_t>(row.kind()) < kPolicyKindCount);
  const std::size_t bytes = row.bytes();
  if (row.org_id().empty()) {
    const auto k = static_cast<std::size_t>(row.kind());
    SharedKindRow& slot = defaults_[k];
    if (slot) row_bytes_ -= slot.bytes();
    slot = std::move(row);
    default_serials_[k] = default_serial;
    row_bytes_ += bytes;
    return;
  }
  if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(slots_.empty() ? kMinSlots : slots_.size() * 2);
  const std::uint64_t hash = SlotHash(HashId(row.org_id()), row.kind());
  Slot& s = slots_[Probe(row.org_id(), row.kind(), hash)];
  if (s.hash == 0) {
    s.hash = hash;
    ++size_;
  } else {
    row_bytes_ -= s.row.bytes();
  }
  s.row = std::move(row);
  row_bytes_ += bytes;
}

void KindTable::Erase(std::string_view org_id, PolicyKind kind) {
  if (size_ == 0) return;
  const std::size_t i = Probe(org_id, kind, SlotHash(HashId(org_id), kind));
  if (slots_[i].hash != 0) EraseAt(i);
}

void KindTable::EraseOrg(std::string_view org_id) {
  if (size_ == 0) return;
  const std::uint64_t id_hash = HashId(org_id);
  for (PolicyKind kind : kGenericKinds) {
    const std::size_t i = Probe(org_id, kind, SlotHash(id_hash, kind));
    if (slots_[i].hash != 0) EraseAt(i);
  }
}

void KindTable::EraseAt(std::size_t hole) {
  const std::size_t mask = slots_.size() - 1;
  row_bytes_ -= slots_[hole].row.bytes();
  // Backward-shift deletion (as store/org_table.cc): no tombstones.
  for (std::size_t j = (hole + 1) & mask; slots_[j].hash != 0; j = (j + 1) & mask) {
    const std::size_t home = slots_[j].hash & mask;
    const bool home_in_gap = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_gap) {
      slots_[hole] = std::move(slots_[j]);
      slots_[j].hash = 0;
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

void KindTable::Clear() {
  slots_.clear();
  size_ = 0;
  row_bytes_ = 0;
  for (SharedKindRow& d : defaults_) d = SharedKindRow();
  default_serials_.fill(0);
}

void KindTable::Rehash(std::size_t slot_count) {
  std::vector<Slot> old = std::move(slots_);
  slots_.clear();
  slots_.resize(slot_count);
  const std::size_t mask = slots_.size() - 1;
  for (Slot& s : old) {
    if (s.hash == 0) continue;
    std::size_t i = s.hash & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = std::move(s);
  }
}

}  // namespace policyd
