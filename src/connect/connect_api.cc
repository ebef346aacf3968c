#include "connect/connect_api.h"

#include <utility>
#include <vector>

#include "connect/codec.h"
#include "http/compat_common.h"

namespace policyd::connect {
namespace {

using http::Handler;
using http::HttpRequest;
using http::HttpResponse;

// (Strings are appended, not made with "literal" + std::string: gcc 12 at -O3 warns of an
// overlapping memcpy inside that operator+, a false positive, and -Werror stops a Release build.)
std::string RoutePath(std::string_view service, std::string_view method) {
  std::string path;
  path.reserve(service.size() + method.size() + 2);
  path.append("/").append(service).append("/").append(method);
  return path;
}

HttpResponse UnsupportedMediaType(std::optional<std::string_view> content_type) {
  std::string got = "none";
  if (content_type) got.assign("\"").append(*content_type).append("\"");
  HttpResponse response = ConnectApi::ErrorResponse(
      Error{Code::kUnimplemented,
            "unsupported content type " + got +
                ": policyd serves Connect unary calls as application/json or application/proto "
                "(no streaming, gRPC or gRPC-Web)",
            {},
            415});
  response.headers.emplace_back("Accept-Post", "application/json, application/proto");
  return response;
}

HttpResponse MethodNotAllowed(const HttpRequest& request) {
  HttpResponse response = ConnectApi::ErrorResponse(
      Error{Code::kUnimplemented,
            request.method + " is not served: Connect unary calls are POST (policyd serves no "
                             "Connect GET requests)",
            {},
            405});
  response.headers.emplace_back("Allow", "POST");
  return response;
}

HttpResponse UnknownMethod(const HttpRequest& request) {
  return ConnectApi::ErrorResponse(
      Error{Code::kUnimplemented,
            request.path.substr(1) +
                " is not served by policyd: it answers the upstream's policy reads only "
                "(docs/connect.md); send other calls to the upstream IAM",
            {},
            404});
}

// The REST read's request for `spec`'s call: GET of its route, with the call's org (the
// x-zitadel-orgid header, and what the request message says). nullopt when the org_id that goes
// to the route's path is empty.
std::optional<HttpRequest> RestRequest(const MethodSpec& spec, const HttpRequest& call,
                                       const RequestArgs& args) {
  HttpRequest rest;
  rest.method = "GET";
  rest.path = std::string(spec.rest_pattern);
  if (std::optional<std::string_view> org = call.Header(http::kOrgIdHeader)) {
    rest.headers.emplace(std::string(http::kOrgIdHeader), std::string(*org));
  }
  switch (spec.org) {
    case RequestOrg::kOrgIdInPath: {
      // The REST path cannot have an empty segment: the upstream's request validation answers it.
      const std::string org_id = args.org_id.value_or("");
      if (org_id.empty()) return std::nullopt;
      rest.path_params.emplace_back("orgId", org_id);
      rest.path.replace(rest.path.find("{orgId}"), 7, org_id);
      break;
    }
    case RequestOrg::kContextInQuery:
      // The query the upstream's gateway reads the same RequestContext from.
      if (args.org_id) rest.query.emplace("ctx.orgId", *args.org_id);
      if (args.instance) rest.query.emplace("ctx.instance", *args.instance ? "true" : "false");
      break;
    case RequestOrg::kNone:
      break;
  }
  return rest;
}

}  // namespace

HttpResponse ConnectApi::ErrorResponse(const Error& error) {
  HttpResponse response;
  response.status = ErrorHttpStatus(error);
  response.content_type = "application/json";
  response.body = FormatErrorBody(error);
  return response;
}

HttpResponse ConnectApi::Call(const MethodSpec& spec, const Handler& rest,
                              const HttpRequest& request) {
  const std::optional<std::string_view> content_type = request.Header("Content-Type");
  const std::optional<Codec> codec = content_type ? UnaryCodec(*content_type) : std::nullopt;
  if (!codec) return UnsupportedMediaType(content_type);
  if (std::optional<Error> refused = CheckRequestHeaders(
          {request.Header("Connect-Protocol-Version"), request.Header("Content-Encoding"),
           request.Header("Connect-Timeout-Ms")})) {
    return ErrorResponse(*refused);
  }
  Result<RequestArgs> args = ReadRequest(spec, *codec, request.body);
  if (!args) return ErrorResponse(Error{args.error().code(), args.error().message()});
  std::optional<HttpRequest> rest_request = RestRequest(spec, request, *args);
  if (!rest_request) {
    return ErrorResponse(Error{Code::kInvalidArgument,
                               "invalid " + std::string(spec.method) +
                                   "Request.OrgId: value length must be between 1 and 200 runes, "
                                   "inclusive"});
  }
  HttpResponse answer = rest(*rest_request);
  if (answer.status != 200) {
    HttpResponse error = ErrorResponse(ErrorFromRestAnswer(answer.status, answer.body));
    error.headers = std::move(answer.headers);
    return error;
  }
  if (*codec == Codec::kProto) {
    Result<std::string> binary = ResponseToBinary(spec, answer.body);
    if (!binary) return ErrorResponse(Error{binary.error().code(), binary.error().message()});
    answer.body = std::move(*binary);
  }
  answer.content_type = std::string(ContentType(*codec));
  return answer;
}

Status ConnectApi::AddRoutes(http::Router& router) {
  if (!AllMethodsDeclared()) {
    return Status::FailedPrecondition("connect: the generated messages lack a served method");
  }
  std::vector<std::pair<const MethodSpec*, Handler>> reads;
  for (const MethodSpec& spec : Methods()) {
    Handler rest = router.Find("GET", spec.rest_pattern);
    if (!rest) {
      return Status::FailedPrecondition("connect: no REST read GET " +
                                        std::string(spec.rest_pattern) + " for " +
                                        RoutePath(spec.service, spec.method));
    }
    reads.emplace_back(&spec, std::move(rest));
  }
  for (auto& [spec, rest] : reads) {
    router.Add("POST", RoutePath(spec->service, spec->method),
               [spec = spec, rest = std::move(rest)](const HttpRequest& request) {
                 return Call(*spec, rest, request);
               });
  }
  for (std::string_view service : kServices) {
    const std::string any = RoutePath(service, "{method}");
    router.Add("POST", any, UnknownMethod);
    for (const char* method : {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
      router.Add(method, any, MethodNotAllowed);
    }
  }
  return Status::Ok();
}

}  // namespace policyd::connect
