// Fuzzes the Connect endpoint's handling of outside bytes (connect/codec.h, connect/protocol.h).
// Input: byte 0 picks the method (of connect/methods.h), byte 1 the mode and codec, the rest is
// the payload:
//   mode 0  the payload as a request body of the method (ReadRequest, both codecs)
//   mode 1  the payload as a REST answer to encode as the method's binary response
//   mode 2  the payload as a REST error body (ErrorFromRestAnswer), byte 0 also the HTTP status
//   mode 3  a call's headers and body: the payload's first four lines are Content-Type,
//           Content-Encoding, Connect-Protocol-Version and Connect-Timeout-Ms (an empty line:
//           absent), the rest the body, read as connect/connect_api.cc reads a call.
// Nothing may crash, errors have their documented codes, and every error body is a Connect one.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "connect/codec.h"

namespace {

using policyd::connect::Codec;

void Require(bool ok) {
  if (!ok) std::abort();
}

// The next line of `rest` (without '\n'), removed from it; nullopt when empty.
std::optional<std::string_view> Line(std::string_view& rest) {
  const std::size_t newline = rest.find('\n');
  const std::string_view line = rest.substr(0, newline);
  rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  if (line.empty()) return std::nullopt;
  return line;
}

void Call(const policyd::connect::MethodSpec& spec, std::string_view payload) {
  const std::optional<std::string_view> content_type = Line(payload);
  policyd::connect::RequestHeaders headers;
  headers.content_encoding = Line(payload);
  headers.protocol_version = Line(payload);
  headers.timeout_ms = Line(payload);
  const std::optional<Codec> codec =
      content_type ? policyd::connect::UnaryCodec(*content_type) : std::nullopt;
  if (!codec) return;
  if (const std::optional<policyd::connect::Error> refused =
          policyd::connect::CheckRequestHeaders(headers)) {
    Require(refused->code == policyd::Code::kInvalidArgument ||
            refused->code == policyd::Code::kUnimplemented);
    Require(policyd::connect::FormatErrorBody(*refused).starts_with("{\"code\":\""));
    return;
  }
  const policyd::Result<policyd::connect::RequestArgs> args =
      policyd::connect::ReadRequest(spec, *codec, payload);
  Require(args.has_value() || args.error().code() == policyd::Code::kInvalidArgument);
  if (!args) return;
  // Only the request context has an instance; only a request with an org field gives an org id.
  if (spec.org != policyd::connect::RequestOrg::kContextInQuery) Require(!args->instance);
  if (spec.org == policyd::connect::RequestOrg::kNone) Require(!args->org_id);
  if (spec.org == policyd::connect::RequestOrg::kOrgIdInPath) Require(args->org_id.has_value());
  Require(!(args->org_id && args->instance));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto methods = policyd::connect::Methods();
  const policyd::connect::MethodSpec& spec = methods[data[0] % methods.size()];
  const Codec codec = (data[1] & 1) != 0 ? Codec::kProto : Codec::kJson;
  const std::string_view payload(reinterpret_cast<const char*>(data + 2), size - 2);
  switch ((data[1] >> 1) % 4) {
    case 0: {
      const policyd::Result<policyd::connect::RequestArgs> args =
          policyd::connect::ReadRequest(spec, codec, payload);
      Require(args.has_value() || args.error().code() == policyd::Code::kInvalidArgument);
      break;
    }
    case 1: {
      const policyd::Result<std::string> binary = policyd::connect::ResponseToBinary(spec, payload);
      Require(binary.has_value() || binary.error().code() == policyd::Code::kInternal);
      break;
    }
    case 2: {
      const policyd::connect::Error error =
          policyd::connect::ErrorFromRestAnswer(300 + data[0], payload);
      const std::string body = policyd::connect::FormatErrorBody(error);
      Require(body.starts_with("{\"code\":\""));
      Require(policyd::connect::ErrorHttpStatus(error) >= 400);
      break;
    }
    default:
      Call(spec, payload);
      break;
  }
  return 0;
}
