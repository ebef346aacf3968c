// Module-internal: the cnats handles behind a NatsConnection, and the state shared with cnats's
// callback thread. Included only by src/nats/*.cc.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "nats/connection.h"

namespace policyd::nats {

// Shared between the connection and cnats's callbacks. cnats holds one std::shared_ptr to it
// (the callbacks' closure), released by the "closed" callback, which cnats always delivers last;
// so a late callback never touches freed memory, even when the close is not confirmed in time.
struct CallbackState {
  std::mutex mu;
  std::condition_variable cv;
  EventCallback on_event;  // cleared (under mu) when the connection's destructor starts
  bool closed = false;
};

struct Handles {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::shared_ptr<CallbackState> callbacks;
  int64_t request_timeout_ms = 5000;
};

}  // namespace policyd::nats

namespace policyd::nats {

// The cnats key-value handle of a KvBucket (used by KvStream's watcher).
struct BucketHandles {
  kvStore* kv = nullptr;
};

}  // namespace policyd::nats

#include "nats/kv_bucket.h"

namespace policyd::nats {

// A KvEntry from a message of the bucket's stream whose subject starts with `prefix`
// ("$KV.<bucket>."). kDataLoss for a subject outside the bucket or an unknown KV-Operation.
Result<KvEntry> EntryFromMessage(natsMsg* msg, std::string_view prefix, std::uint64_t revision,
                                 std::int64_t created_ns, std::uint64_t pending);

}  // namespace policyd::nats
