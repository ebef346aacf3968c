#include "sync/idp_reducer.h"

#include <algorithm>

#include "sync/reducer.h"

namespace policyd {
namespace {

constexpr auto kLogin = PolicyKind::kLogin;
constexpr auto kTable = PolicyKind::kIdpTable;

// The link (or table entry) of IdP `id` in `links`, or end.
template <typename Links>
auto Find(Links& links, std::string_view id) {
  return std::find_if(links.begin(), links.end(), [id](const IdpLink& l) { return l.id == id; });
}

void Touch(const Event& e, PolicyKind kind, KindRows& rows) {
  const auto k = static_cast<std::size_t>(kind);
  rows.touched[k] = true;
  RaiseVersion(e, rows.versions[k]);
}

// The table row, created empty when there is none yet.
KindPolicy& Table(WorkingSet& set) {
  std::optional<KindPolicy>& table = set.instance_kinds.at(kTable);
  if (!table) table = EmptyKindPolicy(kTable);
  return *table;
}

const IdpLink* TableEntry(const WorkingSet& set, std::string_view id) {
  const std::optional<KindPolicy>& table = set.instance_kinds.at(kTable);
  if (!table) return nullptr;
  const std::vector<IdpLink>& links = IdpLinksOf(*table);
  auto it = Find(links, id);
  return it == links.end() ? nullptr : &*it;
}

// Runs `edit` on the login rows at hand: the instance's and, unless `only_org` is set, every
// org's (else that org's only); raises the version of each row it changed.
template <typename Edit>
bool EditLoginRows(const Event& e, WorkingSet& set, const std::string* only_org, Edit&& edit) {
  bool changed = false;
  const auto visit = [&](KindRows& rows) {
    std::optional<KindPolicy>& login = rows.at(kLogin);
    if (login && edit(IdpLinksOf(*login))) {
      Touch(e, kLogin, rows);
      changed = true;
    }
  };
  if (only_org == nullptr) {
    visit(set.instance_kinds);
    for (auto& [id, org] : set.orgs) visit(org.kinds);
  } else if (auto it = set.orgs.find(*only_org); it != set.orgs.end()) {
    visit(it->second.kinds);
  }
  return changed;
}

// Sets the name and proto type of every link to `entry`.
bool Relabel(const Event& e, WorkingSet& set, const IdpLink& entry) {
  const std::uint32_t type = IdpTypeToProto(entry.type);
  return EditLoginRows(e, set, nullptr, [&](std::vector<IdpLink>& links) {
    auto it = Find(links, entry.id);
    if (it == links.end() || (it->name == entry.name && it->type == type)) return false;
    it->name = entry.name;
    it->type = type;
    return true;
  });
}

ReduceOutcome Link(const Event& e, const IdpEventType& t, WorkingSet& set) {
  KindRows* rows = &set.instance_kinds;
  if (!t.instance) {
    auto it = set.orgs.find(e.aggregate_id);
    if (it == set.orgs.end()) return ReduceOutcome::kNoEffect;
    rows = &it->second.kinds;
  }
  std::optional<KindPolicy>& login = rows->at(kLogin);
  if (!login) return ReduceOutcome::kNoEffect;
  std::vector<IdpLink>& links = IdpLinksOf(*login);
  auto it = Find(links, e.idp_patch.id);
  if (t.action == IdpAction::kLinkRemoved) {
    if (it == links.end()) return ReduceOutcome::kNoEffect;
    links.erase(it);
  } else {
    if (it != links.end() || links.size() >= kMaxIdpLinks) return ReduceOutcome::kNoEffect;
    IdpLink link{e.idp_patch.id, {}, 0, {}};
    if (const IdpLink* entry = TableEntry(set, e.idp_patch.id)) {
      link.name = entry->name;
      link.type = IdpTypeToProto(entry->type);
    }
    links.push_back(std::move(link));
  }
  Touch(e, kLogin, *rows);
  return ReduceOutcome::kApplied;
}

ReduceOutcome Remove(const Event& e, const IdpEventType& t, WorkingSet& set) {
  bool changed = false;
  if (set.instance_kinds.at(kTable)) {
    std::vector<IdpLink>& table = IdpLinksOf(*set.instance_kinds.at(kTable));
    if (auto it = Find(table, e.idp_patch.id); it != table.end()) {
      table.erase(it);
      Touch(e, kTable, set.instance_kinds);
      changed = true;
    }
  }
  const std::string* only_org = t.instance ? nullptr : &e.aggregate_id;
  changed |= EditLoginRows(e, set, only_org, [&](std::vector<IdpLink>& links) {
    auto it = Find(links, e.idp_patch.id);
    if (it == links.end()) return false;
    links.erase(it);
    return true;
  });
  return changed ? ReduceOutcome::kApplied : ReduceOutcome::kNoEffect;
}

// kAdded, kChanged, kTyped, kMigrated: the table's entry, then the links to it.
ReduceOutcome Describe(const Event& e, const IdpEventType& t, WorkingSet& set) {
  const IdpPatch& p = e.idp_patch;
  IdpLink entry;
  if (const IdpLink* known = TableEntry(set, p.id)) {
    entry = *known;
  } else if (t.action != IdpAction::kAdded) {
    return ReduceOutcome::kNoEffect;  // the upstream updates no row (it has none either)
  }
  entry.id = p.id;
  switch (t.action) {
    case IdpAction::kAdded:
      entry.name = p.name.value_or("");
      entry.type = t.type;
      entry.owner = t.instance ? std::string() : e.aggregate_id;
      break;
    case IdpAction::kChanged:
      if (!p.name) return ReduceOutcome::kNoEffect;
      entry.name = *p.name;
      break;
    case IdpAction::kTyped:
      entry.type = t.type;
      break;
    default:  // kMigrated
      entry.name = p.name.value_or("");
      entry.type = t.type;
      break;
  }
  std::vector<IdpLink>& table = IdpLinksOf(Table(set));
  auto it = Find(table, p.id);
  bool changed = false;
  if (it == table.end()) {
    if (table.size() < kMaxIdpTableSize) {
      table.push_back(entry);
      changed = true;
    }
  } else if (!(*it == entry)) {
    *it = entry;
    changed = true;
  }
  if (changed) Touch(e, kTable, set.instance_kinds);
  changed |= Relabel(e, set, entry);
  return changed ? ReduceOutcome::kApplied : ReduceOutcome::kNoEffect;
}

}  // namespace

ReduceOutcome ReduceIdpEvent(const Event& e, const IdpEventType& t, WorkingSet& set) {
  if (e.idp_patch.id.empty()) return ReduceOutcome::kInvalid;
  switch (t.action) {
    case IdpAction::kLinkAdded:
    case IdpAction::kLinkRemoved:
      return Link(e, t, set);
    case IdpAction::kRemoved:
      return Remove(e, t, set);
    default:
      return Describe(e, t, set);
  }
}

bool DropOrgIdps(const Event& e, const std::string& org_id, WorkingSet& set) {
  std::optional<KindPolicy>& table = set.instance_kinds.at(kTable);
  if (!table) return false;
  const std::size_t erased = std::erase_if(
      IdpLinksOf(*table), [&org_id](const IdpLink& entry) { return entry.owner == org_id; });
  if (erased == 0) return false;
  Touch(e, kTable, set.instance_kinds);
  return true;
}

std::vector<std::string> IdpsChangedBy(const std::vector<const Event*>& events) {
  std::vector<std::string> ids;
  for (const Event* e : events) {
    const std::optional<IdpEventType> t = ClassifyIdpEvent(e->type);
    if (!t || t->action == IdpAction::kLinkAdded || t->action == IdpAction::kLinkRemoved ||
        e->idp_patch.id.empty()) {
      continue;
    }
    ids.push_back(e->idp_patch.id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

bool LinksAnyOf(const KindPolicy& policy, const std::vector<std::string>& sorted_ids) {
  if (policy.kind != kLogin) return false;
  const std::vector<IdpLink>& links = IdpLinksOf(policy);
  return std::any_of(links.begin(), links.end(), [&](const IdpLink& l) {
    return std::binary_search(sorted_ids.begin(), sorted_ids.end(), l.id);
  });
}

std::optional<KindPolicy> IdpTableFromLinks(const std::vector<KindRow>& rows) {
  KindPolicy table = EmptyKindPolicy(kTable);
  std::vector<IdpLink>& entries = IdpLinksOf(table);
  for (const KindRow& row : rows) {
    if (row.policy.kind != kLogin) continue;
    for (const IdpLink& link : IdpLinksOf(row.policy)) {
      if (Find(entries, link.id) != entries.end() || entries.size() >= kMaxIdpTableSize) continue;
      entries.push_back(IdpLink{link.id, link.name, IdpTypeFromProto(link.type), {}});
    }
  }
  if (entries.empty()) return std::nullopt;
  return table;
}

std::vector<UnknownIdp> UnknownLinkedIdps(const std::vector<const Event*>& events,
                                          const WorkingSet& set) {
  std::vector<UnknownIdp> out;
  std::vector<std::string> described;  // IdPs the page itself adds
  for (const Event* e : events) {
    const std::optional<IdpEventType> t = ClassifyIdpEvent(e->type);
    if (!t || e->idp_patch.id.empty()) continue;
    const std::string& id = e->idp_patch.id;
    if (t->action == IdpAction::kAdded) described.push_back(id);
    if (t->action != IdpAction::kLinkAdded || TableEntry(set, id) != nullptr ||
        std::find(described.begin(), described.end(), id) != described.end()) {
      continue;
    }
    UnknownIdp unknown{t->instance ? std::string() : e->aggregate_id, id};
    if (std::find(out.begin(), out.end(), unknown) == out.end()) out.push_back(std::move(unknown));
  }
  return out;
}

void AddIdpFromLinks(const std::vector<IdpLink>& links, const std::string& idp_id,
                     WorkingSet& set) {
  auto it = Find(links, idp_id);
  if (it == links.end() || TableEntry(set, idp_id) != nullptr) return;
  std::vector<IdpLink>& table = IdpLinksOf(Table(set));
  if (table.size() >= kMaxIdpTableSize) return;
  // Owner unknown (an org's login policy may link the instance's IdPs too): kept until removed.
  table.push_back(IdpLink{idp_id, it->name, IdpTypeFromProto(it->type), {}});
  set.instance_kinds.touched[static_cast<std::size_t>(kTable)] = true;
}

}  // namespace policyd
