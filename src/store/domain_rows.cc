#include "store/domain_rows.h"

#include <algorithm>
#include <functional>
#include <string>

#include "store/codec.h"
#include "store/keys.h"

namespace policyd {
namespace {

namespace keys = store_keys;

bool ListLess(const OrgDomains* a, const OrgDomains* b) { return a->org_id < b->org_id; }
std::string_view ListId(const OrgDomains* l) { return l->org_id; }
std::string_view OrgId(const OrgRecord* o) { return o->id; }

// Checks each list (named `list` in messages) and returns them sorted by org id.
Result<std::vector<const OrgDomains*>> CheckLists(std::string_view list,
                                                  const std::vector<OrgDomains>& lists) {
  std::vector<const OrgDomains*> sorted;
  sorted.reserve(lists.size());
  for (std::size_t i = 0; i < lists.size(); ++i) {
    const OrgDomains& l = lists[i];
    Status s = ValidateId("org id", l.org_id);
    if (s.ok()) s = ValidateOrgDomains("domains of org " + l.org_id, l.domains);
    if (s.ok()) s = CheckStream("domains of org " + l.org_id, l.stream);
    if (!s.ok()) return Err(s.WithContext(std::string(list) + "[" + std::to_string(i) + "]"));
    sorted.push_back(&l);
  }
  std::sort(sorted.begin(), sorted.end(), ListLess);
  auto dup = std::adjacent_find(
      sorted.begin(), sorted.end(),
      [](const OrgDomains* a, const OrgDomains* b) { return a->org_id == b->org_id; });
  if (dup != sorted.end()) {
    return Err(Status::InvalidArgument(std::string(list) + ": domains of org " + (*dup)->org_id +
                                       " given more than once"));
  }
  return sorted;
}

// An empty list (of an org's or the instance's domains) that carries no sequence is no row at all.
bool IsNoRow(std::size_t count, std::uint64_t sequence) { return count == 0 && sequence == 0; }

Status BatchError(const rocksdb::Status& s) {
  return Status::Internal("build write batch: " + s.ToString());
}

// Writes `value` at `key` unless the previous row (slot `i` of `prev`) holds it already, or
// deletes the row when `remove`. Sets `*changed` when the row changes.
Status StageRow(const MultiGetBuffer& prev, std::size_t i, std::string_view what,
                std::string_view key, bool remove, std::string_view value,
                rocksdb::WriteBatch& batch, bool* changed) {
  const rocksdb::Status& old = prev.status(i);
  if (!old.ok() && !old.IsNotFound()) return FromRocksRead(old, what);
  const bool existed = old.ok();
  rocksdb::Status b;
  if (remove) {
    if (!existed) return Status::Ok();
    b = batch.Delete(ToSlice(key));
  } else {
    if (existed && prev.value(i) == value) return Status::Ok();
    b = batch.Put(ToSlice(key), ToSlice(value));
  }
  if (!b.ok()) return BatchError(b);
  *changed = true;
  return Status::Ok();
}

}  // namespace

Result<DomainPlan> PlanDomains(const StoreChange& change) {
  DomainPlan plan;
  Result<std::vector<const OrgDomains*>> lists =
      CheckLists("put_org_domains", change.put_org_domains);
  if (!lists) return Err(std::move(lists.error()));
  plan.lists = std::move(*lists);
  if (change.instance_domains) {
    Status s = ValidateInstanceDomains("instance_domains", change.instance_domains->names);
    if (s.ok()) s = CheckStream("instance_domains", change.instance_domains->stream);
    if (!s.ok()) {
      return Err(std::move(s));
    }
    plan.instance = &*change.instance_domains;
  }
  for (const std::string& id : change.removed_orgs) {
    // Ids were checked with removed_orgs; a bad one never names a row.
    if (!ValidateId("org id", id).ok()) continue;
    const bool relisted =
        std::ranges::binary_search(plan.lists, std::string_view(id), std::less<>(), ListId);
    if (!relisted) plan.cleared.push_back(id);
  }
  std::sort(plan.cleared.begin(), plan.cleared.end());
  plan.cleared.erase(std::unique(plan.cleared.begin(), plan.cleared.end()), plan.cleared.end());
  return plan;
}

void AddDomainReads(const DomainPlan& plan, MultiGetBuffer& prev) {
  for (std::string_view id : plan.cleared) prev.AddOrgDomainsKey(id);
  for (const OrgDomains* list : plan.lists) {
    prev.AddOrgKey(list->org_id);
    prev.AddOrgDomainsKey(list->org_id);
  }
  prev.AddKey(keys::kInstanceDomainsKey);
}

Status StageDomains(const DomainPlan& plan, const MultiGetBuffer& prev, std::size_t first,
                    const std::vector<const OrgRecord*>& puts,
                    const std::vector<std::string_view>& removals, rocksdb::WriteBatch& batch,
                    bool* changed) {
  std::size_t slot = first;
  std::string key;
  std::string value;
  for (std::string_view id : plan.cleared) {
    key.clear();
    keys::AppendOrgDomainsKey(id, &key);
    POLICYD_RETURN_IF_ERROR(StageRow(prev, slot++, "domains of org " + std::string(id), key,
                                     /*remove=*/true, {}, batch, changed));
  }
  for (const OrgDomains* list : plan.lists) {
    const std::string_view id = list->org_id;
    const std::size_t org_slot = slot++;
    const rocksdb::Status& org = prev.status(org_slot);
    if (!org.ok() && !org.IsNotFound()) return FromRocksRead(org, "org " + list->org_id);
    const bool put = std::ranges::binary_search(puts, id, std::less<>(), OrgId);
    const bool removed = std::binary_search(removals.begin(), removals.end(), id);
    if (!put && (removed || !org.ok())) {
      return Status::InvalidArgument("put_org_domains: org " + list->org_id +
                                     " does not exist (domains belong to a known org)");
    }
    key.clear();
    keys::AppendOrgDomainsKey(id, &key);
    EncodeOrgDomains(list->sequence, list->stream, list->domains, &value);
    POLICYD_RETURN_IF_ERROR(StageRow(prev, slot++, "domains of org " + list->org_id, key,
                                     IsNoRow(list->domains.size(), list->sequence), value, batch,
                                     changed));
  }
  const std::size_t instance_slot = slot;
  if (plan.instance == nullptr) return Status::Ok();
  EncodeInstanceDomains(plan.instance->sequence, plan.instance->stream, plan.instance->names,
                        &value);
  return StageRow(prev, instance_slot, "instance domains", keys::kInstanceDomainsKey,
                  IsNoRow(plan.instance->names.size(), plan.instance->sequence), value, batch,
                  changed);
}

Status CheckSnapshotDomains(const Snapshot& snapshot, const std::vector<const OrgRecord*>& orgs) {
  Result<std::vector<const OrgDomains*>> lists =
      CheckLists("snapshot org domains", snapshot.org_domains);
  if (!lists) return lists.error();
  for (const OrgDomains* list : *lists) {
    const bool known =
        std::ranges::binary_search(orgs, std::string_view(list->org_id), std::less<>(), OrgId);
    if (!known) {
      return Status::InvalidArgument("snapshot org domains: org " + list->org_id +
                                     " is not one of the snapshot's orgs");
    }
  }
  Status s = ValidateInstanceDomains("snapshot instance domains", snapshot.instance_domains.names);
  return s.ok() ? CheckStream("snapshot instance domains", snapshot.instance_domains.stream) : s;
}

Status StageSnapshotDomains(const Snapshot& snapshot, rocksdb::WriteBatch& batch) {
  // As for the org rows: one range tombstone for every old domain row, the new rows after it.
  rocksdb::Status b =
      batch.DeleteRange(ToSlice(keys::kOrgDomainsPrefix), ToSlice(keys::kOrgDomainsEnd));
  if (b.ok()) b = batch.Delete(ToSlice(keys::kInstanceDomainsKey));
  std::string key;
  std::string value;
  for (const OrgDomains& list : snapshot.org_domains) {
    if (!b.ok()) break;
    if (IsNoRow(list.domains.size(), list.sequence)) continue;
    key.clear();
    keys::AppendOrgDomainsKey(list.org_id, &key);
    EncodeOrgDomains(list.sequence, list.stream, list.domains, &value);
    b = batch.Put(ToSlice(key), ToSlice(value));
  }
  const InstanceDomains& instance = snapshot.instance_domains;
  if (b.ok() && !IsNoRow(instance.names.size(), instance.sequence)) {
    EncodeInstanceDomains(instance.sequence, instance.stream, instance.names, &value);
    b = batch.Put(ToSlice(keys::kInstanceDomainsKey), ToSlice(value));
  }
  return b.ok() ? Status::Ok() : BatchError(b);
}

}  // namespace policyd
