// KvBucket: a JetStream key-value bucket (stream "KV_<bucket>", subjects "$KV.<bucket>.>"),
// read and written the way policyd's fleet mode needs it. Includes no cnats header.
//
// Revision = the stream sequence of a key's latest message. Writes are publishes to
// "$KV.<bucket>.<key>" (not cnats's kvStore_Put/Update, whose errors hide the JetStream code),
// so each write can carry a Nats-Msg-Id (de-duplicated by the server for its duplicate window,
// two minutes by default) and a compare-and-set guard on the key's revision, and report the
// three outcomes apart: stored, duplicate (an earlier publish with the same id was stored) and
// conflict (another writer changed the key first: kAborted).
// Caveats (see docs/fleet.md): on a clustered nats-server 2.9.10 a duplicate whose guard has gone
// stale is answered as a conflict, not as a duplicate; and two concurrent guarded updates of one
// key can both be stored (server bug fixed in 2.9.21), so values must carry their own version.
// Deletes are "KV-Operation: DEL" markers; this module never purges (a purge or a TTL silently
// breaks followers that resume from a revision).
//
// Thread-safety: all methods may be called from any thread concurrently. The NatsConnection
// must outlive the bucket. Every call blocks at most the connection's request timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "nats/connection.h"

namespace policyd::nats {

struct BucketConfig {
  std::string bucket;        // [A-Za-z0-9_-]+
  int replicas = 1;          // 1..5; 3 in production
  std::uint8_t history = 1;  // values kept per key (1..64)
  bool memory_storage = false;
  std::int64_t max_bytes = -1;  // -1: unlimited
};

// What the server reports about the bucket's stream.
struct BucketInfo {
  std::string bucket;
  std::string stream;           // "KV_<bucket>"
  std::int64_t created_ns = 0;  // creation time, ns since the Unix epoch: changes when recreated
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;  // highest revision ever stored in this incarnation
  std::uint64_t messages = 0;  // keys (with history 1), delete markers included
  std::int64_t history = 0;
  std::int64_t ttl_ns = 0;  // 0: none
  int replicas = 0;
  std::string leader;  // stream leader's server name; empty when not clustered
};

enum class KvOp { kPut, kDelete, kPurge };
std::string_view KvOpName(KvOp op);

struct KvEntry {
  std::string key;
  std::string value;           // empty for delete and purge markers
  std::uint64_t revision = 0;  // stream sequence
  KvOp op = KvOp::kPut;
  std::int64_t created_ns = 0;  // time the server stored it
  std::uint64_t pending = 0;    // in a stream: messages after this one at delivery time
};

struct WriteRequest {
  std::string key;
  KvOp op = KvOp::kPut;  // kPut or kDelete (a marker; `value` must be empty); never kPurge
  std::string value;
  std::string msg_id;  // Nats-Msg-Id; empty: no de-duplication
  // Compare-and-set guard: the key's latest message must have this revision; 0 means the key
  // must have no message at all (a delete marker is a message: pass its revision).
  // nullopt: unconditional write.
  std::optional<std::uint64_t> expected_revision;
};

struct WriteAck {
  std::uint64_t revision = 0;  // of the stored message, or of the earlier one for a duplicate
  bool duplicate = false;      // the server had already stored a message with this msg_id
};

// True for keys a KV bucket accepts: non-empty, [-/_=.a-zA-Z0-9], no leading, trailing or
// doubled '.'. Pure.
bool ValidKey(std::string_view key);
// True for bucket names: non-empty [A-Za-z0-9_-]. Pure.
bool ValidBucketName(std::string_view bucket);

class KvBucket {
 public:
  // Binds to the bucket, creating it with `config` when it does not exist (no TTL). An existing
  // bucket is accepted when its history matches and it has no TTL (kFailedPrecondition
  // otherwise: a TTL would silently lose keys for resuming readers); its replica count is left
  // as the operator set it. Errors: kInvalidArgument (bad name), kPermissionDenied,
  // kUnavailable / kDeadlineExceeded (no server or no JetStream).
  static Result<std::unique_ptr<KvBucket>> CreateOrBind(NatsConnection& conn,
                                                        const BucketConfig& config);
  // Binds to an existing bucket. kNotFound when it does not exist.
  static Result<std::unique_ptr<KvBucket>> Bind(NatsConnection& conn, const std::string& bucket);

  ~KvBucket();
  KvBucket(const KvBucket&) = delete;
  KvBucket& operator=(const KvBucket&) = delete;

  const std::string& name() const { return bucket_; }
  const std::string& stream() const { return stream_; }
  NatsConnection& connection() { return conn_; }

  // Fresh stream information from the server (one API request).
  Result<BucketInfo> Info() const;

  // The key's latest message, delete markers included (op kDelete, empty value); nullopt when
  // the key has no message. Served by the stream leader ($JS.API.STREAM.MSG.GET), so it reads
  // the key's latest committed write.
  Result<std::optional<KvEntry>> Get(std::string_view key) const;

  // Publishes a put or a delete marker. Errors: kAborted when expected_revision did not match
  // (another writer won; the key is unchanged by this call); kDeadlineExceeded when no ack came
  // (it may have been stored: retry with the same msg_id); kUnavailable for transient states
  // (no responders, no stream leader); kInvalidArgument for a bad key or request.
  Result<WriteAck> Write(const WriteRequest& request);

  // Deletes the whole bucket (stream). For tests and operators; followers see their cursor
  // become invalid (BucketInfo.created_ns changes when it is created again).
  Status DeleteBucket();

 private:
  KvBucket(NatsConnection& conn, std::string bucket);
  friend class KvStream;
  NatsConnection& conn_;
  std::unique_ptr<struct BucketHandles> handles_;
  std::string bucket_;
  std::string stream_;
  std::string prefix_;  // "$KV.<bucket>."
};

}  // namespace policyd::nats
