#include "sync_rate.h"

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "fake_upstream/fake_upstream.h"
#include "server/serving_state.h"
#include "store/forwarding_store.h"
#include "store/store.h"
#include "sync/syncer.h"
#include "upstream/upstream.h"

namespace policyd::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Adds the time spent inside `f` to `total`.
template <typename F>
auto Timed(double& total, F&& f) {
  const auto t0 = Clock::now();
  auto result = f();
  total += std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

class TimedStore final : public ForwardingStore {
 public:
  TimedStore(Store& inner, SyncRate& rate) : ForwardingStore(inner), rate_(rate) {}
  Status Read(LookupBatch& batch) const override {
    return Timed(rate_.read_s, [&] { return base().Read(batch); });
  }
  Status Apply(const StoreChange& change, Timestamp now) override {
    return Timed(rate_.write_s, [&] { return base().Apply(change, now); });
  }

 private:
  SyncRate& rate_;
};

class TimedUpstream final : public Upstream {
 public:
  TimedUpstream(Upstream& inner, SyncRate& rate) : inner_(inner), rate_(rate) {}
  Result<InstanceRecord> GetDefaultPolicy() override { return inner_.GetDefaultPolicy(); }
  Result<ParsedPolicy> GetOrgPolicy(std::string_view org_id) override {
    return inner_.GetOrgPolicy(org_id);
  }
  Result<ParsedKindPolicy> GetKindPolicy(PolicyKind kind, std::string_view org_id) override {
    return inner_.GetKindPolicy(kind, org_id);
  }
  Result<OrgPage> ListOrgs(std::uint64_t offset, std::uint32_t limit) override {
    return inner_.ListOrgs(offset, limit);
  }
  Result<OrgDomainPage> ListOrgDomains(std::string_view org_id, std::uint64_t offset,
                                       std::uint32_t limit) override {
    return inner_.ListOrgDomains(org_id, offset, limit);
  }
  Result<InstanceDomainPage> ListInstanceDomains(std::uint64_t offset,
                                                 std::uint32_t limit) override {
    return inner_.ListInstanceDomains(offset, limit);
  }
  Result<std::vector<Event>> ListEvents(const EventQuery& query) override {
    return Timed(rate_.fetch_s, [&] { return inner_.ListEvents(query); });
  }
  std::optional<std::chrono::seconds> retry_after() const override { return inner_.retry_after(); }
  std::uint64_t request_count() const override { return inner_.request_count(); }
  Status ReloadCredentials() override { return inner_.ReloadCredentials(); }
  void Abort() override { inner_.Abort(); }

 private:
  Upstream& inner_;
  SyncRate& rate_;
};

// Pushes `rounds` org-policy events per org: the first adds each org's policy, the rest change
// one flag, so every event changes a row.
Status PushPolicyEvents(testing_support::FakeUpstream& upstream,
                        const std::vector<std::string>& orgs, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t i = 0; i < orgs.size(); ++i) {
      const PolicyFlags flags{(round + i) % 2 == 0, round % 3 == 0, i % 2 == 0};
      Status s = round == 0 ? upstream.AddOrgPolicy(orgs[i], flags)
                            : upstream.ChangeOrgPolicy(orgs[i], flags);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

// `result` with `error` set, for the early returns.
SyncRate Failed(SyncRate result, std::string error) {
  result.error = std::move(error);
  return result;
}

}  // namespace

SyncRate MeasureSyncRate(const std::string& dir, int orgs, int rounds) {
  SyncRate rate;
  testing_support::FakeUpstream upstream;
  if (!upstream.ok()) {
    rate.error = "the fake upstream did not start";
    return rate;
  }
  const std::string token = dir + "/sync-token";
  std::ofstream(token) << "fake-pat-0123456789\n";
  chmod(token.c_str(), 0600);
  auto store = OpenRocksStore(dir + "/sync.data", StoreOptions{});
  if (!store) return Failed(rate, store.error().ToString());
  UpstreamOptions options;
  options.base_url = upstream.base_url();
  options.token_file = token;
  auto client = MakeHttpUpstream(options, SystemClock());
  if (!client) return Failed(rate, client.error().ToString());
  TimedStore timed_store(**store, rate);
  TimedUpstream timed_upstream(**client, rate);
  ServingState state(FreshnessOptions{upstream.base_url()});
  SyncOptions sync;
  sync.source = upstream.base_url();
  Syncer syncer(timed_store, timed_upstream, state, SystemClock(), sync);

  std::vector<std::string> ids;
  for (int i = 0; i < orgs; ++i) ids.push_back(upstream.AddOrg("org" + std::to_string(i)));
  if (Status s = syncer.SyncOnce(); !s.ok()) return Failed(rate, "cold start: " + s.ToString());
  auto t0 = Clock::now();
  if (Status s = PushPolicyEvents(upstream, ids, rounds); !s.ok())
    return Failed(rate, "pushing events: " + s.ToString());
  rate.generate_s = std::chrono::duration<double>(Clock::now() - t0).count();

  rate.fetch_s = rate.read_s = rate.write_s = 0;
  const std::uint64_t applied0 = syncer.counters().events_applied.load();
  const std::uint64_t pages0 = syncer.counters().pages.load();
  t0 = Clock::now();
  if (Status s = syncer.SyncOnce(); !s.ok())
    return Failed(rate, "incremental sync: " + s.ToString());
  rate.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  rate.events = syncer.counters().events_applied.load() - applied0;
  rate.pages = syncer.counters().pages.load() - pages0;
  const auto expected = static_cast<std::uint64_t>(orgs) * static_cast<std::uint64_t>(rounds);
  if (rate.events != expected)
    rate.error =
        "applied " + std::to_string(rate.events) + " events, expected " + std::to_string(expected);
  rate.events_per_second = rate.seconds > 0 ? static_cast<double>(rate.events) / rate.seconds : 0;
  return rate;
}

}  // namespace policyd::bench
