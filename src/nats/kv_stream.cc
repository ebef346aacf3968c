#include "nats/kv_stream.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include "nats/errors.h"
#include "nats/handles.h"

namespace policyd::nats {

struct KvStream::Impl {
  std::string prefix;  // "$KV.<bucket>."
  kvWatcher* watcher = nullptr;
  natsSubscription* sub = nullptr;
  // Only touched by the thread calling Next().
  // The lowest revision FromRevision may still deliver: `start`, then the last delivered + 1.
  // cnats 3.4.1 re-creates a reset ordered consumer from the last revision IT delivered + 1,
  // which is 0 + 1 when nothing was delivered yet: it would re-send revisions below `start`.
  std::uint64_t min_revision = 0;
  bool caught_up_due = false;
  bool caught_up_sent = false;
  std::atomic<bool> stopped{false};
  std::mutex stop_mu;  // one Stop() at a time does the stopping
};

namespace {

KvOp OpFromKv(kvOperation op) {
  if (op == kvOp_Delete) return KvOp::kDelete;
  if (op == kvOp_Purge) return KvOp::kPurge;
  return KvOp::kPut;
}

KvEntry FromKvEntry(kvEntry* e) {
  KvEntry out;
  out.key = kvEntry_Key(e);
  const void* data = kvEntry_Value(e);
  if (data != nullptr) {
    out.value.assign(static_cast<const char*>(data), static_cast<std::size_t>(kvEntry_ValueLen(e)));
  }
  out.revision = kvEntry_Revision(e);
  out.op = OpFromKv(kvEntry_Operation(e));
  out.created_ns = kvEntry_Created(e);
  out.pending = kvEntry_Delta(e);
  return out;
}

KvEvent CaughtUp() { return KvEvent{KvEvent::Kind::kCaughtUp, {}}; }

}  // namespace

KvStream::KvStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<KvStream>> KvStream::WatchAll(KvBucket& bucket) {
  auto impl = std::make_unique<Impl>();
  impl->prefix = bucket.prefix_;
  const natsStatus s = kvStore_WatchAll(&impl->watcher, bucket.handles_->kv, nullptr);
  if (s != NATS_OK) return Err(FromNats(s, 0, "watch KV bucket " + bucket.name()));
  return std::unique_ptr<KvStream>(new KvStream(std::move(impl)));
}

Result<std::unique_ptr<KvStream>> KvStream::FromRevision(KvBucket& bucket, std::uint64_t start,
                                                         std::chrono::milliseconds heartbeat) {
  if (start == 0) start = 1;
  // Read the stream's extent first: if nothing at or after `start` is stored now, the reader is
  // caught up before any message; otherwise the message at last_seq (never removed while it is
  // the latest of its key, history >= 1) arrives with pending 0.
  Result<BucketInfo> info = bucket.Info();
  if (!info) return Err(info.error());
  auto impl = std::make_unique<Impl>();
  impl->prefix = bucket.prefix_;
  impl->caught_up_due = info->messages == 0 || start > info->last_seq;
  // The server clamps a start past the end to last_seq + 1: what is written from now on.
  impl->min_revision = std::min(start, info->last_seq + 1);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = bucket.stream().c_str();  // no $JS.API.STREAM.NAMES lookup (and permission)
  so.Ordered = true;
  so.Config.OptStartSeq = start;  // => DeliverByStartSequence
  so.Config.Heartbeat = std::chrono::duration_cast<std::chrono::nanoseconds>(heartbeat).count();
  const std::string filter = bucket.prefix_ + ">";
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_SubscribeSync(&impl->sub, bucket.connection().handles().js,
                                        filter.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return Err(FromNats(
        s, jerr,
        "ordered consumer on " + bucket.stream() + " from revision " + std::to_string(start)));
  }
  return std::unique_ptr<KvStream>(new KvStream(std::move(impl)));
}

KvStream::~KvStream() {
  Stop();
  if (impl_->watcher != nullptr) kvWatcher_Destroy(impl_->watcher);
  if (impl_->sub != nullptr) natsSubscription_Destroy(impl_->sub);
}

void KvStream::Stop() {
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped.exchange(true)) return;
  if (impl_->watcher != nullptr) kvWatcher_Stop(impl_->watcher);
  // Unsubscribing wakes a blocked NextMsg and deletes the ephemeral consumer on the server (one
  // request, bounded by the request timeout; the server also drops it once it is inactive).
  if (impl_->sub != nullptr) natsSubscription_Unsubscribe(impl_->sub);
}

Result<KvEvent> KvStream::Next(std::chrono::milliseconds timeout) {
  if (impl_->stopped.load()) return Err(Status(Code::kCancelled, "KV stream stopped"));
  if (impl_->caught_up_due && !impl_->caught_up_sent) {
    impl_->caught_up_sent = true;
    return CaughtUp();
  }
  return impl_->watcher != nullptr ? NextFromWatcher(timeout) : NextFromSubscription(timeout);
}

Result<KvEvent> KvStream::NextFromWatcher(std::chrono::milliseconds timeout) {
  kvEntry* e = nullptr;
  const natsStatus s = kvWatcher_Next(&e, impl_->watcher, timeout.count());
  if (impl_->stopped.load()) {
    if (e != nullptr) kvEntry_Destroy(e);
    return Err(Status(Code::kCancelled, "KV stream stopped"));
  }
  if (s != NATS_OK) return Err(FromNats(s, 0, "KV watch"));
  // cnats posts exactly one NULL entry, after the initial values.
  if (e == nullptr) return CaughtUp();
  KvEvent event{KvEvent::Kind::kEntry, FromKvEntry(e)};
  kvEntry_Destroy(e);
  return event;
}

Result<KvEvent> KvStream::NextFromSubscription(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    natsMsg* msg = nullptr;
    const natsStatus s =
        natsSubscription_NextMsg(&msg, impl_->sub, std::max<int64_t>(left.count(), 1));
    if (impl_->stopped.load()) {
      if (msg != nullptr) natsMsg_Destroy(msg);
      return Err(Status(Code::kCancelled, "KV stream stopped"));
    }
    if (s != NATS_OK) return Err(FromNats(s, 0, "KV ordered consumer"));
    jsMsgMetaData* md = nullptr;
    const natsStatus ms = natsMsg_GetMetaData(&md, msg);
    if (ms != NATS_OK) {
      natsMsg_Destroy(msg);
      return Err(FromNats(ms, 0, "KV ordered consumer: message metadata"));
    }
    const std::uint64_t revision = md->Sequence.Stream;
    if (!impl_->caught_up_sent && md->NumPending == 0) impl_->caught_up_due = true;
    Result<KvEntry> entry;
    const bool fresh = revision >= impl_->min_revision;
    if (fresh)
      entry = EntryFromMessage(msg, impl_->prefix, revision, md->Timestamp, md->NumPending);
    jsMsgMetaData_Destroy(md);
    natsMsg_Destroy(msg);
    if (!fresh) {
      // Re-sent after a consumer reset: already delivered or before `start`.
      if (impl_->caught_up_due && !impl_->caught_up_sent) return Next(timeout);
      continue;
    }
    impl_->min_revision = revision + 1;
    if (!entry) return Err(entry.error());
    return KvEvent{KvEvent::Kind::kEntry, std::move(*entry)};
  }
}

}  // namespace policyd::nats
