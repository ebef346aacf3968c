#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "request_generated.h"
#include "response_generated.h"
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

DomainPolicy SamplePolicy(bool is_default) {
  return DomainPolicy{{true, false, true},
                      is_default,
                      Details{17, Timestamp{1739260801, 500000000},
                              Timestamp{1740820364, 123456000}, is_default ? "inst" : "org-1"}};
}

TEST(FrameTest, LengthIsLittleEndianAndBounded) {
  std::uint8_t header[4];
  EncodeFrameLength(header, 0x01020304);
  EXPECT_EQ(header[0], 0x04);
  EXPECT_EQ(header[3], 0x01);
  EncodeFrameLength(header, 100);
  ASSERT_TRUE(DecodeFrameLength(header, 100).has_value());
  EXPECT_EQ(DecodeFrameLength(header, 99).error().code(), Code::kResourceExhausted);
  EncodeFrameLength(header, 0);
  EXPECT_EQ(DecodeFrameLength(header, 100).error().code(), Code::kInvalidArgument);
  EncodeFrameLength(header, kMinFrameBytes - 1);
  EXPECT_EQ(DecodeFrameLength(header, 100).error().code(), Code::kInvalidArgument);
  EncodeFrameLength(header, 0xffffffff);
  EXPECT_EQ(DecodeFrameLength(header, kDefaultMaxFrameBytes).error().code(),
            Code::kResourceExhausted);
}

TEST(RequestTest, GetOrgPolicyRoundTrips) {
  std::vector<std::uint8_t> frame;
  AppendGetOrgPolicy(frame, 42, "org-1", true);
  Aligned body = Body(frame);
  auto r = DecodeRequest(body.span());
  ASSERT_TRUE(r.has_value()) << r.error().status.ToString();
  EXPECT_EQ(r->id(), 42u);
  EXPECT_EQ(r->kind(), RequestKind::kGetOrgPolicy);
  EXPECT_TRUE(r->strict());
  ASSERT_EQ(r->org_count(), 1u);
  EXPECT_EQ(r->org_id(0), "org-1");
}

TEST(RequestTest, GetOrgPoliciesRoundTripsInOrder) {
  std::vector<std::string> ids = {"a", "b", "c"};
  std::vector<std::uint8_t> frame;
  AppendGetOrgPolicies(frame, 7, ids, false);
  Aligned body = Body(frame);
  auto r = DecodeRequest(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind(), RequestKind::kGetOrgPolicies);
  ASSERT_EQ(r->org_count(), 3u);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(r->org_id(i), ids[i]);
}

TEST(RequestTest, DefaultAndStatusRoundTrip) {
  std::vector<std::uint8_t> a, b;
  AppendGetDefaultPolicy(a, 1);
  AppendGetStatus(b, 2);
  Aligned body_a = Body(a), body_b = Body(b);
  EXPECT_EQ(DecodeRequest(body_a.span())->kind(), RequestKind::kGetDefaultPolicy);
  EXPECT_EQ(DecodeRequest(body_b.span())->kind(), RequestKind::kGetStatus);
  EXPECT_EQ(DecodeRequest(body_b.span())->id(), 2u);
}

TEST(RequestTest, BatchLimitsAreEnforced) {
  std::vector<std::uint8_t> frame;
  AppendGetOrgPolicies(frame, 9, std::vector<std::string>{}, false);
  Aligned empty = Body(frame);
  auto r = DecodeRequest(empty.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 9u);
  EXPECT_EQ(r.error().status.code(), Code::kInvalidArgument);

  frame.clear();
  AppendGetOrgPolicies(frame, 10, std::vector<std::string>(kMaxBatchOrgs + 1, "x"), false);
  Aligned big({frame.data() + 4, frame.size() - 4});
  r = DecodeRequest(big.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 10u);
}

TEST(RequestTest, MissingFieldsAreInvalid) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateGetOrgPolicy(fbb, 0, false);  // no org_id
  fbb.Finish(fb::CreateRequest(fbb, 5, fb::RequestBody::GetOrgPolicy, body.Union()),
             fb::RequestIdentifier());
  Aligned no_org({fbb.GetBufferPointer(), fbb.GetSize()});
  auto r = DecodeRequest(no_org.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 5u);

  flatbuffers::FlatBufferBuilder fbb2;
  fbb2.Finish(fb::CreateRequest(fbb2, 6), fb::RequestIdentifier());  // no body
  Aligned no_body({fbb2.GetBufferPointer(), fbb2.GetSize()});
  r = DecodeRequest(no_body.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 6u);
  EXPECT_NE(r.error().status.message().find("no body"), std::string::npos);
}

TEST(RequestTest, UnknownRequestKindIsInvalidButKeepsTheId) {
  flatbuffers::FlatBufferBuilder fbb;
  auto status = fb::CreateGetStatus(fbb);
  fbb.Finish(fb::CreateRequest(fbb, 77, static_cast<fb::RequestBody>(200), status.Union()),
             fb::RequestIdentifier());
  Aligned body({fbb.GetBufferPointer(), fbb.GetSize()});
  auto r = DecodeRequest(body.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().id, 77u);
  EXPECT_NE(r.error().status.message().find("unsupported"), std::string::npos);
}

TEST(RequestTest, AResponseIsNotARequest) {
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendError(frame, 1, Status::NotFound("x"));
  Aligned body = Body(frame);
  auto r = DecodeRequest(body.span());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status.code(), Code::kInvalidArgument);
  EXPECT_EQ(r.error().id, 0u);
}

TEST(RequestTest, TruncationsAndGarbageNeverDecode) {
  std::vector<std::uint8_t> frame;
  AppendGetOrgPolicies(frame, 3, std::vector<std::string>{"org-a", "org-b"}, true);
  std::vector<std::uint8_t> body(frame.begin() + 4, frame.end());
  for (std::size_t n = 0; n < body.size(); ++n) {
    Aligned truncated({body.data(), n});
    auto r = DecodeRequest(truncated.span());
    // Only trailing padding may be cut without the verifier noticing; then nothing was lost.
    if (r.has_value()) {
      EXPECT_GT(n, body.size() - 8) << n;
      ASSERT_EQ(r->org_count(), 2u);
      EXPECT_EQ(r->org_id(1), "org-b");
    }
  }
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> garbage(8 + rng() % 120);
    for (auto& b : garbage) b = static_cast<std::uint8_t>(rng());
    if (i % 2 == 0) std::memcpy(garbage.data() + 4, "PDRQ", 4);  // get past the identifier
    Aligned g(Bytes(garbage));
    auto r = DecodeRequest(g.span());  // must not crash (ASan/UBSan runs check the reads)
    if (r.has_value()) {
      for (std::size_t k = 0; k < r->org_count(); ++k) (void)r->org_id(k).size();
    }
  }
  // Bit flips of a valid frame.
  for (std::size_t i = 0; i < body.size() * 8; ++i) {
    std::vector<std::uint8_t> flipped = body;
    flipped[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    Aligned f(Bytes(flipped));
    auto r = DecodeRequest(f.span());
    if (r.has_value()) {
      for (std::size_t k = 0; k < r->org_count(); ++k) (void)r->org_id(k).size();
    }
  }
}

TEST(ResponseTest, OrgPolicyRoundTrips) {
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  Resolution res{SamplePolicy(false), true};
  enc.AppendOrgPolicy(frame, 11, "org-1", res, true);
  Aligned body = Body(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->id, 11u);
  EXPECT_EQ(r->kind, ResponseKind::kPolicy);
  EXPECT_TRUE(r->stale);
  ASSERT_EQ(r->policies.size(), 1u);
  EXPECT_EQ(r->policies[0].org_id, "org-1");
  EXPECT_TRUE(r->policies[0].org_known);
  EXPECT_TRUE(r->policies[0].status.ok());
  EXPECT_EQ(r->policies[0].policy, res.policy);
}

TEST(ResponseTest, ZeroTimestampsAndEmptyOwnerStayAbsent) {
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  DomainPolicy p;
  p.is_default = true;
  enc.AppendDefaultPolicy(frame, 1, p, false);
  Aligned body = Body(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->policies[0].policy, p);
}

TEST(ResponseTest, BatchRoundTripsInOrderWithPerOrgErrors) {
  ResponseEncoder enc;
  Resolution a{SamplePolicy(false), true};
  Resolution c{SamplePolicy(true), false};
  Status not_found = Status::NotFound("org b is unknown");
  std::vector<OrgAnswer> answers = {
      {"a", &a, nullptr}, {"b", nullptr, &not_found}, {"c", &c, nullptr}};
  std::vector<std::uint8_t> frame;
  for (int round = 0; round < 3; ++round) {  // the encoder is reused between responses
    frame.clear();
    enc.AppendBatch(frame, 12, answers, false);
    Aligned body = Body(frame);
    Result<Response> r = DecodeResponse(body.span());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->kind, ResponseKind::kBatch);
    ASSERT_EQ(r->policies.size(), 3u);
    EXPECT_EQ(r->policies[0].policy, a.policy);
    EXPECT_EQ(r->policies[1].org_id, "b");
    EXPECT_EQ(r->policies[1].status, not_found);
    EXPECT_EQ(r->policies[2].policy, c.policy);
    EXPECT_FALSE(r->policies[2].org_known);
  }
}

TEST(ResponseTest, StatusRoundTrips) {
  ServerStatus s;
  s.meta = StoreMeta{10, 3, true, "cursor-1", "snapshot:/x.json", Timestamp{5, 6}, Timestamp{7, 8}};
  s.instance_id = "inst";
  s.data_age_ms = 1234;
  s.stale = true;
  s.upstream = "https://iam.example.com";
  s.consecutive_failures = 2;
  s.last_error = "HTTP 500";
  s.health = Health::kStale;
  s.version = "0.1.0";
  s.now = Timestamp{9, 10};
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendStatus(frame, 13, s);
  Aligned body = Body(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ResponseKind::kStatus);
  EXPECT_EQ(r->status, s);
}

TEST(RequestTest, StatusAsksForCountersOnlyWhenTold) {
  std::vector<std::uint8_t> plain, counted;
  AppendGetStatus(plain, 1);
  AppendGetStatus(counted, 2, /*with_counters=*/true);
  Aligned body_plain = Body(plain), body_counted = Body(counted);
  EXPECT_FALSE(DecodeRequest(body_plain.span())->with_counters());
  EXPECT_TRUE(DecodeRequest(body_counted.span())->with_counters());
}

TEST(ResponseTest, StatusWithCountersRoundTrips) {
  ServerStatus s;
  s.meta.org_count = 3;
  s.health = Health::kDegraded;
  s.now = Timestamp{9, 10};
  DaemonCounters& c = s.counters.emplace();
  c.started = Timestamp{1, 2};
  c.requests = {{kKindUndecodable, Code::kInvalidArgument, 1},
                {kKindGetOrgPolicy, Code::kOk, 1'000'000'000'000},
                {kKindGetOrgPolicy, Code::kNotFound, 7},
                {kKindGetStatus, Code::kOk, 2}};
  c.latency.bounds_ns = {1000, 2000, 5000};
  c.latency.counts = {5, 6, 7, 8};
  c.latency.sum_ns = 123456;
  c.connections_open = 11;
  c.connections_accepted = 12;
  c.rejected_max_connections = 13;
  c.rejected_peer = 14;
  c.closed_bad_frame = 15;
  c.sync_attempts = 16;
  c.sync_successes = 17;
  c.sync_failures = {1, 2, 3, 4, 5, 6, 7};
  c.cold_starts = 18;
  c.events_applied = 19;
  c.rejected_per_peer = 20;
  c.rejected_reserved = 21;
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendStatus(frame, 13, s);
  Aligned body = Body(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, s);
  // Without counters the answer carries none.
  s.counters.reset();
  frame.clear();
  enc.AppendStatus(frame, 14, s);
  Aligned plain = Body(frame);
  EXPECT_FALSE(DecodeResponse(plain.span())->status.counters.has_value());
}

// fuzz_request found it: the Verifier checks a vector's 4-byte length field for alignment but
// not that 8-byte elements are 8-byte aligned, so a crafted response can put a [ulong] 4 bytes off
// and loading its elements as uint64_t was a misaligned load (UBSan: undefined behaviour).
TEST(ResponseTest, MisalignedULongVectorsDecodeToTheirValues) {
  const std::vector<std::uint64_t> values = {0x0102030405060708, 0x1112131415161718};
  int misaligned_layouts = 0;
  for (int pad = 0; pad < 2; ++pad) {
    flatbuffers::FlatBufferBuilder fbb;
    // The [ulong] of two written as four uints with 4-byte alignment only; `pad` more bytes
    // behind it (the builder writes back to front) move it by 4, so one layout is 4 bytes off.
    if (pad == 1) fbb.PushElement(std::uint32_t{0});
    fbb.StartVector(2 * values.size(), sizeof(std::uint32_t));
    for (auto v = values.rbegin(); v != values.rend(); ++v) {
      fbb.PushElement(static_cast<std::uint32_t>(*v >> 32));
      fbb.PushElement(static_cast<std::uint32_t>(*v));
    }
    const flatbuffers::Offset<flatbuffers::Vector<std::uint64_t>> bounds(
        fbb.EndVector(values.size()));
    fb::CountersBuilder counters(fbb);
    counters.add_latency_bounds_ns(bounds);
    counters.add_latency_sum_ns(1);  // an 8-byte field: the buffer is 8-byte aligned overall
    const auto counters_offset = counters.Finish();
    fb::StatusReplyBuilder status(fbb);
    status.add_counters(counters_offset);
    const auto body = status.Finish();
    fbb.Finish(fb::CreateResponse(fbb, 1, 0, fb::ResponseBody::StatusReply, body.Union(), false),
               fb::ResponseIdentifier());
    Aligned buffer({fbb.GetBufferPointer(), fbb.GetSize()});
    const auto* response = fb::GetResponse(buffer.span().data());
    const auto* data = response->body_as_StatusReply()->counters()->latency_bounds_ns()->Data();
    if (reinterpret_cast<std::uintptr_t>(data) % 8 != 0) ++misaligned_layouts;

    Result<Response> r = DecodeResponse(buffer.span());
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_TRUE(r->status.counters.has_value());
    EXPECT_EQ(r->status.counters->latency.bounds_ns, values);
  }
  EXPECT_EQ(misaligned_layouts, 1);

  // And an empty one (the copy once passed memcpy a null destination for it).
  flatbuffers::FlatBufferBuilder fbb;
  const auto empty = fbb.CreateVector(std::vector<std::uint64_t>());
  fb::CountersBuilder counters(fbb);
  counters.add_latency_counts(empty);
  const auto counters_offset = counters.Finish();
  fb::StatusReplyBuilder status(fbb);
  status.add_counters(counters_offset);
  const auto body = status.Finish();
  fbb.Finish(fb::CreateResponse(fbb, 1, 0, fb::ResponseBody::StatusReply, body.Union(), false),
             fb::ResponseIdentifier());
  Aligned buffer({fbb.GetBufferPointer(), fbb.GetSize()});
  Result<Response> r = DecodeResponse(buffer.span());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->status.counters.has_value());
  EXPECT_TRUE(r->status.counters->latency.counts.empty());
}

TEST(ResponseTest, ErrorRoundTripsAndNeverReadsAsOk) {
  ResponseEncoder enc;
  std::vector<std::uint8_t> frame;
  enc.AppendError(frame, 14, Status::InvalidArgument("bad frame"));
  Aligned body = Body(frame);
  Result<Response> r = DecodeResponse(body.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ResponseKind::kError);
  EXPECT_EQ(r->error, Status::InvalidArgument("bad frame"));

  flatbuffers::FlatBufferBuilder fbb;
  auto e = fb::CreateError(fbb, fb::Code::OK, fbb.CreateString("lies"));
  fbb.Finish(fb::CreateResponse(fbb, 15, e), fb::ResponseIdentifier());
  Aligned ok_error({fbb.GetBufferPointer(), fbb.GetSize()});
  r = DecodeResponse(ok_error.span());
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->error.ok());
}

TEST(ResponseTest, ARequestIsNotAResponse) {
  std::vector<std::uint8_t> frame;
  AppendGetStatus(frame, 1);
  Aligned body = Body(frame);
  EXPECT_FALSE(DecodeResponse(body.span()).has_value());
}

}  // namespace
}  // namespace policyd

namespace policyd {
namespace {

TEST(ResponseTest, GarbageAndBitFlipsNeverCrashTheClient) {
  ResponseEncoder enc;
  Resolution a{SamplePolicy(false), true};
  Status err = Status::NotFound("gone");
  std::vector<OrgAnswer> answers = {{"a", &a, nullptr}, {"b", nullptr, &err}};
  std::vector<std::uint8_t> frame;
  enc.AppendBatch(frame, 1, answers, false);
  std::vector<std::uint8_t> body(frame.begin() + 4, frame.end());
  for (std::size_t n = 0; n < body.size(); ++n) {
    Aligned t({body.data(), n});
    (void)DecodeResponse(t.span());
  }
  for (std::size_t i = 0; i < body.size() * 8; ++i) {
    std::vector<std::uint8_t> flipped = body;
    flipped[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    Aligned f(Bytes(flipped));
    (void)DecodeResponse(f.span());
  }
}

}  // namespace
}  // namespace policyd
