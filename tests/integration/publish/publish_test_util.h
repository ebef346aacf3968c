// Helpers for the publisher's tests against real nats-server processes: a publisher with its own
// RocksDB store in a temp dir, store changes with versions, and the bucket compared with a store.
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../nats/nats_test_util.h"
#include "base/clock.h"
#include "fleet/keys.h"
#include "fleet/values.h"
#include "fleet_generated.h"
#include "publish/change_feed.h"
#include "publish/publisher.h"
#include "store/store.h"
#include "sync/cursor.h"

namespace policyd::publish::testing {

using namespace std::chrono_literals;
using nats::testing::MustConnect;
using testing_support::NatsCluster;
using testing_support::NatsClusterOptions;
using testing_support::WaitFor;

inline Timestamp T(std::int64_t seconds) { return Timestamp{seconds, 0}; }

// ZITADEL-like org ids: digits.
inline std::string OrgId(int i) { return "30000000000000" + std::to_string(1000 + i); }

inline SourceVersion OrgVersion(std::int64_t seconds, const std::string& id,
                                std::uint64_t sequence = 1) {
  return SourceVersion{T(seconds), EventStream{"org", id}, sequence};
}

inline PolicyRecord PolicyAt(std::uint64_t sequence, const std::string& owner,
                             bool must_be_domain) {
  return PolicyRecord{PolicyFlags{must_be_domain, true, false},
                      Details{sequence, T(1'700'000'000), T(1'700'000'000 + sequence), owner}};
}

// Puts (or replaces) org `id` with a policy and one domain, at `version`.
inline void PutOrg(StoreChange& change, const std::string& id, const SourceVersion& version,
                   bool must_be_domain = false) {
  change.put_orgs.push_back(OrgRecord{id, PolicyAt(version.sequence, id, must_be_domain)});
  change.put_org_domains.push_back(OrgDomains{id,
                                              {OrgDomain{"o" + id + ".example.com", true, true}},
                                              version.sequence,
                                              EventStream{"org", id}});
  change.org_versions.emplace_back(id, version);
}

inline void PutInstance(StoreChange& change, std::int64_t seconds) {
  change.instance = InstanceRecord{"inst-1", PolicyAt(1, "inst-1", false)};
  change.instance_domains =
      InstanceDomains{{"inst.example.com"}, 1, EventStream{"instance", "inst-1"}};
  change.instance_version = SourceVersion{T(seconds), EventStream{"instance", "inst-1"}, 1};
}

// The sync cursor of a store whose newest applied event is dated `newest` (2 s overlap).
inline std::string CursorAt(std::int64_t newest) {
  return SyncCursor::StartingAt(T(newest), 2 * kNanosPerSecond).Encode();
}

// One publisher: its store, its feed and itself.
struct PublisherNode {
  testing_support::TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<ChangeFeed> feed;
  std::unique_ptr<Publisher> publisher;

  // Opens the store (no publisher yet).
  PublisherNode() {
    StoreOptions options;
    options.block_cache_bytes = 8u << 20;
    Result<std::unique_ptr<Store>> opened = OpenRocksStore(dir.Join("store"), options);
    EXPECT_TRUE(opened.has_value()) << opened.error().ToString();
    if (opened) store = std::move(*opened);
    if (store) feed = std::make_unique<ChangeFeed>(*store);
  }
  void Apply(const StoreChange& change) {
    Status s = feed->Apply(change, SystemClock().Now());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ::testing::AssertionResult Start(PublisherOptions options, const Clock& clock = SystemClock()) {
    publisher = std::make_unique<Publisher>(*feed, *feed, clock, std::move(options));
    Status s = publisher->Start();
    if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
    return ::testing::AssertionSuccess();
  }
};

inline PublisherOptions Options(const std::vector<std::string>& urls, const std::string& id) {
  PublisherOptions o;
  o.connect = nats::testing::Options(urls);
  o.publisher_id = id;
  o.source = "iam.test";
  o.policyd_version = "test";
  o.backoff_initial = 50ms;
  o.backoff_max = 500ms;
  o.heartbeat_min_gap = 50ms;
  return o;
}

// A store with the instance and orgs 0..n-1, each at version `seconds` (cursor at `seconds`).
inline StoreChange Fill(int n, std::int64_t seconds) {
  StoreChange change;
  PutInstance(change, seconds);
  for (int i = 0; i < n; ++i) PutOrg(change, OrgId(i), OrgVersion(seconds, OrgId(i)));
  change.cursor = CursorAt(seconds);
  change.synced_at = T(seconds);
  return change;
}

// A value for org `id` in a schema major this policyd does not know (a newer publisher's),
// built with the generated API as values_test does.
inline std::string NewerSchemaValue(const std::string& id) {
  flatbuffers::FlatBufferBuilder fbb;
  const fleet::fb::Timestamp date(1, 0);
  auto version = fleet::fb::CreateSourceVersion(fbb, &date);
  auto org = fleet::fb::CreateOrgEntry(fbb, fbb.CreateString(id));
  fleet::fb::ValueBuilder b(fbb);
  b.add_schema_major(fleet::kSchemaMajor + 1);
  b.add_version(version);
  b.add_entry_type(fleet::fb::Entry::OrgEntry);
  b.add_entry(org.Union());
  fbb.Finish(b.Finish(), "PDFL");
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// The latest message of every key (a fresh watch up to its caught-up signal).
inline Result<std::map<std::string, nats::KvEntry>> ReadBucket(nats::KvBucket& bucket) {
  Result<std::unique_ptr<nats::KvStream>> stream = nats::KvStream::WatchAll(bucket);
  if (!stream) return Err(stream.error());
  std::map<std::string, nats::KvEntry> out;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<nats::KvEvent> e = (*stream)->Next(200ms);
    if (!e && e.error().code() == Code::kDeadlineExceeded) continue;
    if (!e) return Err(e.error());
    if (e->kind == nats::KvEvent::Kind::kCaughtUp) return out;
    out[e->entry.key] = std::move(e->entry);
  }
  return Err(Status(Code::kDeadlineExceeded, "no caught-up signal"));
}

inline std::string Encoded(const fleet::FleetKey& key, const fleet::FleetValue& value) {
  Result<std::string> bytes = fleet::EncodeValue(key, value);
  EXPECT_TRUE(bytes.has_value()) << bytes.error().ToString();
  return bytes.value_or("");
}

// The bucket holds exactly the store's entries and kind rows (every value byte for byte what the
// store encodes to), and a delete marker (or nothing) for every other org or kind key.
// `extra`: org keys that may hold a value although the store lacks the org; `ignored`: keys of
// the store not compared.
inline ::testing::AssertionResult BucketEqualsStore(nats::KvBucket& bucket, const Store& store,
                                                    const std::set<std::string>& extra = {},
                                                    const std::set<std::string>& ignored = {}) {
  Result<std::map<std::string, nats::KvEntry>> read = ReadBucket(bucket);
  if (!read) return ::testing::AssertionFailure() << "read bucket: " << read.error().ToString();
  std::map<std::string, nats::KvEntry>& keys = *read;
  std::string problems;
  std::set<std::string> expected;
  auto check = [&](const fleet::FleetKey& fk, const fleet::FleetValue& value) {
    const std::string key = fleet::FormatKey(fk).value();
    expected.insert(key);
    if (ignored.contains(key)) return;
    auto it = keys.find(key);
    if (it == keys.end() || it->second.op != nats::KvOp::kPut) {
      problems += key + " missing; ";
    } else if (it->second.value != Encoded(fk, value)) {
      Result<fleet::FleetValue> held = fleet::DecodeValue(fk, it->second.value);
      problems += key + " differs (bucket version " +
                  (held ? std::to_string(held->version.date.seconds) : held.error().ToString()) +
                  ", store " + std::to_string(value.version.date.seconds) + "); ";
    }
  };
  Status s = store.ForEachEntry(
      [&](const InstanceRecord& i, const InstanceDomains& d, const SourceVersion& v) {
        check({fleet::KeyKind::kInstance, ""}, {v, fleet::InstanceEntry{i, d}});
        return Status::Ok();
      },
      [&](const OrgRecord& o, const OrgDomains& d, const SourceVersion& v) {
        check({fleet::KeyKind::kOrg, o.id}, {v, fleet::OrgEntry{o, d}});
        return Status::Ok();
      });
  if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
  // The generic kinds' rows (issue #14): defaults, own rows and tombstones.
  s = store.ForEachKindRow([&](const KindRow& row, bool has_policy) {
    const PolicyKind kind = row.policy.kind;
    fleet::KindEntry entry{kind, row.org_id, std::nullopt};
    if (has_policy) entry.policy = row.policy;
    check({row.org_id.empty() ? fleet::KeyKind::kKindInstance : fleet::KeyKind::kKindOrg,
           row.org_id, kind},
          {row.version, std::move(entry)});
    return Status::Ok();
  });
  if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
  for (const auto& [key, entry] : keys) {
    Result<fleet::FleetKey> fk = fleet::ParseKey(key);
    const bool data = fk && fk->kind != fleet::KeyKind::kHeartbeat;
    if (data && !expected.contains(key) && !extra.contains(key) && entry.op == nats::KvOp::kPut) {
      problems += key + " should be deleted; ";
    }
  }
  if (!problems.empty()) return ::testing::AssertionFailure() << problems;
  return ::testing::AssertionSuccess();
}

// Polls `check` (like WaitFor) until it succeeds or `timeout` passes; reports the last failure.
inline ::testing::AssertionResult Eventually(
    const std::function<::testing::AssertionResult()>& check, std::chrono::milliseconds timeout) {
  ::testing::AssertionResult last = ::testing::AssertionFailure() << "never checked";
  if (WaitFor([&] { return static_cast<bool>(last = check()); }, timeout, "")) {
    return ::testing::AssertionSuccess();
  }
  return last;
}

}  // namespace policyd::publish::testing
