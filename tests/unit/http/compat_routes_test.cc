// The upstream-compatible reads, through the Router, on a real store: every endpoint for an
// org with its own policy, one without, an unknown one and bad ids; writes; staleness; no data.
// Expected bodies are written out byte for byte from the API notes' shapes.
#include "http/compat_routes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "store/forwarding_store.h"

namespace policyd::http {
namespace {

constexpr std::string_view kInstance = "300000000000000001";
constexpr std::string_view kOwn = "100000000000000001";    // has its own policy
constexpr std::string_view kPlain = "100000000000000002";  // uses the default
constexpr std::string_view kUnknown = "100000000000000009";

const std::string kDefaultDetails =
    R"("details":{"sequence":"3","creationDate":"2023-11-14T22:13:20Z",)"
    R"("changeDate":"2023-11-14T22:15:00.500Z","resourceOwner":"300000000000000001"})";
const std::string kOwnDetails =
    R"("details":{"sequence":"5","creationDate":"2023-11-14T22:16:40Z",)"
    R"("changeDate":"2023-11-14T22:18:20.123Z","resourceOwner":"100000000000000001"})";
const std::string kDefaultV1 =
    "{\"policy\":{" + kDefaultDetails + R"(,"isDefault":true,"validateOrgDomains":true}})";
const std::string kOwnV1 = "{\"policy\":{" + kOwnDetails +
                           R"(,"userLoginMustBeDomain":true,)"
                           R"("smtpSenderAddressMatchesInstanceDomain":true}})";
const std::string kDefaultOrgIam = "{\"policy\":{" + kDefaultDetails + R"(,"isDefault":true}})";
const std::string kOwnOrgIam = "{\"policy\":{" + kOwnDetails + R"(,"userLoginMustBeDomain":true}})";
const std::string kDefaultV2 =
    R"({"details":{"sequence":"3","changeDate":"2023-11-14T22:15:00.500Z",)"
    R"("resourceOwner":"300000000000000001","creationDate":"2023-11-14T22:13:20Z"},)"
    R"("settings":{"requireOrgDomainVerification":true,)"
    R"("resourceOwnerType":"RESOURCE_OWNER_TYPE_INSTANCE"}})";
const std::string kOwnV2 =
    R"({"details":{"sequence":"5","changeDate":"2023-11-14T22:18:20.123Z",)"
    R"("resourceOwner":"100000000000000001","creationDate":"2023-11-14T22:16:40Z"},)"
    R"("settings":{"loginNameIncludesDomain":true,"smtpSenderAddressMatchesInstanceDomain":true,)"
    R"("resourceOwnerType":"RESOURCE_OWNER_TYPE_ORG"}})";
const std::string kOrgDoesNotExist =
    R"j({"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)","details":[{"@type":)j"
    R"("type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-Bs7Ds",)"
    R"("message":"Organisation doesn't exist"}]})";
const std::string kHeaderMissing =
    R"({"code":3,"message":"x-zitadel-orgid header missing: policyd has no caller whose org it )"
    R"(could use; name the org in the x-zitadel-orgid header"})";
const std::string kNoOrgGiven =
    R"({"code":3,"message":"no org given: policyd has no caller whose org it could use; add )"
    R"(ctx.orgId=<org id> or ctx.instance=true to the query, or the x-zitadel-orgid header"})";
const std::string kMethodNotAllowed = R"({"code":12,"message":"Method Not Allowed"})";
const std::string kNotFound = R"({"code":5,"message":"Not Found"})";
const std::string kStaleRefused =
    R"({"code":14,"message":"policy data is older than max-staleness and policyd is )"
    R"(configured to refuse stale data"})";

std::string TooLong(std::string_view request) {
  return R"({"code":3,"message":"invalid )" + std::string(request) +
         R"(.OrgId: value length must be between 1 and 200 runes, inclusive"})";
}

std::string WriteRefused(std::string_view method, std::string_view path) {
  return R"({"code":12,"message":"policyd answers reads only: send )" + std::string(method) + " " +
         std::string(path) + R"( to the upstream IAM at https://iam.example.com"})";
}

// Forwards to a real store, or fails every read when told to.
class SwitchableStore final : public ForwardingStore {
 public:
  explicit SwitchableStore(std::unique_ptr<Store> inner)
      : ForwardingStore(*inner), inner_(std::move(inner)) {}
  Store& inner() { return *inner_; }
  void FailReads(Status s) { failure_ = std::move(s); }
  Status Read(LookupBatch& batch) const override {
    return failure_.ok() ? inner_->Read(batch) : failure_;
  }
  Status ReadDomains(std::string_view org_id, DomainSet& out) const override {
    return failure_.ok() ? inner_->ReadDomains(org_id, out) : failure_;
  }

 private:
  std::unique_ptr<Store> inner_;
  Status failure_;
};

class CompatRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-compat-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> opened = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::make_unique<SwitchableStore>(std::move(*opened));
    Snapshot s;
    s.instance = {std::string(kInstance),
                  {{false, true, false},
                   {3, {1700000000, 0}, {1700000100, 500'000'000}, std::string(kInstance)}}};
    s.orgs.push_back(
        {std::string(kOwn),
         PolicyRecord{{true, false, true},
                      {5, {1700000200, 0}, {1700000300, 123'000'000}, std::string(kOwn)}}});
    s.orgs.push_back({std::string(kPlain), std::nullopt});
    ASSERT_TRUE(store_->Replace(s, "", "test", clock_.Now()).ok());
    MakeRouter();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void MakeRouter(bool refuse_when_stale = false,
                  std::string upstream = "https://iam.example.com") {
    state_storage_ = std::make_unique<ServingState>(
        FreshnessOptions{upstream, std::chrono::minutes(5), refuse_when_stale});
    state_storage_->RecordSync(clock_.Now());
    api_ = std::make_unique<CompatApi>(*store_, *state_storage_, clock_, upstream);
    router_ = Router();
    api_->AddRoutes(router_);
  }

  HttpResponse Get(std::string method, std::string path,
                   std::vector<std::pair<std::string, std::string>> query = {},
                   std::optional<std::string> org_header = std::nullopt) {
    HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    for (auto& [k, v] : query) request.query.emplace(k, v);
    if (org_header) request.headers.emplace("X-Zitadel-OrgId", *org_header);
    return router_.Dispatch(std::move(request));
  }

  std::string dir_;
  std::unique_ptr<SwitchableStore> store_;
  FakeClock clock_{Timestamp{1750000000, 0}};
  std::unique_ptr<ServingState> state_storage_;
  std::unique_ptr<CompatApi> api_;
  Router router_;
};

struct Case {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::optional<std::string> org_header;
  int status;
  std::string body;
};

TEST_F(CompatRoutesTest, EveryEndpointAnswersTheUpstreamsStatusAndBytes) {
  const std::string own(kOwn), plain(kPlain), unknown(kUnknown);
  const std::string long_id(201, '7');
  const std::string max_id(200, '7');
  std::string wide_id;  // 200 characters, 400 bytes: valid upstream, not an org policyd can hold
  for (int i = 0; i < 200; ++i) wide_id += "\xC3\xA9";
  const std::vector<Case> cases = {
      // Management: the org in x-zitadel-orgid, strict.
      {"GET", "/management/v1/policies/domain", {}, own, 200, kOwnV1},
      {"GET", "/management/v1/policies/domain", {}, plain, 200, kDefaultV1},
      {"GET", "/management/v1/policies/domain", {}, unknown, 403, kOrgDoesNotExist},
      {"GET", "/management/v1/policies/domain", {}, long_id, 403, kOrgDoesNotExist},
      {"GET", "/management/v1/policies/domain", {}, "a\x01", 403, kOrgDoesNotExist},
      {"GET", "/management/v1/policies/domain", {}, "", 400, kHeaderMissing},
      {"GET", "/management/v1/policies/domain", {}, std::nullopt, 400, kHeaderMissing},
      {"HEAD", "/management/v1/policies/domain", {}, own, 200, kOwnV1},
      {"GET", "/management/v1/policies/orgiam", {}, own, 200, kOwnOrgIam},
      {"GET", "/management/v1/policies/orgiam", {}, plain, 200, kDefaultOrgIam},
      {"GET", "/management/v1/policies/orgiam", {}, unknown, 403, kOrgDoesNotExist},
      {"GET", "/management/v1/policies/orgiam", {}, std::nullopt, 400, kHeaderMissing},
      // Admin: the default; the header plays no part.
      {"GET", "/admin/v1/policies/domain", {}, std::nullopt, 200, kDefaultV1},
      {"GET", "/admin/v1/policies/domain", {}, unknown, 200, kDefaultV1},
      {"GET", "/admin/v1/policies/orgiam", {}, std::nullopt, 200, kDefaultOrgIam},
      // Admin per org: not strict (unknown -> default), orgId 1..200 characters.
      {"GET", "/admin/v1/orgs/" + own + "/policies/domain", {}, std::nullopt, 200, kOwnV1},
      {"GET", "/admin/v1/orgs/" + plain + "/policies/domain", {}, std::nullopt, 200, kDefaultV1},
      {"GET", "/admin/v1/orgs/" + unknown + "/policies/domain", {}, std::nullopt, 200, kDefaultV1},
      {"GET", "/admin/v1/orgs/" + max_id + "/policies/domain", {}, std::nullopt, 200, kDefaultV1},
      {"GET", "/admin/v1/orgs/" + wide_id + "/policies/domain", {}, std::nullopt, 200, kDefaultV1},
      {"GET", "/admin/v1/orgs/a\x01/policies/domain", {}, std::nullopt, 200, kDefaultV1},
      {"GET",
       "/admin/v1/orgs/" + long_id + "/policies/domain",
       {},
       std::nullopt,
       400,
       TooLong("GetCustomDomainPolicyRequest")},
      {"GET", "/admin/v1/orgs/" + own + "/policies/orgiam", {}, std::nullopt, 200, kOwnOrgIam},
      {"GET",
       "/admin/v1/orgs/" + unknown + "/policies/orgiam",
       {},
       std::nullopt,
       200,
       kDefaultOrgIam},
      {"GET",
       "/admin/v1/orgs/" + long_id + "/policies/orgiam",
       {},
       std::nullopt,
       400,
       TooLong("GetCustomOrgIAMPolicyRequest")},
      // v2 settings: ctx.instance, ctx.orgId / ctx.org_id (not strict), else the header (strict).
      {"GET", "/v2/settings/domain", {{"ctx.instance", "true"}}, std::nullopt, 200, kDefaultV2},
      {"GET", "/v2/settings/domain", {{"ctx.orgId", own}}, std::nullopt, 200, kOwnV2},
      {"GET", "/v2/settings/domain", {{"ctx.org_id", own}}, std::nullopt, 200, kOwnV2},
      {"GET", "/v2/settings/domain", {{"ctx.orgId", plain}}, std::nullopt, 200, kDefaultV2},
      {"GET", "/v2/settings/domain", {{"ctx.orgId", unknown}}, std::nullopt, 200, kDefaultV2},
      {"GET", "/v2/settings/domain", {{"ctx.orgId", long_id}}, std::nullopt, 200, kDefaultV2},
      {"GET",
       "/v2/settings/domain",
       {{"ctx.instance", "true"}, {"ctx.orgId", own}},
       std::nullopt,
       200,
       kDefaultV2},
      {"GET",
       "/v2/settings/domain",
       {{"ctx.instance", "false"}, {"ctx.orgId", own}},
       std::nullopt,
       200,
       kOwnV2},
      {"GET", "/v2/settings/domain", {{"ctx.orgId", unknown}}, own, 200, kDefaultV2},
      {"GET", "/v2/settings/domain", {{"ctx.orgId", ""}}, own, 200, kOwnV2},
      {"GET", "/v2/settings/domain", {}, own, 200, kOwnV2},
      {"GET", "/v2/settings/domain", {}, unknown, 403, kOrgDoesNotExist},
      {"GET", "/v2/settings/domain", {}, std::nullopt, 400, kNoOrgGiven},
      {"GET", "/v2/settings/domain", {{"ctx.orgid", own}}, std::nullopt, 400, kNoOrgGiven},
      // The upstream's writes: 501 naming the upstream.
      {"PUT",
       "/admin/v1/policies/domain",
       {},
       std::nullopt,
       501,
       WriteRefused("PUT", "/admin/v1/policies/domain")},
      {"PUT",
       "/admin/v1/policies/orgiam",
       {},
       std::nullopt,
       501,
       WriteRefused("PUT", "/admin/v1/policies/orgiam")},
      {"POST",
       "/admin/v1/orgs/" + own + "/policies/domain",
       {},
       std::nullopt,
       501,
       WriteRefused("POST", "/admin/v1/orgs/" + own + "/policies/domain")},
      {"PUT",
       "/admin/v1/orgs/" + own + "/policies/domain",
       {},
       std::nullopt,
       501,
       WriteRefused("PUT", "/admin/v1/orgs/" + own + "/policies/domain")},
      {"DELETE",
       "/admin/v1/orgs/" + own + "/policies/domain",
       {},
       std::nullopt,
       501,
       WriteRefused("DELETE", "/admin/v1/orgs/" + own + "/policies/domain")},
      {"POST",
       "/admin/v1/orgs/" + unknown + "/policies/orgiam",
       {},
       std::nullopt,
       501,
       WriteRefused("POST", "/admin/v1/orgs/" + unknown + "/policies/orgiam")},
      {"PUT",
       "/admin/v1/orgs/" + own + "/policies/orgiam",
       {},
       std::nullopt,
       501,
       WriteRefused("PUT", "/admin/v1/orgs/" + own + "/policies/orgiam")},
      {"DELETE",
       "/admin/v1/orgs/" + own + "/policies/orgiam",
       {},
       std::nullopt,
       501,
       WriteRefused("DELETE", "/admin/v1/orgs/" + own + "/policies/orgiam")},
      // Methods the upstream does not have on these paths: 405, as its gateway answers.
      {"POST", "/management/v1/policies/domain", {}, own, 405, kMethodNotAllowed},
      {"PUT", "/management/v1/policies/orgiam", {}, own, 405, kMethodNotAllowed},
      {"DELETE", "/admin/v1/policies/domain", {}, std::nullopt, 405, kMethodNotAllowed},
      {"POST", "/admin/v1/policies/orgiam", {}, std::nullopt, 405, kMethodNotAllowed},
      {"PATCH",
       "/admin/v1/orgs/" + own + "/policies/domain",
       {},
       std::nullopt,
       405,
       kMethodNotAllowed},
      {"POST", "/v2/settings/domain", {}, std::nullopt, 405, kMethodNotAllowed},
      {"PUT", "/v2/settings/domain", {}, std::nullopt, 405, kMethodNotAllowed},
      // Paths the upstream does not have (§1.2: no management default-domain read).
      {"GET", "/management/v1/policies/default/domain", {}, own, 404, kNotFound},
      {"GET", "/admin/v1/orgs//policies/domain", {}, std::nullopt, 404, kNotFound},
      {"GET", "/admin/v1/orgs/" + own + "/policies/login", {}, std::nullopt, 404, kNotFound},
  };
  for (const Case& c : cases) {
    const std::string what = c.method + " " + c.path.substr(0, 80) +
                             (c.query.empty() ? "" : "?" + c.query[0].first) + " org " +
                             c.org_header.value_or("(none)").substr(0, 20);
    const HttpResponse response = Get(c.method, c.path, c.query, c.org_header);
    EXPECT_EQ(response.status, c.status) << what;
    EXPECT_EQ(response.content_type, "application/json") << what;
    EXPECT_EQ(response.body, c.body) << what;
    EXPECT_TRUE(response.headers.empty()) << what;
  }
}

TEST_F(CompatRoutesTest, StaleDataIsAnsweredWithAStaleHeader) {
  clock_.Advance(std::chrono::nanoseconds(std::chrono::minutes(6)).count());
  for (const auto& [path, org, status] :
       {std::tuple{"/management/v1/policies/domain", kOwn, 200},
        std::tuple{"/management/v1/policies/domain", kUnknown, 403},
        std::tuple{"/admin/v1/policies/domain", kOwn, 200}}) {
    const HttpResponse response = Get("GET", path, {}, std::string(org));
    EXPECT_EQ(response.status, status) << path;
    ASSERT_EQ(response.headers.size(), 1u) << path;
    EXPECT_EQ(response.headers[0].first, "x-policyd-stale");
    EXPECT_EQ(response.headers[0].second, "true");
  }
  EXPECT_EQ(Get("GET", "/management/v1/policies/domain", {}, std::string(kOwn)).body, kOwnV1);
  // Errors that need no data carry no such header.
  EXPECT_TRUE(Get("GET", "/management/v1/policies/domain").headers.empty());
  EXPECT_TRUE(Get("PUT", "/admin/v1/policies/domain").headers.empty());
}

TEST_F(CompatRoutesTest, StaleDataIsRefusedWhenConfiguredToFailClosed) {
  MakeRouter(/*refuse_when_stale=*/true);
  EXPECT_EQ(Get("GET", "/admin/v1/policies/domain").status, 200);
  clock_.Advance(std::chrono::nanoseconds(std::chrono::minutes(6)).count());
  for (const char* path : {"/admin/v1/policies/domain", "/management/v1/policies/domain",
                           "/admin/v1/orgs/1/policies/orgiam", "/v2/settings/domain"}) {
    const HttpResponse response = Get("GET", path, {{"ctx.instance", "true"}}, std::string(kOwn));
    EXPECT_EQ(response.status, 503) << path;
    EXPECT_EQ(response.body, kStaleRefused) << path;
  }
}

TEST_F(CompatRoutesTest, NoDataYetIsUnavailableNotAnUnknownOrg) {
  Result<std::unique_ptr<Store>> empty = OpenRocksStore(dir_ + "/empty", StoreOptions{});
  ASSERT_TRUE(empty.has_value());
  CompatApi api(**empty, *state_storage_, clock_, "");
  Router router;
  api.AddRoutes(router);
  HttpRequest request;
  request.method = "GET";
  request.path = "/management/v1/policies/domain";
  request.headers.emplace("x-zitadel-orgid", std::string(kOwn));
  const HttpResponse response = router.Dispatch(request);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body,
            "{\"code\":14,\"message\":\"policyd has no policy data yet (nothing synced from "
            "the upstream or loaded from a snapshot)\"}");
  request.method = "PUT";
  request.path = "/admin/v1/policies/domain";
  EXPECT_EQ(router.Dispatch(request).body,
            "{\"code\":12,\"message\":\"policyd answers reads only: send PUT "
            "/admin/v1/policies/domain to the upstream IAM (policyd is not syncing from one)\"}");
}

TEST_F(CompatRoutesTest, StoreReadErrorsAreInternalErrors) {
  store_->FailReads(Status::DataLoss("org:1 does not decode"));
  HttpResponse response = Get("GET", "/admin/v1/policies/domain");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body,
            R"({"code":15,"message":"policyd cannot read its store: org:1 does not decode"})");
  store_->FailReads(Status::Internal("EIO"));
  response = Get("GET", "/management/v1/policies/domain", {}, std::string(kOwn));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, R"({"code":13,"message":"policyd cannot read its store: EIO"})");
}

}  // namespace
}  // namespace policyd::http
