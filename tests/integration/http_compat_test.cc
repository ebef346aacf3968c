// The upstream-compatible HTTP endpoint of the real policyd (--http-socket), synced from the fake
// upstream: every read endpoint, for an org with its own policy, one on the default, one whose
// policy was removed, a removed org, an org that never existed and an over-long id, asked of the
// fake upstream (TCP, with its PAT) and of policyd (unix socket, no credentials). Status code,
// Content-Type and body bytes must be identical. Prints the compatibility table. The other policy
// kinds: after each round of random changes on the fake (orgs' own rows added, changed, removed,
// defaults changed, label activations, assets and login factors, orgs added and removed) and
// across a restart, every kind's reads for every org, a removed one and an unknown one.
// The same reads as Connect calls (docs/connect.md) answer the upstream's REST bytes too.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include "connect/codec.h"
#include "fake_upstream/fake_upstream.h"
#include "model/policy_kinds.h"
#include "support/daemon.h"
#include "support/upstream_checks.h"

namespace policyd::testing_support {
namespace {

// Field 1 of a message, length-delimited, holding `value` (its length a varint: 201 takes two
// bytes).
std::string Field1(const std::string& value) {
  const std::size_t n = value.size();
  std::string out = n < 0x80 ? std::string{'\x0a', static_cast<char>(n)}
                             : std::string{'\x0a', static_cast<char>(0x80 | (n & 0x7f)),
                                           static_cast<char>(n >> 7)};
  return out + value;
}

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

  void AddRandomOwnKinds(std::mt19937& rng);
  void ExpectEveryKindToMatchThroughRandomChanges(bool retention);

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
      {"DELETE", "/admin/v1/policies/login", "no such method"},
      {"POST", "/admin/v1/policies/lockout", "no such method"},
      {"PATCH", "/management/v1/policies/label/_preview", "no such method"},
      {"GET", "/management/v1/policies/default/label/_preview", "no such path"},
      {"GET", "/v2/settings/password/complexity", "not served"},
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
        {"DELETE", "/admin/v1/orgs/" + own_ + "/policies/orgiam"},
        {"PUT", "/admin/v1/policies/login"},
        {"PUT", "/admin/v1/policies/password/lockout"},
        {"POST", "/admin/v1/policies/notification"},
        {"POST", "/management/v1/policies/password/complexity"},
        {"DELETE", "/management/v1/policies/privacy"},
        {"POST", "/management/v1/policies/label/_activate"},
        {"DELETE", "/admin/v1/policies/label/logo_dark"}}) {
    a = Ask(policyd, method, path, {});
    EXPECT_EQ(a.status, 501) << method << " " << path;
    EXPECT_EQ(a.content_type, "application/json");
    EXPECT_EQ(a.body, "{\"code\":12,\"message\":\"policyd answers reads only: send " + method +
                          " " + path + " to the upstream IAM at " + upstream_.base_url() + "\"}");
  }
  EXPECT_EQ(upstream_.EventCount(), events);
}

// A management request body of `kind` (the fake's AddOrgKindPolicy/ChangeOrgKindPolicy input)
// with random values the upstream accepts.
std::string RandomKindFields(PolicyKind kind, std::mt19937& rng) {
  const auto pick = [&](std::uint32_t n) { return std::to_string(rng() % n); };
  const auto flag = [&](const char* name) {
    return rng() % 2 == 0 ? std::string(",\"") + name + "\":true" : std::string();
  };
  std::string body;
  switch (kind) {
    case PolicyKind::kPasswordComplexity:
      body = ",\"minLength\":" + std::to_string(1 + rng() % 72) + flag("hasUppercase") +
             flag("hasLowercase") + flag("hasNumber") + flag("hasSymbol");
      break;
    case PolicyKind::kPasswordAge:
      body = ",\"maxAgeDays\":\"" + pick(400) + "\",\"expireWarnDays\":" + pick(30);
      break;
    case PolicyKind::kLockout:
      body = ",\"maxPasswordAttempts\":" + pick(10) + ",\"maxOtpAttempts\":\"" + pick(10) + "\"";
      break;
    case PolicyKind::kLogin:
      body = flag("allowUsernamePassword") + flag("allowRegister") + flag("allowExternalIdp") +
             flag("forceMfa") + flag("hidePasswordReset") + flag("allowDomainDiscovery") +
             (rng() % 2 ? R"(,"passwordlessType":"PASSWORDLESS_TYPE_ALLOWED")" : "") +
             ",\"passwordCheckLifetime\":\"" + pick(900000) + "s\",\"mfaInitSkipLifetime\":\"" +
             pick(1000) + ".250s\"" +
             (rng() % 2 ? ",\"defaultRedirectUri\":\"https://acme.example/r?n=" + pick(99) + "\""
                        : "");
      break;
    case PolicyKind::kPrivacy:
      body = ",\"tosLink\":\"https://acme.example/tos/" + pick(99) + "\"" +
             (rng() % 2 ? R"(,"supportEmail":"help@acme.example")" : "") +
             (rng() % 2 ? R"(,"customLinkText":"Tab\t\"q\" \u00e9 <&>")" : "");
      break;
    case PolicyKind::kNotification:
      body = flag("passwordChange");
      break;
    default: {  // the label policy
      static constexpr const char* kThemes[] = {"THEME_MODE_AUTO", "THEME_MODE_DARK",
                                                "THEME_MODE_LIGHT"};
      char color[8];
      std::snprintf(color, sizeof color, "#%06x", static_cast<unsigned>(rng() % 0x1000000));
      body = std::string(",\"primaryColor\":\"") + color + "\"" + flag("disableWatermark") +
             flag("hideLoginNameSuffix") + ",\"themeMode\":\"" + kThemes[rng() % 3] + "\"";
    }
  }
  return "{" + (body.empty() ? body : body.substr(1)) + "}";
}

// Every kind's reads asked of both: the admin and management-default reads, and the management
// read (and the label preview's) for each of `orgs`. Empty when every answer is identical, else
// the first difference; `asked` counts the requests compared.
std::string KindDifference(httplib::Client& upstream, httplib::Client& policyd,
                           const std::vector<std::string>& orgs, int& asked) {
  std::vector<std::pair<std::string, httplib::Headers>> requests;
  for (PolicyKind kind : kGenericKinds) {
    const std::string_view admin = SpecOf(kind).admin_path;
    requests.push_back({std::string(admin), {}});
    requests.push_back({"/management/v1/policies/default/" +
                            std::string(admin.substr(std::strlen("/admin/v1/policies/"))),
                        {}});
  }
  requests.push_back({"/admin/v1/policies/label/_preview", {}});
  for (const std::string& org : orgs) {
    for (PolicyKind kind : kGenericKinds) {
      requests.push_back({std::string(SpecOf(kind).management_path), {{"x-zitadel-orgid", org}}});
    }
    requests.push_back({"/management/v1/policies/label/_preview", {{"x-zitadel-orgid", org}}});
  }
  asked = 0;
  for (const auto& [path, headers] : requests) {
    const Answer want = Ask(upstream, "GET", path, headers);
    const Answer got = Ask(policyd, "GET", path, headers);
    ++asked;
    if (want.status == 0 || !(want == got)) {
      std::ostringstream out;
      out << "GET " << path << (headers.empty() ? "" : " org " + headers.begin()->second)
          << "\n upstream: " << want << "\n policyd:  " << got;
      return out.str();
    }
  }
  return "";
}

// One random change on the fake; the statuses it may answer for a change that changes nothing
// (or a factor or asset already so) are fine.
void RandomKindChange(FakeUpstream& upstream, std::mt19937& rng,
                      std::vector<std::string>& removed) {
  const PolicyKind kind = kGenericKinds[rng() % kGenericKinds.size()];
  const std::string name(SpecOf(kind).snapshot_name);
  const std::vector<std::string> orgs = upstream.OrgIds();
  const std::vector<std::string> own = upstream.OrgsWithOwnKindPolicy(name);
  const auto any = [&](const std::vector<std::string>& ids) { return ids[rng() % ids.size()]; };
  Status s;
  switch (rng() % 11) {
    case 0:
      upstream.AddOrg("org " + std::to_string(rng()));
      return;
    case 1:
    case 2: {
      std::vector<std::string> without;
      for (const std::string& id : orgs) {
        if (std::find(own.begin(), own.end(), id) == own.end()) without.push_back(id);
      }
      if (without.empty()) return;
      s = upstream.AddOrgKindPolicy(name, any(without), RandomKindFields(kind, rng));
      break;
    }
    case 3:
      if (own.empty()) return;
      s = upstream.ChangeOrgKindPolicy(name, any(own), RandomKindFields(kind, rng));
      break;
    case 4:
      if (own.empty()) return;
      s = upstream.RemoveOrgKindPolicy(name, any(own));
      break;
    case 5:
      s = upstream.ChangeDefaultKindPolicy(name, RandomKindFields(kind, rng));
      break;
    case 6: {  // label: activate an org's preview or the instance's
      const std::vector<std::string> labels = upstream.OrgsWithOwnKindPolicy("label");
      s = upstream.ActivateLabelPolicy(labels.empty() || rng() % 3 == 0 ? "" : any(labels));
      break;
    }
    case 7: {
      const std::vector<std::string> labels = upstream.OrgsWithOwnKindPolicy("label");
      const std::string org = labels.empty() || rng() % 3 == 0 ? "" : any(labels);
      const auto asset = static_cast<LabelAsset>(rng() % 5);
      if (rng() % 2 == 0) {
        Result<std::string> key = upstream.AddLabelAsset(org, asset);
        if (!key) s = key.error();
      } else {
        s = upstream.RemoveLabelAsset(org, asset);
      }
      break;
    }
    case 8: {
      const std::vector<std::string> logins = upstream.OrgsWithOwnKindPolicy("login");
      const std::string org = logins.empty() || rng() % 3 == 0 ? "" : any(logins);
      static constexpr const char* kSecond[] = {"SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F",
                                                "SECOND_FACTOR_TYPE_OTP_EMAIL"};
      s = rng() % 2 ? upstream.AddLoginFactor(org, LoginFactor::kSecond, kSecond[rng() % 3])
                    : upstream.RemoveLoginFactor(org, LoginFactor::kSecond, kSecond[rng() % 3]);
      break;
    }
    case 9: {  // the login policy's IdP links: an instance IdP added, linked, unlinked, renamed
      const std::vector<IdpInfo> idps = upstream.Idps();
      const std::vector<std::string> logins = upstream.OrgsWithOwnKindPolicy("login");
      const std::string org = logins.empty() || rng() % 3 == 0 ? "" : any(logins);
      if (idps.size() < 3 || rng() % 4 == 0) {
        Result<std::string> id = upstream.AddIdp("", rng() % 2 ? IdpKind::kOidc : IdpKind::kGoogle,
                                                 "IdP " + std::to_string(rng()));
        if (!id) s = id.error();
      } else if (const std::string& idp = idps[rng() % idps.size()].id; rng() % 5 == 0) {
        s = upstream.ChangeIdp(idp, "Renamed " + std::to_string(rng()));
      } else {
        s = rng() % 3 ? upstream.AddIdpToLoginPolicy(org, idp)
                      : upstream.RemoveIdpFromLoginPolicy(org, idp);
      }
      break;
    }
    default:
      if (orgs.size() < 4) return;
      removed.push_back(any(orgs));
      s = upstream.RemoveOrg(removed.back());
  }
  EXPECT_TRUE(s.ok() || s.code() == Code::kFailedPrecondition || s.code() == Code::kAlreadyExists ||
              s.code() == Code::kNotFound)
      << name << ": " << s.ToString();
}

// Own rows of every kind before the first sync (so the cold start has them to read), then rounds
// of random changes with a restart halfway; after each round every kind's reads must converge to
// the upstream's. `retention`: the history before the start is gone, so the cold start reads the
// rows from the management API instead of replaying their events.
// Gives org own_ a random row of every generic kind and an active label policy, and org plain_ a
// label preview only.
void HttpCompatTest::AddRandomOwnKinds(std::mt19937& rng) {
  for (PolicyKind kind : kGenericKinds) {
    ASSERT_TRUE(upstream_
                    .AddOrgKindPolicy(std::string(SpecOf(kind).snapshot_name), own_,
                                      RandomKindFields(kind, rng))
                    .ok());
  }
  ASSERT_TRUE(upstream_.ActivateLabelPolicy(own_).ok());
  ASSERT_TRUE(upstream_.AddOrgKindPolicy("label", plain_, RandomKindFields(PolicyKind::kLabel, rng))
                  .ok());  // a preview only
}

void HttpCompatTest::ExpectEveryKindToMatchThroughRandomChanges(bool retention) {
  const char* env = std::getenv("POLICYD_HTTP_KINDS_SEED");
  const unsigned seed = env != nullptr ? static_cast<unsigned>(std::strtoul(env, nullptr, 10))
                                       : std::random_device{}();
  std::cout << "POLICYD_HTTP_KINDS_SEED=" << seed << "\n";
  std::mt19937 rng(seed);
  ASSERT_NO_FATAL_FAILURE(AddRandomOwnKinds(rng));
  if (retention) {
    upstream_.AdvanceClock(std::chrono::hours(48));
    upstream_.SetAuditLogRetention(std::chrono::hours(24));
  }
  std::vector<std::string> removed = {removed_};
  auto daemon = Start();
  if (retention) {  // the cold start read the rows through the API
    EXPECT_NE(daemon->process().Log().find("event history incomplete"), std::string::npos)
        << daemon->process().Log();
  }
  httplib::Client upstream = Upstream();
  int asked = 0;
  int total = 0;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    if (round == kRounds / 2) {  // a restart: the answers come from the store as it was left
      daemon.reset();
      daemon = Start();
    }
    for (int i = 0; i < 10; ++i) RandomKindChange(upstream_, rng, removed);
    httplib::Client policyd = Policyd();
    std::vector<std::string> orgs = upstream_.OrgIds();
    orgs.insert(orgs.end(), removed.begin(), removed.end());
    orgs.push_back(unknown_);
    orgs.push_back(too_long_);
    std::string difference;
    EXPECT_TRUE(WaitFor(
        [&] { return (difference = KindDifference(upstream, policyd, orgs, asked)).empty(); },
        std::chrono::seconds(20), "every kind's reads to match the upstream's"))
        << "round " << round << " (seed " << seed << "): " << difference;
    total += asked;
  }
  std::cout << "every kind" << (retention ? " (retention cold start)" : "") << ": " << total
            << " requests identical over " << kRounds << " rounds of random changes ("
            << upstream_.EventCount() << " events)\n";
}

TEST_F(HttpCompatTest, EveryKindAnswersTheUpstreamsBytesThroughRandomChanges) {
  ExpectEveryKindToMatchThroughRandomChanges(/*retention=*/false);
}

TEST_F(HttpCompatTest, EveryKindAnswersTheUpstreamsBytesAfterARetentionColdStart) {
  ExpectEveryKindToMatchThroughRandomChanges(/*retention=*/true);
}

// ZITADEL's SDK calls the same reads as Connect unary calls (docs/connect.md): each served method,
// POSTed to policyd's socket in JSON, must answer the fake upstream's REST bytes of its REST twin
// (an error: the same status, as the Connect error of the REST error); in binary, the same values.
TEST_F(HttpCompatTest, ConnectCallsAnswerWhatTheUpstreamsRestReadsAnswer) {
  std::mt19937 rng(15);
  ASSERT_NO_FATAL_FAILURE(AddRandomOwnKinds(rng));
  auto daemon = Start();
  httplib::Client upstream = Upstream();
  httplib::Client policyd = Policyd();
  int asked = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        return KindDifference(upstream, policyd, {own_, plain_}, asked).empty();
      },
      std::chrono::seconds(20), "every kind's reads to match the upstream's"));
  int compared = 0, errors = 0;
  // The call of `spec` in both codecs against `want`, the upstream's REST answer.
  const auto compare = [&](const connect::MethodSpec& spec, const httplib::Headers& rest_headers,
                           const std::string& json, const std::string& binary, const Answer& want,
                           const std::string& what) {
    const std::string target = "/" + std::string(spec.service) + "/" + std::string(spec.method);
    for (bool proto : {false, true}) {
      httplib::Headers headers = rest_headers;
      headers.emplace("Connect-Protocol-Version", "1");
      httplib::Result r = policyd.Post(target.c_str(), headers, proto ? binary : json,
                                       proto ? "application/proto" : "application/json");
      ASSERT_TRUE(r) << what;
      EXPECT_EQ(r->status, want.status) << what << ": " << r->body;
      if (want.status != 200) {
        EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << what;
        EXPECT_EQ(r->body,
                  connect::FormatErrorBody(connect::ErrorFromRestAnswer(want.status, want.body)))
            << what;
        ++errors;
        continue;
      }
      EXPECT_EQ(r->get_header_value("Content-Type"),
                proto ? "application/proto" : "application/json")
          << what;
      EXPECT_EQ(r->body, proto ? connect::ResponseToBinary(spec, want.body).value() : want.body)
          << what;
      ++compared;
    }
  };
  for (const connect::MethodSpec& spec : connect::Methods()) {
    for (const std::string& org : {own_, plain_, reset_, removed_, unknown_, too_long_}) {
      std::string path(spec.rest_pattern);
      httplib::Headers rest_headers;
      std::string json = "{}", binary;
      if (spec.org == connect::RequestOrg::kOrgIdInPath) {
        path.replace(path.find("{orgId}"), 7, org);
        json = R"({"orgId":")" + org + "\"}";
        binary = Field1(org);
      } else if (spec.org == connect::RequestOrg::kContextInQuery) {
        path += "?ctx.orgId=" + org;
        json = R"({"ctx":{"orgId":")" + org + "\"}}";
        binary = Field1(Field1(org));
      } else if (spec.service == connect::kManagementService) {
        rest_headers.emplace("x-zitadel-orgid", org);
      }
      const Answer want = Ask(upstream, "GET", path, rest_headers);
      ASSERT_NE(want.status, 0) << path;
      compare(spec, rest_headers, json, binary, want,
              std::string(spec.method) + " org " + org.substr(0, 20));
    }
  }
  // GetDomainSettings' other request contexts: the instance (over the header's org), and none
  // (the header's org, known or not).
  const connect::MethodSpec& settings =
      *connect::FindMethod(connect::kSettingsService, "GetDomainSettings");
  for (const auto& [json, binary, path, org] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {R"({"ctx":{"instance":true}})", std::string("\x0a\x02\x10\x01", 4),
            "/v2/settings/domain?ctx.instance=true", own_},
           {"{}", "", "/v2/settings/domain", own_},
           {"{}", "", "/v2/settings/domain", plain_},
           {"{}", "", "/v2/settings/domain", removed_},
           {"{}", "", "/v2/settings/domain", unknown_}}) {
    const httplib::Headers headers{{"x-zitadel-orgid", org}};
    const Answer want = Ask(upstream, "GET", path, headers);
    ASSERT_NE(want.status, 0) << path;
    compare(settings, headers, json, binary, want, path + " x-zitadel-orgid " + org);
  }
  std::cout << "connect: " << compared << " answers and " << errors
            << " errors as the upstream's REST reads\n";
  EXPECT_GT(compared, 200);
  EXPECT_GT(errors, 50);
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
