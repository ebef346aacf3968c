#include "store/domain_index.h"

#include <algorithm>

#include "model/domain_policy.h"
#include "store/keys.h"

namespace policyd {
namespace {

void PutU32(std::uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutString(std::string_view s, std::string* out) {
  PutU32(static_cast<std::uint32_t>(s.size()), out);
  out->append(s);
}

Status Lost(std::string_view what) {
  return Status::DataLoss("verified-domain index row: " + std::string(what));
}

// Reads a u32 from the front of `in`; false when it holds fewer than 4 bytes.
bool GetU32(std::string_view& in, std::uint32_t* v) {
  if (in.size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) {
    *v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  in.remove_prefix(4);
  return true;
}

// Reads a u32 length and then 1..max bytes into `*out`; false when the bytes do not hold them.
bool GetString(std::string_view& in, std::size_t max, std::string* out) {
  std::uint32_t n = 0;
  if (!GetU32(in, &n) || n == 0 || n > max || n > in.size()) return false;
  out->assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

bool OrgLess(const DomainClaim& a, const DomainClaim& b) { return a.org_id < b.org_id; }

std::string IndexKey(std::string_view domain) {
  std::string key;
  store_keys::AppendDomainIndexKey(domain, &key);
  return key;
}

// Sets or (with an empty domain) drops org `org_id`'s claim in `claims` (sorted by org id).
void ApplyEdit(std::vector<DomainClaim>& claims, std::string_view org_id, std::string_view domain) {
  auto it =
      std::lower_bound(claims.begin(), claims.end(), org_id,
                       [](const DomainClaim& c, std::string_view id) { return c.org_id < id; });
  const bool present = it != claims.end() && it->org_id == org_id;
  if (domain.empty()) {
    if (present) claims.erase(it);
  } else if (present) {
    it->domain.assign(domain);
  } else {
    claims.insert(it, DomainClaim{std::string(org_id), std::string(domain)});
  }
}

}  // namespace

void EncodeDomainClaims(std::span<const DomainClaim> claims, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(kDomainIndexV1));
  PutU32(static_cast<std::uint32_t>(claims.size()), out);
  for (const DomainClaim& c : claims) {
    PutString(c.org_id, out);
    PutString(c.domain, out);
  }
}

Status DecodeDomainClaims(std::string_view in, std::vector<DomainClaim>* out) {
  if (in.empty()) return Lost("empty");
  if (static_cast<std::uint8_t>(in[0]) != kDomainIndexV1) {
    return Lost("unknown version " + std::to_string(static_cast<unsigned char>(in[0])));
  }
  in.remove_prefix(1);
  std::uint32_t count = 0;
  if (!GetU32(in, &count)) return Lost("truncated count");
  // Each claim takes at least 10 bytes: a count beyond that cannot be real (and must not make
  // us allocate for it).
  if (count == 0 || count > in.size() / 10) return Lost("bad claim count");
  out->resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    DomainClaim& c = (*out)[i];
    if (!GetString(in, kMaxIdLength, &c.org_id)) return Lost("bad org id");
    if (!GetString(in, kMaxDomainLength, &c.domain)) return Lost("bad domain");
    if (i > 0 && !((*out)[i - 1].org_id < c.org_id)) return Lost("org ids out of order");
  }
  if (!in.empty()) return Lost("trailing bytes");
  return Status::Ok();
}

void DomainIndexRows::AddList(std::string_view org_id, std::span<const OrgDomain> domains) {
  for (const OrgDomain& d : domains) {
    if (!d.verified) continue;
    std::vector<DomainClaim>& claims = rows_[IndexKey(d.name)];
    ApplyEdit(claims, org_id, d.name);
  }
}

void DomainIndexRows::Change(std::string_view org_id, std::span<const OrgDomain> before,
                             std::span<const OrgDomain> after) {
  for (const OrgDomain& b : before) {
    if (!b.verified) continue;
    const OrgDomain* now = FindDomain(after, b.name);
    if (now == nullptr || !now->verified) {
      edits_[IndexKey(b.name)].push_back(Edit{std::string(org_id), {}});
    }
  }
  for (const OrgDomain& a : after) {
    if (!a.verified) continue;
    const OrgDomain* was = FindDomain(before, a.name);
    if (was != nullptr && was->verified && was->name == a.name) continue;  // the same claim
    edits_[IndexKey(a.name)].push_back(Edit{std::string(org_id), a.name});
  }
}

std::vector<std::string> DomainIndexRows::keys() const {
  std::vector<std::string> out;
  out.reserve(edits_.size());
  for (const auto& [key, edits] : edits_) out.push_back(key);
  return out;
}

void DomainIndexRows::Load(std::string_view key, std::vector<DomainClaim> stored) {
  loaded_.insert_or_assign(std::string(key), std::move(stored));
}

void DomainIndexRows::Finish() {
  for (const auto& [key, edits] : edits_) {
    auto loaded = loaded_.find(key);
    std::vector<DomainClaim> claims =
        loaded == loaded_.end() ? std::vector<DomainClaim>{} : loaded->second;
    // Stored rows are sorted; keep them so even if one was written by hand.
    std::sort(claims.begin(), claims.end(), OrgLess);
    for (const Edit& e : edits) ApplyEdit(claims, e.org_id, e.domain);
    rows_.insert_or_assign(key, std::move(claims));
  }
}

bool DomainIndexRows::changed(std::string_view key) const {
  auto row = rows_.find(key);
  if (row == rows_.end()) return false;
  auto loaded = loaded_.find(key);
  if (loaded == loaded_.end()) return !row->second.empty();
  return loaded->second != row->second;
}

}  // namespace policyd
