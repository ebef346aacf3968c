// Status and Result<T>: the one error currency of policyd.
//
// Codes are the gRPC canonical code numbers, the same ones the upstream IAM (ZITADEL) answers
// with and the same ones policyd puts on the wire, so an error never needs translating twice.
// Our code does not throw: foreign errors (rocksdb::Status, curl codes, asio::error_code) are
// turned into a Status at the edge of the module that owns the foreign library.
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace policyd {

// gRPC canonical codes (google.rpc.Code). Numeric values are part of the wire protocol.
enum class Code : std::uint8_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "INVALID_ARGUMENT" etc.; "UNKNOWN_CODE" for numbers outside the table.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status DataLoss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>", for adding context while propagating.
  Status WithContext(std::string_view context) const;

  // "NOT_FOUND: org 42 is unknown"; "OK" for success.
  std::string ToString() const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none. Never holds an OK status as its error.
template <typename T>
using Result = tl::expected<T, Status>;

// Shorthand for returning an error from a function that returns Result<T>.
inline tl::unexpected<Status> Err(Status s) { return tl::unexpected<Status>(std::move(s)); }

}  // namespace policyd

// Propagates a non-OK Status from an expression returning Status.
#define POLICYD_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::policyd::Status policyd_status_ = (expr);        \
    if (!policyd_status_.ok()) return policyd_status_; \
  } while (false)
