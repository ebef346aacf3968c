// Counting on the lookup path: every answered frame by kind and code, bad frames, latency.
#include "server/request_metrics.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "server/handler.h"
#include "server/session.h"
#include "wire/frame.h"
#include "wire/request.h"

namespace policyd {
namespace {

class RequestMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-metrics-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> store = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    Snapshot s;
    s.instance.id = "1";
    s.instance.policy.details.resource_owner = "1";
    s.orgs.push_back(OrgRecord{"org-1", {}});
    ASSERT_TRUE(store_->Replace(s, "", "test", SystemClock().Now()).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Answers every frame in `frames` through AnswerFrames, as a session does.
  void Answer(RequestHandler& handler, const std::vector<std::uint8_t>& frames) {
    FrameBuffer in(64 * 1024);
    std::size_t at = 0;
    while (at < frames.size()) {
      std::span<std::uint8_t> tail = in.WritableTail();
      const std::size_t n = std::min(tail.size(), frames.size() - at);
      std::memcpy(tail.data(), frames.data() + at, n);
      in.Commit(n);
      at += n;
    }
    std::vector<std::uint8_t> out;
    for (;;) {
      const Answered a = AnswerFrames(in, handler, 1000, out);
      if (a.close || (!a.more && a.frames == 0)) break;
    }
  }

  // The frame's body (without the length prefix) copied to an 8-byte aligned buffer, as the
  // handler and the decoder need it.
  static std::span<const std::uint8_t> Body(const std::vector<std::uint8_t>& frame,
                                            std::vector<std::uint64_t>& storage) {
    const std::size_t n = frame.size() - kFrameHeaderBytes;
    storage.assign((n + 7) / 8, 0);
    std::memcpy(storage.data(), frame.data() + kFrameHeaderBytes, n);
    return {reinterpret_cast<const std::uint8_t*>(storage.data()), n};
  }

  static std::uint64_t Count(const DaemonCounters& c, std::uint8_t kind, Code code) {
    for (const RequestCount& r : c.requests) {
      if (r.kind == kind && r.code == code) return r.count;
    }
    return 0;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  ServingState state_{FreshnessOptions{}};
};

TEST_F(RequestMetricsTest, EveryFrameIsCountedByKindAndTheCodeOfItsAnswer) {
  RequestMetrics metrics;
  RequestHandler handler(*store_, state_, SystemClock(), "test", &metrics);
  std::vector<std::uint8_t> frames;
  for (int i = 0; i < 3; ++i) AppendGetOrgPolicy(frames, 1, "org-1", false);
  AppendGetOrgPolicy(frames, 2, "unknown", /*strict=*/true);  // NOT_FOUND
  AppendGetOrgPolicy(frames, 3, "", false);                   // INVALID_ARGUMENT (bad id)
  const std::vector<std::string> batch = {"org-1", "unknown"};
  AppendGetOrgPolicies(frames, 4, batch, /*strict=*/true);  // OK (per-org errors inside)
  AppendGetDefaultPolicy(frames, 5);
  AppendGetStatus(frames, 6);
  const std::uint8_t garbage[] = {1, 2, 3, 4, 5, 6, 7, 8};  // verifies as nothing
  AppendFrame(frames, garbage);
  Answer(handler, frames);

  DaemonCounters c;
  metrics.AddTo(c);
  EXPECT_EQ(Count(c, kKindGetOrgPolicy, Code::kOk), 3u);
  EXPECT_EQ(Count(c, kKindGetOrgPolicy, Code::kNotFound), 1u);
  EXPECT_EQ(Count(c, kKindGetOrgPolicy, Code::kInvalidArgument), 1u);
  EXPECT_EQ(Count(c, kKindGetOrgPolicies, Code::kOk), 1u);
  EXPECT_EQ(Count(c, kKindGetDefaultPolicy, Code::kOk), 1u);
  EXPECT_EQ(Count(c, kKindGetStatus, Code::kOk), 1u);
  EXPECT_EQ(Count(c, kKindUndecodable, Code::kInvalidArgument), 1u);
  EXPECT_EQ(c.requests.size(), 7u);
  EXPECT_EQ(c.closed_bad_frame, 0u);  // a bad FlatBuffer keeps the connection
}

TEST_F(RequestMetricsTest, ABadLengthPrefixIsCountedAsABadFrame) {
  RequestMetrics metrics;
  RequestHandler handler(*store_, state_, SystemClock(), "test", &metrics);
  const std::vector<std::uint8_t> huge = {0xff, 0xff, 0xff, 0x7f};  // over the maximum
  Answer(handler, huge);
  DaemonCounters c;
  metrics.AddTo(c);
  EXPECT_EQ(c.closed_bad_frame, 1u);
  EXPECT_EQ(Count(c, kKindUndecodable, Code::kResourceExhausted), 1u);
}

TEST_F(RequestMetricsTest, RefusedStaleLookupsCountAsUnavailable) {
  ServingState refusing(FreshnessOptions{"https://iam", std::chrono::seconds(1), true});
  RequestMetrics metrics;
  RequestHandler handler(*store_, refusing, SystemClock(), "test", &metrics);
  std::vector<std::uint8_t> frames;
  AppendGetOrgPolicy(frames, 1, "org-1", false);
  AppendGetStatus(frames, 2);  // status is always answered
  Answer(handler, frames);
  DaemonCounters c;
  metrics.AddTo(c);
  EXPECT_EQ(Count(c, kKindGetOrgPolicy, Code::kUnavailable), 1u);
  EXPECT_EQ(Count(c, kKindGetStatus, Code::kOk), 1u);
}

TEST_F(RequestMetricsTest, StatusCarriesCountersOnlyWhenAskedAndASourceIsSet) {
  RequestMetrics metrics;
  const CountersSource source = [&metrics](DaemonCounters& c) {
    metrics.AddTo(c);
    c.events_applied = 42;
  };
  RequestHandler handler(*store_, state_, SystemClock(), "test", &metrics, &source);
  for (bool with : {false, true}) {
    std::vector<std::uint8_t> request, out;
    std::vector<std::uint64_t> in_storage, out_storage;
    AppendGetStatus(request, 7, with);
    handler.Handle(Body(request, in_storage), out);
    Result<Response> r = DecodeResponse(Body(out, out_storage));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status.counters.has_value(), with);
    if (with) {
      EXPECT_EQ(r->status.counters->events_applied, 42u);
      // The status request without counters was counted before this one was answered.
      EXPECT_EQ(Count(*r->status.counters, kKindGetStatus, Code::kOk), 1u);
    }
  }
}

TEST_F(RequestMetricsTest, AHandlerWithoutMetricsStillAnswers) {
  RequestHandler handler(*store_, state_, SystemClock(), "test");
  std::vector<std::uint8_t> request, out;
  std::vector<std::uint64_t> storage;
  AppendGetOrgPolicy(request, 1, "org-1", false);
  handler.Handle(Body(request, storage), out);
  handler.RecordLatency(1000, 1);
  std::vector<std::uint64_t> out_storage;
  Result<Response> r = DecodeResponse(Body(out, out_storage));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ResponseKind::kPolicy);
}

TEST(RequestMetricsCellTest, LatencyAndCountsSumAcrossThreads) {
  RequestMetrics a, b;
  a.Count(kKindGetOrgPolicy, Code::kOk);
  b.Count(kKindGetOrgPolicy, Code::kOk);
  b.Count(kKindGetStatus, Code::kOk);
  a.RecordLatency(1'500, 4);
  b.RecordLatency(700, 1);
  DaemonCounters c;
  a.AddTo(c);
  b.AddTo(c);
  ASSERT_EQ(c.requests.size(), 2u);
  EXPECT_EQ(c.requests[0].count, 2u);
  EXPECT_EQ(c.latency.Total(), 5u);
  EXPECT_EQ(c.latency.counts[0], 1u);
  EXPECT_EQ(c.latency.counts[1], 4u);
  EXPECT_EQ(c.latency.sum_ns, 6'700u);
}

}  // namespace
}  // namespace policyd
