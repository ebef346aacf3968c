// FakeUpstreamImpl: the state, the credentials, the counters and the HTTP server behind
// FakeUpstream. Lifecycle and the public API are in fake_upstream.cc; request handling (routing,
// authentication, faults, endpoints) in handlers.cc.
//
// Threads: the server's accept thread and its worker pool call Dispatch; everything shared is
// guarded by mutex_ (the fault list has its own lock). cv_ is signalled on every request and on
// stop, for WaitForRequests and for interruptible slow faults.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "fake_upstream/crypto.h"
#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/faults.h"
#include "fake_upstream/upstream_state.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace policyd::testing_support {

// Which GET of a policy kind a path is (fake_upstream_kinds.cc).
enum class KindScope {
  kAdmin,              // /admin/v1/policies/<path>: the instance default
  kManagement,         // /management/v1/policies/<path>: the org's own, else the default
  kManagementDefault,  // /management/v1/policies/default/<path>
};
struct KindRoute {
  const KindSpec* kind = nullptr;
  KindScope scope = KindScope::kAdmin;
  bool preview = false;  // label/_preview: the preview rows (PreviewLabelPolicyByOrg)
};
// The kind GET `path` names; nullopt for any other path.
std::optional<KindRoute> ParseKindPath(std::string_view path);

// One answer before it is written (and possibly mangled by a fault).
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
};

class FakeUpstreamImpl {
 public:
  explicit FakeUpstreamImpl(FakeUpstreamOptions options);
  ~FakeUpstreamImpl();

  // Binds 127.0.0.1:0 and starts serving; false (after reporting to GoogleTest) on failure.
  bool Start();
  void Stop();

  // The server's single handler for every method and path.
  void Dispatch(const httplib::Request& req, httplib::Response& res);

  const FakeUpstreamOptions options_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  UpstreamState state_;
  std::chrono::nanoseconds retention_{0};
  std::string pat_;
  std::map<std::string, RegisteredKey, std::less<>> keys_;               // by key id
  std::map<std::string, std::chrono::steady_clock::time_point> tokens_;  // token -> expiry
  std::chrono::seconds token_lifetime_;
  int token_requests_ = 0;
  int issued_tokens_ = 0;
  std::map<std::string, int, std::less<>> request_counts_;
  int total_requests_ = 0;
  bool stopping_ = false;
  FaultInjector faults_;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
  std::string base_url_;
  bool running_ = false;

  // The body of a kind GET for `org_id` (unused for the defaults); nullopt when the instance has
  // no such row (404). Caller holds mutex_ and has checked the org.
  std::optional<std::string> KindBody(const KindSpec& kind, std::string_view org_id,
                                      KindScope scope, bool preview = false) const;
  // "<base_url_>/assets/v1".
  std::string AssetPrefix() const { return base_url_ + "/assets/v1"; }

 private:
  Reply Route(const httplib::Request& req);
  // 401 unless the request carries a valid bearer token. Caller holds mutex_.
  std::optional<Reply> CheckAuth(const httplib::Request& req) const;
  // Endpoints; the caller holds mutex_ (the token endpoint too).
  // `legacy`: the deprecated .../policies/orgiam twin (OrgIAMPolicy bodies, legacy writes).
  Reply GetOrgPolicy(const httplib::Request& req, std::string_view org_id, bool legacy);
  Reply WriteOrgPolicy(const httplib::Request& req, std::string_view org_id, bool legacy);
  Reply WriteDefaultPolicy(const httplib::Request& req, bool legacy);
  Reply GetManagementPolicy(const httplib::Request& req, bool legacy);
  Reply GetDomainSettings(const httplib::Request& req);
  Reply SearchOrgs(const httplib::Request& req);
  Reply SearchEvents(const httplib::Request& req);
  Reply SearchOrgDomains(const httplib::Request& req);
  Reply SearchInstanceDomains(const httplib::Request& req);
  Reply Token(const httplib::Request& req);
  Reply GetKindPolicy(const httplib::Request& req, const KindRoute& route);
  // POST /admin|management/v1/policies/login/idps/_search (fake_upstream_idps.cc).
  Reply SearchLoginPolicyIdps(const httplib::Request& req, bool management);
  // The org a management/v2 call acts for: x-zitadel-orgid, else the caller's org.
  std::string CallerOrg(const httplib::Request& req) const;
  // Applies a fault that needs the real answer (truncation, malformed JSON) and writes `reply`.
  static void Write(Reply reply, std::optional<FaultKind> mangle, httplib::Response& res);
  // Waits for `delay` or until Stop(); false if stopping.
  bool SlowDown(std::chrono::milliseconds delay);
};

// The error Reply for a Status: google.rpc.Status body, grpc-gateway HTTP mapping.
Reply StatusReply(const Status& status);

}  // namespace policyd::testing_support
