#include "publish/change_feed.h"

#include <utility>

namespace policyd::publish {

ChangeFeed::ChangeFeed(Store& inner, std::size_t max_pending_orgs)
    : ForwardingStore(inner), max_pending_orgs_(max_pending_orgs) {}

FeedChanges ChangeFeed::Take() {
  std::lock_guard lock(mu_);
  FeedChanges out;
  if (!everything_) {
    out.orgs.assign(orgs_.begin(), orgs_.end());
    out.kind_rows.assign(kind_rows_.begin(), kind_rows_.end());
  }
  out.instance = instance_;
  out.everything = everything_;
  out.synced = synced_;
  orgs_.clear();
  kind_rows_.clear();
  instance_ = everything_ = synced_ = false;
  return out;
}

bool ChangeFeed::HasPending() const {
  std::lock_guard lock(mu_);
  return !orgs_.empty() || !kind_rows_.empty() || instance_ || everything_ || synced_;
}

void ChangeFeed::SetListener(std::function<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

void ChangeFeed::Notify() {
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_();
}

void ChangeFeed::Record(const StoreChange& change) {
  std::lock_guard lock(mu_);
  if (!everything_) {
    auto add = [&](const std::string& id) {
      if (orgs_.size() >= max_pending_orgs_ && !orgs_.contains(id)) {
        everything_ = true;
        orgs_.clear();
        kind_rows_.clear();
      }
      if (!everything_) orgs_.insert(id);
    };
    for (const OrgRecord& org : change.put_orgs) add(org.id);
    for (const std::string& id : change.removed_orgs) add(id);
    for (const OrgDomains& domains : change.put_org_domains) add(domains.org_id);
    for (const auto& [id, version] : change.org_versions) add(id);
    for (const KindRowChange& row : change.put_kind_rows) {
      if (everything_) break;
      if (kind_rows_.size() >= max_pending_orgs_ && !kind_rows_.contains({row.kind, row.org_id})) {
        everything_ = true;
        orgs_.clear();
        kind_rows_.clear();
        break;
      }
      kind_rows_.emplace(row.kind, row.org_id);
    }
  }
  if (change.instance || change.instance_domains || change.instance_version) instance_ = true;
  if (!change.synced_at.IsZero()) synced_ = true;
}

Status ChangeFeed::Apply(const StoreChange& change, Timestamp now) {
  POLICYD_RETURN_IF_ERROR(base().Apply(change, now));
  Record(change);
  Notify();
  return Status::Ok();
}

Status ChangeFeed::Replace(const Snapshot& snapshot, std::string_view cursor,
                           std::string_view source, Timestamp now) {
  POLICYD_RETURN_IF_ERROR(base().Replace(snapshot, cursor, source, now));
  {
    std::lock_guard lock(mu_);
    everything_ = synced_ = true;
    orgs_.clear();
    kind_rows_.clear();
  }
  Notify();
  return Status::Ok();
}

}  // namespace policyd::publish
