#include "fleet_bench.h"

#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "bench_support.h"
#include "client/client.h"
#include "fake_upstream/fake_upstream.h"
#include "fleet/keys.h"
#include "fleet_support.h"
#include "json/policy_json.h"
#include "servers.h"
#include "webhook/signature.h"

namespace policyd::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kBucket[] = "policyd";
constexpr char kColdBucket[] = "bench_cold";
constexpr char kWebhookKey[] = "Xq7CtbD2k9mVn4RwZp1sLf8gHj3aEu6yTc0B";
constexpr int kOwnPolicies = 100;  // orgs whose policy the latency samples change, in turn

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::int64_t RealNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Fmt1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

// A measurement that cannot go on: the section reports the message.
Status Stopped(std::string why) { return Status::Internal(std::move(why)); }

struct Follower {
  Policyd process;
  std::optional<Client> client;
};

LatencyStats Stats(std::vector<double> ms) {
  LatencyStats s;
  s.samples = static_cast<int>(ms.size());
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&ms](double q) {
    const auto i = static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1) + 0.5);
    return ms[std::min(i, ms.size() - 1)];
  };
  s.p50_ms = at(0.50);
  s.p99_ms = at(0.99);
  s.max_ms = ms.back();
  return s;
}

long Median(std::vector<long> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Milliseconds from a publisher's write and from the upstream change to the last follower's
// answer.
struct Latency {
  double from_write_ms = 0, from_change_ms = 0;
};

// The upstream, nats-server, the publisher and the followers of the F rows.
class Fleet {
 public:
  explicit Fleet(const FleetOptions& o) : o_(o), rng_(20261206) {}

  // Fills the upstream, starts nats-server and the publisher, and watches the bucket.
  Status Start() {
    if (!upstream_.ok()) return Stopped("the fake upstream did not start");
    for (int i = 0; i < o_.orgs; ++i) {
      orgs_.push_back(upstream_.AddOrg("bench org " + std::to_string(i)));
      if (orgs_.back().empty()) return Stopped("fake upstream: AddOrg failed");
    }
    for (int i = 0; i < std::min(kOwnPolicies, o_.orgs); ++i)
      POLICYD_RETURN_IF_ERROR(upstream_.AddOrgPolicy(orgs_[i], {i % 2 == 0, true, false}));
    Result<std::string> url = StartNats(o_.nats_server, o_.dir + "/nats");
    if (!url) return url.error();
    nats_url_ = *url;
    const std::string token = o_.dir + "/token", key = o_.dir + "/webhook.key";
    std::ofstream(token) << "fake-pat-0123456789\n";
    std::ofstream(key) << kWebhookKey << "\n";
    chmod(token.c_str(), 0600);
    chmod(key.c_str(), 0600);
    Result<int> port = FreePort();
    if (!port) return port.error();
    webhook_port_ = *port;
    publisher_ = StartPolicyd(
        o_.policyd, o_.dir + "/publisher.sock", o_.dir + "/publisher.data", "",
        o_.dir + "/publisher.log",
        {"--upstream", upstream_.base_url(), "--token-file", token, "--publish-to", nats_url_,
         "--publisher-id", "bench-publisher", "--webhook-listen",
         "127.0.0.1:" + std::to_string(webhook_port_), "--webhook-signing-key-file", key});
    auto watch = BucketWatch::Open(nats_url_, kBucket);
    if (!watch) return watch.error();
    watch_ = std::move(*watch);
    return watch_->Watch();
  }

  const std::string& nats_url() const { return nats_url_; }

  // Starts followers until there are `n`, and waits until every one holds every org and answers
  // the first one as the upstream does.
  Status GrowTo(int n) {
    while (static_cast<int>(followers_.size()) < n) {
      const std::string name = o_.dir + "/follower" + std::to_string(followers_.size());
      Follower f;
      f.process = StartPolicyd(o_.policyd, name + ".sock", name + ".data", "", name + ".log",
                               {"--follow", nats_url_});
      followers_.push_back(std::move(f));
    }
    const auto t0 = Clock::now();
    for (Follower& f : followers_) {
      while (!Matches(f, orgs_[0]) || !Holds(f, static_cast<std::uint64_t>(orgs_.size()))) {
        if (Since(t0) > 120) return Stopped("a follower did not load the bucket within 120 s");
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
    return Status::Ok();
  }

  Result<FleetRow> Measure(int samples, double rest_seconds) {
    FleetRow row;
    row.followers = static_cast<int>(followers_.size());
    row.rest_seconds = rest_seconds;
    row.sweep_ms = SweepMs();
    std::vector<double> from_write, from_change;
    for (int i = 0; i < samples; ++i) {
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(250, 750)(rng_)));
      Result<Latency> l = Sample(/*webhook=*/true);
      if (!l) return Err(l.error());
      from_write.push_back(l->from_write_ms);
      from_change.push_back(l->from_change_ms);
    }
    row.from_write = Stats(from_write);
    row.from_change = Stats(from_change);
    // At rest, after the changes (so every F row starts from the same history: a sync round
    // re-reads the events of the 2 s before the newest one, and the setup's thousands of events
    // would otherwise weigh on the first row), one poll interval (5 s, +20% jitter) after the
    // last webhook-woken round.
    std::this_thread::sleep_for(std::chrono::seconds(6));
    const int before = upstream_.TotalRequests();
    std::this_thread::sleep_for(std::chrono::duration<double>(rest_seconds));
    row.requests_per_minute = (upstream_.TotalRequests() - before) * 60.0 / rest_seconds;
    std::vector<long> rss;
    for (const Follower& f : followers_) rss.push_back(RssKb(f.process.pid));
    row.follower_rss_kb_median = Median(rss);
    row.follower_rss_kb_max = *std::max_element(rss.begin(), rss.end());
    row.publisher_rss_kb = RssKb(publisher_.pid);
    return row;
  }

  // Polling alone: changes at random moments of the 5 s cycle, no webhook delivery.
  Status MeasurePolling(int samples, FleetResults& r) {
    std::vector<double> from_write, from_change;
    for (int i = 0; i < samples; ++i) {
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 5000)(rng_)));
      Result<Latency> l = Sample(/*webhook=*/false);
      if (!l) return l.error();
      from_write.push_back(l->from_write_ms);
      from_change.push_back(l->from_change_ms);
    }
    r.polling_followers = static_cast<int>(followers_.size());
    r.polling_from_write = Stats(from_write);
    r.polling_from_change = Stats(from_change);
    return Status::Ok();
  }

  const std::vector<std::string>& late() const { return late_; }

  void StopAll() {
    for (Follower& f : followers_) {
      f.client.reset();
      StopPolicyd(f.process);
    }
    followers_.clear();
    watch_.reset();
    if (publisher_.pid > 0) StopPolicyd(publisher_);
  }

 private:
  Client* Connected(Follower& f) {
    if (!f.client || !f.client->connected()) {
      f.client.reset();
      auto c = Client::Connect(f.process.socket);
      if (!c) return nullptr;
      f.client.emplace(std::move(*c));
    }
    return &*f.client;
  }
  bool Matches(Follower& f, const std::string& org, const std::string* want = nullptr) {
    Client* c = Connected(f);
    if (c == nullptr) return false;
    auto a = c->GetOrgPolicy(org);
    if (!a || !a->org_known) return false;
    return FormatGetPolicyResponse(a->policy) ==
           (want ? *want : upstream_.EffectivePolicyBody(org));
  }
  bool Holds(Follower& f, std::uint64_t orgs) {
    Client* c = Connected(f);
    if (c == nullptr) return false;
    auto s = c->GetStatus();
    return s && s->meta.org_count == orgs;
  }

  // The average time of one lookup on every follower in turn.
  double SweepMs() {
    const auto t0 = Clock::now();
    constexpr int kSweeps = 20;
    for (int i = 0; i < kSweeps; ++i)
      for (Follower& f : followers_) (void)Matches(f, orgs_[1]);
    return Since(t0) * 1000 / kSweeps;
  }

  // One change of an org's policy upstream (with a webhook delivery or not), then lookups on
  // every follower in turn until each answers it.
  Result<Latency> Sample(bool webhook) {
    const std::string& org = orgs_[static_cast<std::size_t>(next_++ % kOwnPolicies)];
    const std::string key = *fleet::FormatKey({fleet::KeyKind::kOrg, org});
    PolicyFlags flags = upstream_.EffectivePolicy(org).flags;
    flags.validate_org_domains = !flags.validate_org_domains;
    const std::uint64_t last_revision = revisions_[key];
    const std::int64_t changed_ns = RealNowNs();
    if (Status s = upstream_.ChangeOrgPolicy(org, flags); !s.ok()) return Err(s);
    if (webhook) {
      if (Status s = Deliver(); !s.ok()) return Err(s);
    }
    const std::string want = upstream_.EffectivePolicyBody(org);
    std::int64_t last_seen_ns = 0;
    std::size_t last_follower = 0;
    std::vector<bool> seen(followers_.size(), false);
    std::size_t remaining = followers_.size();
    const auto t0 = Clock::now();
    while (remaining > 0) {
      for (std::size_t i = 0; i < followers_.size(); ++i) {
        if (seen[i] || !Matches(followers_[i], org, &want)) continue;
        seen[i] = true;
        --remaining;
        last_seen_ns = RealNowNs();
        last_follower = i;
      }
      if (Since(t0) > 30) return Err(Stopped("a change did not reach every follower in 30 s"));
    }
    const std::optional<nats::KvEntry> write =
        watch_->WaitWrite(key, last_revision, changed_ns, milliseconds(5000));
    if (!write) return Err(Stopped("the benchmark's watcher saw no write of " + key));
    revisions_[key] = write->revision;
    const double from_write_ms = static_cast<double>(last_seen_ns - write->created_ns) / 1e6;
    if (from_write_ms > 1000 && late_.size() < 3) {
      late_.push_back("follower " + std::to_string(last_follower) + " answered " +
                      Fmt1(from_write_ms) + " ms after the write; the end of its log: " +
                      FileTail(followers_[last_follower].process.log, 600));
    }
    return Latency{static_cast<double>(last_seen_ns - write->created_ns) / 1e6,
                   static_cast<double>(last_seen_ns - changed_ns) / 1e6};
  }

  // A signed ZITADEL Actions v2 delivery to the publisher's webhook listener.
  Status Deliver() {
    static const std::string body =
        R"({"aggregateType":"org","event_type":"org.policy.domain.changed"})";
    httplib::Client http("127.0.0.1", webhook_port_);
    http.set_read_timeout(std::chrono::seconds(5));
    const httplib::Headers headers = {
        {"ZITADEL-Signature",
         webhook::ComputeSignatureHeader(static_cast<std::int64_t>(std::time(nullptr)), body,
                                         {kWebhookKey})}};
    auto res = http.Post("/zitadel/events", headers, body, "application/json");
    if (!res || res->status != 204)
      return Stopped("webhook delivery refused (" + std::to_string(res ? res->status : 0) + ")");
    return Status::Ok();
  }

  const FleetOptions& o_;
  testing_support::FakeUpstream upstream_;
  std::vector<std::string> orgs_;
  std::string nats_url_;
  int webhook_port_ = 0;
  Policyd publisher_;
  std::unique_ptr<BucketWatch> watch_;
  std::vector<Follower> followers_;
  std::map<std::string, std::uint64_t> revisions_;
  std::vector<std::string> late_;  // samples over a second: which follower, its log
  std::mt19937 rng_;
  int next_ = 0;
};

// A publisher loads a snapshot of `cold_orgs` orgs into a bucket of its own; then a new follower
// with an empty data dir is timed until it holds them all.
Status MeasureColdStart(const FleetOptions& o, const std::string& nats_url, FleetResults& r) {
  r.cold_orgs = o.cold_orgs;
  const std::string snapshot = o.dir + "/cold.json";
  WriteBenchSnapshot(o.cold_orgs, snapshot);
  const auto t0 = Clock::now();
  Policyd publisher = StartPolicyd(
      o.policyd, o.dir + "/cold-publisher.sock", o.dir + "/cold-publisher.data", snapshot,
      o.dir + "/cold-publisher.log",
      {"--publish-to", nats_url, "--publisher-id", "bench-snapshot", "--nats-bucket", kColdBucket});
  auto bucket = BucketWatch::Open(nats_url, kColdBucket);
  if (!bucket) return bucket.error();
  // Every org and the instance entry (and a heartbeat, not counted on).
  const auto want = static_cast<std::uint64_t>(o.cold_orgs) + 1;
  for (;;) {
    Result<nats::BucketInfo> info = (*bucket)->Info();
    if (info) r.bucket_messages = info->messages;
    if (r.bucket_messages >= want) break;
    if (Since(t0) > 600)
      return Stopped("the bucket holds " + std::to_string(r.bucket_messages) + " of " +
                     std::to_string(want) + " keys after 600 s");
    std::this_thread::sleep_for(milliseconds(100));
  }
  r.publish_s = Since(t0);
  StopPolicyd(publisher);

  const auto t1 = Clock::now();
  Policyd follower = StartPolicyd(o.policyd, o.dir + "/cold-follower.sock",
                                  o.dir + "/cold-follower.data", "", o.dir + "/cold-follower.log",
                                  {"--follow", nats_url, "--nats-bucket", kColdBucket});
  r.cold_ready_s = follower.ready_s;
  auto client = Client::Connect(follower.socket);
  if (!client) return client.error().WithContext("cold follower");
  for (;;) {
    auto s = client->GetStatus();
    if (s && s->meta.org_count == static_cast<std::uint64_t>(o.cold_orgs)) break;
    if (Since(t1) > 300) return Stopped("the cold follower did not load the bucket in 300 s");
    std::this_thread::sleep_for(milliseconds(5));
  }
  r.cold_start_s = Since(t1);
  ReadEveryOrg(follower.socket, OrgIds(o.cold_orgs));
  r.cold_rss_kb = RssKb(follower.pid);
  StopPolicyd(follower);
  // A warm restart on that store: READY, then every org looked up once.
  Policyd again = StartPolicyd(o.policyd, follower.socket, o.dir + "/cold-follower.data", "",
                               o.dir + "/cold-follower.log",
                               {"--follow", nats_url, "--nats-bucket", kColdBucket});
  r.warm_ready_s = again.ready_s;
  ReadEveryOrg(again.socket, OrgIds(o.cold_orgs));
  r.warm_rss_kb = RssKb(again.pid);
  StopPolicyd(again);
  return Status::Ok();
}

}  // namespace

FleetResults MeasureFleet(const FleetOptions& o) {
  FleetResults r;
  r.orgs = o.orgs;
  Status status = [&]() -> Status {
    Fleet fleet(o);
    Status s = fleet.Start();
    for (std::size_t k = 0; s.ok() && k < o.followers.size(); ++k) {
      std::fprintf(stderr, "policyd_bench: fleet: %d followers\n", o.followers[k]);
      s = fleet.GrowTo(o.followers[k]);
      if (!s.ok()) break;
      Result<FleetRow> row = fleet.Measure(o.samples, o.rest_seconds);
      if (!row) s = row.error();
      if (row) r.rows.push_back(*row);
    }
    if (s.ok() && o.polling_samples > 0) {
      std::fprintf(stderr, "policyd_bench: fleet: polling only, %d changes\n", o.polling_samples);
      s = fleet.MeasurePolling(o.polling_samples, r);
    }
    r.late = fleet.late();
    fleet.StopAll();
    if (!s.ok()) return s;
    std::fprintf(stderr, "policyd_bench: fleet: cold start from a bucket of %d orgs\n",
                 o.cold_orgs);
    return MeasureColdStart(o, fleet.nats_url(), r);
  }();
  if (!status.ok()) r.error = status.message();
  return r;
}

}  // namespace policyd::bench
