// The real policyd binary on a temp socket and data dir, queried by policyctl and the client
// library.
#include "support/daemon.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "json/policy_json.h"
#include "wire/frame.h"
#include "wire/request.h"

namespace policyd::testing_support {
namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = MakeSnapshot(200);
    WriteSnapshot(snapshot_, dir_.Join("snapshot.json"));
  }
  std::unique_ptr<Daemon> StartWithSnapshot(std::vector<std::string> extra = {}) {
    extra.push_back("--snapshot");
    extra.push_back(dir_.Join("snapshot.json"));
    auto d = std::make_unique<Daemon>(dir_, extra);
    EXPECT_TRUE(d->WaitReady());
    return d;
  }

  TempDir dir_;
  Snapshot snapshot_;
};

// A raw socket, for sending what the client library never would.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConnection() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::vector<std::uint8_t>& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads one response; nullopt when the server closed the connection.
  std::optional<Response> Receive() {
    std::uint8_t header[4];
    if (!ReadExactly(header, 4)) return std::nullopt;
    Result<std::uint32_t> n = DecodeFrameLength(header, 16u << 20);
    if (!n) return std::nullopt;
    std::vector<std::uint64_t> body(*n / 8 + 1);
    if (!ReadExactly(reinterpret_cast<std::uint8_t*>(body.data()), *n)) return std::nullopt;
    Result<Response> r = DecodeResponse({reinterpret_cast<std::uint8_t*>(body.data()), *n});
    EXPECT_TRUE(r.has_value());
    return r ? std::optional<Response>(std::move(*r)) : std::nullopt;
  }
  bool ClosedByPeer() {
    std::uint8_t b;
    return recv(fd_, &b, 1, 0) == 0;
  }

 private:
  bool ReadExactly(std::uint8_t* to, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = recv(fd_, to + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
};

std::vector<std::uint8_t> Frame(const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> out;
  AppendFrame(out, body);
  return out;
}

TEST_F(DaemonTest, PolicyctlPrintsTheUpstreamJsonForOrgsAndTheDefault) {
  auto daemon = StartWithSnapshot();
  for (const std::string org : {"org-0", "org-1", "org-10", "no-such-org"}) {
    CommandResult r = daemon->Ctl({"get", "--org", org});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, FormatGetPolicyResponse(ExpectedPolicy(snapshot_, org)) + "\n") << org;
  }
  CommandResult def = daemon->Ctl({"get"});
  ASSERT_EQ(def.exit_code, 0) << def.err;
  EXPECT_EQ(def.out, FormatGetPolicyResponse(ExpectedPolicy(snapshot_, "no-such-org")) + "\n");
  EXPECT_NE(def.out.find("\"isDefault\":true"), std::string::npos);
  EXPECT_NE(def.out.find("\"sequence\":\"7\""), std::string::npos);  // int64 as a string
}

TEST_F(DaemonTest, PolicyctlExitCodesAreDistinct) {
  auto daemon = StartWithSnapshot();
  CommandResult strict = daemon->Ctl({"get", "--org", "no-such-org", "--strict"});
  EXPECT_EQ(strict.exit_code, 3);
  EXPECT_NE(strict.err.find("NOT_FOUND"), std::string::npos) << strict.err;
  EXPECT_EQ(std::count(strict.err.begin(), strict.err.end(), '\n'), 1) << strict.err;
  CommandResult usage = daemon->Ctl({"get", "--bogus"});
  EXPECT_EQ(usage.exit_code, 2);
  CommandResult unreachable =
      RunCommand({BinDir() + "/cli/policyctl", "--socket", dir_.Join("nothing.sock"), "status"});
  EXPECT_EQ(unreachable.exit_code, 4);
  EXPECT_NE(unreachable.err.find("UNAVAILABLE"), std::string::npos) << unreachable.err;
  CommandResult invalid = daemon->Ctl({"get", "--org", std::string(300, 'x')});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.err.find("INVALID_ARGUMENT"), std::string::npos);
}

TEST_F(DaemonTest, StatusReportsTheStore) {
  auto daemon = StartWithSnapshot();
  CommandResult r = daemon->Ctl({"status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"orgCount\":200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"customPolicyCount\":20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"health\":\"serving\""), std::string::npos) << r.out;
  CommandResult text = daemon->Ctl({"status"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("200 (20 with their own policy)"), std::string::npos) << text.out;
}

TEST_F(DaemonTest, RestartWithoutSnapshotKeepsTheData) {
  {
    auto daemon = StartWithSnapshot();
    EXPECT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  }
  Daemon again(dir_);
  ASSERT_TRUE(again.WaitReady());
  Client client = again.Connect();
  for (int i = 0; i < 200; i += 7) {
    const std::string org = "org-" + std::to_string(i);
    Result<PolicyAnswer> a = client.GetOrgPolicy(org, /*strict=*/true);
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    EXPECT_EQ(a->policy, ExpectedPolicy(snapshot_, org));
    EXPECT_TRUE(a->org_known);
  }
}

TEST_F(DaemonTest, ABadSnapshotExits78AndLeavesTheStoreAsItWas) {
  {
    auto daemon = StartWithSnapshot();
    EXPECT_EQ(daemon->process().Stop(SIGTERM), 0);
  }
  std::ofstream(dir_.Join("bad.json")) << R"({"instance":{"id":"i","policy":{}},"orgs":[{"id":)";
  Daemon bad(dir_, {"--snapshot", dir_.Join("bad.json")});
  EXPECT_EQ(bad.process().Wait(std::chrono::seconds(20)), 78) << bad.process().Log();
  Daemon good(dir_);
  ASSERT_TRUE(good.WaitReady());
  Result<ServerStatus> s = good.Connect().GetStatus();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->meta.org_count, 200u);
}

TEST_F(DaemonTest, SocketGetsItsModeAndAStaleSocketIsReplaced) {
  // A socket file left behind by a dead daemon.
  {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = dir_.Join("policyd.sock");
    std::memcpy(addr.sun_path, path.data(), path.size());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  auto daemon = StartWithSnapshot({"--socket-mode", "0600"});
  struct stat st {};
  ASSERT_EQ(stat(daemon->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A second daemon on the same live socket refuses to start (exit 78), the first keeps serving.
  TempDir other;
  ChildProcess second({BinDir() + "/daemon/policyd", "--socket", daemon->socket(), "--data-dir",
                       other.Join("data")},
                      other.Join("log"));
  EXPECT_EQ(second.Wait(std::chrono::seconds(20)), 78) << second.Log();
  EXPECT_NE(second.Log().find("in use"), std::string::npos) << second.Log();
  EXPECT_TRUE(daemon->Connect().GetStatus().has_value());
}

TEST_F(DaemonTest, PipelinedRequestsAreAnsweredInOrderWithTheirIds) {
  auto daemon = StartWithSnapshot();
  RawConnection raw(daemon->socket());
  ASSERT_TRUE(raw.connected());
  std::vector<std::uint8_t> frames;
  for (std::uint64_t id = 1000; id < 1100; ++id) {
    AppendGetOrgPolicy(frames, id, "org-" + std::to_string(id % 200), false);
  }
  AppendGetStatus(frames, 5);
  AppendGetDefaultPolicy(frames, 6);
  raw.Send(frames);
  for (std::uint64_t id = 1000; id < 1100; ++id) {
    std::optional<Response> r = raw.Receive();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->id, id);
    EXPECT_EQ(r->policies.at(0).policy,
              ExpectedPolicy(snapshot_, "org-" + std::to_string(id % 200)));
  }
  EXPECT_EQ(raw.Receive()->kind, ResponseKind::kStatus);
  EXPECT_EQ(raw.Receive()->id, 6u);
}

TEST_F(DaemonTest, MalformedFramesGetErrorsAndNeverHurtOtherClients) {
  auto daemon = StartWithSnapshot();
  Client good = daemon->Connect();

  {  // Garbage inside a well-formed frame: INVALID_ARGUMENT, connection stays usable.
    RawConnection raw(daemon->socket());
    raw.Send(Frame(std::vector<std::uint8_t>(32, 0xAB)));
    std::optional<Response> r = raw.Receive();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->error.code(), Code::kInvalidArgument);
    std::vector<std::uint8_t> ok;
    AppendGetOrgPolicy(ok, 9, "org-0", false);
    raw.Send(ok);
    EXPECT_EQ(raw.Receive()->id, 9u);
  }
  {  // A response (the wrong FlatBuffer type) sent as a request.
    RawConnection raw(daemon->socket());
    ResponseEncoder enc;
    std::vector<std::uint8_t> wrong;
    enc.AppendError(wrong, 1, Status::NotFound("x"));
    raw.Send(wrong);
    EXPECT_EQ(raw.Receive()->error.code(), Code::kInvalidArgument);
  }
  {  // Zero length: error, then the connection is closed.
    RawConnection raw(daemon->socket());
    raw.Send({0, 0, 0, 0});
    EXPECT_EQ(raw.Receive()->error.code(), Code::kInvalidArgument);
    EXPECT_TRUE(raw.ClosedByPeer());
  }
  {  // Oversize declared length: RESOURCE_EXHAUSTED, closed, nothing allocated for it.
    RawConnection raw(daemon->socket());
    raw.Send({0xff, 0xff, 0xff, 0x7f});
    EXPECT_EQ(raw.Receive()->error.code(), Code::kResourceExhausted);
    EXPECT_TRUE(raw.ClosedByPeer());
  }
  {  // Truncated: half a frame, then the client goes away.
    RawConnection raw(daemon->socket());
    std::vector<std::uint8_t> frame;
    AppendGetOrgPolicy(frame, 1, "org-1", false);
    frame.resize(frame.size() / 2);
    raw.Send(frame);
  }
  Result<PolicyAnswer> a = good.GetOrgPolicy("org-10");
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->policy, ExpectedPolicy(snapshot_, "org-10"));
  EXPECT_TRUE(daemon->process().Running());
}

TEST_F(DaemonTest, IdleConnectionsTimeOut) {
  auto daemon = StartWithSnapshot({"--idle-timeout", "1"});
  RawConnection raw(daemon->socket());
  ASSERT_TRUE(raw.connected());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(raw.ClosedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
}

TEST_F(DaemonTest, HundredConcurrentClientsEachDoingAThousandLookupsAllGetCorrectAnswers) {
  auto daemon = StartWithSnapshot();
  std::atomic<int> wrong{0}, failed{0};
  std::atomic<bool> garbage_done{false};
  // One hostile client keeps sending garbage the whole time.
  std::thread hostile([&] {
    while (!garbage_done.load()) {
      RawConnection raw(daemon->socket());
      std::vector<std::uint8_t> junk = Frame(std::vector<std::uint8_t>(64, 0x5A));
      junk.insert(junk.end(), {0xff, 0xff, 0xff, 0xff});
      raw.Send(junk);
      (void)raw.Receive();
    }
  });
  std::vector<std::thread> clients;
  for (int c = 0; c < 100; ++c) {
    clients.emplace_back([&, c] {
      auto client = Client::Connect(daemon->socket());
      if (!client) {
        ++failed;
        return;
      }
      for (int i = 0; i < 1000; ++i) {
        const std::string org = "org-" + std::to_string((c * 7 + i) % 250);  // some unknown
        Result<PolicyAnswer> a = client->GetOrgPolicy(org);
        if (!a) {
          ++failed;
        } else if (a->policy != ExpectedPolicy(snapshot_, org)) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  garbage_done = true;
  hostile.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(DaemonTest, BatchLookupAnswersEveryOrgInOrder) {
  auto daemon = StartWithSnapshot();
  Client client = daemon->Connect();
  std::vector<std::string> ids;
  for (int i = 0; i < 64; ++i) ids.push_back("org-" + std::to_string(i * 3));
  ids.push_back("ghost");
  Result<std::vector<PolicyAnswer>> answers = client.GetOrgPolicies(ids, /*strict=*/true);
  ASSERT_TRUE(answers.has_value()) << answers.error().ToString();
  ASSERT_EQ(answers->size(), ids.size());
  for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_EQ((*answers)[i].org_id, ids[i]);
    EXPECT_TRUE((*answers)[i].status.ok()) << (*answers)[i].status.ToString();
    EXPECT_EQ((*answers)[i].policy, ExpectedPolicy(snapshot_, ids[i]));
  }
  EXPECT_EQ(answers->back().status.code(), Code::kNotFound);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(DaemonTest, DumpWhileServingRoundTripsTheSnapshotByteForByte) {
  auto daemon = StartWithSnapshot();
  const std::string policyctl = BinDir() + "/cli/policyctl";
  CommandResult dump = RunCommand({policyctl, "dump", "--data-dir", dir_.Join("data")});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(dump.out, ReadFile(dir_.Join("snapshot.json")));
  EXPECT_TRUE(daemon->Connect().GetStatus().has_value());  // still serving
}

TEST_F(DaemonTest, TheExampleSnapshotRoundTripsThroughLoadAndDump) {
  const std::string example = SourceDir() + "/examples/snapshot.json";
  {
    Daemon daemon(dir_, {"--snapshot", example});
    ASSERT_TRUE(daemon.WaitReady());
    ASSERT_EQ(daemon.process().Stop(SIGTERM), 0);
  }
  const std::string out = dir_.Join("dump.json");
  CommandResult dump = RunCommand(
      {BinDir() + "/cli/policyctl", "dump", "--data-dir", dir_.Join("data"), "--output", out});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(ReadFile(out), ReadFile(example));
}

TEST_F(DaemonTest, DumpOfAMissingStoreFailsWithOneLine) {
  CommandResult dump =
      RunCommand({BinDir() + "/cli/policyctl", "dump", "--data-dir", dir_.Join("nothing")});
  EXPECT_EQ(dump.exit_code, 1);
  EXPECT_EQ(std::count(dump.err.begin(), dump.err.end(), '\n'), 1) << dump.err;
}

TEST_F(DaemonTest, SigtermWithLookupsInFlightLosesNone) {
  auto daemon = StartWithSnapshot();
  std::atomic<bool> stop_sending{false};
  std::atomic<int> batches_sent{0}, lost{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      auto client = Client::Connect(daemon->socket());
      if (!client) return;
      std::vector<std::uint8_t> frames;
      while (!stop_sending.load()) {
        frames.clear();
        const std::uint64_t first = client->NextId();
        for (int i = 0; i < 16; ++i) {
          const std::uint64_t id = i == 0 ? first : client->NextId();
          AppendGetOrgPolicy(frames, id, "org-" + std::to_string((c + i) % 200), false);
        }
        if (!client->Send(frames).ok()) return;
        ++batches_sent;
        for (int i = 0; i < 16; ++i) {
          Result<Response> r = client->Receive();
          if (!r) {
            lost += 16 - i;  // a request that was sent got no answer
            return;
          }
          if (r->id != first + i ||
              r->policies.at(0).policy !=
                  ExpectedPolicy(snapshot_, "org-" + std::to_string((c + i) % 200))) {
            ++wrong;
          }
        }
      }
    });
  }
  ASSERT_TRUE(
      WaitFor([&] { return batches_sent.load() > 200; }, std::chrono::seconds(20), "traffic"));
  stop_sending = true;  // batches already sent must still be answered
  ASSERT_EQ(kill(daemon->process().pid(), SIGTERM), 0);
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(daemon->process().Wait(std::chrono::seconds(15)), 0) << daemon->process().Log();
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(batches_sent.load(), 200);
}

TEST_F(DaemonTest, SigtermExitsZeroAndRemovesTheSocket) {
  auto daemon = StartWithSnapshot();
  EXPECT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  struct stat st {};
  EXPECT_NE(stat(daemon->socket().c_str(), &st), 0);
}

}  // namespace
}  // namespace policyd::testing_support
