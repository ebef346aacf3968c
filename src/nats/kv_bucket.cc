#include "nats/kv_bucket.h"

#include <cstring>
#include <utility>

#include "nats/errors.h"
#include "nats/handles.h"

namespace policyd::nats {
namespace {

constexpr const char* kOperationHeader = "KV-Operation";

// Owns a cnats object and frees it with its destroy function.
template <typename T, void (*Destroy)(T*)>
struct Owned {
  T* p = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p != nullptr) Destroy(p);
  }
};
using StreamInfo = Owned<jsStreamInfo, jsStreamInfo_Destroy>;
using Msg = Owned<natsMsg, natsMsg_Destroy>;
using PubAck = Owned<jsPubAck, jsPubAck_Destroy>;

BucketInfo ToInfo(const std::string& bucket, const jsStreamInfo& si) {
  BucketInfo info;
  info.bucket = bucket;
  info.stream = si.Config != nullptr && si.Config->Name != nullptr ? si.Config->Name : "";
  info.created_ns = si.Created;
  info.first_seq = si.State.FirstSeq;
  info.last_seq = si.State.LastSeq;
  info.messages = si.State.Msgs;
  if (si.Config != nullptr) {
    info.history = si.Config->MaxMsgsPerSubject;
    info.ttl_ns = si.Config->MaxAge;
    info.replicas = static_cast<int>(si.Config->Replicas);
  }
  if (si.Cluster != nullptr && si.Cluster->Leader != nullptr) info.leader = si.Cluster->Leader;
  return info;
}

Result<KvOp> OpFromHeader(natsMsg* msg) {
  const char* op = nullptr;
  if (natsMsgHeader_Get(msg, kOperationHeader, &op) != NATS_OK || op == nullptr) {
    return KvOp::kPut;
  }
  if (std::strcmp(op, "DEL") == 0) return KvOp::kDelete;
  if (std::strcmp(op, "PURGE") == 0) return KvOp::kPurge;
  return Err(Status::DataLoss(std::string("unknown KV-Operation header \"") + op + "\""));
}

}  // namespace

std::string_view KvOpName(KvOp op) {
  switch (op) {
    case KvOp::kPut:
      return "put";
    case KvOp::kDelete:
      return "delete";
    case KvOp::kPurge:
      return "purge";
  }
  return "unknown";
}

bool ValidKey(std::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  char prev = 0;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '/' || c == '_' || c == '=' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

bool ValidBucketName(std::string_view bucket) {
  if (bucket.empty()) return false;
  for (char c : bucket) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<KvEntry> EntryFromMessage(natsMsg* msg, std::string_view prefix, std::uint64_t revision,
                                 std::int64_t created_ns, std::uint64_t pending) {
  const std::string_view subject = natsMsg_GetSubject(msg);
  if (subject.size() <= prefix.size() || subject.substr(0, prefix.size()) != prefix) {
    return Err(Status::DataLoss("message subject \"" + std::string(subject) +
                                "\" is not a key of this bucket"));
  }
  Result<KvOp> op = OpFromHeader(msg);
  if (!op) return Err(op.error().WithContext("revision " + std::to_string(revision)));
  KvEntry e;
  e.key = std::string(subject.substr(prefix.size()));
  const char* data = natsMsg_GetData(msg);
  if (data != nullptr) e.value.assign(data, static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  e.revision = revision;
  e.op = *op;
  e.created_ns = created_ns;
  e.pending = pending;
  return e;
}

KvBucket::KvBucket(NatsConnection& conn, std::string bucket)
    : conn_(conn),
      handles_(std::make_unique<BucketHandles>()),
      bucket_(std::move(bucket)),
      stream_("KV_" + bucket_),
      prefix_("$KV." + bucket_ + ".") {}

KvBucket::~KvBucket() {
  if (handles_->kv != nullptr) kvStore_Destroy(handles_->kv);
}

Result<std::unique_ptr<KvBucket>> KvBucket::Bind(NatsConnection& conn, const std::string& bucket) {
  if (!ValidBucketName(bucket)) {
    return Err(Status::InvalidArgument("invalid KV bucket name \"" + bucket + "\""));
  }
  std::unique_ptr<KvBucket> b(new KvBucket(conn, bucket));
  const natsStatus s = js_KeyValue(&b->handles_->kv, conn.handles().js, bucket.c_str());
  if (s != NATS_OK) return Err(FromNats(s, 0, "bind KV bucket " + bucket));
  return b;
}

Result<std::unique_ptr<KvBucket>> KvBucket::CreateOrBind(NatsConnection& conn,
                                                         const BucketConfig& config) {
  Result<std::unique_ptr<KvBucket>> bound = Bind(conn, config.bucket);
  if (!bound && bound.error().code() != Code::kNotFound) return bound;
  if (bound) {
    Result<BucketInfo> info = (*bound)->Info();
    if (!info) return Err(info.error());
    if (info->ttl_ns != 0 || info->history != config.history) {
      return Err(Status::FailedPrecondition(
          "KV bucket " + config.bucket + " exists with history " + std::to_string(info->history) +
          " and TTL " + std::to_string(info->ttl_ns) + " ns; policyd needs history " +
          std::to_string(config.history) + " and no TTL"));
    }
    return bound;
  }
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = config.bucket.c_str();
  cfg.History = config.history;
  cfg.Replicas = config.replicas;
  cfg.TTL = 0;
  cfg.MaxBytes = config.max_bytes;
  cfg.StorageType = config.memory_storage ? js_MemoryStorage : js_FileStorage;
  std::unique_ptr<KvBucket> b(new KvBucket(conn, config.bucket));
  // Two publishers creating the same bucket at once both succeed: the server accepts a create
  // whose configuration equals the existing stream's.
  const natsStatus s = js_CreateKeyValue(&b->handles_->kv, conn.handles().js, &cfg);
  if (s != NATS_OK) return Err(FromNats(s, 0, "create KV bucket " + config.bucket));
  return b;
}

Result<BucketInfo> KvBucket::Info() const {
  StreamInfo si;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si.p, conn_.handles().js, stream_.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return Err(FromNats(s, jerr, "stream info " + stream_));
  return ToInfo(bucket_, *si.p);
}

Result<std::optional<KvEntry>> KvBucket::Get(std::string_view key) const {
  if (!ValidKey(key))
    return Err(Status::InvalidArgument("invalid KV key \"" + std::string(key) + "\""));
  const std::string subject = prefix_ + std::string(key);
  Msg msg;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_GetLastMsg(&msg.p, conn_.handles().js, stream_.c_str(), subject.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND && jerr == kJsNoMessageFound) return std::optional<KvEntry>();
  if (s != NATS_OK) return Err(FromNats(s, jerr, "get " + subject));
  Result<KvEntry> e =
      EntryFromMessage(msg.p, prefix_, natsMsg_GetSequence(msg.p), natsMsg_GetTime(msg.p), 0);
  if (!e) return Err(e.error().WithContext("get " + subject));
  return std::optional<KvEntry>(std::move(*e));
}

Result<WriteAck> KvBucket::Write(const WriteRequest& request) {
  if (!ValidKey(request.key)) {
    return Err(Status::InvalidArgument("invalid KV key \"" + request.key + "\""));
  }
  if (request.op == KvOp::kPurge) {
    return Err(Status::InvalidArgument("purge is not supported: it breaks resuming readers"));
  }
  if (request.op == KvOp::kDelete && !request.value.empty()) {
    return Err(Status::InvalidArgument("a delete marker carries no value"));
  }
  const std::string subject = prefix_ + request.key;
  Msg msg;
  natsStatus s = natsMsg_Create(&msg.p, subject.c_str(), nullptr, request.value.data(),
                                static_cast<int>(request.value.size()));
  if (s == NATS_OK && request.op == KvOp::kDelete) {
    s = natsMsgHeader_Set(msg.p, kOperationHeader, "DEL");
  }
  if (s != NATS_OK) return Err(FromNats(s, 0, "build message for " + subject));
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (!request.msg_id.empty()) po.MsgId = request.msg_id.c_str();
  if (request.expected_revision.has_value()) {
    if (*request.expected_revision == 0) {
      po.ExpectNoMessage = true;
    } else {
      po.ExpectLastSubjectSeq = *request.expected_revision;
    }
  }
  PubAck ack;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&ack.p, conn_.handles().js, msg.p, &po, &jerr);
  if (s != NATS_OK) {
    Status st = FromNats(s, jerr, "publish " + subject);
    if (st.code() == Code::kAborted) return Err(st.WithContext("another writer won"));
    return Err(st);
  }
  return WriteAck{ack.p->Sequence, ack.p->Duplicate};
}

Status KvBucket::DeleteBucket() {
  const natsStatus s = js_DeleteKeyValue(conn_.handles().js, bucket_.c_str());
  if (s != NATS_OK) return FromNats(s, 0, "delete KV bucket " + bucket_);
  return Status::Ok();
}

}  // namespace policyd::nats
