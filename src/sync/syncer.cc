#include "sync/syncer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <tuple>

#include "sync/domain_reducer.h"
#include "sync/idp_reducer.h"
#include "sync/reducer.h"

namespace policyd {
namespace {

std::int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// "instance.added" is the oldest event of an instance: seeing it proves the history is complete.
const std::vector<std::string>& HistoryProbeTypes() {
  static const std::vector<std::string> kTypes = {"instance.added"};
  return kTypes;
}

// Moves the rows of `rows` (of org `org_id`; empty: the instance defaults) into `snapshot`.
void MoveKindRows(const std::string& org_id, KindRows& rows, Snapshot& snapshot) {
  for (std::size_t k = 0; k < kStoredKindCount; ++k) {
    if (rows.rows[k]) {
      snapshot.kind_rows.push_back(KindRow{org_id, std::move(*rows.rows[k]), rows.versions[k]});
    }
  }
}

// Moves org `id` of a cold start's working set into `snapshot`, with its domains if it has any.
void MoveToSnapshot(const std::string& id, WorkingSet::Org& org, Snapshot& snapshot) {
  snapshot.orgs.push_back(OrgRecord{id, std::move(org.policy)});
  MoveKindRows(id, org.kinds, snapshot);
  if (!org.domains.empty() || org.domains_sequence != 0) {
    snapshot.org_domains.push_back(OrgDomains{id, std::move(org.domains), org.domains_sequence,
                                              std::move(org.domains_stream)});
  }
}

// A ListEvents query for `types`, naming their aggregate types (legacy names match only then).
EventQuery Query(std::optional<Timestamp> from, std::uint32_t limit,
                 const std::vector<std::string>& types, bool ascending) {
  return EventQuery{from, limit, types, ascending, AggregateTypesOf(types)};
}

// The query of every event policyd reduces. They are more event types (SyncedEventTypes() and
// the other policy kinds' KindEventTypes()) than one query may name (30), and splitting them
// over several queries would cost an idle poll one request each and lose the upstream's single
// order. So the query names no event type, only the aggregate types they all belong to: every
// event of an org or the instance (and of the legacy "iam" stream) comes back, and the reducer
// skips the ones it does not know. An idle poll is one request.
EventQuery AllPolicyEvents(std::optional<Timestamp> from, std::uint32_t limit, bool ascending) {
  return EventQuery{from, limit, {}, ascending, {"instance", "org", "iam"}};
}

// Orgs are added or removed: what moves an org list's offsets.
const std::vector<std::string>& MembershipTypes() {
  static const std::vector<std::string> kTypes = {"org.added", "org.removed"};
  return kTypes;
}

// Notices a full page that ends where the previous one did, at the same newest date: the events
// API cannot page past a push of more than a page of events (its date filter is strict and all
// events of a push share one date). Judged by the stream itself, not by the cursor's memory,
// which a burst may have trimmed.
class StallDetector {
 public:
  // Records a full page; true when it repeats the previous one.
  bool Repeats(const std::vector<Event>& page, Timestamp newest) {
    auto tail =
        std::make_tuple(page.back().aggregate_type, page.back().aggregate_id, page.back().sequence);
    const bool repeats = tail_.has_value() && newest == newest_ && *tail_ == tail;
    newest_ = newest;
    tail_ = std::move(tail);
    return repeats;
  }

 private:
  Timestamp newest_;
  std::optional<std::tuple<std::string, std::string, std::uint64_t>> tail_;
};

// Every item of a list paged by offset: read_page(offset, limit) -> Result<Page>, Page being
// OrgDomainPage or InstanceDomainPage. An item added or removed between two pages moves the later
// ones to other offsets; a change of totalResult between pages shows it, and the list is then read
// again from the start (UNAVAILABLE after 5 readings that each saw it change). A change that keeps
// the count (one domain added, another removed) is not seen and can skip an entry at a page
// boundary; only a list of over a page is exposed, and such a list holds more domains than policyd
// keeps (kMaxDomainsPerList is the page size), so it is cut anyway. At most `max_pages` pages.
std::vector<OrgDomain>& Items(OrgDomainPage& page) { return page.domains; }
std::vector<std::string>& Items(InstanceDomainPage& page) { return page.names; }

template <typename Item, typename ReadPage>
Result<std::vector<Item>> ReadAllPages(ReadPage&& read_page, std::uint32_t page_size,
                                       std::uint32_t max_pages) {
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<Item> items;
    std::optional<std::uint64_t> total;
    bool changed = false;
    std::uint64_t offset = 0;
    for (std::uint32_t pages = 0; pages < max_pages && !changed; ++pages) {
      auto page = read_page(offset, page_size);
      if (!page) return Err(page.error());
      changed = total.has_value() && *total != page->total;
      total = page->total;
      std::vector<Item>& read = Items(*page);
      offset += read.size();
      for (Item& item : read) items.push_back(std::move(item));
      if (read.empty() || offset >= page->total) break;
    }
    if (!changed) return items;
  }
  return Err(Status::Unavailable("the list changed during each of " + std::to_string(kAttempts) +
                                 " readings"));
}

}  // namespace

Syncer::Syncer(Store& store, Upstream& upstream, ServingState& state, const Clock& clock,
               SyncOptions options)
    : store_(store),
      upstream_(upstream),
      state_(state),
      clock_(clock),
      options_(std::move(options)),
      poll_interval_ms_(options_.poll_interval.count()),
      rng_(std::random_device{}()) {}

Syncer::~Syncer() { Stop(); }

Status Syncer::SyncOnce() {
  ++counters_.rounds;
  Result<StoreMeta> meta = store_.Meta();
  if (!meta) return meta.error();
  Result<SyncCursor> cursor = Err(Status::NotFound("no cursor"));
  if (meta->source == options_.source && meta->has_instance && !meta->cursor.empty()) {
    cursor = SyncCursor::Decode(meta->cursor);
    if (!cursor) spdlog::warn("{}; starting over with a cold start", cursor.error().ToString());
  }
  if (!cursor) return ColdStart(Nanos(options_.overlap));
  return Pull(*cursor);
}

Status Syncer::Pull(SyncCursor& cursor) {
  // The first page of a round starts at the cursor, an overlap window behind the newest event
  // applied, to catch late commits near the head of the stream. While a backlog is paged through
  // (pages come back full) everything read is long committed, so the next page starts right
  // behind the newest event of the page before: only its own push, which a page may have split,
  // is asked again. Not behind the cursor's newest event: that can lie far beyond this round's
  // first page (after a cold start it is the newest event of the whole upstream, 2 s ahead of
  // where the round starts), and skipping to it would leave out the events that follow the ones
  // just re-applied: an org's `org.added` replayed without its later `org.removed` brings a
  // removed org back (found by tests/integration/crash_test.cc).
  bool backlog = false;
  Timestamp page_newest;
  StallDetector stall;
  for (std::uint32_t round = 0; round < options_.max_pages_per_round; ++round) {
    EventQuery query = AllPolicyEvents(cursor.from(), options_.page_size, true);
    if (backlog) query.from = AddNanos(page_newest, -1);
    Result<std::vector<Event>> page = upstream_.ListEvents(query);
    if (!page) return page.error();
    for (const Event& e : *page) page_newest = std::max(page_newest, e.creation_date);
    bool resnapshot = false;
    POLICYD_RETURN_IF_ERROR(ApplyPage(*page, cursor, resnapshot));
    if (resnapshot) return ColdStart(Nanos(options_.overlap));
    if (page->size() < options_.page_size) return Status::Ok();  // caught up
    if (stall.Repeats(*page, page_newest)) {
      // One push of more than a page of events: rebuild the state with a cold start instead
      // and resume strictly after the newest event.
      spdlog::warn("more than {} events share one creationDate; rebuilding with a cold start",
                   options_.page_size);
      return ColdStart(/*overlap_ns=*/0);
    }
    backlog = true;
  }
  return Status::Ok();  // more to pull: the next round goes on from the stored cursor
}

Status Syncer::ApplyPage(const std::vector<Event>& page, SyncCursor& cursor, bool& resnapshot) {
  ++counters_.pages;
  std::vector<const Event*> unseen;
  for (const Event& e : page) {
    if (!cursor.Seen(e)) unseen.push_back(&e);
  }
  counters_.events_skipped += page.size() - unseen.size();
  WorkingSet set;
  std::vector<std::string> ids = OrgsNamedBy(unseen);
  POLICYD_RETURN_IF_ERROR(AddOrgsLinkingChangedIdps(unseen, ids));
  batch_.Clear();
  for (const std::string& id : ids) batch_.Add(id);
  // The domain lists (a second key per org, read from RocksDB even where the index serves
  // lookups) only when the page has domain events: most pages need none.
  const bool domains = ChangesDomains(unseen);
  batch_.set_with_domains(domains);
  batch_.set_with_versions(true);
  // Likewise the rows of the other policy kinds, only for pages with their events.
  const bool kinds = ChangesKinds(unseen);
  batch_.set_kinds(kinds ? KindSet::AllStored() : KindSet{});
  POLICYD_RETURN_IF_ERROR(store_.Read(batch_));
  set.asset_prefix = AssetPrefix();
  if (kinds) LoadKindRows(std::nullopt, set.instance_kinds);
  if (const InstanceRecord* instance = batch_.instance()) set.instance = *instance;
  set.instance_version = batch_.instance_version();
  if (domains) set.instance_domains = batch_.instance_domains();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const OrgView view = batch_.org(i);
    WorkingSet::Org& org = set.orgs[ids[i]];
    org.exists = view.known;
    org.version = batch_.version(i);
    if (view.own_policy != nullptr) org.policy = *view.own_policy;
    if (kinds) LoadKindRows(i, org.kinds);
    if (domains) {
      org.domains = batch_.domains(i).domains;
      org.domains_sequence = batch_.domains(i).sequence;
      org.domains_stream = batch_.domains(i).stream;
    }
  }
  if (kinds) POLICYD_RETURN_IF_ERROR(LearnUnknownIdps(unseen, set));
  std::uint64_t applied = 0, invalid = 0;
  for (const Event* e : unseen) {
    switch (Reduce(*e, set)) {
      case ReduceOutcome::kApplied:
        ++applied;
        break;
      case ReduceOutcome::kInvalid:
        ++invalid;
        break;
      case ReduceOutcome::kResnapshot:
        spdlog::warn("upstream reports {} for {}; rebuilding the state", e->type, e->aggregate_id);
        resnapshot = true;
        return Status::Ok();
      case ReduceOutcome::kNoEffect:
        break;
    }
  }
  if (invalid > 0) {
    spdlog::warn(
        "skipped {} malformed events (bad aggregate id or domain, a domain list full, or an IdP "
        "event without an IdP id)",
        invalid);
  }
  cursor.Advance(page, Nanos(options_.overlap));
  StoreChange change = ToStoreChange(set);
  change.cursor = cursor.Encode();
  const Timestamp now = clock_.Now();
  change.synced_at = now;
  Status written = store_.Apply(change, now);
  NoteWrite(written);
  if (!written.ok()) return written.WithContext("write synced events");
  counters_.events_applied += applied;
  counters_.events_skipped += unseen.size() - applied;
  state_.RecordSync(now);
  return Status::Ok();
}

Status Syncer::AddOrgsLinkingChangedIdps(const std::vector<const Event*>& events,
                                         std::vector<std::string>& ids) const {
  const std::vector<std::string> changed = IdpsChangedBy(events);
  if (changed.empty()) return Status::Ok();
  const std::size_t before = ids.size();
  POLICYD_RETURN_IF_ERROR(store_.ForEachKindRow([&](const KindRow& row, bool has_policy) {
    if (has_policy && !row.org_id.empty() && LinksAnyOf(row.policy, changed)) {
      ids.push_back(row.org_id);
    }
    return Status::Ok();
  }));
  if (ids.size() == before) return Status::Ok();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return Status::Ok();
}

Status Syncer::LearnUnknownIdps(const std::vector<const Event*>& events, WorkingSet& set) {
  for (const UnknownIdp& unknown : UnknownLinkedIdps(events, set)) {
    Result<ParsedKindPolicy> login = upstream_.GetKindPolicy(PolicyKind::kLogin, unknown.owner);
    if (!login) {
      // An org removed since: its link goes with it. Anything else is retried with the page.
      if (login.error().code() == Code::kPermissionDenied ||
          login.error().code() == Code::kNotFound) {
        continue;
      }
      return login.error().WithContext("IdP " + unknown.idp_id + " of a new login policy link");
    }
    AddIdpFromLinks(IdpLinksOf(login->policy), unknown.idp_id, set);
  }
  return Status::Ok();
}

void Syncer::NoteWrite(const Status& written) {
  // Rejected input (INVALID_ARGUMENT) says nothing about the disk; any other failure means the
  // store could not be written (disk full, I/O error, damage): degraded until a write succeeds.
  if (written.ok() || written.code() != Code::kInvalidArgument) {
    state_.SetStoreWritable(written.ok());
    round_write_failed_ = !written.ok();
  }
}

Result<Syncer::MembershipMark> Syncer::NewestMembershipEvent() {
  Result<std::vector<Event>> newest =
      upstream_.ListEvents(Query(std::nullopt, 1, MembershipTypes(), false));
  if (!newest) return Err(newest.error());
  if (newest->empty()) return MembershipMark{};
  const Event& e = newest->front();
  return MembershipMark{e.aggregate_id, e.sequence, e.creation_date};
}

Result<std::vector<std::string>> Syncer::ListAllOrgs(MembershipMark& mark) {
  // Paged by offset, the list is only whole if no org was added or removed while it was read:
  // the newest such event is asked before and after, and the list read again if it changed.
  // (Orgs added or removed later are in the events the incremental sync replays.)
  constexpr int kAttempts = 5;
  Result<MembershipMark> before = NewestMembershipEvent();
  if (!before) return Err(before.error());
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<std::string> orgs;
    for (std::uint64_t offset = 0;;) {
      Result<OrgPage> page = upstream_.ListOrgs(offset, options_.page_size);
      if (!page) return Err(page.error());
      for (std::string& id : page->org_ids) orgs.push_back(std::move(id));
      offset += page->org_ids.size();
      if (page->org_ids.empty() || offset >= page->total) break;
    }
    Result<MembershipMark> after = NewestMembershipEvent();
    if (!after) return Err(after.error());
    if (*before == *after) {
      std::sort(orgs.begin(), orgs.end());
      orgs.erase(std::unique(orgs.begin(), orgs.end()), orgs.end());
      mark = std::move(*after);
      return orgs;
    }
    before = std::move(after);
  }
  return Err(Status::Unavailable("orgs were added or removed during each of " +
                                 std::to_string(kAttempts) + " readings of the org list"));
}

Result<std::vector<OrgDomain>> Syncer::ReadOrgDomains(const std::string& id) {
  Result<std::vector<OrgDomain>> domains = ReadAllPages<OrgDomain>(
      [&](std::uint64_t offset, std::uint32_t limit) {
        return upstream_.ListOrgDomains(id, offset, limit);
      },
      options_.page_size, options_.max_pages_per_round);
  if (!domains) return domains;
  if (std::size_t dropped = NormalizeListedOrgDomains(*domains); dropped > 0) {
    spdlog::warn("cold start: org {} has more than {} domains; {} are not kept (unverified first)",
                 id, kMaxDomainsPerList, dropped);
  }
  return domains;
}

Result<std::vector<std::string>> Syncer::ReadInstanceDomains() {
  Result<std::vector<std::string>> names = ReadAllPages<std::string>(
      [&](std::uint64_t offset, std::uint32_t limit) {
        return upstream_.ListInstanceDomains(offset, limit);
      },
      options_.page_size, options_.max_pages_per_round);
  if (!names) return names;
  if (std::size_t dropped = NormalizeListedInstanceDomains(*names); dropped > 0) {
    spdlog::warn("cold start: the instance has more than {} domains; {} are not kept",
                 kMaxDomainsPerList, dropped);
  }
  return names;
}

Status Syncer::OrgGoneOr(Status error, const std::string& id, const MembershipMark& mark) {
  if (error.code() != Code::kPermissionDenied) return error;
  // The upstream refuses an x-zitadel-orgid naming an org that no longer exists with 403, as it
  // refuses a missing role: an org removed since the org list was read fails the round, which is
  // retried, rather than being reported as a permission problem.
  Result<MembershipMark> now = NewestMembershipEvent();
  if (!now || *now == mark) return error;
  return Status::Unavailable("org " + id +
                             " was removed while the cold start read it; starting over");
}

Status Syncer::Replay(WorkingSet& set) {
  SyncCursor cursor;
  StallDetector stall;
  set.asset_prefix = AssetPrefix();
  for (std::uint32_t round = 0; round < options_.max_pages_per_round; ++round) {
    EventQuery query = AllPolicyEvents(cursor.from(), options_.page_size, true);
    if (round > 0) query.from = AddNanos(cursor.newest(), -1);
    Result<std::vector<Event>> page = upstream_.ListEvents(query);
    if (!page) return page.error();
    for (const Event& e : *page) {
      if (!cursor.Seen(e)) (void)Reduce(e, set);
    }
    cursor.Advance(*page, 1);  // replaying from the start: no overlap needed
    if (page->size() < options_.page_size) break;
    if (stall.Repeats(*page, cursor.newest())) {
      return Status::FailedPrecondition("a push of more than a page of events");
    }
  }
  return Status::Ok();
}

Status Syncer::ReplayHistory(Snapshot& snapshot) {
  WorkingSet set;
  POLICYD_RETURN_IF_ERROR(Replay(set));
  MoveKindRows("", set.instance_kinds, snapshot);
  for (auto& [id, org] : set.orgs) {
    if (org.exists) MoveToSnapshot(id, org, snapshot);
  }
  snapshot.instance_domains = std::move(set.instance_domains);
  return Status::Ok();
}

Status Syncer::ReadCurrentState(Snapshot& snapshot) {
  // Consistency: everything here is read after the newest event that ColdStart() asked for
  // first, and the incremental sync replays every event from an overlap window before that one.
  // A change made while the lists are read is therefore replayed on top of what was read, which
  // may or may not show it already. The domain lists are recorded with sequence 0 (unknown: the
  // lists carry no aggregate sequence), so every replayed domain event applies, and applying a
  // stretch of the event stream to a state that already shows some of its start gives the same
  // lists as applying it to the state before (model/domains.h's events set flags, or add or drop
  // a domain; README, "Sync from the upstream IAM", Domains).
  MembershipMark mark;
  Result<std::vector<std::string>> listed = ListAllOrgs(mark);
  if (!listed) return listed.error().WithContext("cold start: org list");
  for (const std::string& id : *listed) {
    Result<ParsedPolicy> p = upstream_.GetOrgPolicy(id);
    if (!p) return p.error().WithContext("cold start: policy of org " + id);
    Result<std::vector<OrgDomain>> domains = ReadOrgDomains(id);
    if (!domains) {
      return OrgGoneOr(domains.error(), id, mark).WithContext("cold start: domains of org " + id);
    }
    std::optional<PolicyRecord> own;
    if (!p->is_default) own = std::move(p->record);
    snapshot.orgs.push_back(OrgRecord{id, std::move(own)});
    POLICYD_RETURN_IF_ERROR(ReadKindRows(id, mark, snapshot));
    if (!domains->empty()) snapshot.org_domains.push_back(OrgDomains{id, std::move(*domains), 0});
  }
  POLICYD_RETURN_IF_ERROR(ReadKindRows("", mark, snapshot));
  // The IdPs the login policies link, as their links name them; IdPs no policy links yet are
  // learnt when a link to one is added (LearnUnknownIdps).
  if (std::optional<KindPolicy> idps = IdpTableFromLinks(snapshot.kind_rows)) {
    snapshot.kind_rows.push_back(KindRow{"", std::move(*idps), {}});
  }
  Result<std::vector<std::string>> instance = ReadInstanceDomains();
  if (!instance) return instance.error().WithContext("cold start: instance domains");
  snapshot.instance_domains = InstanceDomains{std::move(*instance), 0};
  return Status::Ok();
}

Status Syncer::ReadKindRows(const std::string& org_id, const MembershipMark& mark,
                            Snapshot& snapshot) {
  for (std::size_t k = 0; k < kStoredKindCount; ++k) {
    const auto kind = static_cast<PolicyKind>(k);
    // The IdP table has no API of its own: ReadCurrentState derives it from the login links.
    if (kind == PolicyKind::kDomain || kind == PolicyKind::kIdpTable) continue;
    Result<ParsedKindPolicy> p = upstream_.GetKindPolicy(kind, org_id);
    const std::string what = "cold start: " + std::string(SpecOf(kind).message_name) +
                             (kind == PolicyKind::kLabelPreview ? " preview" : "") +
                             (org_id.empty() ? " default" : " of org " + org_id);
    if (!p) {
      if (org_id.empty()) return p.error().WithContext(what);
      return OrgGoneOr(p.error(), org_id, mark).WithContext(what);
    }
    // An org on the default has no row of its own; the instance's row is its default.
    if (!org_id.empty() && p->is_default) continue;
    snapshot.kind_rows.push_back(KindRow{org_id, std::move(p->policy), {}});
  }
  return Status::Ok();
}

Status Syncer::ColdStart(std::int64_t overlap_ns) {
  ++counters_.cold_starts;
  const std::uint64_t requests_before = upstream_.request_count();
  // The newest event before anything is read: replaying from just before it later is safe.
  Result<std::vector<Event>> newest = upstream_.ListEvents(AllPolicyEvents(std::nullopt, 1, false));
  if (!newest) return newest.error().WithContext("cold start");
  Result<InstanceRecord> instance = upstream_.GetDefaultPolicy();
  if (!instance) return instance.error().WithContext("cold start: instance default");
  Result<std::vector<Event>> probe =
      upstream_.ListEvents(Query(std::nullopt, 1, HistoryProbeTypes(), true));
  if (!probe) return probe.error().WithContext("cold start: history probe");
  Snapshot snapshot;
  Status replayed = probe->empty() ? Status::FailedPrecondition("event history incomplete")
                                   : ReplayHistory(snapshot);
  if (!replayed.ok()) {
    // Old events are hidden (audit-log retention), or cannot be paged: list the orgs and ask
    // for each org's effective policy and domains, and for the instance's domains. (A complete
    // history needs none of these reads: replaying every domain event since instance.added is
    // exact and records each list's sequence, which the lists do not carry.)
    snapshot = Snapshot{};
    spdlog::info("cold start: {}; reading the org list, each org's policy and domains",
                 replayed.message());
    POLICYD_RETURN_IF_ERROR(ReadCurrentState(snapshot));
  }
  snapshot.instance = std::move(*instance);
  std::optional<Timestamp> newest_date;
  if (!newest->empty()) newest_date = newest->front().creation_date;
  const SyncCursor cursor = SyncCursor::StartingAt(newest_date, overlap_ns);
  // Every entry's version: the cursor's start, not its newest date, so that an event committed
  // late with an older date, which the overlap replays, still comes out newer
  // (fleet/source_version.h).
  snapshot.version = SourceVersion{cursor.from().value_or(Timestamp{}), {}, 0};
  for (KindRow& row : snapshot.kind_rows) row.version = snapshot.version;
  const Timestamp now = clock_.Now();
  Status written = store_.Replace(snapshot, cursor.Encode(), options_.source, now);
  NoteWrite(written);
  if (!written.ok()) return written.WithContext("cold start: write state");
  // The state is in the WAL already; a failed flush only makes the next start replay it (and
  // the next write resumes the store).
  if (Status flushed = store_.Flush(); !flushed.ok()) {
    spdlog::warn("cold start: flush: {}", flushed.ToString());
  }
  counters_.cold_start_requests = upstream_.request_count() - requests_before;
  state_.RecordSync(now);
  spdlog::info(
      "cold start from {}: {} orgs, {} with their own policy, {} with domains, {} instance "
      "domains, {} requests",
      options_.source, snapshot.orgs.size(),
      std::count_if(snapshot.orgs.begin(), snapshot.orgs.end(),
                    [](const OrgRecord& o) { return o.policy.has_value(); }),
      snapshot.org_domains.size(), snapshot.instance_domains.names.size(),
      counters_.cold_start_requests.load());
  return Status::Ok();
}

std::string Syncer::AssetPrefix() const {
  std::string_view origin = options_.source;
  while (origin.ends_with('/')) origin.remove_suffix(1);
  return std::string(origin) + "/assets/v1";
}

void Syncer::LoadKindRows(std::optional<std::size_t> org, KindRows& rows) const {
  for (std::size_t k = 0; k < kStoredKindCount; ++k) {
    const auto kind = static_cast<PolicyKind>(k);
    if (kind == PolicyKind::kDomain) continue;
    const KindPolicy* row = org ? batch_.kind_policy(*org, kind) : batch_.kind_default(kind);
    if (row != nullptr) rows.rows[k] = *row;
    rows.versions[k] = org ? batch_.kind_version(*org, kind) : batch_.kind_default_version(kind);
  }
}

std::chrono::milliseconds Syncer::NextWait(const Status& last) {
  if (last.ok()) {
    const double jitter =
        std::uniform_real_distribution<double>(-options_.poll_jitter, options_.poll_jitter)(rng_);
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(poll_interval_ms_.load()) * (1 + jitter)));
  }
  if (last.code() == Code::kResourceExhausted) {
    if (auto after = upstream_.retry_after()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(*after);
    }
  }
  // Exponential backoff with full jitter, capped.
  const int exponent = static_cast<int>(std::min<std::uint32_t>(consecutive_failures_, 20));
  const std::int64_t ceiling = std::min<std::int64_t>(
      options_.backoff_max.count(), options_.backoff_initial.count() << (exponent - 1));
  return std::chrono::milliseconds(
      std::uniform_int_distribution<std::int64_t>(ceiling / 2, ceiling)(rng_));
}

void Syncer::Loop() {
  for (;;) {
    round_write_failed_ = false;
    Status s = SyncOnce();
    if (s.ok()) {
      if (consecutive_failures_ > 0)
        spdlog::info("sync recovered after {} failures", consecutive_failures_);
      consecutive_failures_ = 0;
      ++counters_.successes;
    } else {
      ++consecutive_failures_;
      ++counters_.failures;
      const SyncFailureCause cause = SyncFailureCauseOf(s.code(), round_write_failed_);
      ++counters_.failures_by_cause[static_cast<std::size_t>(cause)];
      state_.RecordSyncFailure(s.ToString());
      spdlog::warn("sync failed ({} in a row): {}", consecutive_failures_, s.ToString());
    }
    const auto ended = std::chrono::steady_clock::now();
    const auto deadline = ended + NextWait(s);
    const auto earliest_nudged = ended + options_.nudge_gap;
    const bool backing_off = !s.ok();
    std::unique_lock lock(mu_);
    for (;;) {
      if (stop_ || wake_) break;
      const bool nudged = nudge_ && !backing_off;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline || (nudged && now >= earliest_nudged)) break;
      cv_.wait_until(lock, nudged ? std::min(deadline, earliest_nudged) : deadline);
    }
    if (stop_) return;
    // The round about to begin answers every wake and nudge so far.
    wake_ = false;
    nudge_ = false;
  }
}

void Syncer::Start() {
  std::lock_guard lock(mu_);
  stop_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void Syncer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  // Do not wait for an upstream request in flight (up to request-timeout) to finish.
  if (thread_.joinable()) upstream_.Abort();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Syncer::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void Syncer::Nudge() {
  {
    std::lock_guard lock(mu_);
    nudge_ = true;
  }
  cv_.notify_all();
}

void Syncer::SetPollInterval(std::chrono::milliseconds interval) {
  poll_interval_ms_ = interval.count();
}

}  // namespace policyd
