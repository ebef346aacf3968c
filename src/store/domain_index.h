// The verified-domain index of the store (rows "verified-domain:<domain in ASCII lower case>",
// store/keys.h): for each domain that some org has verified, every org that has, with its
// spelling. Derived from the "domains:" rows and written in the same WriteBatch as they are.
//
// Value encoding (little-endian, no padding; `str` as in store/codec.h):
//
//   claims := u8 version (kDomainIndexV1), u32 count (>= 1), then per claim, in org id byte
//             order without repeats: str org_id (1..kMaxIdLength bytes),
//             str domain (1..kMaxDomainLength bytes, the org's spelling; ASCII lower case equal
//             to the key's domain)
//
// A row whose last claim goes is deleted, so no row is empty. Decoding treats the bytes as
// untrusted: truncation, trailing bytes, an unknown version, a count of 0 or beyond what the
// bytes can hold, an id or name out of bounds, or ids out of order give DATA_LOSS.
//
// DomainIndexRows computes rows: from whole domain lists (Replace, the v1 migration) or as the
// edits that changed lists make to stored rows (Apply).
//
// Pure: no RocksDB, no I/O. Thread-safe (the class is a plain value).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/domains.h"

namespace policyd {

inline constexpr std::uint8_t kDomainIndexV1 = 1;

// Encodes `claims` (sorted by org id, unique, non-empty, each within the bounds above).
void EncodeDomainClaims(std::span<const DomainClaim> claims, std::string* out);
// Replaces `*out` with the decoded claims (assigning in place, so a reused vector keeps its
// strings' capacity). DATA_LOSS as above; `*out` is unspecified then.
Status DecodeDomainClaims(std::string_view in, std::vector<DomainClaim>* out);

// Index rows keyed by full index key (store_keys::AppendDomainIndexKey), each with its claims
// sorted by org id.
class DomainIndexRows {
 public:
  using Rows = std::map<std::string, std::vector<DomainClaim>, std::less<>>;

  // Adds the claims of org `org_id` on its verified `domains` (its whole list; unverified ones
  // are skipped).
  void AddList(std::string_view org_id, std::span<const OrgDomain> domains);

  // Records that org `org_id`'s list went from `before` to `after`: each domain verified before
  // but not after (ASCII case-insensitively) loses the org's claim; each verified after gets it,
  // with the new spelling. Rows touched are those of keys() and must be loaded with Load() before
  // Finish().
  void Change(std::string_view org_id, std::span<const OrgDomain> before,
              std::span<const OrgDomain> after);
  // The index keys that Change() touched, sorted.
  std::vector<std::string> keys() const;
  // Sets the stored claims of `key` (one of keys(); absent rows need no call).
  void Load(std::string_view key, std::vector<DomainClaim> stored);
  // Applies the recorded changes to the loaded rows. Afterwards rows() holds each touched key
  // with its new claims (empty: delete the row) and changed(key) says whether it differs from
  // what was loaded.
  void Finish();
  bool changed(std::string_view key) const;

  // AddList(): every row; after Finish(): every touched row.
  const Rows& rows() const { return rows_; }

 private:
  struct Edit {
    std::string org_id;
    std::string domain;  // empty: drop the org's claim
  };
  Rows rows_;
  std::map<std::string, std::vector<Edit>, std::less<>> edits_;
  std::map<std::string, std::vector<DomainClaim>, std::less<>> loaded_;
};

}  // namespace policyd
