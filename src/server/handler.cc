#include "server/handler.h"

#include "resolve/resolve.h"
#include "wire/request.h"

namespace policyd {

RequestHandler::RequestHandler(const Store& store, const ServingState& state, const Clock& clock,
                               std::string version)
    : store_(store), state_(state), clock_(clock), version_(std::move(version)) {}

void RequestHandler::AppendError(std::uint64_t id, const Status& error,
                                 std::vector<std::uint8_t>& out) {
  encoder_.AppendError(out, id, error);
}

void RequestHandler::Handle(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out) {
  auto request = DecodeRequest(frame);
  if (!request) {
    encoder_.AppendError(out, request.error().id, request.error().status);
    return;
  }
  const Timestamp now = clock_.Now();
  if (request->kind() == RequestKind::kGetStatus) {
    HandleStatus(request->id(), now, out);
    return;
  }
  const bool stale = state_.IsStale(now);
  if (stale && state_.refuse_when_stale()) {
    encoder_.AppendError(out, request->id(),
                         Status::Unavailable("policy data is older than max-staleness and "
                                             "policyd is configured to refuse stale data"));
    return;
  }
  if (request->kind() == RequestKind::kGetDefaultPolicy) {
    HandleDefault(request->id(), stale, out);
  } else {
    HandleOrgs(*request, stale, out);
  }
}

void RequestHandler::HandleOrgs(const RequestView& request, bool stale,
                                std::vector<std::uint8_t>& out) {
  const std::size_t n = request.org_count();
  batch_.Clear();
  for (std::size_t i = 0; i < n; ++i) batch_.Add(request.org_id(i));
  if (Status s = store_.Read(batch_); !s.ok()) {
    encoder_.AppendError(out, request.id(), s);
    return;
  }
  if (request.kind() == RequestKind::kGetOrgPolicy) {
    Result<Resolution> r =
        ResolveOrgPolicy(request.org_id(0), batch_.org(0), batch_.instance(), request.strict());
    if (r) {
      encoder_.AppendOrgPolicy(out, request.id(), request.org_id(0), *r, stale);
    } else {
      encoder_.AppendError(out, request.id(), r.error());
    }
    return;
  }
  // Size the result vectors before taking pointers into them.
  resolutions_.resize(n);
  errors_.resize(n);
  answers_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    Result<Resolution> r =
        ResolveOrgPolicy(request.org_id(i), batch_.org(i), batch_.instance(), request.strict());
    answers_[i].org_id = request.org_id(i);
    if (r) {
      resolutions_[i] = std::move(*r);
      answers_[i].resolution = &resolutions_[i];
      answers_[i].error = nullptr;
    } else {
      errors_[i] = std::move(r.error());
      answers_[i].resolution = nullptr;
      answers_[i].error = &errors_[i];
    }
  }
  encoder_.AppendBatch(out, request.id(), answers_, stale);
}

void RequestHandler::HandleDefault(std::uint64_t id, bool stale, std::vector<std::uint8_t>& out) {
  batch_.Clear();
  if (Status s = store_.Read(batch_); !s.ok()) {
    encoder_.AppendError(out, id, s);
    return;
  }
  Result<DomainPolicy> p = ResolveDefaultPolicy(batch_.instance());
  if (p) {
    encoder_.AppendDefaultPolicy(out, id, *p, stale);
  } else {
    encoder_.AppendError(out, id, p.error());
  }
}

void RequestHandler::HandleStatus(std::uint64_t id, Timestamp now, std::vector<std::uint8_t>& out) {
  Result<StoreMeta> meta = store_.Meta();
  batch_.Clear();
  Status read = meta ? store_.Read(batch_) : meta.error();
  if (!read.ok()) {
    encoder_.AppendError(out, id, read);
    return;
  }
  ServerStatus status;
  status.meta = std::move(*meta);
  if (const InstanceRecord* instance = batch_.instance()) status.instance_id = instance->id;
  status.version = version_;
  state_.FillStatus(now, status);
  encoder_.AppendStatus(out, id, status);
}

}  // namespace policyd
