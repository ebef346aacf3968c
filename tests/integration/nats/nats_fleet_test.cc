// The nats module against a 3-node JetStream cluster (stream leader killed mid-write) and
// against a server running examples/nats/policyd-users.conf (least privilege).
#include "nats_test_util.h"

namespace policyd::nats::testing {
namespace {

bool Transient(const Status& s) {
  return s.code() == Code::kUnavailable || s.code() == Code::kDeadlineExceeded;
}

// Retries `request` while the failure is transient, up to `timeout`; the final result.
Result<WriteAck> WriteWithRetry(KvBucket& bucket, const WriteRequest& request,
                                std::chrono::milliseconds timeout, int* attempts) {
  Result<WriteAck> r = Err(Status::Internal("not tried"));
  (void)WaitFor(
      [&] {
        ++*attempts;
        r = bucket.Write(request);
        return r.has_value() || !Transient(r.error());
      },
      timeout, "write " + request.key);
  return r;
}

TEST(NatsClusterTest, RetriedWritesWithTheSameMsgIdLandOnceWhenTheStreamLeaderIsKilled) {
  NatsClusterOptions three;
  three.nodes = 3;
  NatsCluster cluster(three);
  ASSERT_TRUE(cluster.Start());
  EventLog events;
  std::unique_ptr<NatsConnection> conn = MustConnect(Options(cluster.Urls()), events.Callback());
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<KvBucket> b = MustCreate(*conn, "policyd", /*replicas=*/3);
  ASSERT_NE(b, nullptr);
  Result<BucketInfo> info = b->Info();
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->replicas, 3);
  const int leader = cluster.IndexOf(info->leader);
  ASSERT_GE(leader, 0) << "leader " << info->leader;

  // Followers on another connection read throughout: a full watch and a resume from revision
  // 1 with a 1 s heartbeat.
  EventLog reader_events;
  std::unique_ptr<NatsConnection> reader_conn =
      MustConnect(Options(cluster.Urls()), reader_events.Callback());
  Result<std::unique_ptr<KvBucket>> rb = KvBucket::Bind(*reader_conn, "policyd");
  ASSERT_TRUE(rb.has_value()) << rb.error().ToString();
  Result<std::unique_ptr<KvStream>> watch = KvStream::WatchAll(**rb);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  ASSERT_TRUE(DrainUntilCaughtUp(**watch).caught_up);
  Result<std::unique_ptr<KvStream>> resume = KvStream::FromRevision(**rb, 1, 1s);
  ASSERT_TRUE(resume.has_value()) << resume.error().ToString();
  ASSERT_TRUE(DrainUntilCaughtUp(**resume).caught_up);

  const WriteAck v1 = MustPut(*b, "org.1", "v1");
  // v2 is stored, but the writer does not know it (its ack was "lost"): it retries after the
  // leader dies, with the same Nats-Msg-Id and the same guard.
  const WriteRequest v2 = Put("org.1", "v2", v1.revision, "org.1:2");
  Result<WriteAck> stored = b->Write(v2);
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();

  cluster.Kill(leader);
  int attempts = 0;
  Result<WriteAck> retried = WriteWithRetry(*b, v2, 30s, &attempts);
  // Clustered 2.9.10 answers a duplicate whose guard is stale with 10071 (the guard is checked
  // on the leader before the de-duplication); a single server answers "duplicate".
  std::cerr << "[ info ] retried v2 after the leader died: "
            << (retried ? (retried->duplicate ? "duplicate" : "stored again")
                        : retried.error().ToString())
            << "\n";
  if (retried) {
    EXPECT_TRUE(retried->duplicate);
    EXPECT_EQ(retried->revision, stored->revision);
  } else {
    EXPECT_EQ(retried.error().code(), Code::kAborted) << retried.error().ToString();
  }
  // A new write, retried through the failover, lands exactly once too.
  const WriteRequest v3 = Put("org.1", "v3", stored->revision, "org.1:3");
  Result<WriteAck> landed = WriteWithRetry(*b, v3, 30s, &attempts);
  ASSERT_TRUE(landed.has_value()) << landed.error().ToString();
  Result<WriteAck> again = WriteWithRetry(*b, v3, 30s, &attempts);
  EXPECT_TRUE(again ? again->duplicate : again.error().code() == Code::kAborted);

  Result<BucketInfo> after = b->Info();
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  EXPECT_EQ(after->last_seq, v1.revision + 2) << "exactly v2 and v3 were stored";
  EXPECT_NE(after->leader, info->leader);
  Result<std::optional<KvEntry>> e = b->Get("org.1");
  ASSERT_TRUE(e.has_value() && e->has_value());
  EXPECT_EQ((*e)->value, "v3");

  // Both readers converge on v3. Their consumers may have lived on the killed server: the
  // library re-creates them after two missed heartbeats, from the last revision it delivered,
  // so a value superseded meanwhile may be skipped, but none comes twice or out of order. Now
  // and then a re-created consumer never delivers; the follower then makes a new one from its
  // cursor after a quiet interval (follow/stall_watch.h), and so do these readers after 10 s.
  int recreated = 0;
  for (std::unique_ptr<KvStream>* reader : {&*resume, &*watch}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto quiet_since = t0;
    std::uint64_t last = 0;
    std::string value;
    while (value != "v3" && std::chrono::steady_clock::now() - t0 < 45s) {
      Result<KvEntry> got = NextEntry(**reader, 1s);
      if (!got && got.error().code() == Code::kDeadlineExceeded) {
        if (std::chrono::steady_clock::now() - quiet_since < 10s) continue;
        // Creating it may time out while the stream elects its leader: retried each second.
        Result<std::unique_ptr<KvStream>> fresh = KvStream::FromRevision(**rb, last + 1, 1s);
        if (!fresh) {
          std::cerr << "[ info ] re-creating a consumer: " << fresh.error().ToString() << "\n";
          continue;
        }
        *reader = std::move(*fresh);
        ++recreated;
        quiet_since = std::chrono::steady_clock::now();
        continue;
      }
      ASSERT_TRUE(got.has_value()) << got.error().ToString();
      EXPECT_GT(got->revision, last);
      last = got->revision;
      value = got->value;
      quiet_since = std::chrono::steady_clock::now();
    }
    EXPECT_EQ(value, "v3") << reader_events.Dump();
    EXPECT_EQ(last, after->last_seq);
    std::cerr << "[ info ] reader " << (reader == &*watch ? "watch" : "resume") << " reached v3 "
              << (std::chrono::steady_clock::now() - t0) / 1ms << " ms after the writes\n";
  }
  std::cerr << "[ info ] consumers re-created by the test after a quiet 10 s: " << recreated
            << "\n";
  std::cerr << "[ info ] " << attempts << " write attempts through the failover\n";
}

// Least privilege with the shipped example: the follower user reads and watches, and cannot
// write, delete or create anything.
class NatsPermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    ConnectOptions pub = Options(UrlsFor("policyd-publisher", "publisher-secret-change-me"));
    pub.inbox_prefix = "_INBOX_policyd_publisher";
    publisher_ = MustConnect(pub);
    ASSERT_NE(publisher_, nullptr);
    ConnectOptions fol = Options(UrlsFor("policyd-follower", "follower-secret-change-me"));
    fol.inbox_prefix = "_INBOX_policyd_follower";
    fol.request_timeout = 500ms;  // each refused write times out
    follower_ = MustConnect(fol, follower_events_.Callback());
    ASSERT_NE(follower_, nullptr);
    EXPECT_EQ(follower_->ConnectedUrl(), server_.Url(0)) << "no password in the URL";
  }
  std::vector<std::string> UrlsFor(const std::string& user, const std::string& password) {
    return {"nats://" + user + ":" + password + "@" + server_.Url(0).substr(7)};
  }

  static NatsClusterOptions WithExampleUsers() {
    NatsClusterOptions o;
    o.extra_config = "include \"policyd-users.conf\"";
    o.copy_files = {testing_support::SourceDir() + "/examples/nats/policyd-users.conf"};
    return o;
  }
  NatsCluster server_{WithExampleUsers()};
  std::unique_ptr<NatsConnection> publisher_;
  std::unique_ptr<NatsConnection> follower_;
  EventLog follower_events_;
};

TEST_F(NatsPermissionsTest, FollowerReadsAndWatchesButItsWritesAreRefused) {
  std::unique_ptr<KvBucket> pb = MustCreate(*publisher_, "policyd");
  ASSERT_NE(pb, nullptr);
  const WriteAck v1 = MustPut(*pb, "org.1", "v1");

  Result<std::unique_ptr<KvBucket>> fb = KvBucket::Bind(*follower_, "policyd");
  ASSERT_TRUE(fb.has_value()) << fb.error().ToString();
  Result<std::optional<KvEntry>> got = (*fb)->Get("org.1");
  ASSERT_TRUE(got.has_value() && got->has_value()) << got.error().ToString();
  EXPECT_EQ((*got)->value, "v1");
  Result<std::unique_ptr<KvStream>> watch = KvStream::WatchAll(**fb);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  EXPECT_EQ(DrainUntilCaughtUp(**watch).entries.size(), 1u);
  Result<std::unique_ptr<KvStream>> resume = KvStream::FromRevision(**fb, v1.revision);
  ASSERT_TRUE(resume.has_value()) << resume.error().ToString();
  EXPECT_EQ(DrainUntilCaughtUp(**resume).entries.size(), 1u);

  // Writes, deletes, guarded or not: refused, and the server says why.
  Result<WriteAck> refused = (*fb)->Write(Put("org.1", "evil"));
  ASSERT_FALSE(refused.has_value());
  std::cerr << "[ info ] follower's write: " << refused.error().ToString() << "\n";
  EXPECT_FALSE((*fb)->Write(Put("org.1", "evil", v1.revision)).has_value());
  EXPECT_FALSE((*fb)->Write(Del("org.1")).has_value());
  EXPECT_FALSE((*fb)->Write(Put("org.2", "new")).has_value());
  EXPECT_TRUE(WaitFor([&] { return follower_events_.HasError(Code::kPermissionDenied); }, 5s,
                      "permission violation reported"));
  EXPECT_FALSE((*fb)->DeleteBucket().ok());
  BucketConfig other;
  other.bucket = "other";
  EXPECT_FALSE(KvBucket::CreateOrBind(*follower_, other).has_value());

  Result<BucketInfo> info = pb->Info();
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->last_seq, v1.revision) << "the bucket is unchanged";
  Result<std::optional<KvEntry>> still = pb->Get("org.1");
  ASSERT_TRUE(still.has_value() && still->has_value());
  EXPECT_EQ((*still)->value, "v1");

  // The follower's watch still works and sees the publisher's next write.
  const WriteAck v2 = MustPut(*pb, "org.1", "v2");
  Result<KvEntry> live = NextEntry(**watch);
  ASSERT_TRUE(live.has_value()) << live.error().ToString();
  EXPECT_EQ(live->revision, v2.revision);
  EXPECT_EQ(live->value, "v2");
  // The publisher may not remove the bucket either.
  EXPECT_FALSE(pb->DeleteBucket().ok());
}

}  // namespace
}  // namespace policyd::nats::testing
