#include "store/entry_rows.h"

#include <algorithm>
#include <string>

#include "store/codec.h"
#include "store/keys.h"

namespace policyd {
namespace {

namespace keys = store_keys;

std::string_view IdOf(const OrgRecord* org) { return org->id; }
std::string_view IdOf(std::string_view id) { return id; }

Status BatchError(const rocksdb::Status& s) {
  return Status::Internal("build write batch: " + s.ToString());
}

}  // namespace

Status PreviousOrg(const MultiGetBuffer& prev, std::size_t i, std::string_view id, bool* existed,
                   bool* had_policy, SourceVersion* version, PolicyRecord* policy) {
  *existed = false;
  *had_policy = false;
  // Cleared in place, and decoded into scratch records: a page of changes reuses their strings'
  // capacity rather than allocating per org.
  version->date = {};
  version->stream.type.clear();
  version->stream.id.clear();
  version->sequence = 0;
  const rocksdb::Status& s = prev.status(i);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return FromRocksRead(s, "org " + std::string(id));
  thread_local PolicyRecord ignored;
  POLICYD_RETURN_IF_ERROR(
      DecodeOrgValue(prev.value(i), had_policy, policy != nullptr ? policy : &ignored, version));
  *existed = true;
  return Status::Ok();
}

Result<bool> StageEntryRow(std::string_view key, const std::string_view* old,
                           const SourceVersion& old_version, const SourceVersion& version,
                           const EntryEncoder& encode, rocksdb::WriteBatch& batch, Staged& staged) {
  thread_local std::string value;
  encode(version, &value);
  if (old != nullptr && *old == value) return false;  // the same bytes: nothing to write
  // The contents compare as the bytes before each row's version body. A row of an older codec
  // (no version body) never compares equal: it is simply rewritten.
  const std::size_t old_size = VersionBodySize(old_version);
  const std::size_t new_size = VersionBodySize(version);
  const bool same_content = old != nullptr && !old->empty() &&
                            static_cast<std::uint8_t>((*old)[0]) == kCodecV3 &&
                            old->size() >= old_size &&
                            old->substr(0, old->size() - old_size) ==
                                std::string_view(value).substr(0, value.size() - new_size);
  if (rocksdb::Status s = batch.Put(ToSlice(key), ToSlice(value)); !s.ok()) {
    return Err(BatchError(s));
  }
  (same_content ? staged.versions_written : staged.changed) = true;
  return !same_content;
}

const SourceVersion* NamedVersion(const NamedVersions& named, std::string_view id) {
  auto it = std::lower_bound(named.begin(), named.end(), id,
                             [](const auto& entry, std::string_view v) { return entry.first < v; });
  return it != named.end() && it->first == id ? it->second : nullptr;
}

Status StageVersionOnlyOrgs(const MultiGetBuffer& prev, std::size_t first,
                            const NamedVersions& version_only, rocksdb::WriteBatch& batch,
                            Staged& staged) {
  std::size_t slot = first;
  std::string key;
  PolicyRecord policy;
  SourceVersion old_version;
  for (const auto& [id, version] : version_only) {
    bool existed = false;
    bool has_policy = false;
    POLICYD_RETURN_IF_ERROR(
        PreviousOrg(prev, slot++, id, &existed, &has_policy, &old_version, &policy));
    if (!existed) continue;  // unreachable: StageDomains() refused it
    const std::string_view old = prev.value(slot - 1);
    const PolicyRecord* p = has_policy ? &policy : nullptr;
    keys::OrgKeyInto(id, &key);
    Result<bool> content = StageEntryRow(
        key, &old, old_version, *version,
        [p](const SourceVersion& v, std::string* out) { EncodeOrgValue(p, v, out); }, batch,
        staged);
    if (!content) return content.error();
  }
  return Status::Ok();
}

Status StageInstance(const StoreChange& change, const MultiGetBuffer& prev, std::size_t slot,
                     rocksdb::WriteBatch& batch, StoreMeta& meta, Staged& staged) {
  if (!change.instance && !change.instance_version) return Status::Ok();
  const rocksdb::Status& old = prev.status(slot);
  if (!old.ok() && !old.IsNotFound()) return FromRocksRead(old, "instance");
  InstanceRecord stored;
  SourceVersion old_version;
  const std::string_view old_bytes = old.ok() ? prev.value(slot) : std::string_view();
  bool had = old.ok();
  if (had) {
    Status d = DecodeInstanceRecord(old_bytes, &stored, &old_version);
    // A damaged row that the change replaces is simply overwritten (with a zero old version).
    if (!d.ok() && !change.instance) return d;
    if (!d.ok()) {
      had = false;
      old_version = {};
    }
  }
  if (!change.instance && !had) return Status::Ok();
  const InstanceRecord& record = change.instance ? *change.instance : stored;
  Result<bool> content = StageEntryRow(
      keys::kInstanceKey, had ? &old_bytes : nullptr, old_version,
      change.instance_version ? *change.instance_version : old_version,
      [&record](const SourceVersion& v, std::string* out) { EncodeInstanceRecord(record, v, out); },
      batch, staged);
  if (!content) return content.error();
  if (change.instance) meta.has_instance = true;
  return Status::Ok();
}

Result<NamedVersions> ValidateVersions(const StoreChange& change,
                                       const std::vector<const OrgRecord*>& puts) {
  if (change.instance_version) {
    Status s = CheckSourceVersion("instance_version", *change.instance_version);
    if (!s.ok()) return Err(std::move(s));
  }
  std::vector<std::string_view> written;
  written.reserve(puts.size() + change.put_org_domains.size());
  for (const OrgRecord* org : puts) written.push_back(org->id);
  for (const OrgDomains& list : change.put_org_domains) written.push_back(list.org_id);
  std::sort(written.begin(), written.end());
  NamedVersions named;
  named.reserve(change.org_versions.size());
  for (std::size_t i = 0; i < change.org_versions.size(); ++i) {
    const auto& [id, version] = change.org_versions[i];
    // The name is built for messages only: this runs for every org of every synced page.
    auto what = [i] { return "org_versions[" + std::to_string(i) + "]"; };
    if (!CheckSourceVersion("", version).ok()) {
      return Err(CheckSourceVersion(what(), version));
    }
    if (!std::binary_search(written.begin(), written.end(), std::string_view(id))) {
      return Err(Status::InvalidArgument(what() + ": org " + id +
                                         " is neither in put_orgs nor in put_org_domains"));
    }
    named.emplace_back(id, &version);
  }
  std::sort(named.begin(), named.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto dup = std::adjacent_find(named.begin(), named.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
  if (dup != named.end()) {
    return Err(Status::InvalidArgument("org_versions: org " + std::string(dup->first) +
                                       " appears more than once"));
  }
  return named;
}

NamedVersions VersionOnly(const NamedVersions& named, const std::vector<const OrgRecord*>& puts) {
  NamedVersions out;
  for (const auto& entry : named) {
    if (!std::binary_search(puts.begin(), puts.end(), entry.first,
                            [](const auto& a, const auto& b) { return IdOf(a) < IdOf(b); })) {
      out.push_back(entry);
    }
  }
  return out;
}

Status CheckSnapshotVersions(const Snapshot& snapshot) {
  if (!snapshot.org_versions.empty() && snapshot.org_versions.size() != snapshot.orgs.size()) {
    return Status::InvalidArgument(
        "snapshot org_versions: " + std::to_string(snapshot.org_versions.size()) +
        " versions for " + std::to_string(snapshot.orgs.size()) + " orgs");
  }
  POLICYD_RETURN_IF_ERROR(CheckSourceVersion("snapshot version", snapshot.version));
  if (snapshot.instance_version) {
    POLICYD_RETURN_IF_ERROR(
        CheckSourceVersion("snapshot instance_version", *snapshot.instance_version));
  }
  for (std::size_t i = 0; i < snapshot.org_versions.size(); ++i) {
    POLICYD_RETURN_IF_ERROR(CheckSourceVersion("snapshot org_versions[" + std::to_string(i) + "]",
                                               snapshot.org_versions[i]));
  }
  return Status::Ok();
}

}  // namespace policyd
