// DumpStream: the answer to one Dump request (wire/dump.h), produced one frame at a time, so that
// the session can write each frame before the next is made (server/session.h).
//
// It walks a DumpCursor (store/store.h: one consistent view of the store, a RocksDB snapshot) and
// writes the snapshot document with the same writer as `policyctl dump --data-dir`
// (json/snapshot_json.h AppendSnapshotBegin/Org/End), so the bytes are identical by
// construction. The document is cut into chunks of `chunk_bytes` exactly (the last one shorter),
// regardless of org boundaries; a frame is made by formatting orgs until a chunk's worth is
// pending. Memory: the pending bytes (under chunk_bytes plus one org's JSON), one org's rows, and
// one frame, whatever the store's size.
//
// A store error while walking ends the stream with an error Response (the client then discards
// what it received). Destroying the stream at any point releases the cursor and its view.
//
// Thread-safety: one thread at a time (the session's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"
#include "wire/dump.h"
#include "wire/response.h"

namespace policyd {

class DumpStream {
 public:
  // Answers request `id` from `cursor` (not null) in chunks of `chunk_bytes` (1..kDumpChunkBytes).
  DumpStream(std::uint64_t id, std::unique_ptr<DumpCursor> cursor,
             std::size_t chunk_bytes = kDumpChunkBytes);

  // Appends the next frame to `out` (which it does not clear): a DumpChunk, or the error Response
  // that ends a failed dump. Returns true when that frame was the stream's last; must not be
  // called again after that.
  bool AppendNextFrame(std::vector<std::uint8_t>& out);

  // Orgs formatted so far.
  std::uint64_t orgs() const { return orgs_; }
  // Document bytes put in frames so far.
  std::uint64_t offset() const { return offset_; }

 private:
  // Formats orgs until a chunk is pending or the walk ends. Errors: the cursor's.
  Status Fill();

  const std::uint64_t id_;
  std::unique_ptr<DumpCursor> cursor_;  // reset once the walk ends
  const std::size_t chunk_bytes_;
  DumpChunkEncoder chunks_;
  ResponseEncoder errors_;
  std::string pending_;  // document bytes made and not yet put in a frame
  DumpEntry entry_;
  std::vector<const KindPolicy*> kinds_;
  std::uint64_t offset_ = 0;
  std::uint64_t orgs_ = 0;
  bool ended_ = false;  // the document's end is in pending_ (or was sent)
};

}  // namespace policyd
