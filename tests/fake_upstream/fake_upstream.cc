// FakeUpstream's lifecycle and public API; requests are handled in handlers.cc.
#include "fake_upstream/fake_upstream.h"

#include <httplib.h>

#include <algorithm>

#include "fake_upstream/fake_upstream_impl.h"
#include "json/policy_json.h"

namespace policyd::testing_support {

FakeUpstreamImpl::FakeUpstreamImpl(FakeUpstreamOptions options)
    : options_(std::move(options)),
      state_(options_),
      pat_(options_.pat),
      token_lifetime_(options_.token_lifetime) {}

FakeUpstreamImpl::~FakeUpstreamImpl() { Stop(); }

bool FakeUpstreamImpl::Start() {
  const bool tls = !options_.tls_cert_path.empty() || !options_.tls_key_path.empty();
  if (tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert_path.c_str(),
                                                    options_.tls_key_path.c_str());
    if (!ssl->is_valid()) {
      ADD_FAILURE() << "FakeUpstream: cannot load TLS certificate " << options_.tls_cert_path
                    << " / key " << options_.tls_key_path;
      return false;
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  // The real upstream keeps connections open much longer than httplib's default of 5 requests.
  server_->set_keep_alive_max_count(1000);
  // Without it, Nagle on the answer plus the client's delayed ACK costs ~40 ms per request.
  server_->set_tcp_nodelay(true);
  const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    Dispatch(req, res);
  };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
  server_->Options(".*", handler);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) {
    ADD_FAILURE() << "FakeUpstream: cannot bind 127.0.0.1";
    return false;
  }
  base_url_ = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the listen loop has started, so wait for it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  running_ = server_->is_running();
  if (!running_) ADD_FAILURE() << "FakeUpstream: the server did not start";
  return running_;
}

void FakeUpstreamImpl::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (server_) server_->stop();
  // Idle keep-alive connections would otherwise hold the worker pool for their whole timeout.
  if (port_ > 0) ShutdownConnections(port_);
  if (thread_.joinable()) thread_.join();
}

bool FakeUpstreamImpl::SlowDown(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_; });
}

// --- FakeUpstream: thin, locked delegation ---

FakeUpstream::FakeUpstream(FakeUpstreamOptions options)
    : impl_(std::make_unique<FakeUpstreamImpl>(std::move(options))) {
  impl_->Start();
}

FakeUpstream::~FakeUpstream() { impl_->Stop(); }

bool FakeUpstream::ok() const { return impl_->running_; }
std::string FakeUpstream::base_url() const { return impl_->base_url_; }
int FakeUpstream::port() const { return impl_->port_; }
const std::string& FakeUpstream::instance_id() const { return impl_->options_.instance_id; }

std::string FakeUpstream::AddOrg(std::string_view name) {
  std::lock_guard lock(impl_->mutex_);
  auto id = impl_->state_.AddOrg(name);
  if (!id) {
    ADD_FAILURE() << "FakeUpstream::AddOrg(" << name << "): " << id.error().ToString();
    return "";
  }
  return *id;
}

namespace {

// Runs `f` on the state under the lock.
template <typename F>
auto Locked(FakeUpstreamImpl& impl, F f) {
  std::lock_guard lock(impl.mutex_);
  return f(impl.state_);
}

}  // namespace

Status FakeUpstream::ChangeOrg(std::string_view id, std::string_view name) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.ChangeOrg(id, name); });
}
Status FakeUpstream::DeactivateOrg(std::string_view id) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.SetOrgActive(id, false); });
}
Status FakeUpstream::ReactivateOrg(std::string_view id) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.SetOrgActive(id, true); });
}
Status FakeUpstream::RemoveOrg(std::string_view id) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.RemoveOrg(id); });
}
Status FakeUpstream::AddOrgPolicy(std::string_view id, const PolicyFlags& flags) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.AddOrgPolicy(id, flags); });
}
Status FakeUpstream::ChangeOrgPolicy(std::string_view id, const PolicyFlags& flags) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.ChangeOrgPolicy(id, flags); });
}
Status FakeUpstream::RemoveOrgPolicy(std::string_view id) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.RemoveOrgPolicy(id); });
}
Status FakeUpstream::ChangeDefaultPolicy(const PolicyFlags& flags) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.ChangeDefaultPolicy(flags); });
}
Status FakeUpstream::AddOrgDomain(std::string_view id, std::string_view domain) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.AddOrgDomain(id, domain); });
}
Status FakeUpstream::VerifyOrgDomain(std::string_view id, std::string_view domain) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.VerifyOrgDomain(id, domain); });
}
Status FakeUpstream::SetPrimaryOrgDomain(std::string_view id, std::string_view domain) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.SetPrimaryOrgDomain(id, domain); });
}
Status FakeUpstream::RemoveOrgDomain(std::string_view id, std::string_view domain) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.RemoveOrgDomain(id, domain); });
}
Status FakeUpstream::AddInstanceDomain(std::string_view domain) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.AddInstanceDomain(domain); });
}
Status FakeUpstream::RemoveInstanceDomain(std::string_view domain) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.RemoveInstanceDomain(domain); });
}
Status FakeUpstream::PushRawEvent(const RawEvent& event) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.PushRawEvent(event); });
}
Status FakeUpstream::ApplyLegacyPolicyEvent(LegacyPolicyEvent kind, std::string_view org_id,
                                            bool value) {
  return Locked(*impl_,
                [&](UpstreamState& s) { return s.ApplyLegacyPolicyEvent(kind, org_id, value); });
}
void FakeUpstream::SetInstanceAggregateId(std::string_view aggregate_id) {
  Locked(*impl_, [&](UpstreamState& s) { s.SetInstanceAggregateId(aggregate_id); });
}
void FakeUpstream::BeginSharedTimestamp() {
  return Locked(*impl_, [&](UpstreamState& s) { return s.BeginSharedTimestamp(); });
}
void FakeUpstream::EndSharedTimestamp() {
  return Locked(*impl_, [&](UpstreamState& s) { return s.EndSharedTimestamp(); });
}
Timestamp FakeUpstream::Now() const {
  return Locked(*impl_, [&](UpstreamState& s) { return s.Now(); });
}
void FakeUpstream::AdvanceClock(std::chrono::nanoseconds by) {
  return Locked(*impl_, [&](UpstreamState& s) { return s.AdvanceClock(by); });
}
DomainPolicy FakeUpstream::EffectivePolicy(std::string_view id) const {
  return Locked(*impl_, [&](UpstreamState& s) { return s.EffectivePolicy(id); });
}

void FakeUpstream::SetAuditLogRetention(std::chrono::nanoseconds retention) {
  std::lock_guard lock(impl_->mutex_);
  impl_->retention_ = retention;
}

std::string FakeUpstream::EffectivePolicyBody(std::string_view org_id) const {
  return FormatGetPolicyResponse(EffectivePolicy(org_id));
}

std::string FakeUpstream::DefaultPolicyBody() const {
  std::lock_guard lock(impl_->mutex_);
  const PolicyRecord& row = impl_->state_.default_policy();
  return FormatGetPolicyResponse({row.flags, true, row.details});
}

std::vector<::policyd::OrgDomain> FakeUpstream::OrgDomains(std::string_view org_id) const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<::policyd::OrgDomain> out;
  const FakeOrg* org = impl_->state_.FindOrg(org_id);
  if (org == nullptr) return out;
  for (const FakeOrgDomain& d : org->domains) {
    out.push_back({d.name, d.verified, d.name == org->primary_domain});
  }
  return out;
}

std::vector<std::string> FakeUpstream::InstanceDomains() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.instance_domains();
}

std::vector<std::string> FakeUpstream::OrgIds() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<const FakeOrg*> orgs;
  for (const auto& [id, org] : impl_->state_.orgs()) orgs.push_back(&org);
  std::sort(orgs.begin(), orgs.end(), [](const FakeOrg* a, const FakeOrg* b) {
    return a->name != b->name ? a->name < b->name : a->id < b->id;
  });
  std::vector<std::string> ids;
  for (const FakeOrg* org : orgs) ids.push_back(org->id);
  return ids;
}

std::vector<std::string> FakeUpstream::OrgsWithOwnPolicy() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, org] : impl_->state_.orgs()) {
    if (org.policy) ids.push_back(id);
  }
  return ids;
}

std::size_t FakeUpstream::EventCount() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.events().size();
}

Timestamp FakeUpstream::LastEventTime() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->state_.events().back().creation_date;
}

Event FakeUpstream::LastEvent() const {
  std::lock_guard lock(impl_->mutex_);
  const StoredEvent& last = impl_->state_.events().back();
  Event e;
  e.type = last.type;
  e.aggregate_type = last.aggregate_type;
  e.aggregate_id = last.aggregate_id;
  e.resource_owner = last.resource_owner;
  e.sequence = last.sequence;
  e.creation_date = last.creation_date;
  return e;
}

void FakeUpstream::SetPat(std::string pat) {
  std::lock_guard lock(impl_->mutex_);
  impl_->pat_ = std::move(pat);
}

Status FakeUpstream::RegisterServiceAccount(std::string_view user_id, std::string_view key_id,
                                            std::string_view public_key_pem) {
  POLICYD_RETURN_IF_ERROR(CheckKeyPem(public_key_pem));
  std::lock_guard lock(impl_->mutex_);
  impl_->keys_[std::string(key_id)] = {std::string(user_id), std::string(public_key_pem)};
  return Status::Ok();
}

void FakeUpstream::SetTokenLifetime(std::chrono::seconds lifetime) {
  std::lock_guard lock(impl_->mutex_);
  impl_->token_lifetime_ = lifetime;
}

void FakeUpstream::ExpireIssuedTokens() {
  std::lock_guard lock(impl_->mutex_);
  impl_->tokens_.clear();
}

int FakeUpstream::TokenRequests() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->token_requests_;
}

int FakeUpstream::IssuedTokens() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->issued_tokens_;
}

void FakeUpstream::InjectFault(Fault fault) { impl_->faults_.Inject(std::move(fault)); }
void FakeUpstream::ClearFaults() { impl_->faults_.Clear(); }
int FakeUpstream::FaultsTriggered() const { return impl_->faults_.triggered(); }

int FakeUpstream::RequestCount(std::string_view path) const {
  std::lock_guard lock(impl_->mutex_);
  const auto it = impl_->request_counts_.find(path);
  return it == impl_->request_counts_.end() ? 0 : it->second;
}

int FakeUpstream::TotalRequests() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->total_requests_;
}

::testing::AssertionResult FakeUpstream::WaitForRequests(std::string_view path, int n,
                                                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex_);
  const auto count = [&] {
    const auto it = impl_->request_counts_.find(path);
    return it == impl_->request_counts_.end() ? 0 : it->second;
  };
  if (impl_->cv_.wait_for(lock, timeout, [&] { return count() >= n; })) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "only " << count() << " of " << n << " requests to "
                                       << path << " within " << timeout.count() << " ms";
}

}  // namespace policyd::testing_support
