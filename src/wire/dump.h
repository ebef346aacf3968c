// The Dump request and its answer on the wire (schemas: request.fbs Dump, response.fbs
// DumpChunk): the snapshot document (json/snapshot_json.h) cut into frames.
//
// A Dump is the one request answered by a sequence of Responses with its id: DumpChunk frames in
// document order, each carrying at most kDumpChunkBytes of the document and its offset, the last
// with `last` set and the org count, or an error Response that ends the dump early. Chunks cut
// the document anywhere; concatenated they are exactly what `policyctl dump --data-dir` writes
// for the same state. Decoding a chunk is DecodeResponse (wire/response.h: ResponseKind::kDump).
//
// Pure. DumpChunkEncoder is not thread-safe (one per stream); the free functions are.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace policyd {

// Most document bytes one DumpChunk frame carries.
inline constexpr std::size_t kDumpChunkBytes = 256 * 1024;
// A DumpChunk frame's size beyond its data (Response, DumpChunk table, vector header, padding):
// no frame of a dump exceeds kDumpChunkBytes + kDumpFrameOverhead bytes after its length prefix.
inline constexpr std::size_t kDumpFrameOverhead = 128;

// Client side: appends one Dump request frame (length prefix included) to `out`.
void AppendDump(std::vector<std::uint8_t>& out, std::uint64_t id);

// Server side: encodes DumpChunk responses, reusing one builder.
class DumpChunkEncoder {
 public:
  DumpChunkEncoder();
  ~DumpChunkEncoder();
  DumpChunkEncoder(const DumpChunkEncoder&) = delete;
  DumpChunkEncoder& operator=(const DumpChunkEncoder&) = delete;

  // Appends one frame (length prefix included) answering request `id` with the document bytes
  // `data` (at most kDumpChunkBytes) found at `offset`; `last` ends the document, which then
  // holds `orgs` orgs (0 is written for chunks before the last).
  void Append(std::vector<std::uint8_t>& out, std::uint64_t id, std::uint64_t offset,
              std::string_view data, bool last, std::uint64_t orgs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace policyd
