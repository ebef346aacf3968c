// OrgTable: every known org id, each with its own policy if it has one, in a compact
// open-addressing hash table built for the lookup hot path.
//
// Why not std::unordered_map<std::string, ...>: at 1,000,000 orgs of 18-byte ids that costs
// ~120 bytes per org (node, heap string, bucket), and the index is kept twice (store/left_right.h).
// Here an org costs one 16-byte slot (load factor ≤ 0.75) plus its id bytes in one arena:
// ~45 bytes per org. Orgs with an own policy (about 1% in practice) add one PolicyRecord.
//
// Find() does not allocate and touches one or two cache lines for a miss or a hit.
//
// Pure: no I/O. Not thread-safe; store/left_right.h makes it safe for concurrent readers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/domain_policy.h"

namespace policyd {

class OrgTable {
 public:
  struct Found {
    bool known = false;
    const PolicyRecord* policy = nullptr;  // the org's own policy; valid until the next change
  };

  Found Find(std::string_view id) const;

  // Inserts `id` or replaces what is stored for it. `id` must be 1..255 bytes (the store's ids
  // are at most kMaxIdLength = 200).
  void Put(std::string_view id, const std::optional<PolicyRecord>& policy);
  // Removes `id`; unknown ids are ignored.
  void Erase(std::string_view id);
  void Clear();
  // Makes room for `orgs` ids without growing (ids stored later may still grow it).
  void Reserve(std::size_t orgs);

  std::size_t size() const { return size_; }
  std::size_t policy_count() const { return policies_.size() - free_policies_.size(); }
  // Bytes held by the table's own buffers (capacity, not just size).
  std::size_t MemoryBytes() const;

 private:
  static constexpr std::uint32_t kNoPolicy = UINT32_MAX;
  struct Slot {
    std::uint64_t hash = 0;            // 0: empty (real hashes have the low bit set)
    std::uint32_t key = 0;             // offset of the id in keys_: one length byte, then the bytes
    std::uint32_t policy = kNoPolicy;  // index into policies_
  };

  static std::uint64_t Hash(std::string_view id);
  std::string_view KeyAt(std::uint32_t offset) const;
  // The slot holding `id`, or the empty slot where it would go.
  std::size_t Probe(std::string_view id, std::uint64_t hash) const;
  void Grow();
  void Rehash(std::size_t slot_count);
  void CompactKeys();
  void ReleasePolicy(std::uint32_t index);

  std::vector<Slot> slots_;  // size is 0 or a power of two
  std::size_t size_ = 0;
  std::string keys_;                // id arena
  std::size_t dead_key_bytes_ = 0;  // arena bytes of erased ids, reclaimed by CompactKeys()
  std::vector<PolicyRecord> policies_;
  std::vector<std::uint32_t> free_policies_;
};

}  // namespace policyd
