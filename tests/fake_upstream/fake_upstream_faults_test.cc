// The fake upstream's scripted faults, request counting and wait helper. Truncation and reset
// are checked on a raw socket, so that what the peer really sees is asserted.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/test_client.h"

namespace policyd::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr char kPolicyPath[] = "/admin/v1/policies/domain";

// What a peer receives for one request written on a fresh connection: every byte until EOF or
// an error, and the errno of that error (0 for a clean EOF).
struct RawExchange {
  std::string received;
  int error = 0;
};

RawExchange RawGet(int port, const std::string& path) {
  RawExchange out;
  const int sock = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{10, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    out.error = errno;
    close(sock);
    return out;
  }
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Authorization: Bearer fake-pat-0123456789\r\n\r\n";
  send(sock, request.data(), request.size(), MSG_NOSIGNAL);
  char buffer[4096];
  while (true) {
    const ssize_t n = recv(sock, buffer, sizeof(buffer), 0);
    if (n > 0) {
      out.received.append(buffer, static_cast<std::size_t>(n));
    } else {
      out.error = n == 0 ? 0 : errno;
      break;
    }
  }
  close(sock);
  return out;
}

TEST(FakeUpstreamFaultsTest, StatusFaultsAnswerInTheStatusShapeForTheGivenNumberOfRequests) {
  FakeUpstream fake;
  TestClient client(fake);
  fake.InjectFault({.kind = FaultKind::kInternalError, .times = 2});
  for (int i = 0; i < 2; ++i) {
    HttpResult r = client.Get(kPolicyPath);
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.Json()["code"], 13);
  }
  EXPECT_EQ(client.Get(kPolicyPath).status, 200);

  fake.InjectFault({.kind = FaultKind::kTooManyRequests, .retry_after = std::chrono::seconds(7)});
  HttpResult r = client.Get(kPolicyPath);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Json()["code"], 8);
  EXPECT_EQ(r.headers.find("Retry-After")->second, "7");

  fake.InjectFault({.kind = FaultKind::kUnavailable});
  r = client.Get(kPolicyPath);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Json()["code"], 14);

  fake.InjectFault({.kind = FaultKind::kWrongToken});
  r = client.Get(kPolicyPath);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json()["details"][0]["id"], "AUTH-7fs1e");
  EXPECT_EQ(client.Get(kPolicyPath).status, 200);
  EXPECT_EQ(fake.FaultsTriggered(), 5);
}

TEST(FakeUpstreamFaultsTest, FaultsMatchByPathPrefixAndForeverLastsUntilCleared) {
  FakeUpstream fake;
  TestClient client(fake);
  fake.InjectFault({.kind = FaultKind::kUnavailable,
                    .times = Fault::kForever,
                    .path_prefix = "/admin/v1/events"});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.Post("/admin/v1/events/_search", "{}").status, 503);
  EXPECT_EQ(client.Post("/admin/v1/orgs/_search", "{}").status, 200);
  fake.ClearFaults();
  EXPECT_EQ(client.Post("/admin/v1/events/_search", "{}").status, 200);
  EXPECT_EQ(fake.RequestCount("/admin/v1/events/_search"), 4);
  EXPECT_EQ(fake.RequestCount("/admin/v1/orgs/_search"), 1);
  EXPECT_EQ(fake.TotalRequests(), 5);
}

TEST(FakeUpstreamFaultsTest, SlowFaultDelaysTheRealAnswer) {
  FakeUpstream fake;
  TestClient client(fake);
  fake.InjectFault({.kind = FaultKind::kSlow, .delay = milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  HttpResult r = client.Get(kPolicyPath);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, fake.DefaultPolicyBody());

  fake.InjectFault({.kind = FaultKind::kSlow, .delay = milliseconds(5000)});
  client.raw().set_read_timeout(0, 100'000);
  EXPECT_EQ(client.Get(kPolicyPath).error, httplib::Error::Read);
  // The fake's destructor ends the pending delay at once.
}

TEST(FakeUpstreamFaultsTest, TruncatedBodyPromisesMoreThanItSendsThenCloses) {
  FakeUpstream fake;
  fake.InjectFault({.kind = FaultKind::kTruncatedBody});
  RawExchange x = RawGet(fake.port(), kPolicyPath);
  EXPECT_EQ(x.error, 0);
  const std::size_t header_end = x.received.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos) << x.received;
  const std::string body = x.received.substr(header_end + 4);
  const std::string full = fake.DefaultPolicyBody();
  EXPECT_NE(x.received.find("Content-Length: " + std::to_string(full.size())), std::string::npos);
  EXPECT_EQ(body, full.substr(0, full.size() / 2));
  EXPECT_EQ(x.received.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(TestClient(fake).Get(kPolicyPath).status, 200);
}

TEST(FakeUpstreamFaultsTest, ConnectionResetSendsNoResponseByte) {
  FakeUpstream fake;
  fake.InjectFault({.kind = FaultKind::kConnectionReset});
  RawExchange x = RawGet(fake.port(), kPolicyPath);
  EXPECT_EQ(x.received, "");
  EXPECT_EQ(x.error, ECONNRESET);
  fake.InjectFault({.kind = FaultKind::kConnectionReset});
  EXPECT_FALSE(TestClient(fake).Get(kPolicyPath).ok());
  EXPECT_EQ(TestClient(fake).Get(kPolicyPath).status, 200);
}

TEST(FakeUpstreamFaultsTest, MalformedJsonIsA200ThatDoesNotParse) {
  FakeUpstream fake;
  fake.InjectFault({.kind = FaultKind::kMalformedJson});
  HttpResult r = TestClient(fake).Get(kPolicyPath);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_TRUE(json::parse(r.body, nullptr, false).is_discarded()) << r.body;
}

// The domain lists take faults like every other endpoint (faults apply before routing).
TEST(FakeUpstreamFaultsTest, FaultsApplyToTheDomainLists) {
  FakeUpstream fake;
  const std::string org = fake.AddOrg("acme");
  TestClient client(fake);
  constexpr char kOrgDomains[] = "/management/v1/orgs/me/domains/_search";
  constexpr char kInstanceDomains[] = "/admin/v1/domains/_search";
  const auto org_domains = [&] {
    return client.Post(kOrgDomains, "{}", {{"x-zitadel-orgid", org}});
  };
  fake.InjectFault({.kind = FaultKind::kInternalError, .path_prefix = kOrgDomains});
  EXPECT_EQ(org_domains().status, 500);
  EXPECT_EQ(org_domains().status, 200);
  fake.InjectFault({.kind = FaultKind::kTooManyRequests, .path_prefix = kInstanceDomains});
  EXPECT_EQ(client.Post(kInstanceDomains, "{}").status, 429);
  fake.InjectFault({.kind = FaultKind::kMalformedJson, .path_prefix = kInstanceDomains});
  HttpResult r = client.Post(kInstanceDomains, "{}");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(json::parse(r.body, nullptr, false).is_discarded()) << r.body;
  fake.InjectFault({.kind = FaultKind::kConnectionReset, .path_prefix = kOrgDomains});
  EXPECT_FALSE(org_domains().ok());
  fake.InjectFault({.kind = FaultKind::kTruncatedBody, .path_prefix = kOrgDomains});
  EXPECT_FALSE(org_domains().ok());
  fake.InjectFault(
      {.kind = FaultKind::kSlow, .path_prefix = kInstanceDomains, .delay = milliseconds(200)});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.Post(kInstanceDomains, "{}").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
  EXPECT_EQ(fake.FaultsTriggered(), 6);
  EXPECT_EQ(fake.RequestCount(kOrgDomains), 4);
  EXPECT_EQ(fake.RequestCount(kInstanceDomains), 3);
}

TEST(FakeUpstreamFaultsTest, WaitForRequestsSucceedsOnceCountedAndFailsAfterTheDeadline) {
  FakeUpstream fake;
  std::thread caller([&] { TestClient(fake).Get(kPolicyPath); });
  EXPECT_TRUE(fake.WaitForRequests(kPolicyPath, 1, milliseconds(10'000)));
  caller.join();
  ::testing::AssertionResult late = fake.WaitForRequests(kPolicyPath, 2, milliseconds(50));
  EXPECT_FALSE(late);
  EXPECT_STREQ(late.message(), "only 1 of 2 requests to /admin/v1/policies/domain within 50 ms");
}

TEST(FakeUpstreamFaultsTest, DestructionDoesNotWaitForIdleKeepAliveConnections) {
  std::chrono::steady_clock::duration elapsed{};
  {
    auto fake = std::make_unique<FakeUpstream>();
    TestClient client(*fake);
    client.raw().set_keep_alive(true);
    ASSERT_EQ(client.Get(kPolicyPath).status, 200);  // the connection stays open
    const auto start = std::chrono::steady_clock::now();
    fake.reset();
    elapsed = std::chrono::steady_clock::now() - start;
  }
  EXPECT_LT(elapsed, milliseconds(2000));
}

}  // namespace
}  // namespace policyd::testing_support
