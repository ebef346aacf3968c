// Responses on the wire: encoding (server side) and decoding (client side).
//
// ResponseEncoder reuses one FlatBufferBuilder, so after warm-up encoding does not allocate.
// Not thread-safe: use one encoder per connection / thread. Decoding is pure and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/domain_policy.h"
#include "model/store_state.h"
#include "resolve/resolve.h"

namespace policyd {

// One org's answer: either a resolution or a per-org error.
struct OrgAnswer {
  std::string_view org_id;
  const Resolution* resolution = nullptr;  // set on success
  const Status* error = nullptr;           // set on failure
};

class ResponseEncoder {
 public:
  ResponseEncoder();
  ~ResponseEncoder();
  ResponseEncoder(const ResponseEncoder&) = delete;
  ResponseEncoder& operator=(const ResponseEncoder&) = delete;

  // Each call appends one complete frame (length prefix included) to `out`.
  void AppendOrgPolicy(std::vector<std::uint8_t>& out, std::uint64_t id, std::string_view org_id,
                       const Resolution& resolution, bool stale);
  void AppendDefaultPolicy(std::vector<std::uint8_t>& out, std::uint64_t id,
                           const DomainPolicy& policy, bool stale);
  void AppendBatch(std::vector<std::uint8_t>& out, std::uint64_t id,
                   std::span<const OrgAnswer> answers, bool stale);
  void AppendStatus(std::vector<std::uint8_t>& out, std::uint64_t id, const ServerStatus& status);
  void AppendError(std::vector<std::uint8_t>& out, std::uint64_t id, const Status& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A decoded response, owning its data (client side).
struct PolicyAnswer {
  std::string org_id;  // "" for the instance default
  bool org_known = false;
  Status status;        // OK, or the per-org error (batch) / whole-request error
  DomainPolicy policy;  // meaningful when status is OK
  bool stale = false;   // the data was older than the daemon's max-staleness
};

enum class ResponseKind : std::uint8_t { kError, kPolicy, kBatch, kStatus };

struct Response {
  std::uint64_t id = 0;
  ResponseKind kind = ResponseKind::kError;
  Status error;  // kError: why the request failed
  bool stale = false;
  std::vector<PolicyAnswer> policies;  // kPolicy: one; kBatch: one per requested org
  ServerStatus status;                 // kStatus
};

// Verifies and decodes one response frame (without the length prefix; 8-byte aligned).
// Errors: INVALID_ARGUMENT for a buffer that does not verify or lacks required parts.
Result<Response> DecodeResponse(std::span<const std::uint8_t> frame);

}  // namespace policyd
