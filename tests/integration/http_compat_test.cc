// The upstream-compatible HTTP endpoint of the real policyd (--http-socket), synced from the fake
// upstream: every read endpoint, for an org with its own policy, one on the default, one whose
// policy was removed, a removed org, an org that never existed and an over-long id, asked of the
// fake upstream (TCP, with its PAT) and of policyd (unix socket, no credentials). Status code,
// Content-Type and body bytes must be identical. Prints the compatibility table.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iomanip>
#include <iostream>

#include "fake_upstream/fake_upstream.h"
#include "support/daemon.h"
#include "support/upstream_checks.h"

namespace policyd::testing_support {
namespace {

struct Answer {
  int status = 0;  // 0: no answer
  std::string content_type;
  std::string body;

  friend bool operator==(const Answer&, const Answer&) = default;
};

std::ostream& operator<<(std::ostream& out, const Answer& a) {
  return out << a.status << " " << a.content_type << " " << a.body;
}

Answer Ask(httplib::Client& client, const std::string& method, const std::string& target,
           const httplib::Headers& headers) {
  httplib::Result r =
      method == "GET"    ? client.Get(target.c_str(), headers)
      : method == "PUT"  ? client.Put(target.c_str(), headers, "{}", "application/json")
      : method == "POST" ? client.Post(target.c_str(), headers, "{}", "application/json")
                         : client.Delete(target.c_str(), headers);
  if (!r) return {};
  return {r->status, r->get_header_value("Content-Type"), r->body};
}

class HttpCompatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    token_file_ = dir_.Join("token");
    std::ofstream(token_file_) << "fake-pat-0123456789\n";
    chmod(token_file_.c_str(), 0600);
    ASSERT_TRUE(upstream_.ChangeDefaultPolicy({false, true, false}).ok());
    own_ = upstream_.AddOrg("own policy");
    ASSERT_TRUE(upstream_.AddOrgPolicy(own_, {true, false, true}).ok());
    ASSERT_TRUE(upstream_.ChangeOrgPolicy(own_, {true, true, true}).ok());
    plain_ = upstream_.AddOrg("on the default");
    reset_ = upstream_.AddOrg("policy removed");
    ASSERT_TRUE(upstream_.AddOrgPolicy(reset_, {true, true, false}).ok());
    ASSERT_TRUE(upstream_.RemoveOrgPolicy(reset_).ok());
    removed_ = upstream_.AddOrg("removed");
    ASSERT_TRUE(upstream_.AddOrgPolicy(removed_, {true, false, false}).ok());
    ASSERT_TRUE(upstream_.RemoveOrg(removed_).ok());
    http_socket_ = dir_.Join("http.sock");
  }

  std::unique_ptr<Daemon> Start() {
    auto d = std::make_unique<Daemon>(
        dir_,
        std::vector<std::string>{"--upstream", upstream_.base_url(), "--token-file", token_file_,
                                 "--poll-interval", "300ms", "--http-socket", http_socket_});
    EXPECT_TRUE(d->WaitReady());
    EXPECT_TRUE(WaitFor([&] { return AnswersMatchUpstream(d->socket(), upstream_, {removed_}); },
                        std::chrono::seconds(20), "policyd to converge"));
    return d;
  }

  httplib::Client Upstream() {
    httplib::Client c("127.0.0.1", upstream_.port());
    c.set_read_timeout(std::chrono::seconds(10));
    c.set_bearer_token_auth("fake-pat-0123456789");
    return c;
  }
  httplib::Client Policyd() {
    httplib::Client c(http_socket_);
    c.set_address_family(AF_UNIX);
    c.set_read_timeout(std::chrono::seconds(10));
    return c;
  }

  TempDir dir_;
  FakeUpstream upstream_;
  std::string token_file_;
  std::string http_socket_;
  std::string own_, plain_, reset_, removed_;
  const std::string unknown_ = "999999999999999999";
  const std::string too_long_ = std::string(201, '9');
};

TEST_F(HttpCompatTest, EveryReadEndpointAnswersTheUpstreamsBytes) {
  auto daemon = Start();
  httplib::Client upstream = Upstream();
  httplib::Client policyd = Policyd();
  struct Org {
    std::string label, id;
  };
  const std::vector<Org> orgs = {{"own policy", own_},        {"default", plain_},
                                 {"policy removed", reset_},  {"removed org", removed_},
                                 {"never existed", unknown_}, {"201-char id", too_long_}};
  struct Endpoint {
    std::string label;
    std::function<std::pair<std::string, httplib::Headers>(const std::string&)> request;
  };
  const auto header = [](const std::string& org) {
    return httplib::Headers{{"x-zitadel-orgid", org}};
  };
  const std::vector<Endpoint> endpoints = {
      {"GET /management/v1/policies/domain (x-zitadel-orgid)",
       [&](const std::string& o) {
         return std::pair{"/management/v1/policies/domain", header(o)};
       }},
      {"GET /management/v1/policies/orgiam (x-zitadel-orgid)",
       [&](const std::string& o) {
         return std::pair{"/management/v1/policies/orgiam", header(o)};
       }},
      {"GET /admin/v1/orgs/{orgId}/policies/domain",
       [](const std::string& o) {
         return std::pair{"/admin/v1/orgs/" + o + "/policies/domain", httplib::Headers{}};
       }},
      {"GET /admin/v1/orgs/{orgId}/policies/orgiam",
       [](const std::string& o) {
         return std::pair{"/admin/v1/orgs/" + o + "/policies/orgiam", httplib::Headers{}};
       }},
      {"GET /v2/settings/domain?ctx.orgId=",
       [](const std::string& o) {
         return std::pair{"/v2/settings/domain?ctx.orgId=" + o, httplib::Headers{}};
       }},
      {"GET /v2/settings/domain?ctx.org_id=",
       [](const std::string& o) {
         return std::pair{"/v2/settings/domain?ctx.org_id=" + o, httplib::Headers{}};
       }},
      {"GET /v2/settings/domain (x-zitadel-orgid)",
       [&](const std::string& o) {
         return std::pair{"/v2/settings/domain", header(o)};
       }},
  };
  // Requests that name no org, and routing errors: one case each.
  const std::vector<std::tuple<std::string, std::string, std::string>> singles = {
      {"GET", "/admin/v1/policies/domain", "instance default"},
      {"GET", "/admin/v1/policies/orgiam", "instance default"},
      {"GET", "/v2/settings/domain?ctx.instance=true", "instance default"},
      {"GET", "/v2/settings/domain?ctx.instance=true&ctx.orgId=" + own_, "instance wins"},
      {"GET", "/management/v1/policies/default/domain", "no such path"},
      {"GET", "/admin/v1/orgs//policies/domain", "empty orgId"},
      {"POST", "/management/v1/policies/domain", "no such method"},
      {"DELETE", "/admin/v1/policies/domain", "no such method"},
      {"PUT", "/v2/settings/domain", "no such method"},
  };

  int identical = 0;
  int different = 0;
  std::ostringstream table;
  const auto compare = [&](const std::string& what, const std::string& method,
                           const std::string& target, const httplib::Headers& headers) {
    const Answer want = Ask(upstream, method, target, headers);
    const Answer got = Ask(policyd, method, target, headers);
    const bool same = want == got && want.status != 0;
    (same ? identical : different)++;
    table << "  " << std::left << std::setw(72) << what << " " << (same ? "identical" : "DIFFERENT")
          << "  (" << want.status << ")\n";
    EXPECT_EQ(got, want) << what;
  };
  for (const Endpoint& e : endpoints) {
    for (const Org& org : orgs) {
      const auto [target, headers] = e.request(org.id);
      compare(e.label + " / " + org.label, "GET", target, headers);
    }
  }
  for (const auto& [method, target, label] : singles) {
    compare(method + " " + target.substr(0, 60) + " / " + label, method, target, {});
  }
  std::cout << "compatibility (fake upstream over TCP vs policyd over --http-socket):\n"
            << table.str() << identical << " identical, " << different << " different\n";
  EXPECT_EQ(different, 0);
}

TEST_F(HttpCompatTest, AnswersThatDifferByDesign) {
  auto daemon = Start();
  httplib::Client policyd = Policyd();
  // No caller identity: the upstream would use the calling user's org.
  Answer a = Ask(policyd, "GET", "/management/v1/policies/domain", {});
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("x-zitadel-orgid header missing"), std::string::npos) << a.body;
  a = Ask(policyd, "GET", "/v2/settings/domain", {});
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("no org given"), std::string::npos) << a.body;
  // Writes go to the upstream; nothing changes there or here.
  const std::size_t events = upstream_.EventCount();
  for (const auto& [method, path] :
       {std::pair<std::string, std::string>{"PUT", "/admin/v1/policies/domain"},
        {"PUT", "/admin/v1/policies/orgiam"},
        {"POST", "/admin/v1/orgs/" + plain_ + "/policies/domain"},
        {"PUT", "/admin/v1/orgs/" + own_ + "/policies/domain"},
        {"DELETE", "/admin/v1/orgs/" + own_ + "/policies/domain"},
        {"POST", "/admin/v1/orgs/" + plain_ + "/policies/orgiam"},
        {"PUT", "/admin/v1/orgs/" + own_ + "/policies/orgiam"},
        {"DELETE", "/admin/v1/orgs/" + own_ + "/policies/orgiam"}}) {
    a = Ask(policyd, method, path, {});
    EXPECT_EQ(a.status, 501) << method << " " << path;
    EXPECT_EQ(a.content_type, "application/json");
    EXPECT_EQ(a.body, "{\"code\":12,\"message\":\"policyd answers reads only: send " + method +
                          " " + path + " to the upstream IAM at " + upstream_.base_url() + "\"}");
  }
  EXPECT_EQ(upstream_.EventCount(), events);
}

TEST_F(HttpCompatTest, CurlOverTheUnixSocketGetsWhatTheUpstreamWould) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "curl is not installed";
  auto daemon = Start();
  httplib::Client upstream = Upstream();
  for (const std::string& org : {own_, plain_, unknown_}) {
    const CommandResult curl = RunCommand(
        {"/usr/bin/curl", "-sS", "--unix-socket", http_socket_, "-H", "x-zitadel-orgid: " + org,
         "-w", "\n%{http_code} %{content_type}", "http://localhost/management/v1/policies/domain"});
    ASSERT_EQ(curl.exit_code, 0) << curl.err;
    const Answer want =
        Ask(upstream, "GET", "/management/v1/policies/domain", {{"x-zitadel-orgid", org}});
    EXPECT_EQ(curl.out, want.body + "\n" + std::to_string(want.status) + " " + want.content_type);
    std::cout << "curl --unix-socket ... -H 'x-zitadel-orgid: " << org << "': " << curl.out << "\n";
  }
}

TEST_F(HttpCompatTest, TheSocketHasItsModeAndIsRemovedOnSigterm) {
  auto daemon = Start();
  struct stat st {};
  ASSERT_EQ(lstat(http_socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  EXPECT_NE(lstat(http_socket_.c_str(), &st), 0) << "http socket left behind";
  // A second start finds no leftover and serves again.
  daemon.reset();
  auto again = Start();
  httplib::Client policyd = Policyd();
  EXPECT_EQ(Ask(policyd, "GET", "/admin/v1/policies/domain", {}).status, 200);
}

TEST_F(HttpCompatTest, ALiveHttpSocketStopsTheStartWithExit78) {
  auto daemon = Start();
  TempDir other;
  Daemon second(other, {"--http-socket", http_socket_});
  EXPECT_EQ(second.process().Wait(std::chrono::seconds(20)), 78) << second.process().Log();
  EXPECT_NE(second.process().Log().find("http-socket"), std::string::npos)
      << second.process().Log();
  // The first one still answers.
  httplib::Client policyd = Policyd();
  EXPECT_EQ(Ask(policyd, "GET", "/admin/v1/policies/domain", {}).status, 200);
}

}  // namespace
}  // namespace policyd::testing_support
