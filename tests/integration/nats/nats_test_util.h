// Helpers shared by the nats_test files: connect and wait, collect a KvStream's entries up to
// its caught-up signal, record connection events.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nats/connection.h"
#include "nats/kv_bucket.h"
#include "nats/kv_stream.h"
#include "support/nats_server.h"
#include "support/process.h"

namespace policyd::nats::testing {

using namespace std::chrono_literals;
using testing_support::NatsCluster;
using testing_support::NatsClusterOptions;
using testing_support::WaitFor;

// Connection events as the callback saw them (it runs on a cnats thread).
class EventLog {
 public:
  EventCallback Callback() {
    return [this](const ConnEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    };
  }
  int Count(ConnEvent::Kind kind) const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const ConnEvent& e : events_) n += e.kind == kind ? 1 : 0;
    return n;
  }
  std::string Dump() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const ConnEvent& e : events_) {
      out += std::to_string(static_cast<int>(e.kind)) + ":" + e.error.ToString() + "; ";
    }
    return out;
  }
  bool HasError(Code code) const {
    std::lock_guard lock(mu_);
    for (const ConnEvent& e : events_) {
      if (e.kind == ConnEvent::Kind::kAsyncError && e.error.code() == code) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<ConnEvent> events_;
};

inline ConnectOptions Options(std::vector<std::string> urls) {
  ConnectOptions o;
  o.urls = std::move(urls);
  o.reconnect_wait = 100ms;
  o.connect_timeout = 1000ms;
  o.request_timeout = 2000ms;
  o.close_timeout = 3000ms;
  return o;
}

// Connects and waits until connected (fails the test otherwise).
inline std::unique_ptr<NatsConnection> MustConnect(const ConnectOptions& options,
                                                   EventCallback on_event = {}) {
  Result<std::unique_ptr<NatsConnection>> conn =
      NatsConnection::Connect(options, std::move(on_event));
  EXPECT_TRUE(conn.has_value()) << conn.error().ToString();
  if (!conn) return nullptr;
  EXPECT_TRUE(
      WaitFor([&] { return (*conn)->state() == ConnState::kConnected; }, 10s, "NATS connection"));
  return std::move(*conn);
}

inline std::unique_ptr<KvBucket> MustCreate(NatsConnection& conn, const std::string& bucket,
                                            int replicas = 1) {
  BucketConfig config;
  config.bucket = bucket;
  config.replicas = replicas;
  // Creating a replicated stream waits for its raft group; on a loaded machine (a CI run) that
  // can take longer than one request timeout. A retry binds what the timed-out request created.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  Result<std::unique_ptr<KvBucket>> b = KvBucket::CreateOrBind(conn, config);
  while (!b &&
         (b.error().code() == Code::kDeadlineExceeded || b.error().code() == Code::kUnavailable) &&
         std::chrono::steady_clock::now() < deadline) {
    b = KvBucket::CreateOrBind(conn, config);
  }
  EXPECT_TRUE(b.has_value()) << b.error().ToString();
  return b ? std::move(*b) : nullptr;
}

// WriteRequests without designated initializers (GCC warns about the members left out).
inline WriteRequest Req(std::string key, KvOp op, std::string value,
                        std::optional<std::uint64_t> expected = std::nullopt,
                        std::string msg_id = "") {
  WriteRequest r;
  r.key = std::move(key);
  r.op = op;
  r.value = std::move(value);
  r.expected_revision = expected;
  r.msg_id = std::move(msg_id);
  return r;
}
inline WriteRequest Put(std::string key, std::string value,
                        std::optional<std::uint64_t> expected = std::nullopt,
                        std::string msg_id = "") {
  return Req(std::move(key), KvOp::kPut, std::move(value), expected, std::move(msg_id));
}
inline WriteRequest Del(std::string key, std::optional<std::uint64_t> expected = std::nullopt) {
  return Req(std::move(key), KvOp::kDelete, "", expected);
}

inline WriteAck MustPut(KvBucket& bucket, const std::string& key, const std::string& value) {
  Result<WriteAck> ack = bucket.Write(Put(key, value));
  EXPECT_TRUE(ack.has_value()) << ack.error().ToString();
  return ack.value_or(WriteAck{});
}

// Entries up to the caught-up signal (which must come within `timeout`).
struct Drained {
  std::vector<KvEntry> entries;
  bool caught_up = false;
};
inline Drained DrainUntilCaughtUp(KvStream& stream, std::chrono::milliseconds timeout = 10s) {
  Drained out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<KvEvent> e = stream.Next(200ms);
    if (!e) {
      if (e.error().code() == Code::kDeadlineExceeded) continue;
      ADD_FAILURE() << e.error().ToString();
      return out;
    }
    if (e->kind == KvEvent::Kind::kCaughtUp) {
      out.caught_up = true;
      return out;
    }
    out.entries.push_back(std::move(e->entry));
  }
  ADD_FAILURE() << "no caught-up signal after " << out.entries.size() << " entries";
  return out;
}

// The next entry (not a caught-up signal) within `timeout`.
inline Result<KvEntry> NextEntry(KvStream& stream, std::chrono::milliseconds timeout = 10s) {
  Result<KvEvent> e = stream.Next(timeout);
  if (!e) return Err(e.error());
  if (e->kind != KvEvent::Kind::kEntry) return Err(Status::Internal("unexpected caught-up"));
  return std::move(e->entry);
}

}  // namespace policyd::nats::testing
