// The nats module against one real nats-server: connection lifecycle, bucket create/bind,
// guarded writes, delete markers, watch and resume.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "nats_test_util.h"

namespace policyd::nats::testing {
namespace {

// cnats's process-wide threads are released after the last test (leak checkers see none).
class NatsLibraryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    Status s = ShutdownLibrary(5s);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NatsLibraryEnvironment);

class NatsKvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    conn_ = MustConnect(Options(server_.Urls()), events_.Callback());
    ASSERT_NE(conn_, nullptr);
  }
  NatsCluster server_;
  EventLog events_;
  std::unique_ptr<NatsConnection> conn_;
};

TEST(KvNamesTest, KeysAndBucketNamesAreCheckedBeforeAnythingIsSent) {
  for (const char* key : {"org.1", "domain.org.42", "a", "A-b_c/d=e", "x.y.z"}) {
    EXPECT_TRUE(ValidKey(key)) << key;
  }
  for (const char* key : {"", ".a", "a.", "a..b", "a b", "a*", "a>", "ä", "a\nb"}) {
    EXPECT_FALSE(ValidKey(key)) << key;
  }
  EXPECT_TRUE(ValidBucketName("policyd"));
  EXPECT_TRUE(ValidBucketName("Policy_d-2"));
  for (const char* name : {"", "a.b", "a b", "a/b", "a*"}) EXPECT_FALSE(ValidBucketName(name));
}

TEST(NatsConnectionTest, StartsWithoutAServerThenConnectsReconnectsAndReportsEvents) {
  NatsCluster server;  // ports chosen, not started yet
  EventLog events;
  Result<std::unique_ptr<NatsConnection>> conn =
      NatsConnection::Connect(Options(server.Urls()), events.Callback());
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  EXPECT_NE((*conn)->state(), ConnState::kConnected);
  EXPECT_EQ((*conn)->ConnectedUrl(), "");

  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(WaitFor([&] { return (*conn)->state() == ConnState::kConnected; }, 10s, "connect"));
  EXPECT_TRUE(WaitFor([&] { return events.Count(ConnEvent::Kind::kConnected) == 1; }, 5s,
                      "connected event"));
  EXPECT_EQ((*conn)->ConnectedUrl(), server.Url(0));

  server.Kill(0);
  EXPECT_TRUE(WaitFor([&] { return events.Count(ConnEvent::Kind::kDisconnected) >= 1; }, 10s,
                      "disconnected event"));
  EXPECT_NE((*conn)->state(), ConnState::kConnected);
  ASSERT_TRUE(server.Restart(0));
  EXPECT_TRUE(WaitFor([&] { return events.Count(ConnEvent::Kind::kReconnected) >= 1; }, 10s,
                      "reconnected event"));
  EXPECT_EQ((*conn)->state(), ConnState::kConnected);

  const auto t0 = std::chrono::steady_clock::now();
  conn->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(NatsConnectionTest, CallsWithoutAServerFailFastAndCloseDoesNotHang) {
  NatsCluster server;  // never started
  ConnectOptions options = Options(server.Urls());
  options.request_timeout = 500ms;
  Result<std::unique_ptr<NatsConnection>> conn = NatsConnection::Connect(options);
  ASSERT_TRUE(conn.has_value());
  const auto t0 = std::chrono::steady_clock::now();
  Result<std::unique_ptr<KvBucket>> b = KvBucket::Bind(**conn, "policyd");
  ASSERT_FALSE(b.has_value());
  EXPECT_TRUE(b.error().code() == Code::kUnavailable || b.error().code() == Code::kDeadlineExceeded)
      << b.error().ToString();
  conn->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
}

TEST(NatsConnectionTest, NoUrlIsAnInvalidArgument) {
  Result<std::unique_ptr<NatsConnection>> conn = NatsConnection::Connect(ConnectOptions{});
  ASSERT_FALSE(conn.has_value());
  EXPECT_EQ(conn.error().code(), Code::kInvalidArgument);
}

TEST_F(NatsKvTest, CreateOrBindMakesAHistoryOneBucketWithoutTtlAndBindsItAgain) {
  std::unique_ptr<KvBucket> created = MustCreate(*conn_, "policyd");
  ASSERT_NE(created, nullptr);
  Result<BucketInfo> info = created->Info();
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->stream, "KV_policyd");
  EXPECT_EQ(info->history, 1);
  EXPECT_EQ(info->ttl_ns, 0);
  EXPECT_EQ(info->replicas, 1);
  EXPECT_EQ(info->messages, 0u);
  EXPECT_EQ(info->last_seq, 0u);
  EXPECT_GT(info->created_ns, 0);
  EXPECT_EQ(info->leader, "");

  std::unique_ptr<KvBucket> again = MustCreate(*conn_, "policyd");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->Info()->created_ns, info->created_ns);
  Result<std::unique_ptr<KvBucket>> bound = KvBucket::Bind(*conn_, "policyd");
  ASSERT_TRUE(bound.has_value()) << bound.error().ToString();

  BucketConfig other;
  other.bucket = "policyd";
  other.history = 5;
  Result<std::unique_ptr<KvBucket>> mismatch = KvBucket::CreateOrBind(*conn_, other);
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.error().code(), Code::kFailedPrecondition) << mismatch.error().ToString();

  Result<std::unique_ptr<KvBucket>> missing = KvBucket::Bind(*conn_, "nosuchbucket");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound) << missing.error().ToString();
  EXPECT_EQ(KvBucket::Bind(*conn_, "bad.name").error().code(), Code::kInvalidArgument);
}

TEST_F(NatsKvTest, PutThenGetReturnsValueRevisionAndOperation) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  const WriteAck a1 = MustPut(*b, "org.1", "v1");
  const WriteAck a2 = MustPut(*b, "org.2", std::string("bin\0ary", 7));
  EXPECT_EQ(a1.revision, 1u);
  EXPECT_EQ(a2.revision, 2u);
  EXPECT_FALSE(a1.duplicate);

  Result<std::optional<KvEntry>> e = b->Get("org.2");
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->key, "org.2");
  EXPECT_EQ((*e)->value, std::string("bin\0ary", 7));
  EXPECT_EQ((*e)->revision, 2u);
  EXPECT_EQ((*e)->op, KvOp::kPut);
  EXPECT_GT((*e)->created_ns, 0);

  Result<std::optional<KvEntry>> none = b->Get("org.3");
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(b->Get("a..b").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(b->Write(Put("a b", "x")).error().code(), Code::kInvalidArgument);
}

TEST_F(NatsKvTest, CompareAndSetConflictIsReportedAsSuchAndLeavesTheBucketUnchanged) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  Result<WriteAck> first = b->Write(Put("org.1", "v1", 0));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  Result<WriteAck> second = b->Write(Put("org.1", "v2", first->revision));
  ASSERT_TRUE(second.has_value()) << second.error().ToString();

  // A writer that read revision `first` loses against the one that wrote `second`.
  Result<WriteAck> stale = b->Write(Put("org.1", "stale", first->revision));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code(), Code::kAborted) << stale.error().ToString();
  EXPECT_NE(stale.error().message().find("another writer won"), std::string::npos);
  EXPECT_NE(stale.error().message().find("10071"), std::string::npos);
  // So does a create (expect no message) of a key that exists.
  Result<WriteAck> create = b->Write(Put("org.1", "new", 0));
  ASSERT_FALSE(create.has_value());
  EXPECT_EQ(create.error().code(), Code::kAborted);

  Result<std::optional<KvEntry>> e = b->Get("org.1");
  ASSERT_TRUE(e.has_value() && e->has_value());
  EXPECT_EQ((*e)->value, "v2");
  EXPECT_EQ((*e)->revision, second->revision);
  EXPECT_EQ(b->Info()->last_seq, second->revision);
}

TEST_F(NatsKvTest, RepeatedMsgIdIsReportedAsDuplicateAndStoredOnce) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  const WriteRequest request = Put("org.1", "v1", std::nullopt, "org.1:7");
  Result<WriteAck> first = b->Write(request);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_FALSE(first->duplicate);
  Result<WriteAck> again = b->Write(request);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->revision, first->revision);
  // Single server: de-duplication is checked before the (now stale) guard.
  WriteRequest guarded = request;
  guarded.expected_revision = 0;
  Result<WriteAck> guarded_again = b->Write(guarded);
  ASSERT_TRUE(guarded_again.has_value()) << guarded_again.error().ToString();
  EXPECT_TRUE(guarded_again->duplicate);
  EXPECT_EQ(b->Info()->last_seq, first->revision);
  EXPECT_EQ(b->Info()->messages, 1u);
}

TEST_F(NatsKvTest, DeleteMarkerIsGuardedAndSeenByGetAndByAWatcher) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  const WriteAck put = MustPut(*b, "org.1", "v1");
  Result<std::unique_ptr<KvStream>> watch = KvStream::WatchAll(*b);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  EXPECT_EQ(DrainUntilCaughtUp(**watch).entries.size(), 1u);

  EXPECT_EQ(b->Write(Del("org.1", put.revision + 7)).error().code(), Code::kAborted);
  EXPECT_EQ(b->Write(Req("org.1", KvOp::kDelete, "x", std::nullopt, "")).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(b->Write(Req("org.1", KvOp::kPurge, "", std::nullopt, "")).error().code(),
            Code::kInvalidArgument);
  Result<WriteAck> del = b->Write(Del("org.1", put.revision));
  ASSERT_TRUE(del.has_value()) << del.error().ToString();

  Result<KvEntry> seen = NextEntry(**watch);
  ASSERT_TRUE(seen.has_value()) << seen.error().ToString();
  EXPECT_EQ(seen->key, "org.1");
  EXPECT_EQ(seen->op, KvOp::kDelete);
  EXPECT_EQ(seen->revision, del->revision);
  EXPECT_EQ(seen->value, "");

  Result<std::optional<KvEntry>> e = b->Get("org.1");
  ASSERT_TRUE(e.has_value() && e->has_value());
  EXPECT_EQ((*e)->op, KvOp::kDelete);
  EXPECT_EQ((*e)->revision, del->revision);
  // The marker is a message: writing the key again is guarded by the marker's revision.
  EXPECT_EQ(b->Write(Put("org.1", "v2", 0)).error().code(), Code::kAborted);
  EXPECT_TRUE(b->Write(Put("org.1", "v2", del->revision)).has_value());
}

TEST_F(NatsKvTest, WatchAllDeliversEveryKeyOnceThenCaughtUpThenLiveUpdates) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  std::map<std::string, std::string> latest;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20; ++i) {
      if (round > 0 && i % (round + 1) != 0) continue;
      const std::string key = "org." + std::to_string(i);
      latest[key] = "v" + std::to_string(round);
      MustPut(*b, key, latest[key]);
    }
  }
  ASSERT_TRUE(b->Write(Del("org.19")).has_value());
  latest["org.19"] = "";

  Result<std::unique_ptr<KvStream>> watch = KvStream::WatchAll(*b);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  Drained d = DrainUntilCaughtUp(**watch);
  ASSERT_TRUE(d.caught_up);
  std::map<std::string, std::string> seen;
  for (const KvEntry& e : d.entries) {
    EXPECT_TRUE(seen.emplace(e.key, e.value).second) << "twice: " << e.key;
    EXPECT_EQ(e.op, e.key == "org.19" ? KvOp::kDelete : KvOp::kPut);
  }
  EXPECT_EQ(seen, latest);
  EXPECT_EQ(d.entries.back().pending, 0u);

  const WriteAck live = MustPut(*b, "org.99", "live");
  Result<KvEntry> e = NextEntry(**watch);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(e->key, "org.99");
  EXPECT_EQ(e->revision, live.revision);
  EXPECT_EQ((*watch)->Next(100ms).error().code(), Code::kDeadlineExceeded);
}

TEST_F(NatsKvTest, WatchOfAnEmptyBucketIsCaughtUpAtOnce) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  Result<std::unique_ptr<KvStream>> watch = KvStream::WatchAll(*b);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  Drained d = DrainUntilCaughtUp(**watch, 5s);
  EXPECT_TRUE(d.caught_up);
  EXPECT_TRUE(d.entries.empty());
}

TEST_F(NatsKvTest, OrderedConsumerFromARevisionDeliversExactlyTheStoredMessagesAfterIt) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  // 30 writes over 10 keys: the stream keeps only each key's latest (history 1).
  std::map<std::string, std::uint64_t> latest_rev;
  for (int i = 0; i < 30; ++i) {
    const std::string key = "org." + std::to_string((i * 7) % 10);
    latest_rev[key] = MustPut(*b, key, "v" + std::to_string(i)).revision;
  }
  ASSERT_TRUE(b->Write(Del("org.3")).has_value());
  latest_rev["org.3"] = b->Info()->last_seq;

  for (std::uint64_t cursor : {0u, 5u, 22u, 28u}) {
    std::set<std::uint64_t> expected;
    for (const auto& [key, rev] : latest_rev) {
      if (rev > cursor) expected.insert(rev);
    }
    Result<std::unique_ptr<KvStream>> s = KvStream::FromRevision(*b, cursor + 1);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    Drained d = DrainUntilCaughtUp(**s);
    ASSERT_TRUE(d.caught_up);
    std::set<std::uint64_t> got;
    for (const KvEntry& e : d.entries) {
      EXPECT_GT(e.revision, cursor);
      EXPECT_EQ(latest_rev[e.key], e.revision) << e.key;
      got.insert(e.revision);
    }
    EXPECT_EQ(got.size(), d.entries.size()) << "a revision came twice";
    EXPECT_EQ(got, expected) << "cursor " << cursor;
    EXPECT_EQ(d.entries.back().op, KvOp::kDelete);  // org.3's marker is the last message
  }
}

TEST_F(NatsKvTest, OrderedConsumerPastTheEndIsCaughtUpAtOnceThenSeesNewWrites) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  MustPut(*b, "org.1", "v1");
  MustPut(*b, "org.2", "v2");
  for (std::uint64_t start : {3u, 100u}) {
    Result<std::unique_ptr<KvStream>> s = KvStream::FromRevision(*b, start);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    Drained d = DrainUntilCaughtUp(**s, 5s);
    EXPECT_TRUE(d.caught_up);
    EXPECT_TRUE(d.entries.empty()) << "start " << start;
    const WriteAck live = MustPut(*b, "org.live", "x");
    Result<KvEntry> e = NextEntry(**s);
    ASSERT_TRUE(e.has_value()) << e.error().ToString();
    EXPECT_EQ(e->revision, live.revision);
  }
}

TEST_F(NatsKvTest, RecreatedBucketIsDetectableByItsCreationTimeAndSequences) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  for (int i = 0; i < 5; ++i) MustPut(*b, "org." + std::to_string(i), "v");
  Result<BucketInfo> before = b->Info();
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->last_seq, 5u);
  ASSERT_TRUE(b->DeleteBucket().ok());
  EXPECT_EQ(b->Info().error().code(), Code::kNotFound);

  std::unique_ptr<KvBucket> again = MustCreate(*conn_, "policyd");
  MustPut(*again, "org.1", "v");
  Result<BucketInfo> after = again->Info();
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(after->created_ns, before->created_ns);
  EXPECT_GT(after->created_ns, before->created_ns);
  EXPECT_LT(after->last_seq, before->last_seq);  // a cursor of 5 is now beyond the end
}

TEST_F(NatsKvTest, StopWakesABlockedNextOfEitherKindPromptly) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  for (int kind = 0; kind < 2; ++kind) {
    Result<std::unique_ptr<KvStream>> s =
        kind == 0 ? KvStream::WatchAll(*b) : KvStream::FromRevision(*b, 1);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    ASSERT_TRUE(DrainUntilCaughtUp(**s, 5s).caught_up);
    std::optional<Status> result;
    std::atomic<bool> started{false};
    std::thread reader([&] {
      started = true;
      Result<KvEvent> e = (*s)->Next(30s);
      result = e ? Status::Ok() : e.error();
    });
    // Stop() before the reader blocks must end its Next() just the same.
    ASSERT_TRUE(WaitFor([&] { return started.load(); }, 5s, "reader thread"));
    const auto t0 = std::chrono::steady_clock::now();
    (*s)->Stop();
    reader.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->code(), Code::kCancelled) << result->ToString();
    EXPECT_EQ((*s)->Next(10ms).error().code(), Code::kCancelled);
  }
}

TEST_F(NatsKvTest, ReadersSurviveAServerRestartAndSeeWritesMadeAfterIt) {
  std::unique_ptr<KvBucket> b = MustCreate(*conn_, "policyd");
  const WriteAck v1 = MustPut(*b, "org.1", "v1");
  Result<std::unique_ptr<KvStream>> watch = KvStream::WatchAll(*b);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  ASSERT_EQ(DrainUntilCaughtUp(**watch).entries.size(), 1u);
  Result<std::unique_ptr<KvStream>> resume = KvStream::FromRevision(*b, v1.revision + 1, 500ms);
  ASSERT_TRUE(resume.has_value()) << resume.error().ToString();
  ASSERT_TRUE(DrainUntilCaughtUp(**resume).caught_up);

  // The server dies with the readers' (in-memory) consumers; the bucket is on disk.
  server_.Kill(0);
  ASSERT_TRUE(WaitFor([&] { return conn_->state() != ConnState::kConnected; }, 5s, "disconnect"));
  EXPECT_EQ((*resume)->Next(200ms).error().code(), Code::kDeadlineExceeded);
  ASSERT_TRUE(server_.Restart(0));
  ASSERT_TRUE(WaitFor([&] { return conn_->state() == ConnState::kConnected; }, 10s, "reconnect"));
  Result<WriteAck> v2 = Err(Status::Internal("not written"));
  ASSERT_TRUE(WaitFor([&] { return (v2 = b->Write(Put("org.1", "v2"))).has_value(); }, 10s,
                      "a write after the restart"));
  EXPECT_EQ(v2->revision, v1.revision + 1) << "the stream kept its sequence";

  // Both re-create their consumers (missed heartbeats) from the last revision they delivered.
  for (KvStream* reader : {resume->get(), watch->get()}) {
    Result<KvEntry> e = Err(Status::Internal("nothing"));
    ASSERT_TRUE(WaitFor(
        [&] {
          e = NextEntry(*reader, 200ms);
          return e.has_value() || e.error().code() != Code::kDeadlineExceeded;
        },
        20s, "the write after the restart"));
    ASSERT_TRUE(e.has_value()) << e.error().ToString();
    EXPECT_EQ(e->value, "v2") << (reader == resume->get() ? "resume" : "watch");
    EXPECT_EQ(e->revision, v2->revision);
  }
  EXPECT_TRUE(events_.Count(ConnEvent::Kind::kReconnected) >= 1);
}

}  // namespace
}  // namespace policyd::nats::testing
