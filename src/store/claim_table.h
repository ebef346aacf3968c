// ClaimTable: the verified-domain claims (model/domains.h DomainClaim) of every org, as 64-bit
// hashes, so that the lookup hot path can answer the login-name check's "has another org verified
// this domain?" without a RocksDB read in the common cases (store/indexed_store.h).
//
// Each claim is one 16-byte slot {hash of the ASCII-lower-cased domain, hash of the org id} in an
// open-addressing table (linear probing, load factor <= 0.75, backward-shift deletion): ~21 bytes
// per verified domain, against the RocksDB index row's ~50.
//
// Find() is exact about the domain despite the hashing: every claim on a domain D lies under
// DomainHash(D), so "no entry under that hash" means nobody verified D, and "every entry under it
// belongs to org X" means nobody but X did; only an entry of another org (a real claim, or another
// domain that shares D's 64-bit hash) says kOther, and then the caller reads the exact claims. The
// org is compared by a 64-bit hash of its id: two orgs' ids (assigned by the upstream) would have
// to share it, and one of them verify the other's domain, for an answer to be wrong.
//
// Pure: no I/O. Not thread-safe; store/left_right.h makes it safe for concurrent readers.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "model/domains.h"

namespace policyd {

class ClaimTable {
 public:
  enum class Verdict {
    kNone,     // no org has verified the domain
    kOwnOnly,  // only the asking org has
    kOther,    // maybe another org has: read the exact claims
  };

  static std::uint64_t DomainHash(std::string_view domain);  // ASCII case-insensitive
  static std::uint64_t OrgHash(std::string_view org_id);

  // What the claims on `domain` are to org `org_id`. Does not allocate.
  Verdict Find(std::string_view domain, std::string_view org_id) const;

  // Adds or removes org `org_id`'s claims on each verified domain of `domains` (an org's list;
  // unverified ones are skipped). Removing a claim that is not there is a no-op.
  void AddList(std::string_view org_id, std::span<const OrgDomain> domains);
  void RemoveList(std::string_view org_id, std::span<const OrgDomain> domains);

  void Add(std::uint64_t domain_hash, std::uint64_t org_hash);
  void Remove(std::uint64_t domain_hash, std::uint64_t org_hash);
  void Clear();

  std::size_t size() const { return size_; }
  std::size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    std::uint64_t domain = 0;  // 0: empty (real hashes have the low bit set)
    std::uint64_t org = 0;
  };
  void Rehash(std::size_t slot_count);

  std::vector<Slot> slots_;  // size is 0 or a power of two
  std::size_t size_ = 0;
};

}  // namespace policyd
