#include "wire/response.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstring>

#include "response_generated.h"
#include "wire/frame.h"
#include "wire/kind_wire.h"

namespace policyd {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

fb::Timestamp ToFb(Timestamp t) { return fb::Timestamp(t.seconds, t.nanos); }

Timestamp FromFb(const fb::Timestamp* t) {
  return t == nullptr ? Timestamp{} : Timestamp{t->seconds(), t->nanos()};
}

std::string String(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : std::string(s->c_str(), s->size());
}

Offset<flatbuffers::String> MaybeString(FlatBufferBuilder& fbb, std::string_view s) {
  return s.empty() ? 0 : fbb.CreateString(s.data(), s.size());
}

Offset<fb::DomainPolicy> BuildPolicy(FlatBufferBuilder& fbb, const DomainPolicy& p) {
  auto owner = MaybeString(fbb, p.details.resource_owner);
  const fb::Timestamp created = ToFb(p.details.creation_date);
  const fb::Timestamp changed = ToFb(p.details.change_date);
  auto details = fb::CreateDetails(fbb, p.details.sequence,
                                   p.details.creation_date.IsZero() ? nullptr : &created,
                                   p.details.change_date.IsZero() ? nullptr : &changed, owner);
  return fb::CreateDomainPolicy(fbb, details, p.flags.user_login_must_be_domain, p.is_default,
                                p.flags.validate_org_domains,
                                p.flags.smtp_sender_address_matches_instance_domain);
}

Offset<fb::Error> BuildError(FlatBufferBuilder& fbb, const Status& s) {
  auto message = fbb.CreateString(s.message());
  return fb::CreateError(fbb, static_cast<fb::Code>(s.code()), message);
}

DomainPolicy ParsePolicy(const fb::DomainPolicy* p) {
  DomainPolicy out;
  out.flags.user_login_must_be_domain = p->user_login_must_be_domain();
  out.flags.validate_org_domains = p->validate_org_domains();
  out.flags.smtp_sender_address_matches_instance_domain =
      p->smtp_sender_address_matches_instance_domain();
  out.is_default = p->is_default();
  if (const fb::Details* d = p->details()) {
    out.details.sequence = d->sequence();
    out.details.creation_date = FromFb(d->creation_date());
    out.details.change_date = FromFb(d->change_date());
    out.details.resource_owner = String(d->resource_owner());
  }
  return out;
}

Status ParseError(const fb::Error* e) {
  const auto code = static_cast<Code>(e->code());
  // An error must never read as success, whatever a (future or broken) server sent.
  return Status(code == Code::kOk ? Code::kUnknown : code, String(e->message()));
}

Result<PolicyAnswer> ParseResult(const fb::PolicyResult* r, bool stale) {
  PolicyAnswer out;
  out.stale = stale;
  out.org_id = String(r->org_id());
  out.org_known = r->org_known();
  if (r->error() != nullptr) {
    out.status = ParseError(r->error());
    return out;
  }
  Status kinds = wire::ParseResultKinds(*r, out.kinds);
  if (!kinds.ok()) return Err(std::move(kinds));
  out.has_domain = r->policy() != nullptr;
  if (out.has_domain) {
    out.policy = ParsePolicy(r->policy());
  } else if (out.kinds.empty()) {
    return Err(Status::InvalidArgument("PolicyResult has neither policy nor error"));
  }
  return out;
}

// The Verifier checks that a vector's 4-byte length is aligned, not that 8-byte elements are:
// in a crafted buffer a [ulong] can start 4 bytes off, and loading its elements as uint64_t
// would be a misaligned load (undefined behaviour; fuzz_request found it). Copy the bytes (not
// for an empty vector: memcpy to the null data() of an empty std::vector is undefined too).
template <typename T>
std::vector<T> Values(const flatbuffers::Vector<T>* v) {
  std::vector<T> out;
  if (v == nullptr || v->size() == 0) return out;
  out.resize(v->size());
  std::memcpy(out.data(), v->Data(), out.size() * sizeof(T));
  for (T& x : out) x = flatbuffers::EndianScalar(x);
  return out;
}

Result<CheckAnswer> ParseCheck(const fb::CheckResult* r, bool stale) {
  CheckAnswer out;
  out.stale = stale;
  out.kind = static_cast<CheckKind>(r->kind());
  out.org_id = String(r->org_id());
  out.org_known = r->org_known();
  if (r->error() != nullptr) {
    out.status = ParseError(r->error());
    return out;
  }
  if (const auto* password = r->password_complexity()) {
    Result<KindValue> p = wire::ParseKindTable(
        PolicyKind::kPasswordComplexity, *reinterpret_cast<const flatbuffers::Table*>(password),
        "CheckResult.password_complexity");
    if (!p) return Err(p.error());
    out.password_complexity = std::move(*p);
  } else if (r->policy() == nullptr) {
    return Err(Status::InvalidArgument("CheckResult has neither policy nor error"));
  }
  out.allowed = r->allowed();
  out.reason = static_cast<CheckReason>(r->reason());
  out.matched_domain = String(r->matched_domain());
  out.message = String(r->message());
  out.error_id = String(r->error_id());
  if (r->policy() != nullptr) out.policy = ParsePolicy(r->policy());
  out.domain_on_org = r->domain_on_org();
  out.domain_verified = r->domain_verified();
  return out;
}

Offset<fb::Counters> BuildCounters(FlatBufferBuilder& fbb, const DaemonCounters& c) {
  std::vector<Offset<fb::RequestCount>> requests;
  requests.reserve(c.requests.size());
  for (const RequestCount& r : c.requests) {
    requests.push_back(fb::CreateRequestCount(fbb, r.kind, static_cast<fb::Code>(r.code), r.count));
  }
  auto request_vector = fbb.CreateVector(requests);
  auto bounds = fbb.CreateVector(c.latency.bounds_ns);
  auto counts = fbb.CreateVector(c.latency.counts);
  auto failures = fbb.CreateVector(c.sync_failures.data(), c.sync_failures.size());
  const fb::Timestamp started = ToFb(c.started);
  return fb::CreateCounters(fbb, &started, request_vector, bounds, counts, c.latency.sum_ns,
                            c.connections_open, c.connections_accepted, c.rejected_max_connections,
                            c.rejected_peer, c.closed_bad_frame, c.sync_attempts, c.sync_successes,
                            failures, c.cold_starts, c.events_applied, c.rejected_per_peer,
                            c.rejected_reserved);
}

DaemonCounters ParseCounters(const fb::Counters* c) {
  DaemonCounters out;
  out.started = FromFb(c->started());
  if (c->requests() != nullptr) {
    for (const fb::RequestCount* r : *c->requests()) {
      if (r == nullptr) continue;
      out.requests.push_back(RequestCount{r->kind(), static_cast<Code>(r->code()), r->count()});
    }
  }
  out.latency.bounds_ns = Values(c->latency_bounds_ns());
  out.latency.counts = Values(c->latency_counts());
  out.latency.sum_ns = c->latency_sum_ns();
  out.connections_open = c->connections_open();
  out.connections_accepted = c->connections_accepted();
  out.rejected_max_connections = c->rejected_max_connections();
  out.rejected_peer = c->rejected_peer();
  out.closed_bad_frame = c->closed_bad_frame();
  out.sync_attempts = c->sync_attempts();
  out.sync_successes = c->sync_successes();
  // Causes a newer daemon added beyond ours count as "other".
  const std::vector<std::uint64_t> failures = Values(c->sync_failures());
  for (std::size_t i = 0; i < failures.size(); ++i) {
    out.sync_failures[std::min(i, kSyncFailureCauses - 1)] += failures[i];
  }
  out.cold_starts = c->cold_starts();
  out.events_applied = c->events_applied();
  out.rejected_per_peer = c->rejected_per_peer();
  out.rejected_reserved = c->rejected_reserved();
  return out;
}

Offset<fb::FleetStatus> BuildFleet(FlatBufferBuilder& fbb, const FleetStatus& f) {
  std::vector<Offset<fb::FleetPublisher>> publishers;
  publishers.reserve(f.publishers.size());
  for (const FleetPublisher& p : f.publishers) {
    auto id = fbb.CreateString(p.id);
    auto source = MaybeString(fbb, p.source);
    const fb::Timestamp last_sync = ToFb(p.last_sync);
    publishers.push_back(
        fb::CreateFleetPublisher(fbb, id, p.last_sync.IsZero() ? nullptr : &last_sync, source));
  }
  auto publisher_vector = fbb.CreateVector(publishers);
  auto servers = MaybeString(fbb, f.servers);
  auto bucket = MaybeString(fbb, f.bucket);
  return fb::CreateFleetStatus(fbb, static_cast<fb::FleetRole>(f.role), servers, bucket,
                               static_cast<fb::FleetConnection>(f.connection), f.cursor,
                               f.caught_up, publisher_vector, f.values_applied, f.values_skipped,
                               f.values_refused, f.writes, f.write_conflicts, f.write_errors,
                               f.cold_starts, f.resync_passes);
}

// The verifier has checked the table's layout; these are the rules it cannot know. Unknown role
// and connection numbers (a newer daemon's) are kept: every surface names them "unknown".
Result<FleetStatus> ParseFleet(const fb::FleetStatus* f) {
  FleetStatus out;
  out.role = static_cast<FleetRole>(f->role());
  if (out.role == FleetRole::kNone) {
    return Err(Status::InvalidArgument("fleet status without a fleet role"));
  }
  out.servers = String(f->servers());
  out.bucket = String(f->bucket());
  out.connection = static_cast<FleetConnection>(f->connection());
  out.cursor = f->cursor();
  out.caught_up = f->caught_up();
  if (const auto* publishers = f->publishers()) {
    out.publishers.reserve(publishers->size());
    for (const fb::FleetPublisher* p : *publishers) {
      if (p == nullptr || p->id() == nullptr || p->id()->size() == 0) {
        return Err(Status::InvalidArgument("fleet publisher without an id"));
      }
      const Timestamp last_sync = FromFb(p->last_sync());
      if (last_sync.nanos < 0 || last_sync.nanos >= kNanosPerSecond) {
        return Err(Status::InvalidArgument("fleet publisher's last sync is not a valid time"));
      }
      out.publishers.push_back(FleetPublisher{String(p->id()), last_sync, String(p->source())});
    }
  }
  out.values_applied = f->values_applied();
  out.values_skipped = f->values_skipped();
  out.values_refused = f->values_refused();
  out.writes = f->writes();
  out.write_conflicts = f->write_conflicts();
  out.write_errors = f->write_errors();
  out.cold_starts = f->cold_starts();
  out.resync_passes = f->resync_passes();
  return out;
}

Result<ServerStatus> ParseStatus(const fb::StatusReply* s) {
  ServerStatus out;
  out.meta.org_count = s->org_count();
  out.meta.custom_policy_count = s->custom_policy_count();
  out.meta.has_instance = s->has_instance();
  out.meta.last_change = FromFb(s->last_change());
  out.meta.last_sync = FromFb(s->last_sync());
  out.meta.source = String(s->source());
  out.meta.cursor = String(s->cursor());
  out.instance_id = String(s->instance_id());
  out.data_age_ms = s->data_age_ms();
  out.stale = s->stale();
  out.upstream = String(s->upstream());
  out.consecutive_failures = s->consecutive_failures();
  out.last_error = String(s->last_error());
  out.health = static_cast<Health>(s->health());
  out.version = String(s->version());
  out.now = FromFb(s->now());
  if (s->counters() != nullptr) out.counters = ParseCounters(s->counters());
  if (s->fleet() != nullptr) {
    Result<FleetStatus> fleet = ParseFleet(s->fleet());
    if (!fleet) return Err(fleet.error());
    out.fleet = std::move(*fleet);
  }
  return out;
}

}  // namespace

struct ResponseEncoder::Impl {
  FlatBufferBuilder fbb{1024};
  std::vector<Offset<fb::PolicyResult>> offsets;
  std::vector<Offset<fb::CheckResult>> check_offsets;
  wire::KindOffsets kind_offsets{};

  // Finishes the response and appends it, length-prefixed, to `out`; resets the builder.
  void Finish(std::vector<std::uint8_t>& out, std::uint64_t id, Offset<fb::Error> error,
              fb::ResponseBody type, Offset<void> body, bool stale) {
    fbb.Finish(fb::CreateResponse(fbb, id, error, type, body, stale), fb::ResponseIdentifier());
    AppendFrame(out, {fbb.GetBufferPointer(), fbb.GetSize()});
    fbb.Clear();
  }

  Offset<fb::PolicyResult> MakeResult(std::string_view org_id, bool known,
                                      const DomainPolicy* policy, const Status* error) {
    auto id = MaybeString(fbb, org_id);
    auto p = policy != nullptr ? BuildPolicy(fbb, *policy) : 0;
    auto e = error != nullptr ? BuildError(fbb, *error) : 0;
    return fb::CreatePolicyResult(fbb, id, known, p, e);
  }

  // As MakeResult, with the domain policy only when kinds.domain, and kinds' generic kinds.
  Offset<fb::PolicyResult> MakeKindsResult(std::string_view org_id, bool known,
                                           const DomainPolicy& policy, const KindAnswers& kinds) {
    auto id = MaybeString(fbb, org_id);
    auto p = kinds.domain ? BuildPolicy(fbb, policy) : 0;
    wire::BuildResultKinds(fbb, kinds, kind_offsets);
    fb::PolicyResultBuilder b(fbb);
    wire::AddResultKinds(fbb, kind_offsets);
    b.add_policy(p);
    b.add_org_id(id);
    b.add_org_known(known);
    return b.Finish();
  }

  Offset<fb::CheckResult> MakeCheck(const CheckResultView& r) {
    auto org = MaybeString(fbb, r.org_id);
    const auto kind = static_cast<fb::CheckKind>(r.kind);
    if (r.decision == nullptr || (r.policy == nullptr && r.password_policy == nullptr)) {
      // A per-check failure; an unset error must still never read as success.
      static const Status kMissing = Status::Internal("check answered without a decision");
      auto e = BuildError(fbb, r.error != nullptr ? *r.error : kMissing);
      return fb::CreateCheckResult(fbb, kind, org, r.org_known, false, fb::CheckReason::UNSPECIFIED,
                                   0, 0, 0, false, false, e);
    }
    const CheckDecision& d = *r.decision;
    auto matched = MaybeString(fbb, d.matched_domain);
    auto message = MaybeString(fbb, d.message);
    auto policy = r.policy != nullptr ? BuildPolicy(fbb, *r.policy) : 0;
    auto error_id = MaybeString(fbb, r.error_id);
    Offset<fb::PasswordComplexityPolicy> password = 0;
    if (r.password_policy != nullptr) {
      password = wire::BuildKindTable(fbb, *r.password_policy, r.password_is_default).o;
    }
    return fb::CreateCheckResult(fbb, kind, org, r.org_known, d.allowed,
                                 static_cast<fb::CheckReason>(d.reason), matched, message, policy,
                                 d.domain_on_org, d.domain_verified, 0, error_id, password);
  }
};

ResponseEncoder::ResponseEncoder() : impl_(std::make_unique<Impl>()) {}
ResponseEncoder::~ResponseEncoder() = default;

void ResponseEncoder::AppendOrgPolicy(std::vector<std::uint8_t>& out, std::uint64_t id,
                                      std::string_view org_id, const Resolution& resolution,
                                      bool stale) {
  auto r = impl_->MakeResult(org_id, resolution.org_known, &resolution.policy, nullptr);
  impl_->Finish(out, id, 0, fb::ResponseBody::PolicyResult, r.Union(), stale);
}

void ResponseEncoder::AppendDefaultPolicy(std::vector<std::uint8_t>& out, std::uint64_t id,
                                          const DomainPolicy& policy, bool stale) {
  auto r = impl_->MakeResult({}, false, &policy, nullptr);
  impl_->Finish(out, id, 0, fb::ResponseBody::PolicyResult, r.Union(), stale);
}

void ResponseEncoder::AppendOrgKinds(std::vector<std::uint8_t>& out, std::uint64_t id,
                                     std::string_view org_id, const Resolution& resolution,
                                     const KindAnswers& kinds, bool stale) {
  auto r = impl_->MakeKindsResult(org_id, resolution.org_known, resolution.policy, kinds);
  impl_->Finish(out, id, 0, fb::ResponseBody::PolicyResult, r.Union(), stale);
}

void ResponseEncoder::AppendDefaultKinds(std::vector<std::uint8_t>& out, std::uint64_t id,
                                         const DomainPolicy& policy, const KindAnswers& kinds,
                                         bool stale) {
  auto r = impl_->MakeKindsResult({}, false, policy, kinds);
  impl_->Finish(out, id, 0, fb::ResponseBody::PolicyResult, r.Union(), stale);
}

void ResponseEncoder::AppendBatch(std::vector<std::uint8_t>& out, std::uint64_t id,
                                  std::span<const OrgAnswer> answers, bool stale) {
  std::vector<Offset<fb::PolicyResult>>& offsets = impl_->offsets;  // reused: no allocation
  offsets.clear();
  for (const OrgAnswer& a : answers) {
    if (a.resolution != nullptr && a.kinds != nullptr) {
      offsets.push_back(impl_->MakeKindsResult(a.org_id, a.resolution->org_known,
                                               a.resolution->policy, *a.kinds));
    } else if (a.resolution != nullptr) {
      offsets.push_back(
          impl_->MakeResult(a.org_id, a.resolution->org_known, &a.resolution->policy, nullptr));
    } else {
      offsets.push_back(impl_->MakeResult(a.org_id, false, nullptr, a.error));
    }
  }
  auto body = fb::CreatePolicyBatch(impl_->fbb, impl_->fbb.CreateVector(offsets));
  impl_->Finish(out, id, 0, fb::ResponseBody::PolicyBatch, body.Union(), stale);
}

void ResponseEncoder::AppendStatus(std::vector<std::uint8_t>& out, std::uint64_t id,
                                   const ServerStatus& s) {
  FlatBufferBuilder& fbb = impl_->fbb;
  auto instance_id = MaybeString(fbb, s.instance_id);
  auto source = MaybeString(fbb, s.meta.source);
  auto cursor = MaybeString(fbb, s.meta.cursor);
  auto upstream = MaybeString(fbb, s.upstream);
  auto last_error = MaybeString(fbb, s.last_error);
  auto version = MaybeString(fbb, s.version);
  const fb::Timestamp last_change = ToFb(s.meta.last_change);
  const fb::Timestamp last_sync = ToFb(s.meta.last_sync);
  const fb::Timestamp now = ToFb(s.now);
  auto counters = s.counters ? BuildCounters(fbb, *s.counters) : 0;
  auto fleet = s.fleet ? BuildFleet(fbb, *s.fleet) : 0;
  auto body =
      fb::CreateStatusReply(fbb, s.meta.org_count, s.meta.custom_policy_count, s.meta.has_instance,
                            instance_id, s.meta.last_change.IsZero() ? nullptr : &last_change,
                            s.meta.last_sync.IsZero() ? nullptr : &last_sync, s.data_age_ms,
                            s.stale, source, cursor, upstream, s.consecutive_failures, last_error,
                            static_cast<fb::Health>(s.health), version, &now, counters, fleet);
  impl_->Finish(out, id, 0, fb::ResponseBody::StatusReply, body.Union(), s.stale);
}

void ResponseEncoder::AppendCheck(std::vector<std::uint8_t>& out, std::uint64_t id,
                                  const CheckResultView& result, bool stale) {
  auto r = impl_->MakeCheck(result);
  impl_->Finish(out, id, 0, fb::ResponseBody::CheckResult, r.Union(), stale);
}

void ResponseEncoder::AppendCheckBatch(std::vector<std::uint8_t>& out, std::uint64_t id,
                                       std::span<const CheckResultView> results, bool stale) {
  std::vector<Offset<fb::CheckResult>>& offsets = impl_->check_offsets;  // reused
  offsets.clear();
  for (const CheckResultView& r : results) offsets.push_back(impl_->MakeCheck(r));
  auto body = fb::CreateCheckResultBatch(impl_->fbb, impl_->fbb.CreateVector(offsets));
  impl_->Finish(out, id, 0, fb::ResponseBody::CheckResultBatch, body.Union(), stale);
}

void ResponseEncoder::AppendError(std::vector<std::uint8_t>& out, std::uint64_t id,
                                  const Status& error) {
  auto e = BuildError(impl_->fbb, error);
  impl_->Finish(out, id, e, fb::ResponseBody::NONE, 0, false);
}

const KindValue* PolicyAnswer::kind(PolicyKind kind) const {
  for (const KindValue& k : kinds) {
    if (k.policy.kind == kind) return &k;
  }
  return nullptr;
}

Result<Response> DecodeResponse(std::span<const std::uint8_t> frame) {
  flatbuffers::Verifier verifier(frame.data(), frame.size());
  if (!fb::VerifyResponseBuffer(verifier)) {
    return Err(Status::InvalidArgument("frame is not a valid policyd Response"));
  }
  const fb::Response* r = fb::GetResponse(frame.data());
  Response out;
  out.id = r->id();
  out.stale = r->stale();
  if (r->error() != nullptr) {
    out.kind = ResponseKind::kError;
    out.error = ParseError(r->error());
    return out;
  }
  if (r->body() == nullptr) {
    return Err(Status::InvalidArgument("response has neither an error nor a body"));
  }
  switch (r->body_type()) {
    case fb::ResponseBody::PolicyResult: {
      Result<PolicyAnswer> a = ParseResult(r->body_as_PolicyResult(), out.stale);
      if (!a) return Err(a.error());
      out.kind = ResponseKind::kPolicy;
      out.policies.push_back(std::move(*a));
      return out;
    }
    case fb::ResponseBody::PolicyBatch: {
      out.kind = ResponseKind::kBatch;
      const auto* results = r->body_as_PolicyBatch()->results();
      if (results == nullptr) return out;
      out.policies.reserve(results->size());
      for (const fb::PolicyResult* item : *results) {
        if (item == nullptr) return Err(Status::InvalidArgument("null entry in PolicyBatch"));
        Result<PolicyAnswer> a = ParseResult(item, out.stale);
        if (!a) return Err(a.error());
        out.policies.push_back(std::move(*a));
      }
      return out;
    }
    case fb::ResponseBody::StatusReply: {
      Result<ServerStatus> status = ParseStatus(r->body_as_StatusReply());
      if (!status) return Err(status.error());
      out.kind = ResponseKind::kStatus;
      out.status = std::move(*status);
      return out;
    }
    case fb::ResponseBody::CheckResult: {
      Result<CheckAnswer> a = ParseCheck(r->body_as_CheckResult(), out.stale);
      if (!a) return Err(a.error());
      out.kind = ResponseKind::kCheck;
      out.checks.push_back(std::move(*a));
      return out;
    }
    case fb::ResponseBody::CheckResultBatch: {
      out.kind = ResponseKind::kCheckBatch;
      const auto* results = r->body_as_CheckResultBatch()->results();
      if (results == nullptr) return out;
      out.checks.reserve(results->size());
      for (const fb::CheckResult* item : *results) {
        if (item == nullptr) return Err(Status::InvalidArgument("null entry in CheckResultBatch"));
        Result<CheckAnswer> a = ParseCheck(item, out.stale);
        if (!a) return Err(a.error());
        out.checks.push_back(std::move(*a));
      }
      return out;
    }
    case fb::ResponseBody::DumpChunk: {
      const fb::DumpChunk* chunk = r->body_as_DumpChunk();
      out.kind = ResponseKind::kDump;
      out.dump.offset = chunk->offset();
      if (const auto* data = chunk->data()) {
        out.dump.data.assign(reinterpret_cast<const char*>(data->data()), data->size());
      }
      out.dump.last = chunk->last();
      out.dump.orgs = chunk->orgs();
      return out;
    }
    default:
      return Err(Status::InvalidArgument("response has neither an error nor a known body"));
  }
}

}  // namespace policyd
