// The HTTP status that goes with a gRPC code, as grpc-gateway (the upstream's REST side,
// HTTPStatusFromCode) and the Connect protocol (its error-code table) both map it: one table for
// the REST compatibility answers and the Connect errors.
//
// Pure. Thread-safe.
#pragma once

#include "base/status.h"

namespace policyd {

// 200 for kOk; 499, 400, 504, 404, 409, 403, 429, 501, 503, 401 for the client-side codes;
// 500 for unknown, internal, data loss and any other number.
int HttpStatusFromCode(Code code);

}  // namespace policyd
