// Sample rows of the generic policy kinds (model/policy_kinds.h) for tests: every field set to
// something non-zero (a login policy's lists and durations, a label's URLs), so that a test
// reaches every field of every kind. `salt` varies the values (two samples with different salts
// differ in every field that can differ).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/policy_kinds.h"

namespace policyd::test {

// `count` links that fit `field` (a kIdpLinks field): distinct ids, every third name empty (and
// others with characters JSON escapes), types cycling through the values the field's enum names.
inline std::vector<IdpLink> SampleLinks(const FieldSpec& field, std::uint64_t salt,
                                        std::size_t count) {
  std::vector<std::uint32_t> types;
  for (std::uint32_t t = 0; t < field.enum_spec->values.size(); ++t) {
    if (!field.enum_spec->values[t].empty()) types.push_back(t);
  }
  std::vector<IdpLink> links;
  for (std::size_t i = 0; i < count; ++i) {
    links.push_back(IdpLink{std::to_string(400000000000000000ULL + salt * 100 + i),
                            i % 3 == 1 ? "" : "IdP \"" + std::to_string(salt) + "\" \xc3\xa9",
                            types[(salt + i) % types.size()],
                            {}});
  }
  return links;
}

inline KindPolicy SampleKindPolicy(PolicyKind kind, std::uint32_t salt = 0,
                                   const std::string& owner = "org-1") {
  KindPolicy p = EmptyKindPolicy(kind);
  const KindSpec& spec = SpecOf(kind);
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& field = spec.fields[i];
    FieldValue& v = p.fields[i];
    switch (field.type) {
      case FieldType::kBool:
        v.number = (i + salt) % 2;
        break;
      case FieldType::kUint64:
        v.number = 8 + i + salt;
        break;
      case FieldType::kString:
        v.text =
            "https://example.com/" + std::string(field.proto_name) + "/" + std::to_string(salt);
        break;
      case FieldType::kDuration:
        v.number = static_cast<std::uint64_t>(std::int64_t{864000 + salt} * 1'000'000'000 + 5);
        break;
      case FieldType::kEnum:
        v.number = (field.enum_spec->values.size() - 1 + salt) % field.enum_spec->values.size();
        break;
      case FieldType::kEnumList:
        for (std::uint32_t n = 1 + salt % 2; n < field.enum_spec->values.size(); ++n) {
          v.list.push_back(n);
        }
        break;
      case FieldType::kIdpLinks:
        v.links = SampleLinks(field, salt, 3);
        break;
    }
  }
  p.details = {17 + salt, {1739260801, 500000000}, {1740820364 + salt, 123456000}, owner};
  p.stream = {"org", owner};
  return p;
}

}  // namespace policyd::test
