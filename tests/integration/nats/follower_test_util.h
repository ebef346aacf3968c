// Helpers shared by the follower_test files: a bucket writer that stands in for a publisher,
// the single-server fixture with the follower's RocksStore, readable SourceVersions.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "fleet/keys.h"
#include "fleet/values.h"
#include "follow/cursor.h"
#include "follow/follower.h"
#include "nats_test_util.h"
#include "sync/cursor.h"

namespace policyd {
// Readable failures for versions (ADL finds it next to SourceVersion).
inline void PrintTo(const SourceVersion& v, std::ostream* os) {
  *os << "{" << v.date.seconds << "." << v.date.nanos << ", " << v.stream.type << "/" << v.stream.id
      << ", " << v.sequence << "}";
}
}  // namespace policyd

namespace policyd::follow::test {

using namespace std::chrono_literals;
using fleet::FleetKey;
using fleet::FleetValue;
using fleet::KeyKind;
using nats::testing::MustConnect;
using nats::testing::Options;
using testing_support::NatsCluster;
using testing_support::TempDir;
using testing_support::WaitFor;

inline constexpr char kInstanceId[] = "300000000000000001";

inline SourceVersion Version(std::int64_t seconds, const std::string& id) {
  return {{seconds, 0}, {"org", id}, static_cast<std::uint64_t>(seconds)};
}

inline PolicyRecord Policy(std::int64_t seconds, const std::string& owner, bool must_be_domain) {
  PolicyRecord p;
  p.flags.user_login_must_be_domain = must_be_domain;
  p.flags.validate_org_domains = true;
  p.details = {static_cast<std::uint64_t>(seconds), {1700000000, 0}, {seconds, 0}, owner};
  p.stream = {"org", owner};
  return p;
}

// Writes the bucket as a publisher would (but without one), on its own connection.
class BucketWriter {
 public:
  explicit BucketWriter(const std::vector<std::string>& urls) {
    conn_ = MustConnect(Options(urls));
    if (conn_ != nullptr) bucket_ = nats::testing::MustCreate(*conn_, "policyd");
  }
  bool ok() const { return bucket_ != nullptr; }
  nats::KvBucket& bucket() { return *bucket_; }
  void Recreate() {
    ASSERT_TRUE(bucket_->DeleteBucket().ok());
    bucket_ = nats::testing::MustCreate(*conn_, "policyd");
  }

  std::uint64_t Org(const std::string& id, std::int64_t version, bool policy,
                    std::vector<OrgDomain> domains = {}) {
    std::optional<PolicyRecord> p;
    if (policy) p = Policy(version, id, true);
    const std::uint64_t sequence = domains.empty() ? 0 : static_cast<std::uint64_t>(version);
    fleet::OrgEntry entry{{id, p}, {id, std::move(domains), sequence, {"org", id}}};
    return Put({KeyKind::kOrg, id}, {Version(version, id), entry});
  }
  std::uint64_t Instance(std::int64_t version, std::vector<std::string> domains,
                         bool must_be_domain = false) {
    InstanceRecord instance{kInstanceId, Policy(version, kInstanceId, must_be_domain)};
    instance.policy.stream = {"instance", kInstanceId};
    fleet::InstanceEntry entry{instance, {std::move(domains), 3, {"instance", kInstanceId}}};
    return Put({KeyKind::kInstance, ""}, {Version(version, kInstanceId), entry});
  }
  std::uint64_t Heartbeat(const std::string& id, Timestamp last_sync) {
    return Put({KeyKind::kHeartbeat, id},
               {{last_sync, {}, 0}, fleet::Heartbeat{id, last_sync, "iam.example.com", "test"}});
  }
  std::uint64_t Put(const FleetKey& key, const FleetValue& value) {
    Result<std::string> bytes = fleet::EncodeValue(key, value);
    EXPECT_TRUE(bytes) << bytes.error().ToString();
    return Raw(fleet::FormatKey(key).value(), bytes.value_or(""));
  }
  std::uint64_t Raw(const std::string& key, const std::string& bytes) {
    return nats::testing::MustPut(*bucket_, key, bytes).revision;
  }
  std::uint64_t Delete(const std::string& key) {
    Result<nats::WriteAck> ack = bucket_->Write(nats::testing::Del(key));
    EXPECT_TRUE(ack) << ack.error().ToString();
    return ack ? ack->revision : 0;
  }

 private:
  std::unique_ptr<nats::NatsConnection> conn_;
  std::unique_ptr<nats::KvBucket> bucket_;
};

struct OrgState {
  bool known = false;
  std::optional<PolicyRecord> policy;
  OrgDomains domains;
  SourceVersion version;
};

inline Timestamp Now() { return SystemClock().Now(); }

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    OpenStore();
  }
  void OpenStore() {
    Result<std::unique_ptr<Store>> store = OpenRocksStore(dir_.Join("store"), StoreOptions{});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  FollowerOptions Opts() const {
    FollowerOptions o;
    o.urls = server_.Urls();
    o.backoff_initial = 100ms;
    o.backoff_max = 1s;
    o.consumer_heartbeat = 1s;
    o.bucket_check_interval = 300ms;
    o.connect_timeout = 1s;
    o.reconnect_wait = 100ms;
    o.request_timeout = 2s;
    return o;
  }
  std::unique_ptr<Follower> StartFollower() {
    auto f = std::make_unique<Follower>(*store_, state_, SystemClock(), Opts());
    f->Start();
    return f;
  }
  ::testing::AssertionResult WaitCursor(const Follower& f, std::uint64_t revision,
                                        std::chrono::milliseconds timeout = 15s) {
    return WaitFor([&] { return f.Status().cursor >= revision && f.Status().caught_up; }, timeout,
                   "follower at revision " + std::to_string(revision));
  }

  OrgState ReadOrg(const std::string& id) {
    LookupBatch batch;
    batch.set_with_domains(true);
    batch.set_with_versions(true);
    batch.Add(id);
    Status s = store_->Read(batch);
    EXPECT_TRUE(s.ok()) << s.ToString();
    OrgState out;
    if (!s.ok()) return out;
    out.known = batch.org(0).known;
    if (batch.org(0).own_policy != nullptr) out.policy = *batch.org(0).own_policy;
    out.domains = batch.domains(0);
    out.version = batch.version(0);
    return out;
  }
  StoreMeta Meta() {
    Result<StoreMeta> meta = store_->Meta();
    EXPECT_TRUE(meta) << meta.error().ToString();
    return meta.value_or(StoreMeta{});
  }
  // A store as direct sync leaves it: its own orgs, a "v3 ..." cursor.
  void SeedDirectSyncStore(const std::vector<std::string>& org_ids) {
    Snapshot s;
    s.instance = {kInstanceId, Policy(1600000000, kInstanceId, false)};
    for (const std::string& id : org_ids) s.orgs.push_back({id, Policy(1600000000, id, false)});
    const std::string cursor = SyncCursor::StartingAt(Timestamp{1600000000, 0}, 0).Encode();
    Status r = store_->Replace(s, cursor, "https://iam.example.com", Now());
    ASSERT_TRUE(r.ok()) << r.ToString();
  }

  NatsCluster server_;
  TempDir dir_;
  std::unique_ptr<Store> store_;
  ServingState state_{FreshnessOptions{"nats", 2s, false}};
};

}  // namespace policyd::follow::test
