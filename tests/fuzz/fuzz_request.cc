// Fuzzes the server's first contact with client bytes: frame length + FlatBuffers verification
// + request decoding (lookups with their policy kinds, and checks), and the client's response
// decoding. A decoded status must keep the decoder's promises about its fleet table (what
// policyctl and the clients rely on) and survive a re-encode unchanged; so must a decoded policy
// answer with its policy kinds (the generic table builder and reader, wire/kind_wire.h).
#include <cstdint>
#include <cstring>
#include <vector>

#include "wire/dump.h"
#include "wire/frame.h"
#include "wire/request.h"
#include "wire/response.h"

namespace {

std::span<const std::uint8_t> AlignedBody(const std::vector<std::uint8_t>& frame,
                                          std::vector<std::uint64_t>& storage) {
  const std::size_t size = frame.size() - policyd::kFrameHeaderBytes;
  storage.assign(size / 8 + 1, 0);
  std::memcpy(storage.data(), frame.data() + policyd::kFrameHeaderBytes, size);
  return {reinterpret_cast<const std::uint8_t*>(storage.data()), size};
}

// A decoded answer's kinds have one value per spec field and survive a re-encode unchanged.
void RoundTripKinds(const policyd::Response& response) {
  const policyd::PolicyAnswer& a = response.policies[0];
  policyd::KindAnswers answers;
  answers.domain = a.has_domain;
  for (const policyd::KindValue& k : a.kinds) {
    if (k.policy.fields.size() != policyd::SpecOf(k.policy.kind).fields.size()) __builtin_trap();
    answers.kinds[static_cast<std::size_t>(k.policy.kind)] = {&k.policy, k.is_default};
  }
  if (a.kinds.empty()) return;
  policyd::ResponseEncoder encoder;
  std::vector<std::uint8_t> frame;
  encoder.AppendOrgKinds(frame, response.id, a.org_id, policyd::Resolution{a.policy, a.org_known},
                         answers, response.stale);
  std::vector<std::uint64_t> storage;
  auto again = policyd::DecodeResponse(AlignedBody(frame, storage));
  if (!again || again->policies.size() != 1 || again->policies[0].kinds != a.kinds ||
      again->policies[0].has_domain != a.has_domain) {
    __builtin_trap();
  }
}

}  // namespace

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
    total += request->kinds().bits();
    (void)total;
  }
  auto response = policyd::DecodeResponse(body);
  if (response && response->kind == policyd::ResponseKind::kPolicy &&
      response->policies[0].status.ok()) {
    RoundTripKinds(*response);
  }
  if (response && response->kind == policyd::ResponseKind::kDump) {
    // A decoded dump chunk survives a re-encode unchanged (what policyctl writes is its data).
    const policyd::DumpChunk& chunk = response->dump;
    policyd::DumpChunkEncoder encoder;
    std::vector<std::uint8_t> frame;
    encoder.Append(frame, response->id, chunk.offset, chunk.data, chunk.last, chunk.orgs);
    std::vector<std::uint64_t> storage;
    auto again = policyd::DecodeResponse(AlignedBody(frame, storage));
    if (!again || again->kind != policyd::ResponseKind::kDump || again->dump.data != chunk.data ||
        again->dump.offset != chunk.offset || again->dump.last != chunk.last ||
        again->dump.orgs != (chunk.last ? chunk.orgs : 0)) {
      __builtin_trap();
    }
  }
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
