// Helpers for the tests of the generic kinds' rows: policies with every field set from a seed,
// and everything ForEachKindRow() or a Read() with kinds sees, as comparable values.
//
// Threads: plain functions.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.h"
#include "support/kind_samples.h"

namespace policyd {

// Every stored generic kind, kLabelPreview included, in number order.
inline std::vector<PolicyKind> StoredGenericKinds() {
  std::vector<PolicyKind> kinds(kGenericKinds.begin(), kGenericKinds.end());
  kinds.push_back(PolicyKind::kLabelPreview);
  return kinds;
}

// A policy of `kind` whose every field, detail and stream derives from `seed` (values valid for
// the spec: known enum numbers, bools 0/1).
inline KindPolicy SeededPolicy(PolicyKind kind, std::uint64_t seed, const std::string& owner) {
  KindPolicy p = EmptyKindPolicy(kind);
  const KindSpec& spec = SpecOf(kind);
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    FieldValue& v = p.fields[i];
    const FieldSpec& f = spec.fields[i];
    const std::uint64_t s = seed + i;
    switch (f.type) {
      case FieldType::kBool:
        v.number = s % 2;
        break;
      case FieldType::kUint64:
        v.number = s * 1000 + 7;
        break;
      case FieldType::kDuration:
        v.number = static_cast<std::uint64_t>(-static_cast<std::int64_t>(s * 1'000'000'000));
        break;
      case FieldType::kString:
        v.text = "text-" + std::to_string(s) + "-" + std::string(s % 5, 'x');
        break;
      case FieldType::kEnum:
        v.number = s % f.enum_spec->values.size();
        break;
      case FieldType::kEnumList:
        for (std::uint64_t j = 0; j < s % 3 + 1; ++j) {
          v.list.push_back(static_cast<std::uint32_t>((s + j) % f.enum_spec->values.size()));
        }
        break;
      case FieldType::kIdpLinks:
        v.links = test::SampleLinks(f, s, s % 4);
        if (kind == PolicyKind::kIdpTable && !v.links.empty()) v.links[0].owner = owner;
        break;
    }
  }
  p.details = Details{seed, Timestamp{1700000000, 3},
                      Timestamp{1700000000 + static_cast<std::int64_t>(seed), 4}, owner};
  p.stream = EventStream{"org", owner};
  return p;
}

inline SourceVersion KindVersion(std::uint64_t seq) {
  return SourceVersion{Timestamp{1800000000 + static_cast<std::int64_t>(seq), 5},
                       EventStream{"org", "stream-" + std::to_string(seq)}, seq};
}

// One row as ForEachKindRow() visits it.
struct SeenKindRow {
  KindRow row;
  bool has_policy = false;
  friend bool operator==(const SeenKindRow&, const SeenKindRow&) = default;
};

inline void PrintTo(const SeenKindRow& r, std::ostream* os) {
  *os << "{" << (r.row.org_id.empty() ? "<default>" : r.row.org_id) << " kind "
      << static_cast<int>(r.row.policy.kind) << (r.has_policy ? "" : " (removed)") << " seq "
      << r.row.policy.details.sequence << " owner " << r.row.policy.details.resource_owner
      << " fields " << r.row.policy.fields.size() << " v" << r.row.version.sequence << " "
      << r.row.version.date.seconds << "." << r.row.version.date.nanos << " "
      << r.row.version.stream.type << "/" << r.row.version.stream.id << " stream "
      << r.row.policy.stream.type << "/" << r.row.policy.stream.id << " dates "
      << r.row.policy.details.creation_date.seconds << "."
      << r.row.policy.details.creation_date.nanos << " " << r.row.policy.details.change_date.seconds
      << "." << r.row.policy.details.change_date.nanos << " values";
  for (const FieldValue& f : r.row.policy.fields) {
    *os << " " << f.number << "/" << f.text << "/" << f.list.size();
  }
  *os << "}";
}

inline std::vector<SeenKindRow> KindRows(const Store& store) {
  std::vector<SeenKindRow> out;
  Status s = store.ForEachKindRow([&](const KindRow& row, bool has_policy) {
    out.push_back({row, has_policy});
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// What a Read() with every stored kind (and versions when `versions`) answers for `ids`, as rows
// in the order ForEachKindRow() uses (defaults, then ids as given, kinds in number order); a
// tombstone shows as has_policy false with an empty policy of its kind (only with versions, and
// only when its version is not zero).
inline std::vector<SeenKindRow> ReadKinds(const Store& store, const std::vector<std::string>& ids,
                                          bool versions) {
  LookupBatch batch;
  KindSet all;
  for (PolicyKind k : StoredGenericKinds()) all.insert(k);
  batch.set_kinds(all);
  batch.set_with_versions(versions);
  for (const std::string& id : ids) batch.Add(id);
  Status s = store.Read(batch);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<SeenKindRow> out;
  for (PolicyKind k : StoredGenericKinds()) {
    if (const KindPolicy* p = batch.kind_default(k)) {
      out.push_back(
          {KindRow{"", *p, versions ? batch.kind_default_version(k) : SourceVersion{}}, true});
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (PolicyKind k : StoredGenericKinds()) {
      const KindPolicy* p = batch.kind_policy(i, k);
      const SourceVersion v = versions ? batch.kind_version(i, k) : SourceVersion{};
      if (p != nullptr) {
        out.push_back({KindRow{ids[i], *p, v}, true});
      } else if (v != SourceVersion{}) {
        out.push_back({KindRow{ids[i], EmptyKindPolicy(k), v}, false});
      }
    }
  }
  return out;
}

// What a Read() of `kinds` without versions answers for `ids` (through `batch`, cleared first,
// so that a caller can reuse one across reads), as rows in ReadKinds' order. The answer kinds
// alone (no kLabelPreview) are what an IndexedStore answers from memory.
inline std::vector<SeenKindRow> ReadKindSet(const Store& store, const std::vector<std::string>& ids,
                                            KindSet kinds, LookupBatch& batch) {
  batch.Clear();
  batch.set_kinds(kinds);
  batch.set_with_versions(false);
  for (const std::string& id : ids) batch.Add(id);
  Status s = store.Read(batch);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<SeenKindRow> out;
  for (PolicyKind k : StoredGenericKinds()) {
    if (const KindPolicy* p = batch.kind_default(k)) out.push_back({KindRow{"", *p, {}}, true});
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (PolicyKind k : StoredGenericKinds()) {
      if (const KindPolicy* p = batch.kind_policy(i, k)) {
        out.push_back({KindRow{ids[i], *p, {}}, true});
      }
    }
  }
  return out;
}

// Every kind of answer but kDomain: what an IndexedStore holds.
inline KindSet AnswerKindSet() {
  KindSet set;
  for (PolicyKind k : kGenericKinds) set.insert(k);
  return set;
}

// `rows` without kLabelPreview's.
inline std::vector<SeenKindRow> WithoutPreview(std::vector<SeenKindRow> rows) {
  std::erase_if(
      rows, [](const SeenKindRow& r) { return r.row.policy.kind == PolicyKind::kLabelPreview; });
  return rows;
}

}  // namespace policyd
