#include "store/org_table.h"

#include <cassert>
#include <functional>

namespace policyd {
namespace {

constexpr std::size_t kMinSlots = 16;
// Erased ids stay in the arena until they are this many bytes and half of it.
constexpr std::size_t kCompactAfterDeadBytes = 64 * 1024;

}  // namespace

std::uint64_t OrgTable::Hash(std::string_view id) {
  return static_cast<std::uint64_t>(std::hash<std::string_view>{}(id)) | 1u;
}

std::string_view OrgTable::KeyAt(std::uint32_t offset) const {
  const auto length = static_cast<unsigned char>(keys_[offset]);
  return {keys_.data() + offset + 1, length};
}

std::size_t OrgTable::Probe(std::string_view id, std::uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.hash == 0 || (s.hash == hash && KeyAt(s.key) == id)) return i;
  }
}

OrgTable::Found OrgTable::Find(std::string_view id) const {
  if (size_ == 0) return {};
  const Slot& s = slots_[Probe(id, Hash(id))];
  if (s.hash == 0) return {};
  return {true, s.policy == kNoPolicy ? nullptr : &policies_[s.policy]};
}

void OrgTable::Put(std::string_view id, const std::optional<PolicyRecord>& policy) {
  assert(!id.empty() && id.size() <= 255);
  if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
  const std::uint64_t hash = Hash(id);
  Slot& s = slots_[Probe(id, hash)];
  if (s.hash == 0) {
    s.hash = hash;
    s.key = static_cast<std::uint32_t>(keys_.size());
    keys_.push_back(static_cast<char>(id.size()));
    keys_.append(id);
    ++size_;
  }
  if (!policy) {
    ReleasePolicy(s.policy);
    s.policy = kNoPolicy;
  } else if (s.policy != kNoPolicy) {
    policies_[s.policy] = *policy;
  } else if (!free_policies_.empty()) {
    s.policy = free_policies_.back();
    free_policies_.pop_back();
    policies_[s.policy] = *policy;
  } else {
    s.policy = static_cast<std::uint32_t>(policies_.size());
    policies_.push_back(*policy);
  }
}

void OrgTable::Erase(std::string_view id) {
  if (size_ == 0) return;
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = Probe(id, Hash(id));
  if (slots_[hole].hash == 0) return;
  ReleasePolicy(slots_[hole].policy);
  dead_key_bytes_ += 1 + id.size();
  // Backward-shift deletion: pull later members of the probe run into the hole, so lookups
  // never need tombstones.
  for (std::size_t j = (hole + 1) & mask; slots_[j].hash != 0; j = (j + 1) & mask) {
    const std::size_t home = slots_[j].hash & mask;
    const bool home_in_gap = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_gap) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  if (dead_key_bytes_ > kCompactAfterDeadBytes && dead_key_bytes_ * 2 > keys_.size()) {
    CompactKeys();
  }
}

void OrgTable::Clear() {
  slots_.clear();
  size_ = 0;
  keys_.clear();
  dead_key_bytes_ = 0;
  policies_.clear();
  free_policies_.clear();
}

std::size_t OrgTable::MemoryBytes() const {
  return slots_.capacity() * sizeof(Slot) + keys_.capacity() +
         policies_.capacity() * sizeof(PolicyRecord) +
         free_policies_.capacity() * sizeof(std::uint32_t);
}

void OrgTable::Reserve(std::size_t orgs) {
  std::size_t slots = kMinSlots;
  while (orgs * 4 > slots * 3) slots *= 2;
  if (slots > slots_.size()) Rehash(slots);
  keys_.reserve(orgs * 20);  // typical ids are 18 bytes, plus the length byte
}

void OrgTable::Grow() { Rehash(slots_.empty() ? kMinSlots : slots_.size() * 2); }

void OrgTable::Rehash(std::size_t slot_count) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(slot_count, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    std::size_t i = s.hash & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void OrgTable::CompactKeys() {
  std::string live;
  live.reserve(keys_.size() - dead_key_bytes_);
  for (Slot& s : slots_) {
    if (s.hash == 0) continue;
    const std::string_view id = KeyAt(s.key);
    s.key = static_cast<std::uint32_t>(live.size());
    live.push_back(static_cast<char>(id.size()));
    live.append(id);
  }
  keys_ = std::move(live);
  dead_key_bytes_ = 0;
}

void OrgTable::ReleasePolicy(std::uint32_t index) {
  if (index == kNoPolicy) return;
  policies_[index] = PolicyRecord{};  // drop its strings' memory
  free_policies_.push_back(index);
}

}  // namespace policyd
