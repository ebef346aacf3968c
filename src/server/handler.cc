#include "server/handler.h"

#include "check/password.h"
#include "resolve/resolve.h"
#include "wire/request.h"

namespace policyd {

namespace {

// The counted kind of a decoded request: its RequestBody type number (model/counters.h).
std::uint8_t CountedKind(RequestKind kind) {
  switch (kind) {
    case RequestKind::kGetOrgPolicy:
      return kKindGetOrgPolicy;
    case RequestKind::kGetOrgPolicies:
      return kKindGetOrgPolicies;
    case RequestKind::kGetDefaultPolicy:
      return kKindGetDefaultPolicy;
    case RequestKind::kGetStatus:
      return kKindGetStatus;
    case RequestKind::kCheck:
      return kKindCheck;
    case RequestKind::kCheckBatch:
      return kKindCheckBatch;
    case RequestKind::kDump:
      return kKindDump;
  }
  return kKindUndecodable;
}

// A lookup whose kinds are the domain policy alone: answered exactly as before kinds existed.
bool DomainOnly(KindSet kinds) { return kinds == KindSet::Of(PolicyKind::kDomain); }

bool HasPasswordCheck(const RequestView& request) {
  for (std::size_t i = 0; i < request.check_count(); ++i) {
    if (request.check(i).kind == CheckKind::kPassword) return true;
  }
  return false;
}

}  // namespace

RequestHandler::RequestHandler(const Store& store, const ServingState& state, const Clock& clock,
                               std::string version, RequestMetrics* metrics,
                               const CountersSource* counters)
    : store_(store),
      state_(state),
      clock_(clock),
      version_(std::move(version)),
      metrics_(metrics),
      counters_(counters) {}

void RequestHandler::AppendError(std::uint64_t id, const Status& error,
                                 std::vector<std::uint8_t>& out) {
  encoder_.AppendError(out, id, error);
  if (metrics_ != nullptr) {
    metrics_->Count(kKindUndecodable, error.code());
    metrics_->CountBadFrame();
  }
}

Code RequestHandler::Fail(std::uint64_t id, const Status& error, std::vector<std::uint8_t>& out) {
  encoder_.AppendError(out, id, error);
  return error.code();
}

FrameSecrets RequestHandler::Handle(std::span<const std::uint8_t> frame,
                                    std::vector<std::uint8_t>& out) {
  auto request = DecodeRequest(frame);
  if (!request) {
    encoder_.AppendError(out, request.error().id, request.error().status);
    if (metrics_ != nullptr) metrics_->Count(kKindUndecodable, request.error().status.code());
    return FrameSecrets::kMayHoldSecret;
  }
  const Code code = Answer(*request, out);
  if (metrics_ != nullptr) metrics_->Count(CountedKind(request->kind()), code);
  return HasPasswordCheck(*request) ? FrameSecrets::kMayHoldSecret : FrameSecrets::kNone;
}

Code RequestHandler::Answer(const RequestView& request, std::vector<std::uint8_t>& out) {
  const Timestamp now = clock_.Now();
  if (request.kind() == RequestKind::kGetStatus) return HandleStatus(request, now, out);
  if (request.kind() == RequestKind::kDump) return HandleDump(request, out);
  const bool stale = state_.IsStale(now);
  if (stale && state_.refuse_when_stale()) {
    return Fail(request.id(),
                Status::Unavailable("policy data is older than max-staleness and "
                                    "policyd is configured to refuse stale data"),
                out);
  }
  if (request.kind() == RequestKind::kGetDefaultPolicy) return HandleDefault(request, stale, out);
  if (request.kind() == RequestKind::kCheck || request.kind() == RequestKind::kCheckBatch) {
    return HandleChecks(request, stale, out);
  }
  return HandleOrgs(request, stale, out);
}

Code RequestHandler::HandleDump(const RequestView& request, std::vector<std::uint8_t>& out) {
  Result<std::unique_ptr<DumpCursor>> cursor = store_.OpenDumpCursor();
  if (!cursor) return Fail(request.id(), cursor.error(), out);
  dump_ = std::make_unique<DumpStream>(request.id(), std::move(*cursor));
  return Code::kOk;
}

Code RequestHandler::HandleOrgs(const RequestView& request, bool stale,
                                std::vector<std::uint8_t>& out) {
  const std::size_t n = request.org_count();
  const KindSet kinds = request.kinds();
  batch_.Clear();
  batch_.set_kinds(kinds);
  for (std::size_t i = 0; i < n; ++i) batch_.Add(request.org_id(i));
  if (Status s = store_.Read(batch_); !s.ok()) return Fail(request.id(), s, out);
  // Resolutions are written into reused members: a warmed-up handler does not allocate.
  if (resolutions_.size() < n) resolutions_.resize(n);
  if (kind_answers_.size() < n) kind_answers_.resize(n);
  if (request.kind() == RequestKind::kGetOrgPolicy) {
    if (Status s = ResolveOrg(request, 0, kinds); !s.ok()) return Fail(request.id(), s, out);
    if (DomainOnly(kinds)) {
      encoder_.AppendOrgPolicy(out, request.id(), request.org_id(0), resolutions_[0], stale);
    } else {
      encoder_.AppendOrgKinds(out, request.id(), request.org_id(0), resolutions_[0],
                              kind_answers_[0], stale);
    }
    return Code::kOk;
  }
  // Size the result vectors before taking pointers into them.
  if (errors_.size() < n) errors_.resize(n);
  answers_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    Status s = ResolveOrg(request, i, kinds);
    answers_[i] = OrgAnswer{request.org_id(i), nullptr, nullptr, nullptr};
    if (s.ok()) {
      answers_[i].resolution = &resolutions_[i];
      if (!DomainOnly(kinds)) answers_[i].kinds = &kind_answers_[i];
    } else {
      errors_[i] = std::move(s);
      answers_[i].error = &errors_[i];
    }
  }
  encoder_.AppendBatch(out, request.id(), answers_, stale);
  return Code::kOk;
}

Status RequestHandler::ResolveOrg(const RequestView& request, std::size_t i, KindSet kinds) {
  const std::string_view org_id = request.org_id(i);
  const OrgView org = batch_.org(i);
  Resolution& resolution = resolutions_[i];
  if (kinds.contains(PolicyKind::kDomain)) {
    POLICYD_RETURN_IF_ERROR(
        ResolveOrgPolicyInto(org_id, org, batch_.instance(), request.strict(), resolution));
  } else {
    POLICYD_RETURN_IF_ERROR(CheckOrgLookup(org_id, org.known, request.strict()));
    resolution.org_known = org.known;
  }
  return ResolveKinds(kinds, org.known ? std::optional<std::size_t>(i) : std::nullopt,
                      kind_answers_[i]);
}

Status RequestHandler::ResolveKinds(KindSet kinds, std::optional<std::size_t> org,
                                    KindAnswers& out) const {
  out.domain = kinds.contains(PolicyKind::kDomain);
  for (const PolicyKind kind : kGenericKinds) {
    KindResolution& answer = out.kinds[static_cast<std::size_t>(kind)];
    answer = KindResolution{};
    if (!kinds.contains(kind)) continue;
    const KindPolicy* own = org ? batch_.kind_policy(*org, kind) : nullptr;
    POLICYD_RETURN_IF_ERROR(ResolveKindInto(kind, own, batch_.kind_default(kind), answer));
  }
  return Status::Ok();
}

Code RequestHandler::HandleDefault(const RequestView& request, bool stale,
                                   std::vector<std::uint8_t>& out) {
  const KindSet kinds = request.kinds();
  batch_.Clear();
  batch_.set_kinds(kinds);
  if (Status s = store_.Read(batch_); !s.ok()) return Fail(request.id(), s, out);
  if (kinds.contains(PolicyKind::kDomain)) {
    if (Status s = ResolveDefaultPolicyInto(batch_.instance(), default_policy_); !s.ok()) {
      return Fail(request.id(), s, out);
    }
  }
  if (DomainOnly(kinds)) {
    encoder_.AppendDefaultPolicy(out, request.id(), default_policy_, stale);
    return Code::kOk;
  }
  if (Status s = ResolveKinds(kinds, std::nullopt, default_kinds_); !s.ok()) {
    return Fail(request.id(), s, out);
  }
  encoder_.AppendDefaultKinds(out, request.id(), default_policy_, default_kinds_, stale);
  return Code::kOk;
}

Code RequestHandler::HandleChecks(const RequestView& request, bool stale,
                                  std::vector<std::uint8_t>& out) {
  const std::size_t n = request.check_count();
  batch_.Clear();
  batch_.set_kinds(HasPasswordCheck(request) ? KindSet::Of(PolicyKind::kPasswordComplexity)
                                             : KindSet{});
  claim_queries_.assign(n, kNoClaims);
  for (std::size_t i = 0; i < n; ++i) {
    const CheckRequest c = request.check(i);
    if (IsOrgCheck(c.kind)) batch_.Add(c.org_id);
    // Whether the claims count depends on the policy, which this same read brings: ask anyway.
    if (c.kind != CheckKind::kLoginName) continue;
    if (const std::optional<std::string_view> domain = LoginNameClaimedDomain(c.value)) {
      claim_queries_[i] = batch_.AddClaimQuery(*domain, c.org_id);
    }
  }
  if (Status s = store_.Read(batch_); !s.ok()) return Fail(request.id(), s, out);
  // Size every vector before taking pointers into them; all keep their capacity.
  if (resolutions_.size() < n) resolutions_.resize(n);
  if (errors_.size() < n) errors_.resize(n);
  if (decisions_.size() < n) decisions_.resize(n);
  if (password_policies_.size() < n) password_policies_.resize(n);
  check_views_.resize(n);
  // Checks that need domains are decided on one consistent view: the policies (and claims) are
  // read again together with the orgs' and the instance's domains, from one RocksDB snapshot (the
  // in-memory index holds no domains), and resolved again, so that a sync landing between two reads
  // can never pair one state's policy with another state's domains. Checks that need none cost the
  // index read alone. Every decision below uses the last resolution, so a check needs domains
  // only where that resolution said so, and then batch_ holds them.
  if (ResolveChecks(request)) {
    batch_.set_with_domains(true);
    const Status s = store_.Read(batch_);
    batch_.set_with_domains(false);
    if (!s.ok()) return Fail(request.id(), s, out);
    ResolveChecks(request);
  }
  std::size_t org_index = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const CheckRequest c = request.check(i);
    const std::optional<std::size_t> org =
        IsOrgCheck(c.kind) ? std::optional<std::size_t>(org_index++) : std::nullopt;
    if (check_views_[i].error == nullptr) DecideCheck(c, i, org);
  }
  if (request.kind() == RequestKind::kCheck) {
    if (check_views_[0].error != nullptr) return Fail(request.id(), *check_views_[0].error, out);
    encoder_.AppendCheck(out, request.id(), check_views_[0], stale);
  } else {
    encoder_.AppendCheckBatch(out, request.id(), check_views_, stale);
  }
  return Code::kOk;
}

bool RequestHandler::ResolveChecks(const RequestView& request) {
  bool need_domains = false;
  std::size_t org_index = 0;
  for (std::size_t i = 0; i < request.check_count(); ++i) {
    const CheckRequest c = request.check(i);
    CheckResultView& view = check_views_[i];
    view = CheckResultView{c.kind, c.org_id, false, nullptr, nullptr, nullptr};
    Resolution& resolution = resolutions_[i];
    Status s = ValidateCheckRequest(c);
    if (c.kind == CheckKind::kPassword) {
      const std::size_t org = org_index++;
      if (s.ok()) s = ResolvePasswordCheck(c, i, org);
    } else if (IsOrgCheck(c.kind)) {
      const OrgView org = batch_.org(org_index++);
      if (s.ok()) s = ResolveOrgPolicyInto(c.org_id, org, batch_.instance(), c.strict, resolution);
    } else if (s.ok()) {
      // The SMTP sender is checked against the instance policy alone, as upstream.
      resolution.org_known = false;
      s = ResolveDefaultPolicyInto(batch_.instance(), resolution.policy);
    }
    if (!s.ok()) {
      errors_[i] = std::move(s);
      view.error = &errors_[i];
      continue;
    }
    need_domains = need_domains || NeedsDomains(c, resolution);
  }
  return need_domains;
}

Status RequestHandler::ResolvePasswordCheck(const CheckRequest& check, std::size_t i,
                                            std::size_t org) {
  const OrgView view = batch_.org(org);
  POLICYD_RETURN_IF_ERROR(CheckOrgLookup(check.org_id, view.known, check.strict));
  resolutions_[i].org_known = view.known;
  const KindPolicy* own =
      view.known ? batch_.kind_policy(org, PolicyKind::kPasswordComplexity) : nullptr;
  return ResolveKindInto(PolicyKind::kPasswordComplexity, own,
                         batch_.kind_default(PolicyKind::kPasswordComplexity),
                         password_policies_[i]);
}

bool RequestHandler::NeedsDomains(const CheckRequest& check, const Resolution& resolution) {
  // An org the store does not know has no domains, and org checks need only the org's.
  if (IsOrgCheck(check.kind) && !resolution.org_known) return false;
  return CheckNeedsDomains(check.kind, resolution.policy.flags);
}

void RequestHandler::DecideCheck(const CheckRequest& check, std::size_t i,
                                 std::optional<std::size_t> org) {
  if (check.kind == CheckKind::kPassword) return DecidePassword(check, i);
  const Resolution& resolution = resolutions_[i];
  std::span<const OrgDomain> org_domains;
  std::span<const std::string> instance_domains;
  if (NeedsDomains(check, resolution)) {
    instance_domains = batch_.instance_domains().names;
    if (org) org_domains = batch_.domains(*org).domains;
  }
  std::span<const DomainClaim> claims;
  if (claim_queries_[i] != kNoClaims) claims = batch_.claims(claim_queries_[i]);
  Decide(
      check,
      CheckContext{resolution.policy, resolution.org_known, org_domains, instance_domains, claims},
      decisions_[i]);
  CheckResultView& view = check_views_[i];
  view.org_known = resolution.org_known;
  view.policy = &resolution.policy;
  view.decision = &decisions_[i];
}

void RequestHandler::DecidePassword(const CheckRequest& check, std::size_t i) {
  const KindResolution& policy = password_policies_[i];
  const PasswordVerdict verdict = CheckPassword(*policy.policy, check.value);
  CheckDecision& decision = decisions_[i];
  decision.Clear();
  decision.allowed = verdict.allowed;
  decision.reason = PasswordCheckReason(verdict.failed);
  decision.message.assign(verdict.message);
  CheckResultView& view = check_views_[i];
  view.org_known = resolutions_[i].org_known;
  view.decision = &decision;
  view.password_policy = policy.policy;
  view.password_is_default = policy.is_default;
  view.error_id = verdict.error_id;
}

Code RequestHandler::HandleStatus(const RequestView& request, Timestamp now,
                                  std::vector<std::uint8_t>& out) {
  Result<StoreMeta> meta = store_.Meta();
  batch_.Clear();
  batch_.set_kinds(KindSet{});  // the instance id only
  Status read = meta ? store_.Read(batch_) : meta.error();
  if (!read.ok()) return Fail(request.id(), read, out);
  ServerStatus status;
  status.meta = std::move(*meta);
  if (const InstanceRecord* instance = batch_.instance()) status.instance_id = instance->id;
  status.version = version_;
  state_.FillStatus(now, status);
  if (request.with_counters() && counters_ != nullptr && *counters_) {
    (*counters_)(status.counters.emplace());
  }
  encoder_.AppendStatus(out, request.id(), status);
  return Code::kOk;
}

}  // namespace policyd
