#include "client/client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "wire/dump.h"
#include "wire/frame.h"
#include "wire/request.h"

namespace policyd {
namespace {

using Clock = std::chrono::steady_clock;

// Where a frame's length header and payload start in the receive buffer: the payload 8-byte
// aligned.
constexpr std::size_t kHeaderAt = 4;
constexpr std::size_t kPayloadAt = kHeaderAt + kFrameHeaderBytes;
static_assert(kPayloadAt % 8 == 0);
// The receive buffer's size: an answer that fits (most are a few hundred bytes) arrives with one
// recv(). It grows for a larger frame and shrinks back after it. Small, as a connection per lookup
// allocates it each time.
constexpr std::size_t kReceiveBufferBytes = 4096;

Status Expired(std::chrono::milliseconds timeout) {
  return Status(Code::kDeadlineExceeded,
                "no answer from policyd within " + std::to_string(timeout.count()) + " ms");
}

Status Unreachable(const std::string& what) {
  return Status::Unavailable(what + ": " + strerror(errno));
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
  // Non-blocking: connect() succeeds at once or, when the daemon's backlog is full, fails with
  // EAGAIN (a unix socket has no connection in progress to wait for); sends and receives wait
  // in poll().
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Err(Unreachable("socket"));
  Client client(fd, std::move(options));
  const Deadline deadline = client.StartCall();
  for (;;) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return client;
    if (errno != EAGAIN && errno != EINTR) {
      return Err(Unreachable("cannot connect to policyd at " + socket_path));  // ~Client closes
    }
    // The backlog is full: try again a millisecond later, until the deadline.
    Status s;
    if (errno == EINTR) {
      s = client.Interrupted();
    } else if (Clock::now() >= deadline) {
      s = Status(Code::kDeadlineExceeded, "cannot connect to policyd at " + socket_path +
                                              ": timed out (its listen backlog is full)");
    } else if (poll(nullptr, 0, 1) < 0 && errno == EINTR) {
      s = client.Interrupted();
    }
    if (!s.ok()) return Err(std::move(s));
  }
}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      options_(std::move(other.options_)),
      last_id_(other.last_id_),
      out_(std::move(other.out_)),
      in_(std::move(other.in_)),
      in_capacity_(std::exchange(other.in_capacity_, 0)),
      held_(std::exchange(other.held_, 0)),
      taken_(std::exchange(other.taken_, 0)) {}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    options_ = std::move(other.options_);
    last_id_ = other.last_id_;
    out_ = std::move(other.out_);
    in_ = std::move(other.in_);
    in_capacity_ = std::exchange(other.in_capacity_, 0);
    held_ = std::exchange(other.held_, 0);
    taken_ = std::exchange(other.taken_, 0);
  }
  return *this;
}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  held_ = taken_ = 0;
}

// ---- Transport ----

Client::Deadline Client::StartCall() {
  return Clock::now() + std::max<std::chrono::milliseconds>(options_.timeout, {});
}

// Waits in poll() until `fd_` is ready for `events`: DEADLINE_EXCEEDED once the deadline has
// passed. The deadline is rounded up to whole milliseconds, poll()'s unit.
Status Client::Wait(short events, Deadline deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return Expired(options_.timeout);
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  const int timeout = static_cast<int>(std::min<std::int64_t>(ms, std::numeric_limits<int>::max()));
  pollfd p{fd_, events, 0};
  if (poll(&p, 1, timeout) >= 0) return Status::Ok();  // ready, or try again (then checked)
  return errno == EINTR ? Interrupted() : Unreachable("poll");
}

Status Client::Interrupted() { return options_.on_signal ? options_.on_signal() : Status::Ok(); }

Status Client::Send(std::span<const std::uint8_t> frames) { return SendUntil(frames, StartCall()); }

Status Client::SendUntil(std::span<const std::uint8_t> frames, Deadline deadline) {
  if (fd_ < 0) return Status::Unavailable("connection to policyd is closed");
  std::size_t sent = 0;
  while (sent < frames.size()) {
    const ssize_t n =
        send(fd_, frames.data() + sent, frames.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    Status s;
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      s = Wait(POLLOUT, deadline);
    } else if (errno == EINTR) {
      s = Interrupted();
    } else {
      // The connection stays open for reading: the daemon may have answered (and closed)
      // before reading our request, e.g. to refuse a peer; Exchange and RoundTrip read that.
      return Unreachable("send to policyd");
    }
    if (!s.ok()) {
      Close();
      return s;
    }
  }
  return Status::Ok();
}

Result<std::span<const std::uint8_t>> Client::ReceiveFrame() { return ReceiveUntil(StartCall()); }

Result<std::span<const std::uint8_t>> Client::ReceiveUntil(Deadline deadline) {
  if (fd_ < 0) return Err(Status::Unavailable("connection to policyd is closed"));
  // Drop the frame returned last; what follows it (a pipelined answer) moves to the front, and
  // a buffer grown for a large frame shrinks back.
  if (taken_ > 0) {
    held_ -= taken_;
    if (held_ > 0) memmove(Buffer() + kHeaderAt, Buffer() + kHeaderAt + taken_, held_);
    taken_ = 0;
    if (in_capacity_ > kReceiveBufferBytes && kHeaderAt + held_ <= kReceiveBufferBytes) {
      Resize(kReceiveBufferBytes);
    }
  }
  Status s = Fill(kFrameHeaderBytes, deadline);
  std::uint32_t length = 0;
  if (s.ok()) {
    Result<std::uint32_t> l = DecodeFrameLength(Buffer() + kHeaderAt, options_.max_response_bytes);
    if (l) {
      length = *l;
      s = Fill(kFrameHeaderBytes + length, deadline);
    } else {
      s = Status::Internal("bad frame from policyd: " + l.error().message());
    }
  }
  if (!s.ok()) {
    Close();
    return Err(std::move(s));
  }
  taken_ = kFrameHeaderBytes + length;
  return std::span<const std::uint8_t>(Buffer() + kPayloadAt, length);
}

// Receives until held_ >= `bytes`, as many bytes per recv() as the buffer has room for.
Status Client::Fill(std::size_t bytes, Deadline deadline) {
  if (in_capacity_ < kHeaderAt + bytes) {
    Resize(std::max({kReceiveBufferBytes, kHeaderAt + bytes, 2 * in_capacity_}));
  }
  while (held_ < bytes) {
    std::uint8_t* at = Buffer() + kHeaderAt + held_;
    const ssize_t n = recv(fd_, at, in_capacity_ - kHeaderAt - held_, MSG_DONTWAIT);
    if (n > 0) {
      held_ += static_cast<std::size_t>(n);
    } else if (n == 0) {
      return Status::Unavailable("policyd closed the connection");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      POLICYD_RETURN_IF_ERROR(Wait(POLLIN, deadline));
    } else if (errno == EINTR) {
      POLICYD_RETURN_IF_ERROR(Interrupted());
    } else {
      return Unreachable("receive from policyd");
    }
  }
  return Status::Ok();
}

// Reallocates the receive buffer to `capacity` bytes (at least what it holds), keeping what it
// holds.
void Client::Resize(std::size_t capacity) {
  std::unique_ptr<std::uint64_t[]> fresh(new std::uint64_t[(capacity + 7) / 8]);
  if (held_ > 0) {
    memcpy(reinterpret_cast<std::uint8_t*>(fresh.get()) + kHeaderAt, Buffer() + kHeaderAt, held_);
  }
  in_ = std::move(fresh);
  in_capacity_ = (capacity + 7) / 8 * 8;
}

Result<std::span<const std::uint8_t>> Client::Exchange(std::span<const std::uint8_t> frames) {
  const Deadline deadline = StartCall();
  Status s = SendUntil(frames, deadline);
  Result<std::span<const std::uint8_t>> frame = ReceiveUntil(deadline);
  if (!s.ok() && !frame) return Err(std::move(s));
  return frame;
}

Result<Response> Client::Decode(std::span<const std::uint8_t> payload) {
  Result<Response> response = DecodeResponse(payload);
  if (!response) {
    Close();
    return Err(Status::Internal("undecodable answer from policyd: " + response.error().message()));
  }
  return response;
}

Result<Response> Client::Receive() {
  Result<std::span<const std::uint8_t>> frame = ReceiveFrame();
  if (!frame) return Err(frame.error());
  return Decode(*frame);
}

Result<Response> Client::RoundTrip(std::uint64_t id) {
  Result<std::span<const std::uint8_t>> frame = Exchange(out_);
  // The frame may hold a password (CheckPassword): wipe it, not only forget it.
  std::fill(out_.begin(), out_.end(), std::uint8_t{0});
  out_.clear();
  if (!frame) return Err(frame.error());
  Result<Response> r = Decode(*frame);
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
