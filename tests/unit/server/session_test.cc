// The session's batching and timeouts, over a socket pair with a real handler and store.
#include "server/session.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>
#include <thread>

#include "server/serving_state.h"
#include "store/store.h"
#include "wire/frame.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-session-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> store = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    Snapshot s;
    s.instance.id = "1";
    s.instance.policy.details.resource_owner = "1";
    for (int i = 0; i < 10; ++i) s.orgs.push_back(OrgRecord{"org-" + std::to_string(i), {}});
    ASSERT_TRUE(store_->Replace(s, "", "test", SystemClock().Now()).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<RequestHandler> Handler() {
    return std::make_unique<RequestHandler>(*store_, state_, SystemClock(), "test");
  }

  // Feeds `bytes` into a FrameBuffer as one read.
  static void Put(FrameBuffer& in, const std::vector<std::uint8_t>& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      std::span<std::uint8_t> tail = in.WritableTail();
      const std::size_t n = std::min(tail.size(), bytes.size() - at);
      std::memcpy(tail.data(), bytes.data() + at, n);
      in.Commit(n);
      at += n;
    }
  }

  // Decodes every response frame in `out`.
  static std::vector<Response> Decode(const std::vector<std::uint8_t>& out) {
    std::vector<Response> responses;
    FrameBuffer frames(16u << 20);
    Put(frames, out);
    for (;;) {
      Result<std::span<const std::uint8_t>> f = frames.Next();
      if (!f || f->empty()) break;
      Result<Response> r = DecodeResponse(*f);
      EXPECT_TRUE(r.has_value());
      if (r) responses.push_back(std::move(*r));
    }
    return responses;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  ServingState state_{FreshnessOptions{}};
};

TEST_F(SessionTest, AnswerFramesStopsAtMaxInflightAndResumesWhereItStopped) {
  FrameBuffer in(64 * 1024);
  std::vector<std::uint8_t> requests;
  for (std::uint64_t id = 0; id < 300; ++id) {
    AppendGetOrgPolicy(requests, id, "org-" + std::to_string(id % 10), false);
  }
  std::unique_ptr<RequestHandler> handler = Handler();
  std::vector<std::uint8_t> out;
  std::vector<std::size_t> steps;
  std::vector<Response> answers;
  // Fed in reads of at most the buffer's size, as a session would.
  std::size_t fed = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    const Answered a = AnswerFrames(in, *handler, 128, out);
    EXPECT_FALSE(a.close);
    EXPECT_LE(a.frames, 128u);
    if (a.frames > 0) steps.push_back(a.frames);
    for (Response& r : Decode(out)) answers.push_back(std::move(r));
    out.clear();
    if (a.more) continue;
    if (fed == requests.size()) break;
    std::span<std::uint8_t> tail = in.WritableTail();
    const std::size_t n = std::min(tail.size(), requests.size() - fed);
    std::memcpy(tail.data(), requests.data() + fed, n);
    in.Commit(n);
    fed += n;
  }
  ASSERT_EQ(answers.size(), 300u);
  for (std::uint64_t id = 0; id < 300; ++id) {
    EXPECT_EQ(answers[id].id, id);
    EXPECT_EQ(answers[id].kind, ResponseKind::kPolicy);
  }
  // All of it in one buffer: three steps of at most 128.
  FrameBuffer whole(64 * 1024);
  Put(whole, requests);
  EXPECT_EQ(AnswerFrames(whole, *handler, 128, out).frames, 128u);
  EXPECT_EQ(AnswerFrames(whole, *handler, 128, out).frames, 128u);
  const Answered last = AnswerFrames(whole, *handler, 128, out);
  EXPECT_EQ(last.frames, 44u);
  EXPECT_FALSE(last.more);
  EXPECT_EQ(Decode(out).size(), 300u);
}

TEST_F(SessionTest, AnswerFramesWritesLargeAnswersBeforeAnsweringMore) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1024; ++i) ids.push_back("org-" + std::to_string(i % 10));
  std::vector<std::uint8_t> requests;
  for (std::uint64_t id = 0; id < 4; ++id) AppendGetOrgPolicies(requests, id, ids, false);
  FrameBuffer in(1u << 20);
  Put(in, requests);
  std::unique_ptr<RequestHandler> handler = Handler();
  std::vector<std::uint8_t> out;
  const Answered first = AnswerFrames(in, *handler, 128, out);
  EXPECT_TRUE(first.more);
  EXPECT_LT(first.frames, 4u);
  EXPECT_GE(out.size(), kFlushBytes);
  std::printf("one 1024-org batch answer: %zu bytes\n", out.size() / first.frames);
}

TEST_F(SessionTest, ABadLengthIsAnsweredAfterTheGoodFramesBeforeIt) {
  std::vector<std::uint8_t> bytes;
  AppendGetOrgPolicy(bytes, 1, "org-1", false);
  AppendGetOrgPolicy(bytes, 2, "org-2", false);
  bytes.insert(bytes.end(), {0xff, 0xff, 0xff, 0xff});
  AppendGetOrgPolicy(bytes, 3, "org-3", false);
  FrameBuffer in(64 * 1024);
  Put(in, bytes);
  std::unique_ptr<RequestHandler> handler = Handler();
  std::vector<std::uint8_t> out;
  const Answered a = AnswerFrames(in, *handler, 128, out);
  EXPECT_TRUE(a.close);
  std::vector<Response> r = Decode(out);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, 1u);
  EXPECT_EQ(r[1].id, 2u);
  EXPECT_EQ(r[2].id, 0u);
  EXPECT_EQ(r[2].error.code(), Code::kResourceExhausted);
}

// ---- whole sessions over a socket pair ----

class SessionPair {
 public:
  // `server_send_buffer` > 0 shrinks the session's socket send buffer, so that its writes wait
  // for the client to read.
  SessionPair(std::unique_ptr<RequestHandler> handler, SessionLimits limits,
              int server_send_buffer = 0)
      : client_(io_) {
    asio::local::stream_protocol::socket server(io_);
    asio::local::connect_pair(server, client_);
    if (server_send_buffer > 0) {
      server.set_option(asio::socket_base::send_buffer_size(server_send_buffer));
    }
    auto c = std::make_shared<Connection>(std::move(server));
    c->deadline = SteadyClock::now() + limits.idle_timeout;
    auto log = [](std::exception_ptr e) { EXPECT_FALSE(e); };
    asio::co_spawn(io_, RunIdleWatchdog(c), log);
    asio::co_spawn(io_, RunSession(c, std::move(handler), limits), log);
  }
  int client_fd() { return client_.native_handle(); }
  // Runs the session to its end; how long that took.
  milliseconds Run() {
    const auto start = SteadyClock::now();
    io_.run_for(std::chrono::seconds(20));
    return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
  }
  void RunInBackground() {
    thread_ = std::thread([this] { io_.run_for(std::chrono::seconds(20)); });
  }
  ~SessionPair() {
    if (thread_.joinable()) thread_.join();
  }
  bool ClientSeesClose() {
    std::uint8_t sink[65536];
    for (;;) {
      const ssize_t n = recv(client_fd(), sink, sizeof(sink), MSG_DONTWAIT);
      if (n > 0) continue;
      return n == 0 || errno == ECONNRESET;
    }
  }

 private:
  asio::io_context io_;
  asio::local::stream_protocol::socket client_;
  std::thread thread_;
};

TEST_F(SessionTest, AFrameDrippedSlowerThanTheFrameTimeoutIsClosedBeforeTheIdleTimeout) {
  SessionPair pair(Handler(), {64 * 1024, milliseconds(5000), milliseconds(200), 128});
  std::vector<std::uint8_t> frame;
  AppendGetOrgPolicy(frame, 1, "org-1", false);
  ASSERT_EQ(send(pair.client_fd(), frame.data(), 3, MSG_NOSIGNAL), 3);
  const milliseconds took = pair.Run();
  EXPECT_GE(took, milliseconds(150));
  EXPECT_LT(took, milliseconds(4000));
  EXPECT_TRUE(pair.ClientSeesClose());
}

// Regression: the time a session spent blocked writing answers to a slow reader counted against
// the frame timeout of a frame that arrived meanwhile, so the connection was closed as soon as
// the write finished.
TEST_F(SessionTest, TimeSpentWritingToASlowReaderDoesNotCountAgainstTheFrameTimeout) {
  SessionPair pair(Handler(), {64 * 1024, milliseconds(5000), milliseconds(400), 128}, 4096);
  std::vector<std::string> ids;
  for (int i = 0; i < 1024; ++i) ids.push_back("org-" + std::to_string(i % 10));
  std::vector<std::uint8_t> bytes, lookup;
  AppendGetOrgPolicies(bytes, 1, ids, false);  // a ~60 KB answer
  AppendGetOrgPolicy(lookup, 2, "org-2", false);
  const std::size_t half = lookup.size() / 2;
  bytes.insert(bytes.end(), lookup.begin(), lookup.begin() + static_cast<std::ptrdiff_t>(half));
  ASSERT_EQ(send(pair.client_fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  pair.RunInBackground();
  // Read the batch answer slowly: the session's write of it takes several frame timeouts.
  std::vector<std::uint8_t> received;
  std::uint8_t chunk[4096];
  auto complete_frames = [&] {
    std::size_t at = 0, frames = 0;
    while (received.size() - at >= 4) {
      Result<std::uint32_t> len = DecodeFrameLength(received.data() + at, 1u << 20);
      if (!len || received.size() - at < 4 + *len) break;
      at += 4 + *len;
      ++frames;
    }
    return frames;
  };
  const auto start = SteadyClock::now();
  for (;;) {
    const ssize_t n = recv(pair.client_fd(), chunk, sizeof(chunk), 0);
    ASSERT_GT(n, 0) << "closed while the answer was being written";
    received.insert(received.end(), chunk, chunk + n);
    if (complete_frames() >= 1) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  // About 60 KB at 4 KiB per 50 ms: the write took longer than the frame timeout, and finished
  // only as the last few KiB (the session's small send buffer) were left for us to read.
  EXPECT_GT(SteadyClock::now() - start, milliseconds(600)) << "the write was not slow";
  // The rest of the waiting frame, sent well within its frame timeout of the write finishing.
  ASSERT_EQ(send(pair.client_fd(), lookup.data() + half, lookup.size() - half, MSG_NOSIGNAL),
            static_cast<ssize_t>(lookup.size() - half));
  while (complete_frames() < 2) {
    const ssize_t n = recv(pair.client_fd(), chunk, sizeof(chunk), 0);
    ASSERT_GT(n, 0) << "closed before answering the frame that waited";
    received.insert(received.end(), chunk, chunk + n);
  }
  std::vector<Response> answers = Decode(received);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].id, 2u);
  EXPECT_EQ(answers[1].kind, ResponseKind::kPolicy);
  shutdown(pair.client_fd(), SHUT_WR);
}

TEST_F(SessionTest, APeerThatSendsButNeverReadsIsClosedAtTheIdleTimeout) {
  SessionPair pair(Handler(), {64 * 1024, milliseconds(300), milliseconds(300), 128});
  std::vector<std::uint8_t> burst;
  for (std::uint64_t id = 0; id < 256; ++id) AppendGetOrgPolicy(burst, id, "org-1", false);
  std::size_t sent = 0;
  for (;;) {  // fill our send buffer; the session's answers will fill our receive buffer
    const ssize_t n =
        send(pair.client_fd(), burst.data(), burst.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ASSERT_GT(sent, 100'000u);
  const milliseconds took = pair.Run();
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(5000));
}

TEST_F(SessionTest, PipeliningFarBeyondMaxInflightIsAnsweredInOrderWithoutErrors) {
  SessionPair pair(Handler(), {64 * 1024, milliseconds(5000), milliseconds(5000), 4});
  std::vector<std::uint8_t> requests;
  for (std::uint64_t id = 0; id < 1000; ++id) {
    AppendGetOrgPolicy(requests, id, "org-" + std::to_string(id % 10), false);
  }
  pair.RunInBackground();
  std::thread writer([&] {
    std::size_t at = 0;
    while (at < requests.size()) {
      const ssize_t n =
          send(pair.client_fd(), requests.data() + at, requests.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return;
      at += static_cast<std::size_t>(n);
    }
  });
  std::vector<std::uint8_t> received;
  std::size_t answers = 0;
  std::vector<Response> all;
  std::uint8_t chunk[65536];
  while (all.size() < 1000) {
    const ssize_t n = recv(pair.client_fd(), chunk, sizeof(chunk), 0);
    ASSERT_GT(n, 0);
    received.insert(received.end(), chunk, chunk + n);
    // Complete frames only.
    std::size_t at = 0, end = 0;
    while (received.size() - at >= 4) {
      Result<std::uint32_t> len = DecodeFrameLength(received.data() + at, 1u << 20);
      ASSERT_TRUE(len.has_value());
      if (received.size() - at < 4 + *len) break;
      at += 4 + *len;
      end = at;
    }
    std::vector<std::uint8_t> complete(received.begin(), received.begin() + end);
    for (Response& r : Decode(complete)) all.push_back(std::move(r));
    received.erase(received.begin(), received.begin() + end);
  }
  writer.join();
  shutdown(pair.client_fd(), SHUT_WR);
  for (std::uint64_t id = 0; id < 1000; ++id) {
    EXPECT_EQ(all[id].id, id);
    answers += all[id].kind == ResponseKind::kPolicy;
  }
  EXPECT_EQ(answers, 1000u);
}

}  // namespace
}  // namespace policyd
