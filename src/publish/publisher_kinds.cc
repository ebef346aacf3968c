// What the publisher writes for the generic policy kinds (issue #14): `<kind>.instance` and
// `<kind>.org.<id>` keys (fleet/keys.h), from the store's kind rows, by the same rules as the
// org keys (publish/plan.h). Runs on the publisher thread; Converge() also on writer threads.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "fleet/keys.h"
#include "fleet/values.h"
#include "publish/publisher.h"
#include "publish/publisher_want.h"

namespace policyd::publish {

namespace {

using PStatus = ::policyd::Status;
using KindRowId = std::pair<PolicyKind, std::string>;

// Orgs read from the store per LookupBatch (a kind row is at most a few KB).
constexpr std::size_t kKindReadChunk = 256;

// The value of row (kind, org) as a batch that read it holds; nullopt when the store has no
// entry for it (no default, an org it lacks, no own row and no tombstone).
std::optional<fleet::FleetValue> RowValue(const LookupBatch& batch, std::size_t i, PolicyKind kind,
                                          const std::string& org_id) {
  if (org_id.empty()) {
    const KindPolicy* policy = batch.kind_default(kind);
    if (policy == nullptr) return std::nullopt;
    return fleet::FleetValue{batch.kind_default_version(kind),
                             fleet::KindEntry{kind, org_id, *policy}};
  }
  if (!batch.org(i).known) return std::nullopt;
  const KindPolicy* policy = batch.kind_policy(i, kind);
  const SourceVersion& version = batch.kind_version(i, kind);
  if (policy == nullptr && version == SourceVersion{}) return std::nullopt;
  fleet::KindEntry entry{kind, org_id, std::nullopt};
  if (policy != nullptr) entry.policy = *policy;
  return fleet::FleetValue{version, std::move(entry)};
}

}  // namespace

PStatus Publisher::PlanKindPass(std::vector<KindRowId>& rows, Timestamp& newest,
                                std::uint64_t& entries) {
  return store_.ForEachKindRow([&](const KindRow& row, bool has_policy) {
    const PolicyKind kind = row.policy.kind;
    if (!fleet::IsBucketKind(kind)) return PStatus::Ok();
    const std::string key = fleet::KindKey(kind, row.org_id);
    if (!row.org_id.empty()) view_.Touch(key);
    newest = std::max(newest, row.version.date);
    ++entries;
    std::optional<KeyState> held = view_.Find(key);
    Desired mine{row.version, 0};
    if (held && held->kind == KeyState::Kind::kValue && held->version == row.version) {
      // Only equal versions compare bytes (anti-entropy).
      const fleet::FleetKey fk{
          row.org_id.empty() ? fleet::KeyKind::kKindInstance : fleet::KeyKind::kKindOrg, row.org_id,
          kind};
      fleet::KindEntry entry{kind, row.org_id, std::nullopt};
      if (has_policy) entry.policy = row.policy;
      Result<std::string> bytes = fleet::EncodeValue(fk, {row.version, std::move(entry)});
      mine.value_hash = bytes ? ValueHash(*bytes) : 0;
    }
    if (DecidePut(held ? &*held : nullptr, mine, true).action == Action::kSkip) {
      ++values_skipped_;
    } else {
      rows.emplace_back(kind, row.org_id);
    }
    return PStatus::Ok();
  });
}

PStatus Publisher::PublishKindRows(std::vector<KindRowId> rows, bool anti_entropy) {
  std::erase_if(rows, [](const KindRowId& row) { return !fleet::IsBucketKind(row.first); });
  // By org, so that one batch reads every kind of an org once.
  std::sort(rows.begin(), rows.end(),
            [](const KindRowId& a, const KindRowId& b) { return a.second < b.second; });
  LookupBatch batch;
  batch.set_with_versions(true);
  batch.set_kinds(KindSet::AllStored());
  std::size_t begin = 0;
  while (begin < rows.size()) {
    batch.Clear();
    std::vector<std::size_t> slot;  // per row of the chunk: its org's index in the batch
    std::size_t end = begin;
    for (; end < rows.size(); ++end) {
      const std::string& org = rows[end].second;
      const bool same = end > begin && rows[end - 1].second == org;
      if (!same && batch.size() == kKindReadChunk) break;
      if (!same && !org.empty()) batch.Add(org);
      slot.push_back(org.empty() ? 0 : batch.size() - 1);
    }
    POLICYD_RETURN_IF_ERROR(store_.Read(batch));
    std::vector<Want> wants;
    for (std::size_t r = begin; r < end; ++r) {
      const auto& [kind, org] = rows[r];
      std::optional<fleet::FleetValue> value = RowValue(batch, slot[r - begin], kind, org);
      if (!value) continue;
      if (!org.empty()) {
        // An org whose key is a delete marker was removed: its kind keys are final too.
        std::optional<KeyState> org_key = view_.Find(fleet::KindKey(PolicyKind::kDomain, org));
        if (org_key && org_key->kind == KeyState::Kind::kDeleted) continue;
      }
      const fleet::FleetKey fk{
          org.empty() ? fleet::KeyKind::kKindInstance : fleet::KeyKind::kKindOrg, org, kind};
      Result<std::string> bytes = fleet::EncodeValue(fk, *value);
      if (!bytes) {
        ++write_errors_;
        log_.Warn("not publishing a " + std::string(fleet::KindKeyName(kind)) +
                  " row: " + bytes.error().ToString());
        continue;
      }
      wants.push_back(Want{fleet::KindKey(kind, org),
                           true,
                           value->version,
                           std::move(*bytes),
                           anti_entropy,
                           {},
                           false});
    }
    POLICYD_RETURN_IF_ERROR(ConvergeAll(wants));
    begin = end;
  }
  return PStatus::Ok();
}

PStatus Publisher::DeleteKindKeys(const std::vector<std::string>& ids, bool anti_entropy,
                                  Timestamp horizon) {
  std::vector<Want> wants;
  for (const std::string& id : ids) {
    // Only once the org key is gone: a removal the org key did not take (beyond the horizon)
    // leaves the org's kind keys alone too.
    std::optional<KeyState> org_key = view_.Find(fleet::KindKey(PolicyKind::kDomain, id));
    if (org_key && org_key->kind != KeyState::Kind::kDeleted) continue;
    for (PolicyKind kind : fleet::kBucketKinds) {
      std::string key = fleet::KindKey(kind, id);
      std::optional<KeyState> held = view_.Find(key);
      if (!held || held->kind != KeyState::Kind::kValue) continue;
      wants.push_back(Want{std::move(key), false, {}, {}, anti_entropy, horizon, false});
    }
  }
  return ConvergeAll(wants);
}

PStatus Publisher::FallBackKindKeys(const std::vector<KindRowId>& keys, Timestamp horizon) {
  if (keys.empty() || horizon.IsZero()) return PStatus::Ok();
  const SourceVersion version{horizon, {}, 0};
  LookupBatch batch;
  batch.set_with_versions(true);
  batch.set_kinds(KindSet::AllStored());
  for (std::size_t begin = 0; begin < keys.size(); begin += kKindReadChunk) {
    const std::size_t end = std::min(keys.size(), begin + kKindReadChunk);
    batch.Clear();
    for (std::size_t i = begin; i < end; ++i) batch.Add(keys[i].second);
    POLICYD_RETURN_IF_ERROR(store_.Read(batch));
    std::vector<Want> wants;
    for (std::size_t i = begin; i < end; ++i) {
      const auto& [kind, org] = keys[i];
      const std::size_t at = i - begin;
      // An org the store lacks: its keys are deleted (PublishOrgs); an entry: written as it is.
      if (!batch.org(at).known || RowValue(batch, at, kind, org)) continue;
      std::string key = fleet::KindKey(kind, org);
      std::optional<KeyState> held = view_.Find(key);
      if (!held || held->kind != KeyState::Kind::kValue || held->tombstone ||
          CompareSourceVersion(held->version, version) >= 0) {
        continue;
      }
      Result<std::string> bytes = fleet::EncodeValue({fleet::KeyKind::kKindOrg, org, kind},
                                                     {version, fleet::KindEntry{kind, org, {}}});
      if (!bytes) continue;  // the store validated the id
      wants.push_back(Want{std::move(key), true, version, std::move(*bytes), false, {}, false});
    }
    POLICYD_RETURN_IF_ERROR(ConvergeAll(wants));
  }
  return PStatus::Ok();
}

}  // namespace policyd::publish
