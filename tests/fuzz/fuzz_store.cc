// Fuzzes the decoders of bytes read back from disk (store values, org and instance domain lists,
// verified-domain index rows, a v2 store's entry-version rows) and of the cursors kept in the store
// (a direct sync's, a fleet follower's): they must reject garbage with an error, and re-encode what
// they accept: as the same bytes when it is of the version encoders write (v2 policy and domain
// rows, which keep an event stream; v3 org values and instance records, which also keep the entry
// version), and as bytes that decode to the same value when it is an older row. Entry rows decode
// the same with and without a version out (the lookup path skips the version's strings). The rows
// of the generic policy kinds (store/kind_codec.h: a kind's default, an org's rows) have one
// encoding: what decodes re-encodes to the same bytes; and every policy they accept round-trips
// through the lookup index's lean encoding (store/kind_table.h), also when decoded into a policy
// that held another row.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "follow/cursor.h"
#include "store/codec.h"
#include "store/domain_index.h"
#include "store/kind_codec.h"
#include "store/kind_table.h"
#include "sync/cursor.h"

namespace {

// Traps unless `again` (the re-encoding of what `bytes` decoded to) is `bytes` itself for input
// of the current version, or at least decodes to the same value (checked by `same`).
template <typename Same>
void CheckReencoded(std::string_view bytes, const std::string& again, Same same,
                    std::uint8_t newest = policyd::kCodecV2) {
  const bool current = !bytes.empty() && static_cast<std::uint8_t>(bytes[0]) == newest;
  if (current ? again != bytes : !same(again)) __builtin_trap();
}

// Traps unless `p` comes back unchanged from the index's encoding as the row of `org_id` (an
// org's owner when it is a valid id, so that both the owner-is-the-org and the other branch run).
void CheckIndexRow(std::string_view org_id, const policyd::KindPolicy& p) {
  thread_local policyd::KindPolicy reused;  // holds the previous input's row: none of it may stay
  policyd::SharedKindRow::Make(org_id, p).DecodeInto(&reused);
  if (reused != p) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string out;
  switch (data[0] % 12) {
    case 0: {
      policyd::PolicyRecord r;
      if (policyd::DecodePolicyRecord(bytes, &r).ok()) {
        policyd::EncodePolicyRecord(r, &out);
        CheckReencoded(bytes, out, [&](const std::string& again) {
          policyd::PolicyRecord back;
          return policyd::DecodePolicyRecord(again, &back).ok() && back == r;
        });
      }
      break;
    }
    case 1: {
      policyd::InstanceRecord r;
      policyd::SourceVersion v;
      const policyd::Status s = policyd::DecodeInstanceRecord(bytes, &r, &v);
      if (policyd::DecodeInstanceRecord(bytes, &r).code() != s.code()) __builtin_trap();
      if (s.ok()) {
        policyd::EncodeInstanceRecord(r, v, &out);
        CheckReencoded(
            bytes, out,
            [&](const std::string& again) {
              policyd::InstanceRecord back;
              policyd::SourceVersion back_v;
              return policyd::DecodeInstanceRecord(again, &back, &back_v).ok() && back == r &&
                     back_v == v;
            },
            policyd::kCodecV3);
      }
      break;
    }
    case 2: {
      bool has_policy = false;
      policyd::PolicyRecord r;
      policyd::SourceVersion v;
      const policyd::Status s = policyd::DecodeOrgValue(bytes, &has_policy, &r, &v);
      if (policyd::DecodeOrgValue(bytes, &has_policy, &r).code() != s.code()) __builtin_trap();
      if (s.ok()) {
        policyd::EncodeOrgValue(has_policy ? &r : nullptr, v, &out);
        CheckReencoded(
            bytes, out,
            [&](const std::string& again) {
              bool back_has = false;
              policyd::PolicyRecord back;
              policyd::SourceVersion back_v;
              return policyd::DecodeOrgValue(again, &back_has, &back, &back_v).ok() &&
                     back_has == has_policy && (!has_policy || back == r) && back_v == v;
            },
            policyd::kCodecV3);
      }
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
      policyd::EventStream stream;
      std::vector<policyd::OrgDomain> domains;
      if (policyd::DecodeOrgDomains(bytes, &sequence, &stream, &domains).ok()) {
        policyd::EncodeOrgDomains(sequence, stream, domains, &out);
        CheckReencoded(bytes, out, [&](const std::string& again) {
          std::uint64_t s = 0;
          policyd::EventStream st;
          std::vector<policyd::OrgDomain> d;
          return policyd::DecodeOrgDomains(again, &s, &st, &d).ok() && s == sequence &&
                 st == stream && d == domains;
        });
      }
      break;
    }
    case 6: {
      std::uint64_t sequence = 0;
      policyd::EventStream stream;
      std::vector<std::string> names;
      if (policyd::DecodeInstanceDomains(bytes, &sequence, &stream, &names).ok()) {
        policyd::EncodeInstanceDomains(sequence, stream, names, &out);
        CheckReencoded(bytes, out, [&](const std::string& again) {
          std::uint64_t s = 0;
          policyd::EventStream st;
          std::vector<std::string> n;
          return policyd::DecodeInstanceDomains(again, &s, &st, &n).ok() && s == sequence &&
                 st == stream && n == names;
        });
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
    case 8: {
      // The fleet cursor's text form is canonical: what decodes re-encodes to the same bytes,
      // and a direct sync's decoder refuses it.
      auto c = policyd::follow::FleetCursor::Decode(bytes);
      if (c && (c->Encode() != bytes || policyd::SyncCursor::Decode(bytes))) __builtin_trap();
      break;
    }
    case 9: {
      // The entry-version row of a format v2 store (read when migrating it or opening it
      // read-only): one encoding, so what decodes re-encodes to the same bytes.
      policyd::SourceVersion v;
      if (policyd::DecodeSourceVersion(bytes, &v).ok()) {
        policyd::EncodeSourceVersion(v, &out);
        if (out != bytes) __builtin_trap();
      }
      break;
    }
    case 10: {
      policyd::KindPolicy p;
      policyd::SourceVersion v;
      if (policyd::DecodeKindDefault(bytes, &p, &v).ok()) {
        // A row written by an older spec (fewer fields) re-encodes with every field: the same
        // bytes only when the row had them all, else the same value in canonical bytes.
        policyd::EncodeKindDefault(p, v, &out);
        policyd::KindPolicy again;
        policyd::SourceVersion again_version;
        if (!policyd::DecodeKindDefault(out, &again, &again_version).ok() || again != p ||
            again_version != v) {
          __builtin_trap();
        }
        std::string canonical;
        policyd::EncodeKindDefault(again, again_version, &canonical);
        if (canonical != out) __builtin_trap();
        CheckIndexRow("", p);
      }
      break;
    }
    case 11: {
      std::vector<policyd::StoredKindRow> rows;
      std::size_t count = 0;
      if (policyd::DecodeOrgKinds(bytes, &rows, &count).ok()) {
        // As case 10: rows of an older spec come back in canonical bytes, with the same values.
        const std::span<const policyd::StoredKindRow> decoded(rows.data(), count);
        policyd::EncodeOrgKinds(decoded, &out);
        std::vector<policyd::StoredKindRow> again;
        std::size_t again_count = 0;
        if (!policyd::DecodeOrgKinds(out, &again, &again_count).ok() || again_count != count ||
            !std::equal(decoded.begin(), decoded.end(), again.begin())) {
          __builtin_trap();
        }
        std::string canonical;
        policyd::EncodeOrgKinds(std::span<const policyd::StoredKindRow>(again.data(), again_count),
                                &canonical);
        if (canonical != out) __builtin_trap();
        for (const policyd::StoredKindRow& row : decoded) {
          const std::string& owner = row.policy.details.resource_owner;
          if (row.has_policy) CheckIndexRow(owner.empty() ? "org-1" : owner, row.policy);
        }
      }
      break;
    }
  }
  return 0;
}
