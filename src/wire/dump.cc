#include "wire/dump.h"

#include <flatbuffers/flatbuffers.h>

#include "request_generated.h"
#include "response_generated.h"
#include "wire/frame.h"

namespace policyd {

void AppendDump(std::vector<std::uint8_t>& out, std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb(64);
  auto body = fb::CreateDump(fbb);
  fbb.Finish(fb::CreateRequest(fbb, id, fb::RequestBody::Dump, body.Union()),
             fb::RequestIdentifier());
  AppendFrame(out, {fbb.GetBufferPointer(), fbb.GetSize()});
}

struct DumpChunkEncoder::Impl {
  flatbuffers::FlatBufferBuilder fbb{kDumpChunkBytes + kDumpFrameOverhead};
};

DumpChunkEncoder::DumpChunkEncoder() : impl_(std::make_unique<Impl>()) {}
DumpChunkEncoder::~DumpChunkEncoder() = default;

void DumpChunkEncoder::Append(std::vector<std::uint8_t>& out, std::uint64_t id,
                              std::uint64_t offset, std::string_view data, bool last,
                              std::uint64_t orgs) {
  flatbuffers::FlatBufferBuilder& fbb = impl_->fbb;
  auto bytes = fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  auto chunk = fb::CreateDumpChunk(fbb, offset, bytes, last, last ? orgs : 0);
  fbb.Finish(fb::CreateResponse(fbb, id, 0, fb::ResponseBody::DumpChunk, chunk.Union(), false),
             fb::ResponseIdentifier());
  AppendFrame(out, {fbb.GetBufferPointer(), fbb.GetSize()});
  fbb.Clear();  // keeps its buffer: the next chunk does not allocate
}

}  // namespace policyd
