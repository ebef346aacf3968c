// Checks on the wire: Check / CheckBatch requests and CheckResult / CheckResultBatch answers,
// their limits, and hostile bytes.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "request_generated.h"
#include "unit/wire/aligned.h"
#include "wire/frame.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd {
namespace {

using testing_support::Aligned;
using testing_support::Body;
using testing_support::Bytes;
using testing_support::FrameBody;

void ExpectSame(const CheckRequest& a, const CheckRequest& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.org_id, b.org_id);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.strict, b.strict);
}

TEST(CheckRequestWireTest, OneCheckRoundTrips) {
  const CheckRequest asked{CheckKind::kLoginName, "300000000000000042", "alice@acme.com", true};
  std::vector<std::uint8_t> frame;
  AppendCheck(frame, 7, asked);
  Aligned body = FrameBody(frame);
  auto r = DecodeRequest(body.span());
  ASSERT_TRUE(r.has_value()) << r.error().status.ToString();
  EXPECT_EQ(r->id(), 7u);
  EXPECT_EQ(r->kind(), RequestKind::kCheck);
  EXPECT_EQ(r->org_count(), 0u);
  ASSERT_EQ(r->check_count(), 1u);
  ExpectSame(r->check(0), asked);
}

TEST(CheckRequestWireTest, ABatchRoundTripsInOrderWithEveryKind) {
  const std::vector<CheckRequest> asked = {
      {CheckKind::kLoginName, "42", "alice@acme.com", false},
      {CheckKind::kSmtpSender, "", "noreply@x.example", false},
      {CheckKind::kDomainVerification, "43", "new.com", true},
      {CheckKind::kLoginName, "42", "", false},  // an empty value is sent as absent
  };
  std::vector<std::uint8_t> frame;
  AppendCheckBatch(frame, 8, asked);
  Aligned body = FrameBody(frame);
  auto r = DecodeRequest(body.span());
  ASSERT_TRUE(r.has_value()) << r.error().status.ToString();
  EXPECT_EQ(r->kind(), RequestKind::kCheckBatch);
  ASSERT_EQ(r->check_count(), asked.size());
  for (std::size_t i = 0; i < asked.size(); ++i) ExpectSame(r->check(i), asked[i]);
}

TEST(CheckRequestWireTest, UnknownCheckKindsPassDecodingForTheHandlerToRefuse) {
  // A newer client's kind must fail alone inside a batch, so decoding keeps it.
  const std::vector<CheckRequest> asked = {{static_cast<CheckKind>(9), "42", "x", false},
                                           {CheckKind::kUnspecified, "42", "x", false}};
  std::vector<std::uint8_t> frame;
  AppendCheckBatch(frame, 9, asked);
  Aligned body = FrameBody(frame);
  auto r = DecodeRequest(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(static_cast<int>(r->check(0).kind), 9);
  EXPECT_EQ(r->check(1).kind, CheckKind::kUnspecified);
}

TEST(CheckRequestWireTest, BatchLimitsAreEnforced) {
  std::vector<std::uint8_t> frame;
  AppendCheckBatch(frame, 10, std::vector<CheckRequest>{});
  Aligned empty = FrameBody(frame);
  auto r = DecodeRequest(empty.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 10u);
  EXPECT_EQ(r.error().status.code(), Code::kInvalidArgument);

  const CheckRequest one{CheckKind::kSmtpSender, "", "a@b", false};
  frame.clear();
  AppendCheckBatch(frame, 11, std::vector<CheckRequest>(kMaxBatchChecks, one));
  Aligned full = FrameBody(frame);
  r = DecodeRequest(full.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->check_count(), kMaxBatchChecks);

  frame.clear();
  AppendCheckBatch(frame, 12, std::vector<CheckRequest>(kMaxBatchChecks + 1, one));
  Aligned over = FrameBody(frame);
  r = DecodeRequest(over.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 12u);
  EXPECT_NE(r.error().status.message().find("1025 checks"), std::string::npos)
      << r.error().status.message();
}

TEST(CheckRequestWireTest, ABatchWithoutItsVectorIsInvalid) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateCheckBatch(fbb, 0);
  fbb.Finish(fb::CreateRequest(fbb, 13, fb::RequestBody::CheckBatch, body.Union()),
             fb::RequestIdentifier());
  Aligned no_checks({fbb.GetBufferPointer(), fbb.GetSize()});
  auto r = DecodeRequest(no_checks.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 13u);
}

TEST(CheckRequestWireTest, TruncationsGarbageAndBitFlipsNeverCrash) {
  std::vector<std::uint8_t> frame;
  AppendCheckBatch(frame, 3,
                   std::vector<CheckRequest>{{CheckKind::kLoginName, "42", "alice@acme.com", true},
                                             {CheckKind::kSmtpSender, "", "a@x.example", false}});
  const std::vector<std::uint8_t> body(frame.begin() + kFrameHeaderBytes, frame.end());
  auto touch = [](const RequestView& r) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < r.check_count(); ++i) {
      const CheckRequest c = r.check(i);
      n += c.org_id.size() + c.value.size();
    }
    return n;
  };
  for (std::size_t n = 0; n < body.size(); ++n) {
    Aligned truncated(std::span<const std::uint8_t>(body.data(), n));
    auto r = DecodeRequest(truncated.span());
    if (r.has_value()) {  // only trailing padding may go unnoticed
      EXPECT_GT(n, body.size() - 8) << n;
      EXPECT_EQ(touch(*r), 2u + 14u + 11u);
    }
  }
  for (std::size_t i = 0; i < body.size() * 8; ++i) {
    std::vector<std::uint8_t> flipped = body;
    flipped[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    Aligned f = FrameBody(flipped);
    if (auto r = DecodeRequest(f.span())) (void)touch(*r);
  }
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> garbage(8 + rng() % 160);
    for (auto& b : garbage) b = static_cast<std::uint8_t>(rng());
    std::memcpy(garbage.data() + 4, "PDRQ", 4);
    Aligned g = FrameBody(garbage);
    if (auto r = DecodeRequest(g.span())) (void)touch(*r);
  }
}

DomainPolicy SamplePolicy() {
  return DomainPolicy{
      {true, true, false},
      false,
      Details{17, Timestamp{1739260801, 500000000}, Timestamp{1740820364, 123456000}, "42"}};
}

TEST(CheckResponseWireTest, AnAnswerRoundTripsWithEveryField) {
  const DomainPolicy policy = SamplePolicy();
  CheckDecision d;
  d.allowed = false;
  d.reason = CheckReason::kDomainNotVerified;
  d.matched_domain = "pending.org";
  d.message = "org 42 already has pending.org, not verified";
  d.domain_on_org = true;
  d.domain_verified = false;
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendCheck(frame, 5,
                  CheckResultView{CheckKind::kDomainVerification, "42", true, &policy, &d, nullptr},
                  /*stale=*/true);
  Aligned body = FrameBody(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->id, 5u);
  EXPECT_EQ(r->kind, ResponseKind::kCheck);
  EXPECT_TRUE(r->stale);
  ASSERT_EQ(r->checks.size(), 1u);
  const CheckAnswer& a = r->checks[0];
  EXPECT_TRUE(a.status.ok());
  EXPECT_EQ(a.kind, CheckKind::kDomainVerification);
  EXPECT_EQ(a.org_id, "42");
  EXPECT_TRUE(a.org_known);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, CheckReason::kDomainNotVerified);
  EXPECT_EQ(a.matched_domain, "pending.org");
  EXPECT_EQ(a.message, d.message);
  EXPECT_EQ(a.policy, policy);
  EXPECT_TRUE(a.domain_on_org);
  EXPECT_FALSE(a.domain_verified);
  EXPECT_TRUE(a.stale);
}

TEST(CheckResponseWireTest, ABatchRoundTripsInOrderWithPerCheckErrors) {
  const DomainPolicy policy = SamplePolicy();
  CheckDecision allowed;
  allowed.allowed = true;
  allowed.reason = CheckReason::kAllowedVerifiedDomain;
  allowed.matched_domain = "acme.com";
  allowed.message = "acme.com is a verified domain of org 42";
  const Status not_found = Status::NotFound("org 9 is unknown");
  const std::vector<CheckResultView> results = {
      {CheckKind::kLoginName, "42", true, &policy, &allowed, nullptr},
      {CheckKind::kLoginName, "9", false, nullptr, nullptr, &not_found},
      {CheckKind::kSmtpSender, "", false, nullptr, nullptr, nullptr},  // no error given
  };
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendCheckBatch(frame, 6, results, false);
  Aligned body = FrameBody(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->kind, ResponseKind::kCheckBatch);
  ASSERT_EQ(r->checks.size(), 3u);
  EXPECT_TRUE(r->checks[0].allowed);
  EXPECT_EQ(r->checks[0].matched_domain, "acme.com");
  EXPECT_EQ(r->checks[1].status.code(), Code::kNotFound);
  EXPECT_EQ(r->checks[1].org_id, "9");
  EXPECT_FALSE(r->checks[1].allowed);
  EXPECT_EQ(r->checks[2].status.code(), Code::kInternal);  // never reads as success
  EXPECT_EQ(r->checks[2].kind, CheckKind::kSmtpSender);
  EXPECT_TRUE(r->checks[2].org_id.empty());
}

TEST(CheckResponseWireTest, AReasonFromANewerDaemonKeepsItsNumber) {
  const DomainPolicy policy = SamplePolicy();
  CheckDecision d;
  d.allowed = true;
  d.reason = static_cast<CheckReason>(42);
  d.message = "a reason this client does not know";
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendCheck(frame, 1, {CheckKind::kLoginName, "42", true, &policy, &d, nullptr}, false);
  Aligned body = FrameBody(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(static_cast<int>(r->checks[0].reason), 42);
  EXPECT_TRUE(r->checks[0].allowed);
  EXPECT_EQ(CheckReasonName(r->checks[0].reason), "UNSPECIFIED");
}

TEST(CheckResponseWireTest, GarbageAndBitFlipsNeverCrashTheClient) {
  const DomainPolicy policy = SamplePolicy();
  CheckDecision d;
  d.allowed = true;
  d.reason = CheckReason::kAllowedInstanceDomain;
  d.matched_domain = "x.example";
  d.message = "x.example is an instance domain";
  const Status bad = Status::InvalidArgument("org id is empty");
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendCheckBatch(
      frame, 2,
      std::vector<CheckResultView>{{CheckKind::kSmtpSender, "", false, &policy, &d, nullptr},
                                   {CheckKind::kLoginName, "", false, nullptr, nullptr, &bad}},
      false);
  const std::vector<std::uint8_t> body(frame.begin() + kFrameHeaderBytes, frame.end());
  for (std::size_t i = 0; i < body.size() * 8; ++i) {
    std::vector<std::uint8_t> flipped = body;
    flipped[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    Aligned f = FrameBody(flipped);
    (void)DecodeResponse(f.span());  // must not crash (ASan/UBSan runs check the reads)
  }
  for (std::size_t n = 0; n < body.size(); ++n) {
    Aligned truncated(std::span<const std::uint8_t>(body.data(), n));
    (void)DecodeResponse(truncated.span());
  }
}

}  // namespace
}  // namespace policyd
