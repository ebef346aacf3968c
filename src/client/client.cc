#include "client/client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "wire/dump.h"
#include "wire/frame.h"
#include "wire/request.h"

namespace policyd {
namespace {

Status Unreachable(const std::string& what) {
  return Status::Unavailable(what + ": " + strerror(errno));
}

// Waits until `fd` is ready for `events`; DEADLINE_EXCEEDED after `timeout`.
Status WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = poll(&p, 1, static_cast<int>(timeout.count()));
    if (n > 0) return Status::Ok();
    if (n == 0) {
      return Status(Code::kDeadlineExceeded,
                    "no answer from policyd within " + std::to_string(timeout.count()) + " ms");
    }
    if (errno != EINTR) return Unreachable("poll");
  }
}

// A kinds request's successful answer must hold every kind asked: an older daemon ignores
// `kinds` and answers the domain policy alone.
Status CheckKindsAnswered(const PolicyAnswer& a, KindSet kinds) {
  if (!a.status.ok()) return Status::Ok();
  for (std::size_t k = 0; k < kPolicyKindCount; ++k) {
    const auto kind = static_cast<PolicyKind>(k);
    if (!kinds.contains(kind)) continue;
    const bool present = kind == PolicyKind::kDomain ? a.has_domain : a.kind(kind) != nullptr;
    if (!present) {
      return Status(Code::kUnimplemented, "policyd did not answer policy kind " +
                                              std::string(SpecOf(kind).cli_name) +
                                              " (a daemon older than policy kinds?)");
    }
  }
  return Status::Ok();
}

Status EmptyKinds() { return Status::InvalidArgument("no policy kind asked for"); }

}  // namespace

Result<Client> Client::Connect(const std::string& socket_path, ClientOptions options) {
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return Err(Status::InvalidArgument("socket path \"" + socket_path + "\" is empty or too long"));
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(Unreachable("socket"));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status s = Unreachable("cannot connect to policyd at " + socket_path);
    close(fd);
    return Err(s);
  }
  return Client(fd, options);
}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      options_(other.options_),
      last_id_(other.last_id_),
      out_(std::move(other.out_)),
      in_(std::move(other.in_)) {}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    options_ = other.options_;
    last_id_ = other.last_id_;
    out_ = std::move(other.out_);
    in_ = std::move(other.in_);
  }
  return *this;
}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Status Client::Send(std::span<const std::uint8_t> frames) {
  if (fd_ < 0) return Status::Unavailable("connection to policyd is closed");
  std::size_t sent = 0;
  while (sent < frames.size()) {
    const ssize_t n =
        send(fd_, frames.data() + sent, frames.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Status s = WaitFor(fd_, POLLOUT, options_.timeout); !s.ok()) {
        Close();
        return s;
      }
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      // The connection stays open for reading: the daemon may have answered (and closed)
      // before reading our request, e.g. to refuse a peer; RoundTrip reads that answer.
      return Unreachable("send to policyd");
    }
  }
  return Status::Ok();
}

Result<Response> Client::Receive() {
  if (fd_ < 0) return Err(Status::Unavailable("connection to policyd is closed"));
  auto read_exactly = [this](std::uint8_t* to, std::size_t want) -> Status {
    std::size_t got = 0;
    while (got < want) {
      const ssize_t n = recv(fd_, to + got, want - got, MSG_DONTWAIT);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (n == 0) {
        return Status::Unavailable("policyd closed the connection");
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        POLICYD_RETURN_IF_ERROR(WaitFor(fd_, POLLIN, options_.timeout));
      } else if (errno != EINTR) {
        return Unreachable("receive from policyd");
      }
    }
    return Status::Ok();
  };
  std::uint8_t header[kFrameHeaderBytes];
  Status s = read_exactly(header, sizeof(header));
  Result<std::uint32_t> length = s.ok() ? DecodeFrameLength(header, options_.max_response_bytes)
                                        : Result<std::uint32_t>(Err(s));
  if (length) {
    in_.resize(*length / 8 + 1);
    s = read_exactly(reinterpret_cast<std::uint8_t*>(in_.data()), *length);
  } else {
    s = length.error();
  }
  if (!s.ok()) {
    Close();
    return Err(s.code() == Code::kInvalidArgument || s.code() == Code::kResourceExhausted
                   ? Status::Internal("bad frame from policyd: " + s.message())
                   : s);
  }
  Result<Response> response =
      DecodeResponse({reinterpret_cast<const std::uint8_t*>(in_.data()), *length});
  if (!response) {
    Close();
    return Err(Status::Internal("undecodable answer from policyd: " + response.error().message()));
  }
  return response;
}

Result<Response> Client::RoundTrip(std::uint64_t id) {
  Status s = Send(out_);
  // The frame may hold a password (CheckPassword): wipe it, not only forget it.
  std::fill(out_.begin(), out_.end(), std::uint8_t{0});
  out_.clear();
  Result<Response> r = Receive();
  if (!s.ok() && !r) return Err(s);
  if (!r) return r;
  if (r->id != id && r->id == 0 && r->kind == ResponseKind::kError) {
    // A connection-level refusal (e.g. PERMISSION_DENIED for a peer not on the allowlist) or a
    // framing error: the daemon answers it before it could read a request id.
    return Err(r->error);
  }
  if (r->id != id) {
    Close();
    return Err(Status::Internal("policyd answered request " + std::to_string(r->id) +
                                " while request " + std::to_string(id) + " was expected"));
  }
  if (r->kind == ResponseKind::kError) return Err(r->error);
  return r;
}

Result<PolicyAnswer> Client::GetOrgPolicy(std::string_view org_id, bool strict) {
  const std::uint64_t id = NextId();
  AppendGetOrgPolicy(out_, id, org_id, strict);
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kPolicy || r->policies.size() != 1) {
    return Err(Status::Internal("policyd answered a policy request with another kind"));
  }
  return std::move(r->policies[0]);
}

Result<std::vector<PolicyAnswer>> Client::GetOrgPolicies(std::span<const std::string> org_ids,
                                                         bool strict) {
  const std::uint64_t id = NextId();
  AppendGetOrgPolicies(out_, id, org_ids, strict);
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kBatch || r->policies.size() != org_ids.size()) {
    return Err(Status::Internal("policyd answered a batch request with another kind or size"));
  }
  return std::move(r->policies);
}

Result<PolicyAnswer> Client::GetDefaultPolicy() {
  const std::uint64_t id = NextId();
  AppendGetDefaultPolicy(out_, id);
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kPolicy || r->policies.size() != 1) {
    return Err(Status::Internal("policyd answered a default-policy request with another kind"));
  }
  return std::move(r->policies[0]);
}

Result<PolicyAnswer> Client::OneKindsAnswer(std::uint64_t id, KindSet kinds) {
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kPolicy || r->policies.size() != 1) {
    return Err(Status::Internal("policyd answered a policy request with another kind"));
  }
  Status s = CheckKindsAnswered(r->policies[0], kinds);
  if (!s.ok()) return Err(std::move(s));
  return std::move(r->policies[0]);
}

Result<PolicyAnswer> Client::GetOrgKinds(std::string_view org_id, KindSet kinds, bool strict) {
  if (kinds.empty()) return Err(EmptyKinds());
  const std::uint64_t id = NextId();
  AppendGetOrgKinds(out_, id, org_id, kinds, strict);
  return OneKindsAnswer(id, kinds);
}

Result<std::vector<PolicyAnswer>> Client::GetOrgsKinds(std::span<const std::string> org_ids,
                                                       KindSet kinds, bool strict) {
  if (kinds.empty()) return Err(EmptyKinds());
  const std::uint64_t id = NextId();
  AppendGetOrgsKinds(out_, id, org_ids, kinds, strict);
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kBatch || r->policies.size() != org_ids.size()) {
    return Err(Status::Internal("policyd answered a batch request with another kind or size"));
  }
  for (const PolicyAnswer& a : r->policies) {
    Status s = CheckKindsAnswered(a, kinds);
    if (!s.ok()) return Err(std::move(s));
  }
  return std::move(r->policies);
}

Result<PolicyAnswer> Client::GetDefaultKinds(KindSet kinds) {
  if (kinds.empty()) return Err(EmptyKinds());
  const std::uint64_t id = NextId();
  AppendGetDefaultKinds(out_, id, kinds);
  return OneKindsAnswer(id, kinds);
}

Result<CheckAnswer> Client::CheckPassword(std::string_view org_id, std::string_view password,
                                          bool strict) {
  return Check(CheckRequest{CheckKind::kPassword, org_id, password, strict});
}

Result<CheckAnswer> Client::Check(const CheckRequest& check) {
  const std::uint64_t id = NextId();
  AppendCheck(out_, id, check);
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kCheck || r->checks.size() != 1) {
    return Err(Status::Internal("policyd answered a check with another kind"));
  }
  return std::move(r->checks[0]);
}

Result<CheckAnswer> Client::CheckLoginName(std::string_view org_id, std::string_view login_name,
                                           bool strict) {
  return Check(CheckRequest{CheckKind::kLoginName, org_id, login_name, strict});
}

Result<CheckAnswer> Client::CheckSmtpSender(std::string_view address) {
  return Check(CheckRequest{CheckKind::kSmtpSender, {}, address, false});
}

Result<CheckAnswer> Client::CheckDomainVerification(std::string_view org_id,
                                                    std::string_view domain, bool strict) {
  return Check(CheckRequest{CheckKind::kDomainVerification, org_id, domain, strict});
}

Result<std::vector<CheckAnswer>> Client::CheckBatch(std::span<const CheckRequest> checks) {
  const std::uint64_t id = NextId();
  AppendCheckBatch(out_, id, checks);
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kCheckBatch || r->checks.size() != checks.size()) {
    return Err(Status::Internal("policyd answered a check batch with another kind or size"));
  }
  return std::move(r->checks);
}

Result<ServerStatus> Client::GetStatus(bool with_counters) {
  const std::uint64_t id = NextId();
  AppendGetStatus(out_, id, with_counters);
  Result<Response> r = RoundTrip(id);
  if (!r) return Err(r.error());
  if (r->kind != ResponseKind::kStatus) {
    return Err(Status::Internal("policyd answered a status request with another kind"));
  }
  return std::move(r->status);
}

Result<DumpSummary> Client::Dump(const std::function<Status(std::string_view)>& sink) {
  const std::uint64_t id = NextId();
  AppendDump(out_, id);
  Result<Response> r = RoundTrip(id);
  if (!r && r.error().code() == Code::kInvalidArgument &&
      r.error().message().find("unsupported request kind") != std::string::npos) {
    return Err(Status(Code::kUnimplemented,
                      "this policyd cannot dump over the socket (it is older); use --data-dir"));
  }
  DumpSummary summary;
  for (;;) {
    if (!r) return Err(r.error());
    if (r->kind != ResponseKind::kDump || r->dump.offset != summary.bytes) {
      Close();
      return Err(Status::Internal(r->kind != ResponseKind::kDump
                                      ? "policyd answered a dump with another kind"
                                      : "policyd sent dump bytes at offset " +
                                            std::to_string(r->dump.offset) + " where " +
                                            std::to_string(summary.bytes) + " were expected"));
    }
    if (Status s = sink(r->dump.data); !s.ok()) {
      Close();  // the rest of the dump is unread
      return Err(std::move(s));
    }
    summary.bytes += r->dump.data.size();
    if (r->dump.last) {
      summary.orgs = r->dump.orgs;
      return summary;
    }
    r = Receive();
    if (r && r->id != id) {
      Close();
      return Err(Status::Internal("policyd answered request " + std::to_string(r->id) +
                                  " in the middle of dump " + std::to_string(id)));
    }
    if (r && r->kind == ResponseKind::kError) r = Err(r->error);
  }
}

}  // namespace policyd
