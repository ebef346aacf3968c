#include "connect/codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <memory>

#include "json/rpc_status_json.h"
#include "zitadel/admin.pb.h"
#include "zitadel/management.pb.h"
#include "zitadel/message.pb.h"
#include "zitadel/settings_v2.pb.h"

namespace policyd::connect {
namespace {

namespace pb = google::protobuf;

constexpr std::string_view kErrorDetailType = "zitadel.v1.ErrorDetail";

// The method's descriptor in the generated pool. Naming a generated message of each service's
// file links those files in (their static registration lives in the same object files).
const pb::MethodDescriptor* Descriptor(const MethodSpec& spec) {
  static const bool linked = zitadel::management::v1::GetDomainPolicyRequest::descriptor() &&
                             zitadel::admin::v1::GetDomainPolicyRequest::descriptor() &&
                             zitadel::settings::v2::GetDomainSettingsRequest::descriptor();
  if (!linked) return nullptr;
  const std::string name = std::string(spec.service) + "." + std::string(spec.method);
  return pb::DescriptorPool::generated_pool()->FindMethodByName(name);
}

std::unique_ptr<pb::Message> New(const pb::Descriptor* type) {
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(type);
  return std::unique_ptr<pb::Message>(prototype == nullptr ? nullptr : prototype->New());
}

// Parses `json` into `message`, unknown fields ignored. The error text when it does not parse.
std::optional<std::string> ParseJson(std::string_view json, pb::Message& message) {
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status =
      pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()), &message, options);
  if (status.ok()) return std::nullopt;
  return std::string(status.message());
}

// The google.rpc.Code of an HTTP status, for an error answer that carries none.
Code CodeOfHttpStatus(int status) {
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kAborted;
    case 429:
      return Code::kResourceExhausted;
    case 501:
      return Code::kUnimplemented;
    case 503:
      return Code::kUnavailable;
    case 504:
      return Code::kDeadlineExceeded;
    default:
      return status >= 500 ? Code::kInternal : Code::kUnknown;
  }
}

// The zitadel.v1.ErrorDetail details of `status`, each encoded as its binary message.
std::vector<ErrorDetail> ErrorDetails(const RpcStatus& status) {
  std::vector<ErrorDetail> out;
  const std::string type_url = "type.googleapis.com/" + std::string(kErrorDetailType);
  for (const RpcStatusDetail& detail : status.details) {
    if (detail.type != type_url) continue;
    out.push_back(
        ErrorDetail{std::string(kErrorDetailType), EncodeErrorDetail(detail.id, detail.message)});
  }
  return out;
}

// The string field org_id of `message`'s type, or nullptr.
const pb::FieldDescriptor* OrgIdField(const pb::Descriptor& type) {
  const pb::FieldDescriptor* field = type.FindFieldByName("org_id");
  return field != nullptr && field->type() == pb::FieldDescriptor::TYPE_STRING ? field : nullptr;
}

// The message field ctx of `type` when it is a zitadel.object.v2.RequestContext, or nullptr.
const pb::FieldDescriptor* ContextField(const pb::Descriptor& type) {
  const pb::FieldDescriptor* field = type.FindFieldByName("ctx");
  if (field == nullptr || field->type() != pb::FieldDescriptor::TYPE_MESSAGE) return nullptr;
  return field->message_type()->full_name() == "zitadel.object.v2.RequestContext" ? field : nullptr;
}

// What the read request `request` of a `how` method says about its org.
RequestArgs ArgsOf(RequestOrg how, const pb::Message& request) {
  RequestArgs args;
  const pb::Reflection& reflection = *request.GetReflection();
  if (how == RequestOrg::kOrgIdInPath) {
    if (const pb::FieldDescriptor* org_id = OrgIdField(*request.GetDescriptor())) {
      args.org_id = reflection.GetString(request, org_id);
    }
  } else if (how == RequestOrg::kContextInQuery) {
    const pb::FieldDescriptor* ctx = ContextField(*request.GetDescriptor());
    if (ctx == nullptr || !reflection.HasField(request, ctx)) return args;
    const pb::Message& context = reflection.GetMessage(request, ctx);
    const pb::Reflection& of_context = *context.GetReflection();
    const pb::Descriptor& type = *context.GetDescriptor();
    const pb::FieldDescriptor* org_id = type.FindFieldByName("org_id");
    const pb::FieldDescriptor* instance = type.FindFieldByName("instance");
    if (org_id != nullptr && of_context.HasField(context, org_id)) {
      args.org_id = of_context.GetString(context, org_id);
    } else if (instance != nullptr && of_context.HasField(context, instance)) {
      args.instance = of_context.GetBool(context, instance);
    }
  }
  return args;
}

// True when the request type `type` has the field `how` reads (and kNone's has neither).
bool RequestHasItsOrg(RequestOrg how, const pb::Descriptor& type) {
  const bool org_id = OrgIdField(type) != nullptr;
  const bool ctx = ContextField(type) != nullptr;
  switch (how) {
    case RequestOrg::kOrgIdInPath:
      return org_id && !ctx;
    case RequestOrg::kContextInQuery:
      return ctx && !org_id;
    case RequestOrg::kNone:
      break;
  }
  return !org_id && !ctx;
}

}  // namespace

Result<RequestArgs> ReadRequest(const MethodSpec& spec, Codec codec, std::string_view body) {
  // Any local client could make libprotobuf log (an invalid UTF-8 string logs an ERROR line on
  // top of the parse error answered): keep its lines out of policyd's log.
  const pb::LogSilencer silence;
  const pb::MethodDescriptor* method = Descriptor(spec);
  if (method == nullptr)
    return Err(Status::Internal("no message types for " + std::string(spec.method)));
  std::unique_ptr<pb::Message> request = New(method->input_type());
  if (request == nullptr)
    return Err(Status::Internal("no message types for " + std::string(spec.method)));
  const std::string& type = method->input_type()->full_name();
  if (codec == Codec::kJson) {
    if (body.empty()) {
      return Err(Status::InvalidArgument("cannot read the request as " + type +
                                         ": an empty body is not a JSON object"));
    }
    if (std::optional<std::string> error = ParseJson(body, *request)) {
      return Err(Status::InvalidArgument("cannot read the request as " + type + ": " + *error));
    }
  } else if (!request->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Err(Status::InvalidArgument("cannot read the request as " + type +
                                       ": not a valid binary encoding of it"));
  }
  return ArgsOf(spec.org, *request);
}

Result<std::string> ResponseToBinary(const MethodSpec& spec, std::string_view json) {
  const pb::LogSilencer silence;
  const pb::MethodDescriptor* method = Descriptor(spec);
  std::unique_ptr<pb::Message> response = method == nullptr ? nullptr : New(method->output_type());
  if (response == nullptr)
    return Err(Status::Internal("no message types for " + std::string(spec.method)));
  if (std::optional<std::string> error = ParseJson(json, *response)) {
    return Err(Status::Internal("cannot encode the answer as " +
                                method->output_type()->full_name() + ": " + *error));
  }
  std::string out;
  if (!response->SerializeToString(&out)) {
    return Err(
        Status::Internal("cannot encode the answer as " + method->output_type()->full_name()));
  }
  return out;
}

Error ErrorFromRestAnswer(int http_status, std::string_view body) {
  // Read with the json module, not into a google.protobuf.Struct: libprotobuf's Map code,
  // inlined into a TSan build and run on a map the uninstrumented library filled, crashed in
  // CI's tsan stage.
  Result<RpcStatus> status = ParseRpcStatus(body);
  if (!status || status->code < 1 || status->code > 16) {
    return Error{CodeOfHttpStatus(http_status), std::string(body)};
  }
  return Error{static_cast<Code>(status->code), status->message, ErrorDetails(*status)};
}

std::string EncodeErrorDetail(std::string_view id, std::string_view message) {
  zitadel::v1::ErrorDetail detail;
  detail.set_id(std::string(id));
  detail.set_message(std::string(message));
  return detail.SerializeAsString();
}

bool AllMethodsDeclared() {
  for (const MethodSpec& spec : Methods()) {
    const pb::MethodDescriptor* method = Descriptor(spec);
    if (method == nullptr || New(method->input_type()) == nullptr ||
        New(method->output_type()) == nullptr) {
      return false;
    }
    if (!RequestHasItsOrg(spec.org, *method->input_type())) return false;
  }
  return true;
}

}  // namespace policyd::connect
