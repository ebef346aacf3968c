// Test support: fleet bucket values built with the generated FlatBuffers API, bypassing
// fleet::EncodeValue's checks, as a hostile, buggy or newer publisher could write them.
// Link policyd_schema for the generated header.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <string>

#include "fleet_generated.h"

namespace policyd::testing_support {

// An OrgEntry value for org `org_id` (no policy, one verified domain) with schema major `major`.
inline std::string RawOrgValue(const std::string& org_id, std::uint32_t major) {
  namespace fb = policyd::fleet::fb;
  flatbuffers::FlatBufferBuilder fbb;
  const fb::Timestamp date(1740820364, 0);
  auto version = fb::CreateSourceVersion(fbb, &date);
  std::vector<flatbuffers::Offset<fb::OrgDomain>> domains{
      fb::CreateOrgDomain(fbb, fbb.CreateString("raw.example"), true, false)};
  auto org = fb::CreateOrgEntry(fbb, fbb.CreateString(org_id), 0, fbb.CreateVector(domains));
  fb::ValueBuilder b(fbb);
  b.add_schema_major(major);
  b.add_version(version);
  b.add_entry_type(fb::Entry::OrgEntry);
  b.add_entry(org.Union());
  fbb.Finish(b.Finish(), "PDFL");
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

}  // namespace policyd::testing_support
