// Module-internal: the cnats handles behind the public classes, the state shared with cnats's
// callback thread, and message decoding shared by kv_bucket.cc and kv_stream.cc. Included only
// by src/nats/*.cc, never by other modules (it includes cnats).
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "nats/connection.h"
#include "nats/kv_bucket.h"

namespace policyd::nats {

// Shared between the connection and cnats's callbacks. cnats holds one std::shared_ptr to it
// (the callbacks' closure), released by the "closed" callback, which cnats always delivers last;
// so a late callback never touches freed memory, even when the close is not confirmed in time
// (then that one shared_ptr is leaked on purpose).
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
};

// The cnats key-value handle of a KvBucket (used by KvStream's watcher).
struct BucketHandles {
  kvStore* kv = nullptr;
};

// A KvEntry from a message of the bucket's stream whose subject starts with `prefix`
// ("$KV.<bucket>."). kDataLoss for a subject outside the bucket or an unknown KV-Operation.
Result<KvEntry> EntryFromMessage(natsMsg* msg, std::string_view prefix, std::uint64_t revision,
                                 std::int64_t created_ns, std::uint64_t pending);

}  // namespace policyd::nats
