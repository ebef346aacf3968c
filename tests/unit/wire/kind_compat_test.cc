// Policy kinds and old clients: the requests `kinds` field (absent: the domain policy only,
// exactly as before), and frames exchanged with code generated from the frozen pre-kinds schemas
// (v0/*.fbs), which is what an old client runs.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "request_generated.h"
#include "unit/wire/aligned.h"
#include "v0/request_generated.h"
#include "v0/response_generated.h"
#include "wire/frame.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd {
namespace {

using testing_support::Aligned;
using testing_support::Body;

Aligned Finished(const flatbuffers::FlatBufferBuilder& fbb) {
  return Aligned({fbb.GetBufferPointer(), fbb.GetSize()});
}

constexpr KindSet kDomainOnly = KindSet::Of(PolicyKind::kDomain);

KindSet Set(std::initializer_list<PolicyKind> kinds) {
  KindSet s;
  for (PolicyKind k : kinds) s.insert(k);
  return s;
}

// ---- Requests ----

TEST(KindRequestTest, AnOldClientsLookupsAskForTheDomainPolicyOnly) {
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = fb_v0::CreateGetOrgPolicy(fbb, fbb.CreateString("org-1"), true);
    fbb.Finish(fb_v0::CreateRequest(fbb, 1, fb_v0::RequestBody::GetOrgPolicy, body.Union()),
               fb_v0::RequestIdentifier());
    const Aligned frame = Finished(fbb);
    auto r = DecodeRequest(frame.span());
    ASSERT_TRUE(r) << r.error().status.message();
    EXPECT_EQ(r->kind(), RequestKind::kGetOrgPolicy);
    EXPECT_EQ(r->kinds(), kDomainOnly);
    EXPECT_TRUE(r->strict());
  }
  {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<flatbuffers::String>> ids = {fbb.CreateString("a"),
                                                                 fbb.CreateString("b")};
    auto body = fb_v0::CreateGetOrgPolicies(fbb, fbb.CreateVector(ids), false);
    fbb.Finish(fb_v0::CreateRequest(fbb, 2, fb_v0::RequestBody::GetOrgPolicies, body.Union()),
               fb_v0::RequestIdentifier());
    const Aligned frame = Finished(fbb);
    auto r = DecodeRequest(frame.span());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->org_count(), 2u);
    EXPECT_EQ(r->kinds(), kDomainOnly);
  }
  {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(fb_v0::CreateRequest(fbb, 3, fb_v0::RequestBody::GetDefaultPolicy,
                                    fb_v0::CreateGetDefaultPolicy(fbb).Union()),
               fb_v0::RequestIdentifier());
    const Aligned frame = Finished(fbb);
    auto r = DecodeRequest(frame.span());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind(), RequestKind::kGetDefaultPolicy);
    EXPECT_EQ(r->kinds(), kDomainOnly);
  }
  // Today's calls without kinds write exactly such frames.
  std::vector<std::uint8_t> out;
  AppendGetOrgPolicy(out, 4, "org-1", false);
  const Aligned r_body = Body(out);  // the view reads it
  auto r = DecodeRequest(r_body.span());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kinds(), kDomainOnly);
}

TEST(KindRequestTest, KindsRoundTripForEveryRequest) {
  std::mt19937_64 rng(1);
  const std::vector<std::string> orgs = {"org-1", "org-2"};
  for (int i = 0; i < 200; ++i) {
    KindSet kinds;
    while (kinds.empty()) {
      for (std::size_t k = 0; k < kPolicyKindCount; ++k) {
        if (rng() % 2 == 0) kinds.insert(static_cast<PolicyKind>(k));
      }
    }
    std::vector<std::uint8_t> out;
    AppendGetOrgKinds(out, 1, "org-1", kinds, true);
    const Aligned one_body = Body(out);  // the view reads it
    auto one = DecodeRequest(one_body.span());
    ASSERT_TRUE(one);
    EXPECT_EQ(one->kinds(), kinds);
    EXPECT_EQ(one->org_id(0), "org-1");
    EXPECT_TRUE(one->strict());
    out.clear();
    AppendGetOrgsKinds(out, 2, orgs, kinds, false);
    const Aligned many_body = Body(out);  // the view reads it
    auto many = DecodeRequest(many_body.span());
    ASSERT_TRUE(many);
    EXPECT_EQ(many->kinds(), kinds);
    EXPECT_EQ(many->org_count(), 2u);
    out.clear();
    AppendGetDefaultKinds(out, 3, kinds);
    const Aligned def_body = Body(out);  // the view reads it
    auto def = DecodeRequest(def_body.span());
    ASSERT_TRUE(def);
    EXPECT_EQ(def->kinds(), kinds);
  }
}

// A GetOrgPolicy frame whose kinds vector holds `kinds` as raw numbers.
Aligned WithKinds(const std::vector<std::uint8_t>& kinds) {
  flatbuffers::FlatBufferBuilder fbb;
  auto org = fbb.CreateString("org-1");
  auto list = fbb.CreateVector(reinterpret_cast<const fb::PolicyKind*>(kinds.data()), kinds.size());
  auto body = fb::CreateGetOrgPolicy(fbb, org, false, list);
  fbb.Finish(fb::CreateRequest(fbb, 77, fb::RequestBody::GetOrgPolicy, body.Union()),
             fb::RequestIdentifier());
  return Finished(fbb);
}

TEST(KindRequestTest, DuplicateUnknownOrNoKindsAreInvalidArgument) {
  auto expect_invalid = [](const std::vector<std::uint8_t>& kinds, std::string_view message) {
    const Aligned frame = WithKinds(kinds);
    auto r = DecodeRequest(frame.span());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().id, 77u);
    EXPECT_EQ(r.error().status.code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().status.message(), message);
  };
  expect_invalid({1, 4, 1}, "policy kind 1 asked for twice");
  expect_invalid({0, 8}, "unsupported policy kind 8");  // the label preview is never asked
  expect_invalid({255}, "unsupported policy kind 255");
  expect_invalid({}, "kinds is present but empty");
  const Aligned frame = WithKinds({7, 0, 1, 4, 5});
  auto ok = DecodeRequest(frame.span());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->kinds(), Set({PolicyKind::kDomain, PolicyKind::kPasswordComplexity,
                              PolicyKind::kLogin, PolicyKind::kPrivacy, PolicyKind::kLabel}));
}

TEST(KindRequestTest, APasswordCheckDecodesAsSent) {
  const CheckRequest check{CheckKind::kPassword, "org-1", "s3cret!Pass", true};
  std::vector<std::uint8_t> out;
  AppendCheck(out, 5, check);
  const Aligned r_body = Body(out);  // the view reads it
  auto r = DecodeRequest(r_body.span());
  ASSERT_TRUE(r) << r.error().status.message();
  ASSERT_EQ(r->check_count(), 1u);
  const CheckRequest got = r->check(0);
  EXPECT_EQ(got.kind, CheckKind::kPassword);
  EXPECT_EQ(got.org_id, "org-1");
  EXPECT_EQ(got.value, "s3cret!Pass");
  EXPECT_TRUE(got.strict);
  // It concerns one org (whose id the resolution checks) and is valid as it stands.
  EXPECT_TRUE(IsOrgCheck(got.kind));
  EXPECT_TRUE(ValidateCheckRequest(got).ok());
  EXPECT_EQ(CheckKindName(CheckKind::kPassword), "password");
}

// ---- Responses ----

DomainPolicy SomeDomainPolicy() {
  DomainPolicy p;
  p.flags.validate_org_domains = true;
  p.flags.smtp_sender_address_matches_instance_domain = true;
  p.details.sequence = 42;
  p.details.resource_owner = "org-1";
  return p;
}

TEST(KindCompatTest, AnOldClientReadsTheDomainPolicyOfAKindsAnswer) {
  KindPolicy login = EmptyKindPolicy(PolicyKind::kLogin);
  login.fields[0].number = 1;
  login.fields[FindKindField(SpecOf(PolicyKind::kLogin), "second_factors")].list = {1, 2};
  KindPolicy privacy = EmptyKindPolicy(PolicyKind::kPrivacy);
  privacy.fields[0].text = "https://example.com/tos";
  KindAnswers answers;
  answers.kinds[static_cast<std::size_t>(PolicyKind::kLogin)] = {&login, true};
  answers.kinds[static_cast<std::size_t>(PolicyKind::kPrivacy)] = {&privacy, false};
  const Resolution res{SomeDomainPolicy(), true};
  ResponseEncoder enc;

  std::vector<std::uint8_t> frame;
  enc.AppendOrgKinds(frame, 8, "org-1", res, answers, false);
  Aligned body = Body(frame);
  flatbuffers::Verifier verifier(body.span().data(), body.span().size());
  ASSERT_TRUE(fb_v0::VerifyResponseBuffer(verifier));
  const fb_v0::Response* response = fb_v0::GetResponse(body.span().data());
  EXPECT_EQ(response->id(), 8u);
  const fb_v0::PolicyResult* r = response->body_as_PolicyResult();
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->policy(), nullptr);
  EXPECT_TRUE(r->org_known());
  EXPECT_TRUE(r->policy()->validate_org_domains());
  EXPECT_TRUE(r->policy()->smtp_sender_address_matches_instance_domain());
  EXPECT_FALSE(r->policy()->user_login_must_be_domain());
  EXPECT_EQ(r->policy()->details()->sequence(), 42u);

  const Resolution other{DomainPolicy{}, false};
  const OrgAnswer batch[] = {{"org-1", &res, nullptr, &answers},
                             {"org-2", &other, nullptr, &answers}};
  frame.clear();
  enc.AppendBatch(frame, 9, batch, true);
  body = Body(frame);
  flatbuffers::Verifier batch_verifier(body.span().data(), body.span().size());
  ASSERT_TRUE(fb_v0::VerifyResponseBuffer(batch_verifier));
  const auto* results = fb_v0::GetResponse(body.span().data())->body_as_PolicyBatch()->results();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ(results->Get(1)->org_id()->str(), "org-2");
  EXPECT_FALSE(results->Get(1)->org_known());
  ASSERT_NE(results->Get(1)->policy(), nullptr);
}

TEST(KindCompatTest, AnOldDaemonsAnswerDecodesAsDomainOnly) {
  flatbuffers::FlatBufferBuilder fbb;
  auto details = fb_v0::CreateDetails(fbb, 3, nullptr, nullptr, fbb.CreateString("inst"));
  auto policy = fb_v0::CreateDomainPolicy(fbb, details, true, true, false, false);
  auto result = fb_v0::CreatePolicyResult(fbb, fbb.CreateString("org-1"), false, policy);
  fbb.Finish(fb_v0::CreateResponse(fbb, 4, 0, fb_v0::ResponseBody::PolicyResult, result.Union()),
             fb_v0::ResponseIdentifier());
  Result<Response> r = DecodeResponse(Finished(fbb).span());
  ASSERT_TRUE(r) << r.error().message();
  const PolicyAnswer& a = r->policies.at(0);
  EXPECT_TRUE(a.has_domain);
  EXPECT_TRUE(a.kinds.empty());
  EXPECT_EQ(a.kind(PolicyKind::kLogin), nullptr);
  EXPECT_TRUE(a.policy.flags.user_login_must_be_domain);
  EXPECT_TRUE(a.policy.is_default);
  EXPECT_EQ(a.policy.details.resource_owner, "inst");
}

TEST(KindCompatTest, AnOldClientVerifiesAPasswordCheckAnswer) {
  KindPolicy pc = EmptyKindPolicy(PolicyKind::kPasswordComplexity);
  pc.fields[0].number = 8;
  CheckDecision d;
  d.allowed = true;
  d.reason = CheckReason::kPasswordAllowed;
  CheckResultView view;
  view.kind = CheckKind::kPassword;
  view.org_id = "org-1";
  view.decision = &d;
  view.password_policy = &pc;
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendCheck(frame, 2, view, false);
  const Aligned body = Body(frame);
  flatbuffers::Verifier verifier(body.span().data(), body.span().size());
  ASSERT_TRUE(fb_v0::VerifyResponseBuffer(verifier));
  const fb_v0::CheckResult* r = fb_v0::GetResponse(body.span().data())->body_as_CheckResult();
  EXPECT_TRUE(r->allowed());
  EXPECT_EQ(static_cast<int>(r->kind()), 4);
  // And today's decoder: no error id when allowed.
  Result<Response> decoded = DecodeResponse(body.span());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->checks.at(0).error_id, "");
  EXPECT_EQ(decoded->checks.at(0).password_complexity->policy, pc);
}

}  // namespace
}  // namespace policyd
