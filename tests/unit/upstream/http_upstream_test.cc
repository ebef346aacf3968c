// The HTTP client against small local servers, with a Personal Access Token: requests as the
// upstream expects them, answers parsed, and every failure mapped as upstream.h documents.
#include "upstream/http_upstream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "test_support.h"
#include "upstream/upstream.h"

namespace policyd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using upstream_test::Gate;
using upstream_test::HttpTestServer;
using upstream_test::RawTestServer;
using upstream_test::TempDir;
using upstream_test::WriteFile;

constexpr std::string_view kToken = "pat-secret-0123456789";
constexpr std::string_view kPolicyBody =
    R"({"policy":{"details":{"sequence":"3","creationDate":"2025-02-11T08:00:01.5Z",)"
    R"("changeDate":"2025-03-01T09:12:44Z","resourceOwner":"300000000000000001"},)"
    R"("isDefault":true,"validateOrgDomains":true}})";

struct SeenRequest {
  std::string method;
  std::string target;
  std::string authorization;
  std::string accept;
  std::string content_type;
  std::string user_agent;
  std::string body;
  int remote_port = 0;
  std::string org_id{};  // x-zitadel-orgid
};

// A PAT-authenticated client against an httplib server that records what it receives.
class HttpUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteFile(dir_.File("token"), std::string(kToken) + "\n", 0600));
    // The post-routing handler runs before the answer is written, so a request is on record
    // by the time the client has its answer.
    server_.server().set_post_routing_handler(
        [this](const httplib::Request& req, httplib::Response&) {
          std::lock_guard lock(mu_);
          seen_.push_back({req.method, req.target, req.get_header_value("Authorization"),
                           req.get_header_value("Accept"), req.get_header_value("Content-Type"),
                           req.get_header_value("User-Agent"), req.body, req.remote_port,
                           req.get_header_value("x-zitadel-orgid")});
        });
  }

  void TearDown() override {
    gate_.Open();
    upstream_.reset();  // closes kept-alive connections before the server stops
  }

  UpstreamOptions Options(const std::string& base_url) {
    UpstreamOptions options;
    options.base_url = base_url;
    options.token_file = dir_.File("token");
    options.connect_timeout = std::chrono::milliseconds(2000);
    options.total_timeout = std::chrono::milliseconds(3000);
    options.user_agent = "policyd-test/1";
    return options;
  }

  // Starts the server and builds the client; `tweak` may change the options.
  void Connect(const std::function<void(UpstreamOptions&)>& tweak = {},
               const upstream_internal::TestingKnobs& knobs = {}) {
    ASSERT_TRUE(server_.Start());
    UpstreamOptions options = Options(server_.HttpUrl());
    if (tweak) tweak(options);
    Result<std::unique_ptr<Upstream>> made =
        upstream_internal::MakeHttpUpstreamForTesting(options, clock_, knobs);
    ASSERT_TRUE(made.has_value()) << made.error().ToString();
    upstream_ = std::move(*made);
  }

  void ConnectTo(const std::string& base_url) {
    Result<std::unique_ptr<Upstream>> made = MakeHttpUpstream(Options(base_url), clock_);
    ASSERT_TRUE(made.has_value()) << made.error().ToString();
    upstream_ = std::move(*made);
  }

  std::vector<SeenRequest> Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  void ServeDefaultPolicy(int status, std::string body, std::string retry_after = "") {
    server_.server().Get(
        "/admin/v1/policies/domain",
        [status, body, retry_after](const httplib::Request&, httplib::Response& res) {
          res.status = status;
          if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
          res.set_content(body, "application/json");
        });
  }

  // Destroyed bottom-up: the client first, then the server (joining its handlers), and only
  // then what the handlers use.
  TempDir dir_;
  FakeClock clock_{Timestamp{1740820364, 0}};
  Gate gate_;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
  HttpTestServer server_;
  std::unique_ptr<Upstream> upstream_;
};

TEST_F(HttpUpstreamTest, GetDefaultPolicySendsBearerTokenAndParsesTheInstance) {
  ServeDefaultPolicy(200, std::string(kPolicyBody));
  Connect();
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  ASSERT_TRUE(instance.has_value()) << instance.error().ToString();
  EXPECT_EQ(instance->id, "300000000000000001");
  EXPECT_EQ(instance->policy.flags, (PolicyFlags{false, true, false}));
  EXPECT_EQ(instance->policy.details.sequence, 3u);

  const std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/admin/v1/policies/domain");
  EXPECT_EQ(seen[0].authorization, "Bearer " + std::string(kToken));
  EXPECT_EQ(seen[0].accept, "application/json");
  EXPECT_EQ(seen[0].user_agent, "policyd-test/1");
  EXPECT_EQ(upstream_->request_count(), 1u);
}

TEST_F(HttpUpstreamTest, ReusesTheConnectionAcrossCalls) {
  ServeDefaultPolicy(200, std::string(kPolicyBody));
  Connect();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  const std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].remote_port, seen[0].remote_port);
  EXPECT_EQ(seen[2].remote_port, seen[0].remote_port);
  EXPECT_EQ(upstream_->request_count(), 3u);
}

TEST_F(HttpUpstreamTest, GetOrgPolicyEscapesTheOrgId) {
  server_.server().Get(
      R"(/admin/v1/orgs/.+/policies/domain)", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"policy":{"details":{"resourceOwner":"o"}}})", "application/json");
      });
  Connect();
  Result<ParsedPolicy> plain = upstream_->GetOrgPolicy("300000000000000042");
  ASSERT_TRUE(plain.has_value()) << plain.error().ToString();
  EXPECT_FALSE(plain->is_default);
  EXPECT_EQ(plain->record.details.resource_owner, "o");
  ASSERT_TRUE(upstream_->GetOrgPolicy("a/b c?d").has_value());
  const std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/admin/v1/orgs/300000000000000042/policies/domain");
  EXPECT_EQ(seen[1].target, "/admin/v1/orgs/a%2Fb%20c%3Fd/policies/domain");

  Result<ParsedPolicy> empty = upstream_->GetOrgPolicy("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Seen().size(), 2u);  // refused before any request
}

TEST_F(HttpUpstreamTest, ListOrgsPostsTheQueryAndParsesThePage) {
  server_.server().Post(
      "/admin/v1/orgs/_search", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"details":{"totalResult":"3"},"result":[{"id":"a","name":"A"},)"
                        R"({"id":"b","state":"ORG_STATE_INACTIVE"}]})",
                        "application/json");
      });
  Connect();
  Result<OrgPage> page = upstream_->ListOrgs(1000, 2);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->total, 3u);
  EXPECT_THAT(page->org_ids, ElementsAre("a", "b"));
  const std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(seen[0].body, R"({"query":{"offset":"1000","limit":2,"asc":true}})");

  EXPECT_EQ(upstream_->ListOrgs(0, 0).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(upstream_->ListOrgs(0, 1001).error().code(), Code::kInvalidArgument);
}

TEST_F(HttpUpstreamTest, ListOrgDomainsNamesTheOrgInTheHeaderAndParsesThePage) {
  server_.server().Post("/management/v1/orgs/me/domains/_search", [](const httplib::Request& req,
                                                                     httplib::Response& res) {
    const std::string org = req.get_header_value("x-zitadel-orgid");
    res.set_content(
        R"({"details":{"totalResult":"2"},"result":[{"orgId":")" + org +
            R"(","domainName":"acme.com","isVerified":true,"isPrimary":true},)"
            R"({"orgId":")" +
            (org == "other" ? "someone-else" : org) +
            R"(","domainName":"b.acme.com","validationType":"DOMAIN_VALIDATION_TYPE_DNS"}]})",
        "application/json");
  });
  Connect();
  Result<OrgDomainPage> page = upstream_->ListOrgDomains("300000000000000042", 1000, 5);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->total, 2u);
  EXPECT_EQ(page->domains,
            (std::vector<OrgDomain>{{"acme.com", true, true}, {"b.acme.com", false, false}}));
  std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].org_id, "300000000000000042");
  EXPECT_EQ(seen[0].authorization, "Bearer " + std::string(kToken));
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(seen[0].body, R"({"query":{"offset":"1000","limit":5,"asc":true}})");

  // An entry of another org: the header did not reach the upstream.
  Result<OrgDomainPage> other = upstream_->ListOrgDomains("other", 0, 1000);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), Code::kInternal);
  EXPECT_THAT(other.error().message(),
              StartsWith("malformed response from POST /management/v1/orgs/me/domains/_search "
                         "(org other): result[1].orgId: "));

  // Refused before sending: no header injection through the org id, no bad limits.
  EXPECT_EQ(upstream_->ListOrgDomains("a\r\nx-evil: 1", 0, 10).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(upstream_->ListOrgDomains("", 0, 10).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(upstream_->ListOrgDomains("a", 0, 0).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(upstream_->ListOrgDomains("a", 0, 1001).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Seen().size(), 2u);
}

TEST_F(HttpUpstreamTest, ListInstanceDomainsPostsTheQueryAndParsesThePage) {
  server_.server().Post("/admin/v1/domains/_search", [](const httplib::Request&,
                                                        httplib::Response& res) {
    res.set_content(R"({"details":{"totalResult":"1"},"result":[{"domain":"zitadel.example.com",)"
                    R"("primary":true,"generated":true}]})",
                    "application/json");
  });
  Connect();
  Result<InstanceDomainPage> page = upstream_->ListInstanceDomains(0, 1000);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->total, 1u);
  EXPECT_THAT(page->names, ElementsAre("zitadel.example.com"));
  const std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].org_id, "");  // an admin call: no org header
  EXPECT_EQ(seen[0].body, R"({"query":{"offset":"0","limit":1000,"asc":true}})");
  EXPECT_EQ(upstream_->ListInstanceDomains(0, 0).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(upstream_->ListInstanceDomains(0, 1001).error().code(), Code::kInvalidArgument);
}

TEST_F(HttpUpstreamTest, AForbiddenDomainListIsPermissionDenied) {
  server_.server().Post("/management/v1/orgs/me/domains/_search", [](const httplib::Request&,
                                                                     httplib::Response& res) {
    res.status = 403;
    res.set_content(R"json({"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)"})json",
                    "application/json");
  });
  Connect();
  Result<OrgDomainPage> page = upstream_->ListOrgDomains("gone", 0, 1000);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code(), Code::kPermissionDenied);
}

TEST_F(HttpUpstreamTest, ListEventsPostsTheQueryAndParsesEvents) {
  server_.server().Post("/admin/v1/events/_search", [](const httplib::Request&,
                                                       httplib::Response& res) {
    res.set_content(
        R"({"events":[{"aggregate":{"id":"o","type":{"type":"org"},"resourceOwner":"o"},)"
        R"("sequence":"4","creationDate":"2025-03-01T09:12:44.123456Z",)"
        R"("payload":{"userLoginMustBeDomain":false},"type":{"type":"org.policy.domain.added"}}]})",
        "application/json");
  });
  Connect();
  EventQuery query;
  query.from = Timestamp{1740820364, 0};
  query.limit = 1000;
  query.event_types = {"org.policy.domain.added", "org.removed"};
  query.aggregate_types = {"org"};
  Result<std::vector<Event>> events = upstream_->ListEvents(query);
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, "org.policy.domain.added");
  EXPECT_EQ((*events)[0].aggregate_id, "o");
  EXPECT_EQ((*events)[0].patch.user_login_must_be_domain, false);
  const std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body,
            R"({"asc":true,"limit":1000,"eventTypes":["org.policy.domain.added","org.removed"],)"
            R"("aggregateTypes":["org"],"from":"2025-03-01T09:12:44Z"})");

  query.aggregate_types.assign(11, "x");  // the upstream allows 10
  EXPECT_EQ(upstream_->ListEvents(query).error().code(), Code::kInvalidArgument);
  query.aggregate_types.clear();
  query.event_types.assign(31, "x");
  EXPECT_EQ(upstream_->ListEvents(query).error().code(), Code::kInvalidArgument);
}

struct StatusCase {
  int http_status;
  Code code;
  std::string_view message;
};

TEST_F(HttpUpstreamTest, MapsHttpErrorStatuses) {
  int status = 200;
  std::mutex status_mu;
  server_.server().Get("/admin/v1/policies/domain", [&](const httplib::Request&,
                                                        httplib::Response& res) {
    std::lock_guard lock(status_mu);
    res.status = status;
    res.set_content(R"json({"code":7,"message":"No matching permissions found (AUTH-5mWD2)"})json",
                    "application/json");
  });
  Connect();
  const StatusCase kCases[] = {
      {401, Code::kUnauthenticated, "check the token file "},
      {403, Code::kPermissionDenied, "IAM_OWNER_VIEWER"},
      {404, Code::kNotFound, "HTTP 404"},
      {429, Code::kResourceExhausted, "rate limited"},
      {500, Code::kUnavailable, "HTTP 500"},
      {503, Code::kUnavailable, "HTTP 503"},
      {302, Code::kInternal, "redirect"},
  };
  for (const StatusCase& c : kCases) {
    {
      std::lock_guard lock(status_mu);
      status = c.http_status;
    }
    Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
    ASSERT_FALSE(instance.has_value()) << c.http_status;
    EXPECT_EQ(instance.error().code(), c.code) << c.http_status;
    EXPECT_THAT(instance.error().message(),
                StartsWith("GET /admin/v1/policies/domain: HTTP " + std::to_string(c.http_status) +
                           " (code 7: No matching permissions found (AUTH-5mWD2))"));
    EXPECT_THAT(instance.error().message(), HasSubstr(std::string(c.message)));
    EXPECT_THAT(instance.error().message(), Not(HasSubstr(std::string(kToken))));
    EXPECT_FALSE(upstream_->retry_after().has_value());
  }
  // A PAT is never retried: one request per call.
  EXPECT_EQ(upstream_->request_count(), std::size(kCases));
}

TEST_F(HttpUpstreamTest, RateLimitedAnswerReportsRetryAfterSeconds) {
  ServeDefaultPolicy(429, R"({"code":8,"message":"quota"})", "17");
  Connect();
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(upstream_->retry_after(), std::chrono::seconds(17));
}

TEST_F(HttpUpstreamTest, RateLimitedAnswerReportsRetryAfterHttpDate) {
  // The fake clock reads 2025-03-01T09:12:44Z.
  ServeDefaultPolicy(429, "", "Sat, 01 Mar 2025 09:13:44 GMT");
  Connect();
  ASSERT_FALSE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(upstream_->retry_after(), std::chrono::seconds(60));
}

TEST_F(HttpUpstreamTest, RetryAfterIsClearedByTheNextCall) {
  std::atomic<int> calls{0};
  server_.server().Get("/admin/v1/policies/domain",
                       [&](const httplib::Request&, httplib::Response& res) {
                         if (calls++ == 0) {
                           res.status = 429;
                           res.set_header("Retry-After", "5");
                           return;
                         }
                         res.set_content(std::string(kPolicyBody), "application/json");
                       });
  Connect();
  ASSERT_FALSE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_EQ(upstream_->retry_after(), std::chrono::seconds(5));
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  EXPECT_FALSE(upstream_->retry_after().has_value());
}

TEST_F(HttpUpstreamTest, MalformedJsonIsInternalWithAJsonPath) {
  struct Case {
    std::string body;
    std::string_view message;
  };
  const Case kCases[] = {
      {R"({"policy":{"details":{"sequence":"x"}}})",
       "malformed response from GET /admin/v1/policies/domain: policy.details.sequence: "},
      {R"({"policy":)", "malformed response from GET /admin/v1/policies/domain: "},
      {"<html>hello</html>", "malformed response from GET /admin/v1/policies/domain: top level"},
      {"", "malformed response from GET /admin/v1/policies/domain: "},
      {R"({"policy":{}})",
       "malformed response from GET /admin/v1/policies/domain: the instance id "
       "(policy.details.resourceOwner) is empty"},
  };
  std::string body;
  std::mutex body_mu;
  server_.server().Get("/admin/v1/policies/domain",
                       [&](const httplib::Request&, httplib::Response& res) {
                         std::lock_guard lock(body_mu);
                         res.set_content(body, "application/json");
                       });
  Connect();
  for (const Case& c : kCases) {
    {
      std::lock_guard lock(body_mu);
      body = c.body;
    }
    Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
    ASSERT_FALSE(instance.has_value()) << c.body;
    EXPECT_EQ(instance.error().code(), Code::kInternal) << c.body;
    EXPECT_THAT(instance.error().message(), StartsWith(std::string(c.message))) << c.body;
  }
}

TEST_F(HttpUpstreamTest, OversizedBodyIsInternal) {
  ServeDefaultPolicy(200, R"({"policy":{},"padding":")" + std::string(8192, 'x') + "\"}");
  upstream_internal::TestingKnobs knobs;
  knobs.max_body_bytes = 4096;
  Connect({}, knobs);
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kInternal);
  EXPECT_THAT(instance.error().message(),
              HasSubstr("GET /admin/v1/policies/domain: response body larger than 4096 bytes"));
}

TEST_F(HttpUpstreamTest, SlowAnswerIsDeadlineExceeded) {
  server_.server().Get("/admin/v1/policies/domain",
                       [this](const httplib::Request&, httplib::Response& res) {
                         gate_.Wait(std::chrono::seconds(10));
                         res.set_content(std::string(kPolicyBody), "application/json");
                       });
  Connect([](UpstreamOptions& options) { options.total_timeout = std::chrono::milliseconds(300); });
  const auto start = std::chrono::steady_clock::now();
  Result<InstanceRecord> instance = upstream_->GetDefaultPolicy();
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kDeadlineExceeded);
  EXPECT_THAT(instance.error().message(), StartsWith("GET /admin/v1/policies/domain: "));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(HttpUpstreamTest, ReloadCredentialsSwitchesTokensAndKeepsTheOldOnError) {
  ServeDefaultPolicy(200, std::string(kPolicyBody));
  Connect();
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  ASSERT_TRUE(WriteFile(dir_.File("token"), "second-token-abcdef", 0600));
  ASSERT_TRUE(upstream_->ReloadCredentials().ok());
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  ASSERT_TRUE(WriteFile(dir_.File("token"), "\n", 0600));
  const Status reload = upstream_->ReloadCredentials();
  EXPECT_EQ(reload.code(), Code::kInvalidArgument);
  ASSERT_TRUE(WriteFile(dir_.File("token"), "third-token", 0644));
  EXPECT_EQ(upstream_->ReloadCredentials().code(), Code::kInvalidArgument);
  ASSERT_TRUE(upstream_->GetDefaultPolicy().has_value());
  const std::vector<SeenRequest> seen = Seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].authorization, "Bearer " + std::string(kToken));
  EXPECT_EQ(seen[1].authorization, "Bearer second-token-abcdef");
  EXPECT_EQ(seen[2].authorization, "Bearer second-token-abcdef");
}

// ---- Faults below HTTP: a raw TCP server ----

class RawFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(WriteFile(dir_.File("token"), std::string(kToken), 0600)); }

  Result<InstanceRecord> Call(const std::string& base_url) {
    UpstreamOptions options;
    options.base_url = base_url;
    options.token_file = dir_.File("token");
    options.connect_timeout = std::chrono::milliseconds(2000);
    options.total_timeout = std::chrono::milliseconds(3000);
    Result<std::unique_ptr<Upstream>> made = MakeHttpUpstream(options, clock_);
    if (!made) return Err(made.error());
    return (*made)->GetDefaultPolicy();
  }

  TempDir dir_;
  FakeClock clock_{Timestamp{1740820364, 0}};
};

TEST_F(RawFaultTest, TruncatedBodyIsUnavailable) {
  RawTestServer server([](int fd) {
    if (!upstream_test::ReadRequest(fd)) return false;
    upstream_test::WriteAll(fd,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 1000\r\n\r\n{\"policy\":{\"details\":");
    return false;  // closed after a fifth of the promised body
  });
  ASSERT_TRUE(server.ok());
  Result<InstanceRecord> instance = Call(server.HttpUrl());
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnavailable);
  EXPECT_THAT(instance.error().message(), StartsWith("GET /admin/v1/policies/domain: "));
  EXPECT_THAT(instance.error().message(), HasSubstr("cut short"));
}

TEST_F(RawFaultTest, ConnectionResetIsUnavailable) {
  RawTestServer server([](int fd) {
    upstream_test::ReadRequest(fd);
    upstream_test::CloseWithReset(fd);
    return true;
  });
  ASSERT_TRUE(server.ok());
  Result<InstanceRecord> instance = Call(server.HttpUrl());
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnavailable) << instance.error().ToString();
}

TEST_F(RawFaultTest, ClosedWithoutAnswerIsUnavailable) {
  RawTestServer server([](int fd) {
    upstream_test::ReadRequest(fd);
    return false;
  });
  ASSERT_TRUE(server.ok());
  Result<InstanceRecord> instance = Call(server.HttpUrl());
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnavailable);
  EXPECT_THAT(instance.error().message(), HasSubstr("without an answer"));
}

TEST_F(RawFaultTest, GarbageInsteadOfHttpIsUnavailable) {
  RawTestServer server([](int fd) {
    upstream_test::ReadRequest(fd);
    upstream_test::WriteAll(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    return false;
  });
  ASSERT_TRUE(server.ok());
  Result<InstanceRecord> instance = Call(server.HttpUrl());
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnavailable) << instance.error().ToString();
}

TEST_F(RawFaultTest, ConnectionRefusedIsUnavailable) {
  const int port = upstream_test::UnusedPort();
  ASSERT_GT(port, 0);
  Result<InstanceRecord> instance = Call("http://127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnavailable);
  EXPECT_THAT(instance.error().message(), StartsWith("GET /admin/v1/policies/domain: "));
}

TEST(MakeHttpUpstreamTest, RefusesBadOptions) {
  TempDir dir;
  ASSERT_TRUE(WriteFile(dir.File("token"), "t", 0600));
  ASSERT_TRUE(WriteFile(dir.File("open"), "t", 0644));
  FakeClock clock{Timestamp{1, 0}};
  const auto make = [&](const std::function<void(UpstreamOptions&)>& tweak) {
    UpstreamOptions options;
    options.base_url = "https://iam.example.com";
    options.token_file = dir.File("token");
    tweak(options);
    return MakeHttpUpstream(options, clock);
  };
  EXPECT_TRUE(make([](UpstreamOptions&) {}).has_value());
  struct Case {
    std::function<void(UpstreamOptions&)> tweak;
    std::string_view message;
  };
  const Case kCases[] = {
      {[](UpstreamOptions& o) { o.base_url = "http://iam.example.com"; }, "https"},
      {[](UpstreamOptions& o) { o.token_file.clear(); }, "exactly one"},
      {[&](UpstreamOptions& o) { o.key_file = dir.File("token"); }, "exactly one"},
      {[&](UpstreamOptions& o) { o.token_file = dir.File("open"); }, "accessible to every user"},
      {[&](UpstreamOptions& o) { o.token_file = dir.File("missing"); }, "cannot open"},
      {[&](UpstreamOptions& o) { o.ca_file = dir.File("missing"); }, "cannot open ca file"},
      {[&](UpstreamOptions& o) { o.ca_file = dir.File("token"); }, "holds no PEM certificate"},
      {[](UpstreamOptions& o) { o.total_timeout = std::chrono::milliseconds(0); }, "timeouts"},
  };
  for (const Case& c : kCases) {
    Result<std::unique_ptr<Upstream>> made = make(c.tweak);
    ASSERT_FALSE(made.has_value()) << c.message;
    EXPECT_EQ(made.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(made.error().message(), HasSubstr(std::string(c.message)));
  }
}

}  // namespace
}  // namespace policyd
