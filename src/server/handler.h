// RequestHandler: one request frame in, one response frame out. Synchronous, no Asio types.
//
// It decodes and verifies the request (wire/), reads the store at one consistent point
// (store/), resolves the default-versus-org fallback (resolve/) and encodes the answer. Buffers
// are reused between requests, so a warmed-up handler does not allocate for single lookups.
//
// Thread-safety: one handler per connection; not safe for concurrent use. The Store, the
// ServingState and the Clock are shared and must outlive the handler.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "server/serving_state.h"
#include "store/store.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd {

class RequestHandler {
 public:
  RequestHandler(const Store& store, const ServingState& state, const Clock& clock,
                 std::string version);

  // Appends exactly one response frame answering `frame` (a request FlatBuffer without its
  // length prefix, 8-byte aligned) to `out`. Every failure becomes an error response.
  void Handle(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out);

  // Appends an error response, for failures found before a request could be decoded.
  void AppendError(std::uint64_t id, const Status& error, std::vector<std::uint8_t>& out);

 private:
  void HandleOrgs(const RequestView& request, bool stale, std::vector<std::uint8_t>& out);
  void HandleDefault(std::uint64_t id, bool stale, std::vector<std::uint8_t>& out);
  void HandleStatus(std::uint64_t id, Timestamp now, std::vector<std::uint8_t>& out);

  const Store& store_;
  const ServingState& state_;
  const Clock& clock_;
  const std::string version_;
  LookupBatch batch_;
  ResponseEncoder encoder_;
  std::vector<Resolution> resolutions_;
  std::vector<Status> errors_;
  std::vector<OrgAnswer> answers_;
};

}  // namespace policyd
