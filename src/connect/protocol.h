// The Connect protocol's unary form (https://connectrpc.com/docs/protocol), as far as policyd's
// Connect endpoint needs it (connect/connect_api.h): which requests it takes, and the bytes of
// its error answers. No message types here (connect/codec.h has them) and no I/O.
//
// A unary call is POST /<package>.<Service>/<Method> with the request message as the body,
// Content-Type application/json (protojson) or application/proto (binary); the answer is 200
// with the response message in the same codec, or an error: an HTTP status from the code (the
// spec's table, which is also grpc-gateway's) with the JSON body
// {"code":"permission_denied","message":"...","details":[{"type":"zitadel.v1.ErrorDetail",
// "value":"<base64>"}]}.
//
// Pure. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace policyd::connect {

// How a unary message is written.
enum class Codec { kJson, kProto };

// The Content-Type of a unary answer in `codec`.
std::string_view ContentType(Codec codec);

// The codec of a unary request's Content-Type: application/json (any charset parameter, which
// Connect allows only as utf-8) or application/proto, names compared case-insensitively. nullopt
// for anything else: the streaming forms (application/connect+json, ...), gRPC and gRPC-Web
// (application/grpc...), and every other type, which the spec answers 415.
std::optional<Codec> UnaryCodec(std::string_view content_type);

// The Connect name of `code`: "canceled", "invalid_argument", ..., "unauthenticated"; "unknown"
// for kOk and numbers outside the table (an error never carries OK).
std::string_view ConnectCodeName(Code code);

// One error detail: the fully-qualified message name and its binary encoding.
struct ErrorDetail {
  std::string type;   // "zitadel.v1.ErrorDetail"
  std::string value;  // the encoded message (base64-encoded into the JSON)
};

// A Connect error answer.
struct Error {
  Code code = Code::kUnknown;
  std::string message;
  std::vector<ErrorDetail> details{};
  // The HTTP status: 0 means the code's (ErrorHttpStatus); the protocol's own refusals set it
  // (404 for an unknown method, 405 for GET, 415 for a content type).
  int http_status = 0;
};

// The JSON body of `error`: {"code":...,"message":...,"details":[...]}, message omitted when
// empty, details when there are none; detail values in standard base64 without padding, as
// the spec writes them.
std::string FormatErrorBody(const Error& error);

// The HTTP status `error` is answered with: its http_status when set, else the spec's status of
// its code (invalid_argument 400, permission_denied 403, unimplemented 501, ...).
int ErrorHttpStatus(const Error& error);

// The headers of a unary request that policyd checks, as received (nullopt: absent).
struct RequestHeaders {
  std::optional<std::string_view> protocol_version;  // Connect-Protocol-Version
  std::optional<std::string_view> content_encoding;  // Content-Encoding
  std::optional<std::string_view> timeout_ms;        // Connect-Timeout-Ms
};

// OK when policyd can answer a request with these headers; otherwise the error to answer:
// a Connect-Protocol-Version other than "1" is invalid_argument (an absent one is accepted, as
// connect-go does by default); a Content-Encoding other than identity, gzip or br is
// unimplemented (the HTTP server, cpp-httplib built with zlib and brotli, has decompressed gzip
// and br bodies before a handler sees them; answers are never compressed); a Connect-Timeout-Ms
// that is not 1 to 10 ASCII digits is invalid_argument (a valid one is accepted and not needed:
// answers come from the local store).
std::optional<Error> CheckRequestHeaders(const RequestHeaders& headers);

}  // namespace policyd::connect
