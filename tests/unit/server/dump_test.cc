// Dumps over the socket: the store's cursor, DumpStream's chunks (byte for byte the snapshot
// writer's document) and whole sessions (frames in order, flow control, a peer that goes away).
#include "wire/dump.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "json/snapshot_json.h"
#include "server/dump_stream.h"
#include "server/serving_state.h"
#include "server/session.h"
#include "store/forwarding_store.h"
#include "store/store.h"
#include "wire/frame.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The example snapshot (every kind, IdP links, domains) plus `extra` generated orgs, some with
// their own policy and domains, in id order (the order a dump writes).
Snapshot BigSnapshot(int extra) {
  Result<Snapshot> parsed = ParseSnapshot(ReadFile(POLICYD_EXAMPLES_DIR "/snapshot.json"));
  EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
  Snapshot s = parsed ? std::move(*parsed) : Snapshot{};
  for (int i = 0; i < extra; ++i) {
    OrgRecord org{"4" + std::to_string(100000000 + i), std::nullopt};
    if (i % 7 == 0) {
      PolicyRecord p;
      p.flags.user_login_must_be_domain = i % 2 == 0;
      p.details = Details{static_cast<std::uint64_t>(i), Timestamp{1700000000 + i, 5},
                          Timestamp{1700000100 + i, 0}, org.id};
      org.policy = p;
    }
    if (i % 3 == 0) {
      s.org_domains.push_back(OrgDomains{
          org.id, {OrgDomain{"org" + std::to_string(i) + ".example.com", true, true}}, 0});
    }
    s.orgs.push_back(std::move(org));
  }
  std::sort(s.orgs.begin(), s.orgs.end(),
            [](const OrgRecord& a, const OrgRecord& b) { return a.id < b.id; });
  return s;
}

// A frame's FlatBuffer, copied to 8-byte aligned memory, decoded.
Response DecodeFrame(const std::uint8_t* body, std::size_t size) {
  std::vector<std::uint64_t> aligned(size / 8 + 1);
  std::memcpy(aligned.data(), body, size);
  Result<Response> r =
      DecodeResponse({reinterpret_cast<const std::uint8_t*>(aligned.data()), size});
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r ? std::move(*r) : Response{};
}

// Every frame of `stream`, decoded; fails the test on frames out of order or over the bound.
struct Collected {
  std::string document;
  std::vector<std::size_t> chunk_sizes;
  std::uint64_t orgs = 0;
  Status error;
};
// `prefix`: the document bytes of the frames taken before.
Collected Collect(DumpStream& stream, std::uint64_t id, std::string prefix = "") {
  Collected c;
  c.document = std::move(prefix);
  std::vector<std::uint8_t> frame;
  for (bool last = false; !last;) {
    frame.clear();
    last = stream.AppendNextFrame(frame);
    EXPECT_LE(frame.size(), kFrameHeaderBytes + kDumpChunkBytes + kDumpFrameOverhead);
    Result<std::uint32_t> length = DecodeFrameLength(frame.data(), 1u << 20);
    EXPECT_TRUE(length.has_value());
    if (!length) break;
    EXPECT_EQ(*length + kFrameHeaderBytes, frame.size());  // one frame per call
    Response r = DecodeFrame(frame.data() + kFrameHeaderBytes, *length);
    EXPECT_EQ(r.id, id);
    if (r.kind == ResponseKind::kError) {
      c.error = r.error;
      EXPECT_TRUE(last) << "an error frame must end the dump";
      break;
    }
    EXPECT_EQ(r.kind, ResponseKind::kDump);
    EXPECT_EQ(r.dump.offset, c.document.size());
    EXPECT_EQ(r.dump.last, last);
    c.document += r.dump.data;
    c.chunk_sizes.push_back(r.dump.data.size());
    c.orgs = r.dump.orgs;
  }
  return c;
}

TEST(DumpWireTest, ADumpRequestDecodesAndItsChunksRoundTrip) {
  std::vector<std::uint8_t> frame;
  AppendDump(frame, 77);
  std::vector<std::uint64_t> aligned(frame.size() / 8 + 1);
  std::memcpy(aligned.data(), frame.data() + kFrameHeaderBytes, frame.size() - kFrameHeaderBytes);
  auto request = DecodeRequest(
      {reinterpret_cast<const std::uint8_t*>(aligned.data()), frame.size() - kFrameHeaderBytes});
  ASSERT_TRUE(request.has_value()) << request.error().status.ToString();
  EXPECT_EQ(request->id(), 77u);
  EXPECT_EQ(request->kind(), RequestKind::kDump);
  // A full chunk fits the bound; `orgs` is only written on the last chunk.
  DumpChunkEncoder encoder;
  const std::string data(kDumpChunkBytes, 'x');
  for (const bool last : {false, true}) {
    frame.clear();
    encoder.Append(frame, 77, 1234, data, last, 42);
    EXPECT_LE(frame.size(), kFrameHeaderBytes + kDumpChunkBytes + kDumpFrameOverhead);
    Response r = DecodeFrame(frame.data() + kFrameHeaderBytes, frame.size() - kFrameHeaderBytes);
    EXPECT_EQ(r.kind, ResponseKind::kDump);
    EXPECT_EQ(r.dump.offset, 1234u);
    EXPECT_TRUE(r.dump.data == data);
    EXPECT_EQ(r.dump.last, last);
    EXPECT_EQ(r.dump.orgs, last ? 42u : 0u);
  }
}

class DumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "policyd-dump-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> store = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Load(const Snapshot& s) {
    ASSERT_TRUE(store_->Replace(s, "", "test", Timestamp{1700000000, 0}).ok());
  }
  std::unique_ptr<DumpStream> Stream(std::size_t chunk_bytes = kDumpChunkBytes) {
    Result<std::unique_ptr<DumpCursor>> cursor = store_->OpenDumpCursor();
    EXPECT_TRUE(cursor.has_value()) << cursor.error().ToString();
    if (!cursor) return nullptr;
    return std::make_unique<DumpStream>(9, std::move(*cursor), chunk_bytes);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(DumpTest, ChunksConcatenateToTheSnapshotWritersDocumentAtEveryChunkSize) {
  const Snapshot s = BigSnapshot(3000);
  Load(s);
  const std::string expected = FormatSnapshot(s);
  for (std::size_t chunk : {std::size_t{1000}, std::size_t{4093}, kDumpChunkBytes}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    std::unique_ptr<DumpStream> stream = Stream(chunk);
    ASSERT_NE(stream, nullptr);
    const Collected c = Collect(*stream, 9);
    EXPECT_TRUE(c.error.ok()) << c.error.ToString();
    EXPECT_TRUE(c.document == expected) << "the dump differs from FormatSnapshot";
    EXPECT_EQ(c.orgs, s.orgs.size());
    ASSERT_EQ(c.chunk_sizes.size(), (expected.size() + chunk - 1) / chunk);
    for (std::size_t i = 0; i + 1 < c.chunk_sizes.size(); ++i) EXPECT_EQ(c.chunk_sizes[i], chunk);
  }
}

TEST_F(DumpTest, TheExampleSnapshotDumpsToItsOwnBytes) {
  const std::string example = ReadFile(POLICYD_EXAMPLES_DIR "/snapshot.json");
  Result<Snapshot> s = ParseSnapshot(example);
  ASSERT_TRUE(s.has_value());
  Load(*s);
  std::unique_ptr<DumpStream> stream = Stream();
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(Collect(*stream, 9).document, example);
}

TEST_F(DumpTest, AStoreWithoutOrgsDumpsTheInstanceAlone) {
  Snapshot s = BigSnapshot(0);
  s.orgs.clear();
  s.org_domains.clear();
  std::erase_if(s.kind_rows, [](const KindRow& row) { return !row.org_id.empty(); });
  Load(s);
  std::unique_ptr<DumpStream> stream = Stream();
  ASSERT_NE(stream, nullptr);
  const Collected c = Collect(*stream, 9);
  EXPECT_EQ(c.document, FormatSnapshot(s));
  EXPECT_EQ(c.orgs, 0u);
  EXPECT_EQ(c.chunk_sizes.size(), 1u);
}

TEST_F(DumpTest, AStoreWithoutStateCannotBeDumped) {
  Result<std::unique_ptr<DumpCursor>> cursor = store_->OpenDumpCursor();
  ASSERT_FALSE(cursor.has_value());
  EXPECT_EQ(cursor.error().code(), Code::kFailedPrecondition);
}

TEST_F(DumpTest, ACursorSeesTheStateOfItsOpeningWhateverIsWrittenMeanwhile) {
  const Snapshot before = BigSnapshot(500);
  Load(before);
  std::unique_ptr<DumpStream> stream = Stream(2048);
  ASSERT_NE(stream, nullptr);
  std::vector<std::uint8_t> first;
  ASSERT_FALSE(stream->AppendNextFrame(first));  // the walk has begun
  // Remove orgs on both sides of the walk's position, add one, change the instance and domains.
  StoreChange change;
  change.removed_orgs = {before.orgs.front().id, before.orgs.back().id};
  change.put_orgs.push_back(OrgRecord{"5000000000", std::nullopt});
  InstanceRecord instance = before.instance;
  instance.policy.flags.validate_org_domains = !instance.policy.flags.validate_org_domains;
  change.instance = instance;
  ASSERT_TRUE(store_->Apply(change, Timestamp{1800000000, 0}).ok());
  Response head = DecodeFrame(first.data() + kFrameHeaderBytes, first.size() - kFrameHeaderBytes);
  const Collected rest = Collect(*stream, 9, head.dump.data);
  EXPECT_TRUE(rest.document == FormatSnapshot(before));
  // A new dump sees the change.
  std::unique_ptr<DumpStream> after = Stream();
  ASSERT_NE(after, nullptr);
  const Collected now = Collect(*after, 9);
  EXPECT_EQ(now.orgs, before.orgs.size() - 1);
  EXPECT_NE(now.document.find("\"5000000000\""), std::string::npos);
}

// Every org's policy flips in one Apply per round while dumps run: a dump from one view shows
// every org with the same flag, never a mixture of two rounds.
TEST_F(DumpTest, DumpsDuringWritesEachShowOneStateNeverAMixture) {
  Snapshot s = BigSnapshot(0);
  for (int i = 0; i < 2000; ++i) s.orgs.push_back(OrgRecord{"7" + std::to_string(1000 + i), {}});
  Load(s);
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer([&] {
    for (int round = 0; !stop; ++round) {
      StoreChange change;
      for (const OrgRecord& org : s.orgs) {
        PolicyRecord p;
        p.flags.user_login_must_be_domain = round % 2 == 0;
        p.details = Details{static_cast<std::uint64_t>(round) + 1, {}, {}, org.id};
        change.put_orgs.push_back(OrgRecord{org.id, p});
      }
      // The instance (read apart from the org rows) and one org's domains (rows of their own,
      // joined to the org rows) change in the same batch.
      change.instance = s.instance;
      change.instance->policy.details.sequence = static_cast<std::uint64_t>(round) + 1;
      change.put_org_domains.push_back(OrgDomains{
          s.orgs.back().id, {OrgDomain{"r" + std::to_string(round + 1) + ".example.com"}}, 0});
      EXPECT_TRUE(store_->Apply(change, Timestamp{1700000000 + round, 0}).ok());
      ++rounds;
    }
  });
  int dumps = 0;
  while (dumps < 20 || rounds < 3) {
    std::unique_ptr<DumpStream> stream = Stream(1024);
    ASSERT_NE(stream, nullptr);
    const Collected c = Collect(*stream, 9);
    Result<Snapshot> parsed = ParseSnapshot(c.document);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    // (flag, sequence) of every written org's policy (not the example's orgs: ids without 7).
    std::set<std::pair<bool, std::uint64_t>> states;
    for (const OrgRecord& org : parsed->orgs) {
      if (!org.policy || org.id[0] != '7') continue;
      states.insert({org.policy->flags.user_login_must_be_domain, org.policy->details.sequence});
    }
    if (states.size() == 1) {
      const std::uint64_t sequence = states.begin()->second;
      EXPECT_EQ(parsed->instance.policy.details.sequence, sequence);
      ASSERT_FALSE(parsed->org_domains.empty());
      EXPECT_EQ(parsed->org_domains.back().domains.at(0).name,
                "r" + std::to_string(sequence) + ".example.com");
    }
    EXPECT_LE(states.size(), 1u) << "dump " << dumps << " mixes states of several writes: "
                                 << testing::PrintToString(states);
    ++dumps;
  }
  stop = true;
  writer.join();
  EXPECT_GE(rounds.load(), 3);
}

// A cursor that fails after `ok` orgs, or counts the live cursors and the orgs it yielded.
class WrappedCursor final : public DumpCursor {
 public:
  WrappedCursor(std::unique_ptr<DumpCursor> base, std::atomic<int>& live,
                std::atomic<std::uint64_t>& yielded, std::uint64_t fail_after)
      : base_(std::move(base)), live_(live), yielded_(yielded), fail_after_(fail_after) {
    ++live_;
  }
  ~WrappedCursor() override { --live_; }
  const DumpInstance& instance() const override { return base_->instance(); }
  Result<bool> Next(DumpEntry& out) override {
    if (yielded_ >= fail_after_) return Err(Status::DataLoss("org row 7 does not decode"));
    Result<bool> more = base_->Next(out);
    if (more && *more) ++yielded_;
    return more;
  }

 private:
  std::unique_ptr<DumpCursor> base_;
  std::atomic<int>& live_;
  std::atomic<std::uint64_t>& yielded_;
  const std::uint64_t fail_after_;
};

class CountingStore final : public ForwardingStore {
 public:
  explicit CountingStore(Store& base, std::uint64_t fail_after = UINT64_MAX)
      : ForwardingStore(base), fail_after_(fail_after) {}
  Result<std::unique_ptr<DumpCursor>> OpenDumpCursor() const override {
    Result<std::unique_ptr<DumpCursor>> cursor = ForwardingStore::OpenDumpCursor();
    if (!cursor) return cursor;
    return std::unique_ptr<DumpCursor>(
        std::make_unique<WrappedCursor>(std::move(*cursor), live, yielded, fail_after_));
  }
  mutable std::atomic<int> live{0};
  mutable std::atomic<std::uint64_t> yielded{0};

 private:
  const std::uint64_t fail_after_;
};

TEST_F(DumpTest, AStoreErrorMidwayEndsTheDumpWithAnErrorFrame) {
  Load(BigSnapshot(2000));
  CountingStore failing(*store_, /*fail_after=*/1000);
  Result<std::unique_ptr<DumpCursor>> cursor = failing.OpenDumpCursor();
  ASSERT_TRUE(cursor.has_value());
  DumpStream stream(4, std::move(*cursor), 4096);
  const Collected c = Collect(stream, 4);
  EXPECT_EQ(c.error.code(), Code::kDataLoss);
  EXPECT_NE(c.error.message().find("dump"), std::string::npos) << c.error.message();
  EXPECT_FALSE(c.chunk_sizes.empty());  // it failed midway, after sending chunks
  EXPECT_EQ(failing.live.load(), 0) << "the failed walk's cursor was not released";
}

// ---- whole sessions over a socket pair ----

class DumpSessionTest : public DumpTest {
 protected:
  // Starts a session on `store` over a socket pair whose server side sends through a buffer of
  // `send_buffer` bytes (0: the default).
  void Start(const Store& store, SessionLimits limits, int send_buffer = 0) {
    asio::local::stream_protocol::socket server(io_);
    asio::local::connect_pair(server, client_);
    if (send_buffer > 0) server.set_option(asio::socket_base::send_buffer_size(send_buffer));
    auto c = std::make_shared<Connection>(std::move(server));
    c->deadline = SteadyClock::now() + limits.idle_timeout;
    auto log = [](std::exception_ptr e) { EXPECT_FALSE(e); };
    asio::co_spawn(io_, RunIdleWatchdog(c), log);
    asio::co_spawn(
        io_,
        RunSession(c, std::make_unique<RequestHandler>(store, state_, SystemClock(), "test"),
                   limits),
        log);
    thread_ = std::thread([this] { io_.run_for(std::chrono::seconds(30)); });
  }
  void TearDown() override {
    Finish();
    DumpTest::TearDown();
  }
  // Closes the client and waits for the session to end: a test whose store is a local calls it
  // before the store goes.
  void Finish() {
    if (client_.is_open()) client_.close();
    if (thread_.joinable()) thread_.join();
  }
  int fd() { return client_.native_handle(); }
  void Send(const std::vector<std::uint8_t>& bytes) {
    ASSERT_EQ(send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads one whole frame (blocking); nullopt at EOF.
  std::optional<Response> ReadFrame() {
    std::uint8_t header[kFrameHeaderBytes];
    if (!ReadExactly(header, sizeof(header))) return std::nullopt;
    Result<std::uint32_t> length = DecodeFrameLength(header, 1u << 20);
    if (!length) return std::nullopt;
    std::vector<std::uint8_t> body(*length);
    if (!ReadExactly(body.data(), body.size())) return std::nullopt;
    return DecodeFrame(body.data(), body.size());
  }
  bool ReadExactly(std::uint8_t* to, std::size_t n) {
    for (std::size_t got = 0; got < n;) {
      const ssize_t r = recv(fd(), to + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }

  asio::io_context io_;
  asio::local::stream_protocol::socket client_{io_};
  std::thread thread_;
  ServingState state_{FreshnessOptions{}};
};

constexpr SessionLimits kLimits{64 * 1024, milliseconds(5000), milliseconds(5000), 128};

TEST_F(DumpSessionTest, ADumpIsAnsweredInChunksThenTheRequestsPipelinedAfterIt) {
  const Snapshot s = BigSnapshot(6000);
  Load(s);
  Start(*store_, kLimits);
  std::vector<std::uint8_t> requests;
  AppendGetOrgPolicy(requests, 1, s.orgs[0].id, false);
  AppendDump(requests, 2);
  AppendGetOrgPolicy(requests, 3, s.orgs[1].id, false);
  Send(requests);
  std::optional<Response> first = ReadFrame();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, 1u);
  EXPECT_EQ(first->kind, ResponseKind::kPolicy);
  std::string document;
  int chunks = 0;
  for (;;) {
    std::optional<Response> r = ReadFrame();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->id, 2u);
    ASSERT_EQ(r->kind, ResponseKind::kDump);
    ASSERT_EQ(r->dump.offset, document.size());
    document += r->dump.data;
    ++chunks;
    if (r->dump.last) {
      EXPECT_EQ(r->dump.orgs, s.orgs.size());
      break;
    }
  }
  EXPECT_GT(chunks, 1);
  EXPECT_TRUE(document == FormatSnapshot(s));
  std::optional<Response> after = ReadFrame();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->id, 3u);
  EXPECT_EQ(after->kind, ResponseKind::kPolicy);
}

TEST_F(DumpSessionTest, ADumpOfAStoreWithoutStateIsAnErrorAndTheConnectionStaysUsable) {
  Start(*store_, kLimits);
  std::vector<std::uint8_t> requests;
  AppendDump(requests, 5);
  AppendGetStatus(requests, 6);
  Send(requests);
  std::optional<Response> r = ReadFrame();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, 5u);
  EXPECT_EQ(r->error.code(), Code::kFailedPrecondition);
  r = ReadFrame();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ResponseKind::kStatus);
}

// Flow control: a peer that does not read gets no more than the socket buffers hold plus the
// frame being written; nothing of the store piles up in the daemon. The idle timeout then closes
// the connection, which releases the dump.
TEST_F(DumpSessionTest, APeerThatStopsReadingHoldsUpItsDumpUntilTheIdleTimeoutReleasesIt) {
  const Snapshot s = BigSnapshot(40000);  // about 2.5 MB of JSON
  Load(s);
  CountingStore counting(*store_);
  Start(counting, SessionLimits{64 * 1024, milliseconds(600), milliseconds(600), 128}, 16384);
  std::vector<std::uint8_t> request;
  AppendDump(request, 1);
  Send(request);
  std::optional<Response> first = ReadFrame();  // the dump has begun
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->kind, ResponseKind::kDump);
  // Wait for the session to close us (idle: we do not read), without reading.
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  while (counting.live.load() > 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(counting.live.load(), 0) << "the dump outlived its connection";
  // The orgs formatted: what the buffers could take (our receive buffer, the server's 16 KiB
  // send buffer, one 256 KiB frame in the writing and one org over), far from the 40000.
  int receive_buffer = 0;
  socklen_t len = sizeof(receive_buffer);
  ASSERT_EQ(getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, &len), 0);
  const std::uint64_t bound_bytes = static_cast<std::uint64_t>(receive_buffer) + 2 * 16384 +
                                    2 * kDumpChunkBytes + kDumpFrameOverhead;
  const std::uint64_t org_bytes = FormatSnapshot(s).size() / s.orgs.size();
  EXPECT_LT(counting.yielded.load(), bound_bytes / org_bytes + 2);
  EXPECT_LT(counting.yielded.load(), s.orgs.size() / 2);
  Finish();
}

TEST_F(DumpSessionTest, APeerThatDisconnectsMidDumpFreesTheDumpAtOnce) {
  Load(BigSnapshot(40000));
  CountingStore counting(*store_);
  Start(counting, kLimits, 16384);
  std::vector<std::uint8_t> request;
  AppendDump(request, 1);
  Send(request);
  std::optional<Response> first = ReadFrame();
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->kind, ResponseKind::kDump);
  ASSERT_FALSE(first->dump.last);
  const auto closed_at = SteadyClock::now();
  client_.close();
  while (counting.live.load() > 0 && SteadyClock::now() - closed_at < std::chrono::seconds(4)) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(counting.live.load(), 0);
  // Well before the idle timeout (5 s): the failed write ended the session.
  EXPECT_LT(SteadyClock::now() - closed_at, std::chrono::seconds(3));
  Finish();
}

}  // namespace
}  // namespace policyd
