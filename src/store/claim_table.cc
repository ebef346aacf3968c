#include "store/claim_table.h"

#include <array>
#include <functional>
#include <string>

namespace policyd {
namespace {

constexpr std::size_t kMinSlots = 16;

// splitmix64's finalizer: std::hash may be weak in its low bits, which pick the slot.
std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x | 1u;
}

std::uint64_t HashBytes(std::string_view s) {
  return Mix(static_cast<std::uint64_t>(std::hash<std::string_view>{}(s)));
}

}  // namespace

std::uint64_t ClaimTable::DomainHash(std::string_view domain) {
  std::array<char, kMaxDomainLength> buffer;
  if (domain.size() > buffer.size()) {  // no stored domain is this long: any hash will do
    std::string lowered;
    AppendLowercaseDomain(domain, &lowered);
    return HashBytes(lowered);
  }
  for (std::size_t i = 0; i < domain.size(); ++i) {
    const char c = domain[i];
    buffer[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return HashBytes(std::string_view(buffer.data(), domain.size()));
}

std::uint64_t ClaimTable::OrgHash(std::string_view org_id) {
  // Another seed than the domains', so that an org id and a domain never hash alike by design.
  return Mix(static_cast<std::uint64_t>(std::hash<std::string_view>{}(org_id)) ^
             0x9e3779b97f4a7c15ull);
}

ClaimTable::Verdict ClaimTable::Find(std::string_view domain, std::string_view org_id) const {
  if (size_ == 0) return Verdict::kNone;
  const std::uint64_t d = DomainHash(domain);
  const std::uint64_t o = OrgHash(org_id);
  const std::size_t mask = slots_.size() - 1;
  Verdict verdict = Verdict::kNone;
  for (std::size_t i = d & mask; slots_[i].domain != 0; i = (i + 1) & mask) {
    if (slots_[i].domain != d) continue;
    if (slots_[i].org != o) return Verdict::kOther;
    verdict = Verdict::kOwnOnly;
  }
  return verdict;
}

void ClaimTable::AddList(std::string_view org_id, std::span<const OrgDomain> domains) {
  for (const OrgDomain& d : domains) {
    if (d.verified) Add(DomainHash(d.name), OrgHash(org_id));
  }
}

void ClaimTable::RemoveList(std::string_view org_id, std::span<const OrgDomain> domains) {
  for (const OrgDomain& d : domains) {
    if (d.verified) Remove(DomainHash(d.name), OrgHash(org_id));
  }
}

void ClaimTable::Add(std::uint64_t domain_hash, std::uint64_t org_hash) {
  if ((size_ + 1) * 4 > slots_.size() * 3) {
    Rehash(slots_.empty() ? kMinSlots : slots_.size() * 2);
  }
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = domain_hash & mask;
  while (slots_[i].domain != 0) i = (i + 1) & mask;
  slots_[i] = Slot{domain_hash, org_hash};
  ++size_;
}

void ClaimTable::Remove(std::uint64_t domain_hash, std::uint64_t org_hash) {
  if (size_ == 0) return;
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = domain_hash & mask;
  for (;; i = (i + 1) & mask) {
    if (slots_[i].domain == 0) return;  // not there
    if (slots_[i].domain == domain_hash && slots_[i].org == org_hash) break;
  }
  // Backward-shift deletion: move later entries of the run into the hole when their home slot
  // does not lie cyclically within (hole, entry].
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; slots_[j].domain != 0; j = (j + 1) & mask) {
    const std::size_t home = slots_[j].domain & mask;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole] = Slot{};
  --size_;
}

void ClaimTable::Clear() {
  slots_.clear();
  size_ = 0;
}

void ClaimTable::Rehash(std::size_t slot_count) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(slot_count, Slot{});
  size_ = 0;
  for (const Slot& s : old) {
    if (s.domain != 0) Add(s.domain, s.org);
  }
}

}  // namespace policyd
