// Fuzzes the server's first contact with client bytes: frame length + FlatBuffers verification
// + request decoding (lookups and checks), and the client's response decoding. A decoded status
// must keep the decoder's promises about its fleet table (what policyctl and the clients rely
// on) and survive a re-encode unchanged.
#include <cstdint>
#include <cstring>
#include <vector>

#include "wire/frame.h"
#include "wire/request.h"
#include "wire/response.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size >= policyd::kFrameHeaderBytes) {
    (void)policyd::DecodeFrameLength(data, policyd::kDefaultMaxFrameBytes);
  }
  // The server hands the verifier an 8-byte aligned copy of the frame body.
  std::vector<std::uint64_t> aligned(size / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  const std::span<const std::uint8_t> body(reinterpret_cast<const std::uint8_t*>(aligned.data()),
                                           size);
  auto request = policyd::DecodeRequest(body);
  if (request) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < request->org_count(); ++i) total += request->org_id(i).size();
    // Checks are read as the handler reads them: every field of every check.
    for (std::size_t i = 0; i < request->check_count(); ++i) {
      const policyd::CheckRequest c = request->check(i);
      total += c.org_id.size() + c.value.size() + static_cast<std::size_t>(c.kind) + c.strict;
    }
    (void)total;
  }
  auto response = policyd::DecodeResponse(body);
  if (response && response->kind == policyd::ResponseKind::kStatus) {
    const policyd::ServerStatus& status = response->status;
    if (status.fleet) {
      if (status.fleet->role == policyd::FleetRole::kNone) __builtin_trap();
      for (const policyd::FleetPublisher& p : status.fleet->publishers) {
        if (p.id.empty() || p.last_sync.nanos < 0 || p.last_sync.nanos >= 1'000'000'000) {
          __builtin_trap();
        }
      }
    }
    policyd::ResponseEncoder encoder;
    std::vector<std::uint8_t> frame;
    encoder.AppendStatus(frame, response->id, status);
    std::vector<std::uint64_t> again((frame.size() - policyd::kFrameHeaderBytes) / 8 + 1);
    std::memcpy(again.data(), frame.data() + policyd::kFrameHeaderBytes,
                frame.size() - policyd::kFrameHeaderBytes);
    auto decoded = policyd::DecodeResponse({reinterpret_cast<const std::uint8_t*>(again.data()),
                                            frame.size() - policyd::kFrameHeaderBytes});
    if (!decoded || !(decoded->status == status)) __builtin_trap();
  }
  return 0;
}
