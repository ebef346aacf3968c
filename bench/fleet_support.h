// Support for the fleet section (fleet_bench.h): nats-server as a child of the benchmark, a free
// port, and the benchmark's own watcher of a bucket, which tells when a publisher's write was
// stored.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "nats/connection.h"
#include "nats/kv_bucket.h"
#include "nats/kv_stream.h"

namespace policyd::bench {

// A free loopback TCP port (bound, read and released; the child binds it right after).
Result<int> FreePort();

// Starts `binary` (nats-server) with JetStream in `dir` on a random loopback port, registered for
// Cleanup(), and returns its URL ("nats://127.0.0.1:PORT", read from the ports file the server
// writes).
Result<std::string> StartNats(const std::string& binary, const std::string& dir);

// A connection and a thread that records, for every key of a bucket, its latest write since
// Watch(): revision and the time the server stored it.
//
// Thread-safety: WaitWrite may be called from any thread; the rest from the owner's.
class BucketWatch {
 public:
  // Connects and binds to `bucket`, waiting up to a minute for a publisher to create it.
  static Result<std::unique_ptr<BucketWatch>> Open(const std::string& url,
                                                   const std::string& bucket);
  ~BucketWatch();
  BucketWatch(const BucketWatch&) = delete;
  BucketWatch& operator=(const BucketWatch&) = delete;

  Result<nats::BucketInfo> Info() const { return bucket_->Info(); }
  // Starts recording the writes after the bucket's current end.
  Status Watch();
  // The latest write of `key` with a revision above `after`, stored at `not_before_ns` (ns since
  // the Unix epoch) or later, waiting up to `timeout`; nullopt when none came.
  std::optional<nats::KvEntry> WaitWrite(const std::string& key, std::uint64_t after,
                                         std::int64_t not_before_ns,
                                         std::chrono::milliseconds timeout);

 private:
  BucketWatch() = default;
  void Loop();

  std::unique_ptr<nats::NatsConnection> conn_;
  std::unique_ptr<nats::KvBucket> bucket_;
  std::unique_ptr<nats::KvStream> stream_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, nats::KvEntry> latest_;  // guarded by mu_
};

}  // namespace policyd::bench
