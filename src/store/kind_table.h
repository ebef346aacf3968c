// KindTable: the rows of the generic policy kinds (model/policy_kinds.h) that lookups read, held in
// memory by the lookup index (store/indexed_store.h): each kind's instance default and every org's
// own row of it, kinds kPasswordComplexity..kLabel (the label preview row is not held).
//
// Why this shape: about 1% of orgs have an own row of a kind, so at 1,000,000 orgs the seven kinds
// are ~70,000 rows, kept in both copies of the index. Each row is encoded once into an immutable
// SharedKindRow (a leaner encoding than the store's, below) that both copies share, so a row's
// bytes are held once; each copy adds only a 16-byte slot per row in an open-addressing hash table
// keyed by (org id, kind), at a load factor of at most 0.75. A lookup of an org without an own row
// (the usual case) touches one or two slots and no row.
//
// Lean encoding (internal, never stored or sent; varint = LEB128, zigzag for signed values):
//   varint sequence, time creation_date, time change_date (time := zigzag seconds, varint nanos),
//   u8 flags: 1 = resource_owner is the row's org id, 2 = stream is ("org", org id),
//             4 = stream is empty; else the string(s) follow (varint length, bytes): resource_owner
//             unless flag 1, then stream type and id unless flag 2 or 4;
//   then every field of the kind's spec in order: kBool, kEnum, kUint64: varint; kDuration: zigzag
//   varint of the nanoseconds; kString: front-coded against the row's previous string field
//   (varint bytes shared with its start, then varint length and bytes of the rest: the label
//   policy's five asset URLs differ only at their ends); kEnumList: varint count, varints.
// A row also holds its org id (1..255 bytes; empty for a default) and kind, which its slot is
// compared against.
//
// Threads: SharedKindRow's reference count is not atomic. Copies and destruction of SharedKindRow
// and KindTable (and every KindTable mutation) happen on the index's writer thread only (the
// writer, or the loader under the write lock); readers only call the const finders and
// DecodeInto, which never touch the count. store/left_right.h makes concurrent readers safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "model/policy_kinds.h"

namespace policyd {

// One immutable row in the lean encoding, shared by reference (a null handle holds none).
class SharedKindRow {
 public:
  SharedKindRow() = default;
  // Encodes `policy` (which CheckKindPolicy accepts; a generic kind) as the row of `org_id`
  // (1..255 bytes) or, with `org_id` empty, as the instance default of its kind.
  static SharedKindRow Make(std::string_view org_id, const KindPolicy& policy);

  SharedKindRow(const SharedKindRow& other);
  SharedKindRow(SharedKindRow&& other) noexcept;
  SharedKindRow& operator=(const SharedKindRow& other);
  SharedKindRow& operator=(SharedKindRow&& other) noexcept;
  ~SharedKindRow();

  explicit operator bool() const { return blob_ != nullptr; }
  // The row's kind and org id (empty: an instance default). Only on a non-null handle.
  PolicyKind kind() const;
  std::string_view org_id() const;
  // Bytes of the row's allocation (header, id and encoding).
  std::size_t bytes() const;

  // Sets `*out` to the row's policy, reusing the capacity of its fields' strings and lists: once
  // `*out` has held a row of the same kind with values at least as long, this does not allocate.
  void DecodeInto(KindPolicy* out) const;

 private:
  struct Blob;
  explicit SharedKindRow(Blob* blob) : blob_(blob) {}
  void Release();
  Blob* blob_ = nullptr;
};

class KindTable {
 public:
  // The hash of an org id that Find() takes (computed once per id for all kinds asked).
  static std::uint64_t HashId(std::string_view org_id);

  // A number unique in the process (never 0), for each default row put: a reader that keeps a
  // decoded default along with its serial need not decode it again while DefaultSerial() is the
  // same.
  static std::uint64_t NewSerial();

  // The instance default of `kind`, or nullptr. Valid until the next change of the table.
  const SharedKindRow* FindDefault(PolicyKind kind) const;
  // The serial the default of `kind` was put with (0 when there is none).
  std::uint64_t DefaultSerial(PolicyKind kind) const;
  // The own row of `kind` of org `org_id` (whose HashId is `id_hash`), or nullptr. Valid until the
  // next change of the table. Does not allocate.
  const SharedKindRow* Find(std::string_view org_id, std::uint64_t id_hash, PolicyKind kind) const;

  // Inserts `row` (non-null; a kind kPasswordComplexity..kLabel) or replaces the row of its org
  // and kind; a row with an empty org id is its kind's instance default, put with
  // `default_serial` (NewSerial(); both copies of the index get the same one).
  void Put(SharedKindRow row, std::uint64_t default_serial = 0);
  // Removes the own row of `kind` of `org_id` / every own row of `org_id`; absent rows are
  // ignored.
  void Erase(std::string_view org_id, PolicyKind kind);
  void EraseOrg(std::string_view org_id);
  void Clear();

  // Own rows held (defaults not counted).
  std::size_t size() const { return size_; }
  // Bytes of this table's slots (capacity), and of the rows it references (defaults included;
  // shared with the other copy of the index, so counted once for both).
  std::size_t SlotBytes() const { return slots_.capacity() * sizeof(Slot); }
  std::size_t RowBytes() const { return row_bytes_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;  // 0: empty (real hashes have the low bit set)
    SharedKindRow row;
  };
  static std::uint64_t SlotHash(std::uint64_t id_hash, PolicyKind kind);
  // The slot holding (org_id, kind), or the empty slot where it would go.
  std::size_t Probe(std::string_view org_id, PolicyKind kind, std::uint64_t hash) const;
  void EraseAt(std::size_t hole);
  void Rehash(std::size_t slot_count);

  std::vector<Slot> slots_;  // size is 0 or a power of two
  std::size_t size_ = 0;
  std::size_t row_bytes_ = 0;
  std::array<SharedKindRow, kPolicyKindCount> defaults_{};
  std::array<std::uint64_t, kPolicyKindCount> default_serials_{};
};

}  // namespace policyd
