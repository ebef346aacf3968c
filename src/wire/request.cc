#include "wire/request.h"

#include <flatbuffers/flatbuffers.h>

#include <array>

#include "request_generated.h"
#include "wire/frame.h"

namespace policyd {
namespace {

using StringVector = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;
using CheckVector = flatbuffers::Vector<flatbuffers::Offset<fb::Check>>;
using KindVector = flatbuffers::Vector<fb::PolicyKind>;

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

CheckRequest FromFb(const fb::Check* c) {
  return CheckRequest{static_cast<CheckKind>(c->kind()), View(c->org_id()), View(c->value()),
                      c->strict()};
}

flatbuffers::Offset<fb::Check> BuildCheck(flatbuffers::FlatBufferBuilder& fbb,
                                          const CheckRequest& c) {
  auto org = c.org_id.empty() ? 0 : fbb.CreateString(c.org_id.data(), c.org_id.size());
  auto value = c.value.empty() ? 0 : fbb.CreateString(c.value.data(), c.value.size());
  return fb::CreateCheck(fbb, static_cast<fb::CheckKind>(c.kind), org, value, c.strict);
}

// The kinds a lookup asks for: absent is the domain policy only (old clients); else exactly
// those listed, each once.
Result<KindSet> DecodeKinds(const KindVector* kinds) {
  if (kinds == nullptr) return KindSet::Of(PolicyKind::kDomain);
  if (kinds->size() == 0) return Err(Status::InvalidArgument("kinds is present but empty"));
  KindSet out;
  for (fb::PolicyKind k : *kinds) {
    const auto number = static_cast<std::uint8_t>(k);
    if (!IsKnownKind(number)) {
      return Err(Status::InvalidArgument("unsupported policy kind " + std::to_string(number)));
    }
    const auto kind = static_cast<PolicyKind>(number);
    if (out.contains(kind)) {
      return Err(
          Status::InvalidArgument("policy kind " + std::to_string(number) + " asked for twice"));
    }
    out.insert(kind);
  }
  return out;
}

// Writes `kinds` as a vector in kind number order.
flatbuffers::Offset<KindVector> BuildKinds(flatbuffers::FlatBufferBuilder& fbb, KindSet kinds) {
  std::array<fb::PolicyKind, kPolicyKindCount> list{};
  std::size_t n = 0;
  for (std::size_t k = 0; k < kPolicyKindCount; ++k) {
    if (kinds.contains(static_cast<PolicyKind>(k))) list[n++] = static_cast<fb::PolicyKind>(k);
  }
  return fbb.CreateVector(list.data(), n);
}

// Finishes `fbb` as a Request and appends it, length-prefixed, to `out`.
void AppendFinished(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t id, fb::RequestBody type,
                    flatbuffers::Offset<void> body, std::vector<std::uint8_t>& out) {
  fbb.Finish(fb::CreateRequest(fbb, id, type, body), fb::RequestIdentifier());
  AppendFrame(out, {fbb.GetBufferPointer(), fbb.GetSize()});
}

// Overwrites the finished buffer of `fbb` (which held a password) before it is freed.
void Wipe(flatbuffers::FlatBufferBuilder& fbb) {
  volatile std::uint8_t* p = fbb.GetBufferPointer();
  for (flatbuffers::uoffset_t i = 0; i < fbb.GetSize(); ++i) p[i] = 0;
}

}  // namespace

struct RequestDecoder {
  static tl::expected<RequestView, RequestError> Decode(std::span<const std::uint8_t> frame) {
    auto fail = [](std::uint64_t id, std::string message) {
      return tl::unexpected(RequestError{id, Status::InvalidArgument(std::move(message))});
    };
    flatbuffers::Verifier verifier(frame.data(), frame.size());
    if (!fb::VerifyRequestBuffer(verifier)) {
      return fail(0, "frame is not a valid policyd Request (FlatBuffers verification failed)");
    }
    const fb::Request* request = fb::GetRequest(frame.data());
    RequestView view;
    view.id_ = request->id();
    // The verifier accepts a union type whose value is absent; treat that as no body at all.
    if (request->body() == nullptr) return fail(view.id_, "request has no body");
    switch (request->body_type()) {
      case fb::RequestBody::GetOrgPolicy: {
        const fb::GetOrgPolicy* body = request->body_as_GetOrgPolicy();
        if (body->org_id() == nullptr) return fail(view.id_, "GetOrgPolicy without org_id");
        Result<KindSet> kinds = DecodeKinds(body->kinds());
        if (!kinds) return tl::unexpected(RequestError{view.id_, kinds.error()});
        view.kind_ = RequestKind::kGetOrgPolicy;
        view.kinds_ = *kinds;
        view.strict_ = body->strict();
        view.single_org_ = View(body->org_id());
        return view;
      }
      case fb::RequestBody::GetOrgPolicies: {
        const fb::GetOrgPolicies* body = request->body_as_GetOrgPolicies();
        const StringVector* ids = body->org_ids();
        if (ids == nullptr || ids->size() == 0) {
          return fail(view.id_, "GetOrgPolicies without org_ids");
        }
        if (ids->size() > kMaxBatchOrgs) {
          return fail(view.id_, "GetOrgPolicies asks for " + std::to_string(ids->size()) +
                                    " orgs; the maximum is " + std::to_string(kMaxBatchOrgs));
        }
        Result<KindSet> kinds = DecodeKinds(body->kinds());
        if (!kinds) return tl::unexpected(RequestError{view.id_, kinds.error()});
        view.kind_ = RequestKind::kGetOrgPolicies;
        view.kinds_ = *kinds;
        view.strict_ = body->strict();
        view.batch_ids_ = ids;
        return view;
      }
      case fb::RequestBody::GetDefaultPolicy: {
        Result<KindSet> kinds = DecodeKinds(request->body_as_GetDefaultPolicy()->kinds());
        if (!kinds) return tl::unexpected(RequestError{view.id_, kinds.error()});
        view.kind_ = RequestKind::kGetDefaultPolicy;
        view.kinds_ = *kinds;
        return view;
      }
      case fb::RequestBody::GetStatus:
        view.kind_ = RequestKind::kGetStatus;
        view.with_counters_ = request->body_as_GetStatus()->with_counters();
        return view;
      case fb::RequestBody::Check:
        view.kind_ = RequestKind::kCheck;
        view.checks_ = request->body_as_Check();
        return view;
      case fb::RequestBody::CheckBatch: {
        const CheckVector* checks = request->body_as_CheckBatch()->checks();
        if (checks == nullptr || checks->size() == 0) {
          return fail(view.id_, "CheckBatch without checks");
        }
        if (checks->size() > kMaxBatchChecks) {
          return fail(view.id_, "CheckBatch holds " + std::to_string(checks->size()) +
                                    " checks; the maximum is " + std::to_string(kMaxBatchChecks));
        }
        view.kind_ = RequestKind::kCheckBatch;
        view.checks_ = checks;
        return view;
      }
      case fb::RequestBody::Dump:
        view.kind_ = RequestKind::kDump;
        return view;
      case fb::RequestBody::NONE:
        return fail(view.id_, "request has no body");
    }
    return fail(view.id_, "unsupported request kind " +
                              std::to_string(static_cast<int>(request->body_type())));
  }
};

std::size_t RequestView::org_count() const {
  switch (kind_) {
    case RequestKind::kGetOrgPolicy:
      return 1;
    case RequestKind::kGetOrgPolicies:
      return static_cast<const StringVector*>(batch_ids_)->size();
    default:
      return 0;
  }
}

std::string_view RequestView::org_id(std::size_t i) const {
  if (kind_ == RequestKind::kGetOrgPolicy) return single_org_;
  return View(
      static_cast<const StringVector*>(batch_ids_)->Get(static_cast<flatbuffers::uoffset_t>(i)));
}

std::size_t RequestView::check_count() const {
  switch (kind_) {
    case RequestKind::kCheck:
      return 1;
    case RequestKind::kCheckBatch:
      return static_cast<const CheckVector*>(checks_)->size();
    default:
      return 0;
  }
}

CheckRequest RequestView::check(std::size_t i) const {
  if (kind_ == RequestKind::kCheck) return FromFb(static_cast<const fb::Check*>(checks_));
  return FromFb(
      static_cast<const CheckVector*>(checks_)->Get(static_cast<flatbuffers::uoffset_t>(i)));
}

tl::expected<RequestView, RequestError> DecodeRequest(std::span<const std::uint8_t> frame) {
  return RequestDecoder::Decode(frame);
}

void AppendGetOrgPolicy(std::vector<std::uint8_t>& out, std::uint64_t id, std::string_view org_id,
                        bool strict) {
  flatbuffers::FlatBufferBuilder fbb(64 + org_id.size());
  auto org = fbb.CreateString(org_id.data(), org_id.size());
  auto body = fb::CreateGetOrgPolicy(fbb, org, strict);
  AppendFinished(fbb, id, fb::RequestBody::GetOrgPolicy, body.Union(), out);
}

void AppendGetOrgPolicies(std::vector<std::uint8_t>& out, std::uint64_t id,
                          std::span<const std::string> org_ids, bool strict) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<flatbuffers::String>> offsets;
  offsets.reserve(org_ids.size());
  for (const std::string& org : org_ids) offsets.push_back(fbb.CreateString(org));
  auto body = fb::CreateGetOrgPolicies(fbb, fbb.CreateVector(offsets), strict);
  AppendFinished(fbb, id, fb::RequestBody::GetOrgPolicies, body.Union(), out);
}

void AppendGetDefaultPolicy(std::vector<std::uint8_t>& out, std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb(64);
  AppendFinished(fbb, id, fb::RequestBody::GetDefaultPolicy,
                 fb::CreateGetDefaultPolicy(fbb).Union(), out);
}

void AppendGetStatus(std::vector<std::uint8_t>& out, std::uint64_t id, bool with_counters) {
  flatbuffers::FlatBufferBuilder fbb(64);
  AppendFinished(fbb, id, fb::RequestBody::GetStatus,
                 fb::CreateGetStatus(fbb, with_counters).Union(), out);
}

void AppendCheck(std::vector<std::uint8_t>& out, std::uint64_t id, const CheckRequest& check) {
  flatbuffers::FlatBufferBuilder fbb(64 + check.org_id.size() + check.value.size());
  auto body = BuildCheck(fbb, check);
  AppendFinished(fbb, id, fb::RequestBody::Check, body.Union(), out);
  if (check.kind == CheckKind::kPassword) Wipe(fbb);
}

void AppendGetOrgKinds(std::vector<std::uint8_t>& out, std::uint64_t id, std::string_view org_id,
                       KindSet kinds, bool strict) {
  flatbuffers::FlatBufferBuilder fbb(64 + org_id.size());
  auto org = fbb.CreateString(org_id.data(), org_id.size());
  auto list = BuildKinds(fbb, kinds);
  auto body = fb::CreateGetOrgPolicy(fbb, org, strict, list);
  AppendFinished(fbb, id, fb::RequestBody::GetOrgPolicy, body.Union(), out);
}

void AppendGetOrgsKinds(std::vector<std::uint8_t>& out, std::uint64_t id,
                        std::span<const std::string> org_ids, KindSet kinds, bool strict) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<flatbuffers::String>> offsets;
  offsets.reserve(org_ids.size());
  for (const std::string& org : org_ids) offsets.push_back(fbb.CreateString(org));
  auto ids = fbb.CreateVector(offsets);
  auto list = BuildKinds(fbb, kinds);
  auto body = fb::CreateGetOrgPolicies(fbb, ids, strict, list);
  AppendFinished(fbb, id, fb::RequestBody::GetOrgPolicies, body.Union(), out);
}

void AppendGetDefaultKinds(std::vector<std::uint8_t>& out, std::uint64_t id, KindSet kinds) {
  flatbuffers::FlatBufferBuilder fbb(64);
  auto list = BuildKinds(fbb, kinds);
  AppendFinished(fbb, id, fb::RequestBody::GetDefaultPolicy,
                 fb::CreateGetDefaultPolicy(fbb, list).Union(), out);
}

void AppendCheckBatch(std::vector<std::uint8_t>& out, std::uint64_t id,
                      std::span<const CheckRequest> checks) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<fb::Check>> offsets;
  offsets.reserve(checks.size());
  for (const CheckRequest& c : checks) offsets.push_back(BuildCheck(fbb, c));
  auto body = fb::CreateCheckBatch(fbb, fbb.CreateVector(offsets));
  AppendFinished(fbb, id, fb::RequestBody::CheckBatch, body.Union(), out);
  for (const CheckRequest& c : checks) {
    if (c.kind == CheckKind::kPassword) return Wipe(fbb);
  }
}

}  // namespace policyd
