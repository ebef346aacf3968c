#include "nats/connection.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "nats/errors.h"
#include "nats/handles.h"
#include "nats/tls_exit.h"

namespace policyd::nats {
namespace {

using Holder = std::shared_ptr<CallbackState>;

// Calls the user's callback under the state's lock: the destructor clears it under the same
// lock, so once the destructor has started no call is in progress or begins.
void Emit(void* closure, ConnEvent event) {
  CallbackState& state = **static_cast<Holder*>(closure);
  std::lock_guard lock(state.mu);
  if (state.on_event) state.on_event(event);
}

void OnConnected(natsConnection*, void* closure) {
  Emit(closure, {ConnEvent::Kind::kConnected, Status::Ok()});
}
void OnDisconnected(natsConnection*, void* closure) {
  Emit(closure, {ConnEvent::Kind::kDisconnected, Status::Ok()});
}
void OnReconnected(natsConnection*, void* closure) {
  Emit(closure, {ConnEvent::Kind::kReconnected, Status::Ok()});
}

// cnats delivers "closed" last of all callbacks of a connection: the closure is freed here.
void OnClosed(natsConnection*, void* closure) {
  auto* holder = static_cast<Holder*>(closure);
  {
    CallbackState& state = **holder;
    std::lock_guard lock(state.mu);
    if (state.on_event) state.on_event({ConnEvent::Kind::kClosed, Status::Ok()});
    state.closed = true;
    state.cv.notify_all();
  }
  delete holder;
}

void OnAsyncError(natsConnection* nc, natsSubscription*, natsStatus err, void* closure) {
  std::string text = std::string("asynchronous error: ") + natsStatus_GetText(err);
  const char* last = nullptr;
  if (nc != nullptr && natsConnection_GetLastError(nc, &last) != NATS_OK && last != nullptr &&
      *last != '\0') {
    text += ": ";
    text += last;
  }
  Code code = Code::kInternal;
  if (err == NATS_NOT_PERMITTED) code = Code::kPermissionDenied;
  if (err == NATS_MISSED_HEARTBEAT || err == NATS_SLOW_CONSUMER) code = Code::kUnavailable;
  if (err == NATS_MISMATCH) code = Code::kAborted;
  if (err == NATS_TIMEOUT) code = Code::kDeadlineExceeded;
  Emit(closure, {ConnEvent::Kind::kAsyncError, Status(code, std::move(text))});
}

Status Check(natsStatus s, std::string_view what) {
  return s == NATS_OK ? Status::Ok() : FromNats(s, 0, what);
}

bool UsesTls(const ConnectOptions& o) {
  if (!o.ca_file.empty()) return true;
  for (const std::string& url : o.urls) {
    if (url.rfind("tls://", 0) == 0) return true;
  }
  return false;
}

// cnats reads a creds file only when it connects, and with retry-on-failed-connect an unreadable
// one would just never connect: check it here. A CA file is read at once by cnats.
Status CheckReadable(const std::string& path, std::string_view what) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    return Status::InvalidArgument(std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  std::fclose(f);
  return Status::Ok();
}

// A bad file is the operator's mistake, whatever cnats calls it.
Status FileError(natsStatus s, std::string_view what) {
  if (s == NATS_OK) return Status::Ok();
  return Status(Code::kInvalidArgument, FromNats(s, 0, what).message());
}

Status Configure(natsOptions* opts, const ConnectOptions& o, void* closure) {
  std::vector<const char*> urls;
  for (const std::string& u : o.urls) urls.push_back(u.c_str());
  POLICYD_RETURN_IF_ERROR(Check(
      natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size())), "server URLs"));
  POLICYD_RETURN_IF_ERROR(Check(natsOptions_SetName(opts, o.name.c_str()), "client name"));
  POLICYD_RETURN_IF_ERROR(
      Check(natsOptions_SetTimeout(opts, o.connect_timeout.count()), "connect timeout"));
  POLICYD_RETURN_IF_ERROR(Check(natsOptions_SetMaxReconnect(opts, -1), "max reconnect"));
  POLICYD_RETURN_IF_ERROR(
      Check(natsOptions_SetReconnectWait(opts, o.reconnect_wait.count()), "reconnect wait"));
  POLICYD_RETURN_IF_ERROR(Check(
      natsOptions_SetRetryOnFailedConnect(opts, true, OnConnected, closure), "retry connect"));
  POLICYD_RETURN_IF_ERROR(
      Check(natsOptions_SetDisconnectedCB(opts, OnDisconnected, closure), "callback"));
  POLICYD_RETURN_IF_ERROR(
      Check(natsOptions_SetReconnectedCB(opts, OnReconnected, closure), "callback"));
  POLICYD_RETURN_IF_ERROR(Check(natsOptions_SetClosedCB(opts, OnClosed, closure), "callback"));
  POLICYD_RETURN_IF_ERROR(
      Check(natsOptions_SetErrorHandler(opts, OnAsyncError, closure), "callback"));
  if (!o.creds_file.empty()) {
    POLICYD_RETURN_IF_ERROR(CheckReadable(o.creds_file, "creds file"));
    POLICYD_RETURN_IF_ERROR(
        FileError(natsOptions_SetUserCredentialsFromFiles(opts, o.creds_file.c_str(), nullptr),
                  "creds file " + o.creds_file));
  }
  if (UsesTls(o)) POLICYD_RETURN_IF_ERROR(Check(natsOptions_SetSecure(opts, true), "TLS"));
  if (!o.ca_file.empty()) {
    POLICYD_RETURN_IF_ERROR(CheckReadable(o.ca_file, "CA file"));
    POLICYD_RETURN_IF_ERROR(FileError(
        natsOptions_LoadCATrustedCertificates(opts, o.ca_file.c_str()), "CA file " + o.ca_file));
  }
  if (!o.inbox_prefix.empty()) {
    POLICYD_RETURN_IF_ERROR(
        Check(natsOptions_SetCustomInboxPrefix(opts, o.inbox_prefix.c_str()), "inbox prefix"));
  }
  return Status::Ok();
}

// Connects (or starts retrying) with `closure` as the callbacks' closure. On error no callback
// can run any more, and the caller still owns the closure.
Result<natsConnection*> Open(const ConnectOptions& options, void* closure) {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s != NATS_OK) return Err(FromNats(s, 0, "nats options"));
  Status st = Configure(opts, options, closure);
  natsConnection* nc = nullptr;
  if (st.ok()) {
    s = natsConnection_Connect(&nc, opts);
    // With retry-on-failed-connect, "not yet connected" hands back a connection that keeps
    // trying in the background.
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) st = FromNats(s, 0, "connect");
  }
  natsOptions_Destroy(opts);
  if (!st.ok()) {
    if (nc != nullptr) natsConnection_Destroy(nc);
    return Err(st.WithContext("nats"));
  }
  return nc;
}

}  // namespace

std::string_view ConnStateName(ConnState state) {
  switch (state) {
    case ConnState::kConnecting:
      return "connecting";
    case ConnState::kConnected:
      return "connected";
    case ConnState::kReconnecting:
      return "reconnecting";
    case ConnState::kDisconnected:
      return "disconnected";
    case ConnState::kClosed:
      return "closed";
  }
  return "unknown";
}

FleetConnection FleetConnectionOf(ConnState state) {
  switch (state) {
    case ConnState::kConnecting:
      return FleetConnection::kConnecting;
    case ConnState::kConnected:
      return FleetConnection::kConnected;
    case ConnState::kReconnecting:
    case ConnState::kDisconnected:
      return FleetConnection::kReconnecting;
    case ConnState::kClosed:
      return FleetConnection::kClosed;
  }
  return FleetConnection::kClosed;
}

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const ConnectOptions& options,
                                                                EventCallback on_event) {
  if (options.urls.empty()) return Err(Status::InvalidArgument("nats: no server URL"));
  GuardTlsExit(UsesTls(options));  // before cnats is first initialised (tls_exit.h)
  auto handles = std::make_unique<Handles>();
  handles->callbacks = std::make_shared<CallbackState>();
  handles->callbacks->on_event = std::move(on_event);
  auto* closure = new Holder(handles->callbacks);
  Result<natsConnection*> nc = Open(options, closure);
  if (!nc) {
    delete closure;
    return Err(nc.error());
  }
  handles->nc = *nc;
  jsOptions js_opts;
  jsOptions_Init(&js_opts);
  js_opts.Wait = options.request_timeout.count();
  natsStatus s = natsConnection_JetStream(&handles->js, handles->nc, &js_opts);
  // From here the destructor owns the connection (and cnats the closure).
  std::unique_ptr<NatsConnection> conn(new NatsConnection(options, std::move(handles)));
  if (s != NATS_OK) return Err(FromNats(s, 0, "nats: JetStream context"));
  return conn;
}

NatsConnection::NatsConnection(ConnectOptions options, std::unique_ptr<Handles> handles)
    : options_(std::move(options)), handles_(std::move(handles)) {}

NatsConnection::~NatsConnection() {
  CallbackState& state = *handles_->callbacks;
  {
    std::lock_guard lock(state.mu);
    state.on_event = nullptr;
  }
  if (handles_->js != nullptr) jsCtx_Destroy(handles_->js);
  natsConnection_Close(handles_->nc);
  {
    std::unique_lock lock(state.mu);
    state.cv.wait_for(lock, options_.close_timeout, [&] { return state.closed; });
  }
  natsConnection_Destroy(handles_->nc);
}

ConnState NatsConnection::state() const {
  switch (natsConnection_Status(handles_->nc)) {
    case NATS_CONN_STATUS_CONNECTED:
    case NATS_CONN_STATUS_DRAINING_SUBS:
    case NATS_CONN_STATUS_DRAINING_PUBS:
      return ConnState::kConnected;
    case NATS_CONN_STATUS_CONNECTING:
      return ConnState::kConnecting;
    case NATS_CONN_STATUS_RECONNECTING:
      return ConnState::kReconnecting;
    case NATS_CONN_STATUS_CLOSED:
      return ConnState::kClosed;
    case NATS_CONN_STATUS_DISCONNECTED:
      return ConnState::kDisconnected;
  }
  return ConnState::kDisconnected;
}

std::string NatsConnection::ConnectedUrl() const {
  char buf[512] = {0};
  if (natsConnection_GetConnectedUrl(handles_->nc, buf, sizeof(buf)) != NATS_OK) return {};
  std::string url = buf;
  // Never hand out a password given in the URL ("nats://user:pass@host:port").
  const std::size_t scheme = url.find("://");
  const std::size_t at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme != std::string::npos && at != std::string::npos) {
    url.erase(scheme + 3, at - scheme - 2);
  }
  return url;
}

Status ShutdownLibrary(std::chrono::milliseconds timeout) {
  const natsStatus s = nats_CloseAndWait(timeout.count());
  // "Not initialized": no connection was ever made in this process; nothing to release.
  if (s == NATS_OK || s == NATS_NOT_INITIALIZED) return Status::Ok();
  return FromNats(s, 0, "nats library shutdown");
}

}  // namespace policyd::nats
