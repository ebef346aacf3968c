#include "server/dump_stream.h"

#include <algorithm>
#include <span>

#include "json/snapshot_json.h"

namespace policyd {
namespace {

// Views of `rows`, for the snapshot writer.
std::span<const KindPolicy* const> Pointers(const std::vector<KindPolicy>& rows,
                                            std::vector<const KindPolicy*>& out) {
  out.clear();
  for (const KindPolicy& row : rows) out.push_back(&row);
  return out;
}

}  // namespace

DumpStream::DumpStream(std::uint64_t id, std::unique_ptr<DumpCursor> cursor,
                       std::size_t chunk_bytes)
    : id_(id),
      cursor_(std::move(cursor)),
      chunk_bytes_(std::clamp<std::size_t>(chunk_bytes, 1, kDumpChunkBytes)) {
  const DumpInstance& instance = cursor_->instance();
  pending_.reserve(chunk_bytes_ + 4096);
  AppendSnapshotBegin(pending_, instance.instance, instance.domains,
                      Pointers(instance.kinds, kinds_));
}

Status DumpStream::Fill() {
  while (!ended_ && pending_.size() < chunk_bytes_) {
    Result<bool> more = cursor_->Next(entry_);
    if (!more) return more.error();
    if (!*more) {
      AppendSnapshotEnd(pending_);
      ended_ = true;
      cursor_.reset();  // the walk is over: release the view now, not after the last write
      break;
    }
    AppendSnapshotOrg(pending_, entry_.org, orgs_ == 0, entry_.domains,
                      Pointers(entry_.kinds, kinds_));
    ++orgs_;
  }
  return Status::Ok();
}

bool DumpStream::AppendNextFrame(std::vector<std::uint8_t>& out) {
  if (Status s = Fill(); !s.ok()) {
    cursor_.reset();
    errors_.AppendError(out, id_, s.WithContext("dump"));
    return true;
  }
  const std::size_t n = std::min(pending_.size(), chunk_bytes_);
  const bool last = ended_ && n == pending_.size();
  chunks_.Append(out, id_, offset_, std::string_view(pending_.data(), n), last, orgs_);
  // What stays is under one org's JSON: moving it to the front is cheap.
  pending_.erase(0, n);
  offset_ += n;
  return last;
}

}  // namespace policyd
