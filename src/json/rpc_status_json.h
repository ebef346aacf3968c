// A google.rpc.Status JSON body, as the upstream's REST side (and policyd's compatibility
// endpoint, http/compat_json.h FormatStatusBody) answers errors:
//   {"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)","details":[{"@type":
//    "type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-Bs7Ds","message":"..."}]}
//
// Pure. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace policyd {

struct RpcStatusDetail {
  std::string type;  // "@type", e.g. "type.googleapis.com/zitadel.v1.ErrorDetail"
  std::string id;    // zitadel.v1.ErrorDetail's id; empty when absent
  std::string message;
};

struct RpcStatus {
  std::uint64_t code = 0;  // as written; the caller checks it is a gRPC code
  std::string message;
  std::vector<RpcStatusDetail> details;
};

// Parses `json`, one object; other members (and other members of each detail) are ignored.
// INVALID_ARGUMENT naming the JSON path when it is not such an object, "code" is missing or not
// a JSON number that is a non-negative integer below 2^32, or a member has the wrong type.
Result<RpcStatus> ParseRpcStatus(std::string_view json);

}  // namespace policyd
