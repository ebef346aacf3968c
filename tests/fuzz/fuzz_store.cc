// Fuzzes the decoders of bytes read back from disk (store values, org and instance domain lists,
// verified-domain index rows) and of the sync cursor kept in the store: they must reject garbage
// with an error, and re-encode what they accept.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/codec.h"
#include "store/domain_index.h"
#include "sync/cursor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string out;
  switch (data[0] % 8) {
    case 0: {
      policyd::PolicyRecord r;
      if (policyd::DecodePolicyRecord(bytes, &r).ok()) {
        policyd::EncodePolicyRecord(r, &out);
        if (out != bytes) __builtin_trap();
      }
      break;
    }
    case 1: {
      policyd::InstanceRecord r;
      if (policyd::DecodeInstanceRecord(bytes, &r).ok()) policyd::EncodeInstanceRecord(r, &out);
      break;
    }
    case 2: {
      bool has_policy = false;
      policyd::PolicyRecord r;
      (void)policyd::DecodeOrgValue(bytes, &has_policy, &r);
      break;
    }
    case 3: {
      policyd::StoreMeta m;
      if (policyd::DecodeStoreMeta(bytes, &m).ok()) policyd::EncodeStoreMeta(m, &out);
      break;
    }
    case 4: {
      auto c = policyd::SyncCursor::Decode(bytes);
      if (c) {
        auto again = policyd::SyncCursor::Decode(c->Encode());
        if (!again || !(*again == *c)) __builtin_trap();
      }
      break;
    }
    case 5: {
      std::uint64_t sequence = 0;
      std::vector<policyd::OrgDomain> domains;
      if (policyd::DecodeOrgDomains(bytes, &sequence, &domains).ok()) {
        policyd::EncodeOrgDomains(sequence, domains, &out);
        if (out != bytes) __builtin_trap();
      }
      break;
    }
    case 6: {
      std::uint64_t sequence = 0;
      std::vector<std::string> names;
      if (policyd::DecodeInstanceDomains(bytes, &sequence, &names).ok()) {
        policyd::EncodeInstanceDomains(sequence, names, &out);
        if (out != bytes) __builtin_trap();
      }
      break;
    }
    case 7: {
      std::vector<policyd::DomainClaim> claims;
      if (policyd::DecodeDomainClaims(bytes, &claims).ok()) {
        policyd::EncodeDomainClaims(claims, &out);
        if (out != bytes) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
