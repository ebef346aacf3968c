#include "nats/errors.h"

#include <string>

namespace policyd::nats {
namespace {

Code CodeFor(natsStatus s, int js_code) {
  switch (js_code) {
    case kJsWrongLastSequence:
      return Code::kAborted;
    case kJsClusterNotAvailable:
    case kJsStreamOffline:
      return Code::kUnavailable;
    case kJsStreamNotFound:
    case kJsNoMessageFound:
      return Code::kNotFound;
    case kJsStreamNameExists:
      return Code::kFailedPrecondition;
    default:
      break;
  }
  switch (s) {
    case NATS_TIMEOUT:
      return Code::kDeadlineExceeded;
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_NOT_YET_CONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_DRAINING:
      return Code::kUnavailable;
    case NATS_NOT_FOUND:
      return Code::kNotFound;
    case NATS_NOT_PERMITTED:
      return Code::kPermissionDenied;
    case NATS_CONNECTION_AUTH_FAILED:
      return Code::kUnauthenticated;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_ADDRESS_MISSING:
      return Code::kInvalidArgument;
    case NATS_ERR:
      // cnats reports server-side JetStream API errors as NATS_ERR; without a code they are
      // not classifiable.
      return js_code != 0 ? Code::kInternal : Code::kUnknown;
    default:
      return Code::kInternal;
  }
}

}  // namespace

Status FromNats(natsStatus s, int js_code, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += natsStatus_GetText(s);
  if (js_code != 0) message += " (JetStream error " + std::to_string(js_code) + ")";
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && last_status == s) {
    message += ": ";
    message += last;
  }
  return Status(CodeFor(s, js_code), std::move(message));
}

}  // namespace policyd::nats
