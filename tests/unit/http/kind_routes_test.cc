// The other policy kinds' upstream-compatible reads (http/kind_routes.h), through the Router, on
// a real store: every kind's admin, management and management-default read for an org with its
// own row, one without, an unknown one and bad ids; the label preview; writes, other methods and
// paths that are not served; a kind with no default stored; staleness. A few bodies are written
// out byte for byte from the upstream's shapes (kinds-facts §3, §6); the others come from the
// kind's formatter (json/kind_json.h, tested on its own), here to check which row answers.
#include "http/kind_routes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>

#include "http/compat_routes.h"
#include "json/kind_json.h"

namespace policyd::http {
namespace {

constexpr std::string_view kInstance = "300000000000000001";
constexpr std::string_view kOwn = "100000000000000001";    // an own row of every kind
constexpr std::string_view kPlain = "100000000000000002";  // on the defaults
constexpr std::string_view kUnknown = "100000000000000009";

const std::string kDefaultDetails =
    R"("details":{"sequence":"4","creationDate":"2023-11-14T22:13:20Z",)"
    R"("changeDate":"2023-11-14T22:15:00.500Z","resourceOwner":"300000000000000001"})";
const std::string kOwnDetails =
    R"("details":{"sequence":"7","creationDate":"2023-11-14T22:16:40Z",)"
    R"("changeDate":"2023-11-14T22:18:20.123Z","resourceOwner":"100000000000000001"})";
const std::string kOrgDoesNotExist =
    R"j({"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)","details":[{"@type":)j"
    R"("type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-Bs7Ds",)"
    R"("message":"Organisation doesn't exist"}]})";
const std::string kHeaderMissing =
    R"({"code":3,"message":"x-zitadel-orgid header missing: policyd has no caller whose org it )"
    R"(could use; name the org in the x-zitadel-orgid header"})";
const std::string kMethodNotAllowed = R"({"code":12,"message":"Method Not Allowed"})";
const std::string kNotFound = R"({"code":5,"message":"Not Found"})";

Details DefaultDetails() {
  return {4, {1700000000, 0}, {1700000100, 500'000'000}, std::string(kInstance)};
}
Details OwnDetails() { return {7, {1700000200, 0}, {1700000300, 123'000'000}, std::string(kOwn)}; }

// A policy of `kind` with `details` and the fields named in `values` (json name, value).
KindPolicy Policy(PolicyKind kind, Details details,
                  std::vector<std::pair<std::string_view, FieldValue>> values) {
  KindPolicy p = EmptyKindPolicy(kind);
  p.details = std::move(details);
  for (auto& [name, value] : values) {
    const int i = FindKindField(SpecOf(kind), name);
    EXPECT_GE(i, 0) << name;
    if (i >= 0) p.fields[static_cast<std::size_t>(i)] = std::move(value);
  }
  return p;
}
FieldValue Number(std::uint64_t n) { return FieldValue{n, {}, {}}; }
FieldValue Text(std::string s) { return FieldValue{0, std::move(s), {}}; }

// The rows every test starts from: each kind's default, and an own row of each kind for kOwn
// (its label policy only as a preview: added, never activated).
std::vector<KindRow> Rows() {
  std::vector<KindRow> rows;
  const auto add = [&](std::string_view org, KindPolicy p) {
    rows.push_back(KindRow{std::string(org), std::move(p), {}});
  };
  add("", Policy(PolicyKind::kPasswordComplexity, DefaultDetails(),
                 {{"minLength", Number(8)},
                  {"hasUppercase", Number(1)},
                  {"hasLowercase", Number(1)},
                  {"hasNumber", Number(1)},
                  {"hasSymbol", Number(1)}}));
  add(kOwn, Policy(PolicyKind::kPasswordComplexity, OwnDetails(),
                   {{"minLength", Number(12)}, {"hasSymbol", Number(1)}}));
  add("", Policy(PolicyKind::kPrivacy, DefaultDetails(),
                 {{"docsLink", Text("https://zitadel.com/docs")}}));
  add(kOwn,
      Policy(PolicyKind::kPrivacy, OwnDetails(), {{"tosLink", Text("https://acme.example/tos")}}));
  add("", Policy(PolicyKind::kLabel, DefaultDetails(),
                 {{"primaryColor", Text("#5469d4")}, {"themeMode", Number(1)}}));
  add("", Policy(PolicyKind::kLabelPreview, DefaultDetails(),
                 {{"primaryColor", Text("#222222")}, {"themeMode", Number(1)}}));
  add(kOwn, Policy(PolicyKind::kLabelPreview, OwnDetails(),
                   {{"primaryColor", Text("#111111")}, {"themeMode", Number(2)}}));
  for (PolicyKind kind : {PolicyKind::kPasswordAge, PolicyKind::kLockout, PolicyKind::kLogin,
                          PolicyKind::kNotification}) {
    add("", Policy(kind, DefaultDetails(), {}));
    add(kOwn, Policy(kind, OwnDetails(), {}));
  }
  return rows;
}

class KindRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-kinds-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> opened = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(*opened);
    Load(Rows());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Load(std::vector<KindRow> rows) {
    Snapshot s;
    s.instance = {std::string(kInstance),
                  {{false, true, false},
                   {3, {1700000000, 0}, {1700000100, 500'000'000}, std::string(kInstance)}}};
    s.orgs.push_back({std::string(kOwn), std::nullopt});
    s.orgs.push_back({std::string(kPlain), std::nullopt});
    s.kind_rows = std::move(rows);
    ASSERT_TRUE(store_->Replace(s, "", "test", clock_.Now()).ok());
    MakeRouter();
  }

  void MakeRouter(bool refuse_when_stale = false) {
    state_ = std::make_unique<ServingState>(
        FreshnessOptions{"https://iam.example.com", std::chrono::minutes(5), refuse_when_stale});
    state_->RecordSync(clock_.Now());
    api_ = std::make_unique<KindApi>(*store_, *state_, clock_, "https://iam.example.com");
    router_ = Router();
    api_->AddRoutes(router_);
  }

  HttpResponse Ask(std::string method, std::string path,
                   std::optional<std::string> org_header = std::nullopt) {
    HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    if (org_header) request.headers.emplace("X-Zitadel-OrgId", *org_header);
    return router_.Dispatch(std::move(request));
  }

  // The row of `kind` for `org` ("" for the default) in Rows(), or nullptr.
  static const KindPolicy* Row(const std::vector<KindRow>& rows, PolicyKind kind,
                               std::string_view org) {
    for (const KindRow& r : rows) {
      if (r.policy.kind == kind && r.org_id == org) return &r.policy;
    }
    return nullptr;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  FakeClock clock_{Timestamp{1750000000, 0}};
  std::unique_ptr<ServingState> state_;
  std::unique_ptr<KindApi> api_;
  Router router_;
};

struct Case {
  std::string method;
  std::string path;
  std::optional<std::string> org_header;
  int status;
  std::string body;
};

void Check(const std::vector<Case>& cases, const std::function<HttpResponse(const Case&)>& ask) {
  for (const Case& c : cases) {
    const std::string what =
        c.method + " " + c.path.substr(0, 80) + " org " + c.org_header.value_or("(none)");
    const HttpResponse response = ask(c);
    EXPECT_EQ(response.status, c.status) << what;
    EXPECT_EQ(response.content_type, "application/json") << what;
    EXPECT_EQ(response.body, c.body) << what;
    EXPECT_TRUE(response.headers.empty()) << what;
  }
}

TEST_F(KindRoutesTest, BodiesAreTheUpstreamsBytes) {
  const std::string own(kOwn), plain(kPlain);
  const std::string complexity_default =
      "{\"policy\":{" + kDefaultDetails +
      R"(,"minLength":"8","hasUppercase":true,"hasLowercase":true,"hasNumber":true,)"
      R"("hasSymbol":true,"isDefault":true}})";
  const std::string privacy_default =
      "{\"policy\":{" + kDefaultDetails +
      R"(,"isDefault":true,"docsLink":"https://zitadel.com/docs"}})";
  const std::string label_default =
      "{\"policy\":{" + kDefaultDetails +
      R"(,"primaryColor":"#5469d4","isDefault":true,"themeMode":"THEME_MODE_AUTO"}})";
  const std::string preview_default =
      "{\"policy\":{" + kDefaultDetails +
      R"(,"primaryColor":"#222222","isDefault":true,"themeMode":"THEME_MODE_AUTO"}})";
  const std::vector<Case> cases = {
      {"GET", "/admin/v1/policies/password/complexity", std::nullopt, 200, complexity_default},
      // The header plays no part in admin reads.
      {"GET", "/admin/v1/policies/password/complexity", std::string(kUnknown), 200,
       complexity_default},
      // The management response's deprecated top-level isDefault.
      {"GET", "/management/v1/policies/password/complexity", plain, 200,
       complexity_default.substr(0, complexity_default.size() - 1) + ",\"isDefault\":true}"},
      {"GET", "/management/v1/policies/password/complexity", own, 200,
       "{\"policy\":{" + kOwnDetails + R"(,"minLength":"12","hasSymbol":true}})"},
      {"GET", "/management/v1/policies/default/password/complexity", own, 200, complexity_default},
      {"GET", "/management/v1/policies/default/password/complexity", std::nullopt, 200,
       complexity_default},
      {"HEAD", "/management/v1/policies/password/complexity", plain, 200,
       complexity_default.substr(0, complexity_default.size() - 1) + ",\"isDefault\":true}"},
      // The privacy policy's management response has no top-level isDefault.
      {"GET", "/admin/v1/policies/privacy", std::nullopt, 200, privacy_default},
      {"GET", "/management/v1/policies/privacy", plain, 200, privacy_default},
      {"GET", "/management/v1/policies/privacy", own, 200,
       "{\"policy\":{" + kOwnDetails + R"(,"tosLink":"https://acme.example/tos"}})"},
      // The label reads answer the active rows: kOwn's label is a preview only.
      {"GET", "/admin/v1/policies/label", std::nullopt, 200, label_default},
      {"GET", "/management/v1/policies/label", own, 200,
       label_default.substr(0, label_default.size() - 1) + ",\"isDefault\":true}"},
      {"GET", "/admin/v1/policies/label/_preview", std::nullopt, 200, preview_default},
      {"GET", "/management/v1/policies/label/_preview", own, 200,
       "{\"policy\":{" + kOwnDetails +
           R"(,"primaryColor":"#111111","themeMode":"THEME_MODE_DARK"}})"},
      {"GET", "/management/v1/policies/label/_preview", plain, 200,
       preview_default.substr(0, preview_default.size() - 1) + ",\"isDefault\":true}"},
  };
  Check(cases, [&](const Case& c) { return Ask(c.method, c.path, c.org_header); });
}

TEST_F(KindRoutesTest, EveryKindAnswersTheRowTheUpstreamWould) {
  const std::vector<KindRow> rows = Rows();
  std::vector<PolicyKind> kinds(kGenericKinds.begin(), kGenericKinds.end());
  kinds.push_back(PolicyKind::kLabelPreview);
  for (PolicyKind kind : kinds) {
    const KindSpec& spec = SpecOf(kind);
    const KindPolicy* def = Row(rows, kind, "");
    ASSERT_NE(def, nullptr);
    const KindPolicy* own = Row(rows, kind, kOwn);
    if (kind == PolicyKind::kLabel) {
      ASSERT_EQ(own, nullptr);  // a preview only
    }
    const std::string admin = FormatKindGetResponse(*def, true, false);
    const std::string inherited = FormatKindGetResponse(*def, true, true);
    const std::string own_body =
        own != nullptr ? FormatKindGetResponse(*own, false, true) : inherited;
    if (own != nullptr) {
      EXPECT_NE(own_body, inherited) << spec.management_path;
    }
    std::vector<Case> cases = {
        {"GET", std::string(spec.admin_path), std::nullopt, 200, admin},
        {"GET", std::string(spec.management_path), std::string(kOwn), 200, own_body},
        {"GET", std::string(spec.management_path), std::string(kPlain), 200, inherited},
        // Unknown orgs, and ids no org can have, are what the upstream's interceptor refuses.
        {"GET", std::string(spec.management_path), std::string(kUnknown), 403, kOrgDoesNotExist},
        {"GET", std::string(spec.management_path), std::string(201, '7'), 403, kOrgDoesNotExist},
        {"GET", std::string(spec.management_path), "", 400, kHeaderMissing},
        {"GET", std::string(spec.management_path), std::nullopt, 400, kHeaderMissing},
    };
    if (kind != PolicyKind::kLabelPreview) {
      const std::string path =
          "/management/v1/policies/default/" +
          std::string(spec.admin_path.substr(std::strlen("/admin/v1/policies/")));
      cases.push_back({"GET", path, std::string(kOwn), 200, admin});
      cases.push_back({"GET", path, std::string(kUnknown), 403, kOrgDoesNotExist});
      cases.push_back({"GET", path, std::nullopt, 200, admin});
    }
    Check(cases, [&](const Case& c) { return Ask(c.method, c.path, c.org_header); });
  }
}

std::string WriteRefused(std::string_view method, std::string_view path) {
  return R"({"code":12,"message":"policyd answers reads only: send )" + std::string(method) + " " +
         std::string(path) + R"( to the upstream IAM at https://iam.example.com"})";
}

TEST_F(KindRoutesTest, WritesAreRefusedOtherMethodsAndPathsAreTheGatewaysErrors) {
  std::vector<Case> cases;
  const auto write = [&](std::string method, std::string path) {
    cases.push_back({method, path, std::nullopt, 501, WriteRefused(method, path)});
  };
  const auto not_allowed = [&](std::string method, std::string path) {
    cases.push_back({method, path, std::nullopt, 405, kMethodNotAllowed});
  };
  for (PolicyKind kind : kGenericKinds) {
    const KindSpec& spec = SpecOf(kind);
    for (const char* method : {"POST", "PUT", "DELETE"})
      write(method, std::string(spec.management_path));
    not_allowed("PATCH", std::string(spec.management_path));
    not_allowed("DELETE", std::string(spec.admin_path));
    if (kind != PolicyKind::kLockout) write("PUT", std::string(spec.admin_path));
    if (kind != PolicyKind::kNotification) not_allowed("POST", std::string(spec.admin_path));
  }
  write("PUT", "/admin/v1/policies/password/lockout");
  not_allowed("GET", "/admin/v1/policies/password/lockout");
  not_allowed("PUT", "/admin/v1/policies/lockout");
  write("POST", "/admin/v1/policies/notification");
  for (std::string prefix : {"/admin/v1/policies/label/", "/management/v1/policies/label/"}) {
    write("POST", prefix + "_activate");
    not_allowed("GET", prefix + "_activate");
    for (const char* asset : {"logo", "logo_dark", "icon", "icon_dark", "font"}) {
      write("DELETE", prefix + asset);
    }
    not_allowed("PUT", prefix + "_preview");
  }
  for (const char* path :
       {"/management/v1/policies/default/label/_preview", "/v2/settings/password/complexity",
        "/v2/settings/login", "/admin/v1/policies/login/second_factors/_search",
        "/management/v1/policies/default/domain"}) {
    cases.push_back({"GET", path, std::nullopt, 404, kNotFound});
  }
  Check(cases, [&](const Case& c) { return Ask(c.method, c.path, c.org_header); });
}

TEST_F(KindRoutesTest, AKindWithoutADefaultIsUnavailable) {
  std::vector<KindRow> rows;
  for (KindRow& r : Rows()) {
    const bool dropped =
        r.policy.kind == PolicyKind::kLockout || r.policy.kind == PolicyKind::kLabelPreview;
    if (!dropped || !r.org_id.empty()) rows.push_back(std::move(r));  // defaults dropped
  }
  Load(std::move(rows));
  for (const auto& [path, name] :
       {std::pair{"/admin/v1/policies/lockout", "lockout"},
        std::pair{"/management/v1/policies/default/lockout", "lockout"},
        std::pair{"/admin/v1/policies/label/_preview", "label preview"}}) {
    const HttpResponse response = Ask("GET", path);
    EXPECT_EQ(response.status, 503) << path;
    EXPECT_EQ(response.body, "{\"code\":14,\"message\":\"policyd has no " + std::string(name) +
                                 " policy data yet (not synced from the upstream or loaded from "
                                 "a snapshot yet)\"}");
  }
  // An org's own row needs no default; the others still answer.
  EXPECT_EQ(Ask("GET", "/management/v1/policies/lockout", std::string(kPlain)).status, 503);
  EXPECT_EQ(Ask("GET", "/management/v1/policies/lockout", std::string(kOwn)).status, 200);
  EXPECT_EQ(Ask("GET", "/management/v1/policies/label/_preview", std::string(kOwn)).status, 200);
  EXPECT_EQ(Ask("GET", "/management/v1/policies/label/_preview", std::string(kPlain)).status, 503);
  EXPECT_EQ(Ask("GET", "/admin/v1/policies/privacy").status, 200);
}

TEST_F(KindRoutesTest, NoDataYetIsUnavailable) {
  Result<std::unique_ptr<Store>> empty = OpenRocksStore(dir_ + "/empty", StoreOptions{});
  ASSERT_TRUE(empty.has_value());
  KindApi api(**empty, *state_, clock_, "");
  Router router;
  api.AddRoutes(router);
  HttpRequest request;
  request.method = "GET";
  request.path = "/management/v1/policies/login";
  request.headers.emplace("x-zitadel-orgid", std::string(kOwn));
  const HttpResponse response = router.Dispatch(request);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body,
            "{\"code\":14,\"message\":\"policyd has no policy data yet (nothing synced from "
            "the upstream or loaded from a snapshot)\"}");
}

TEST_F(KindRoutesTest, StaleDataIsMarkedOrRefused) {
  clock_.Advance(std::chrono::nanoseconds(std::chrono::minutes(6)).count());
  for (const auto& [path, org, status] :
       {std::tuple{"/management/v1/policies/login", kOwn, 200},
        std::tuple{"/management/v1/policies/login", kUnknown, 403},
        std::tuple{"/admin/v1/policies/label/_preview", kOwn, 200}}) {
    const HttpResponse response = Ask("GET", path, std::string(org));
    EXPECT_EQ(response.status, status) << path;
    ASSERT_EQ(response.headers.size(), 1u) << path;
    EXPECT_EQ(response.headers[0].first, kStaleHeader);
    EXPECT_EQ(response.headers[0].second, "true");
  }
  EXPECT_TRUE(Ask("PUT", "/admin/v1/policies/login").headers.empty());
  MakeRouter(/*refuse_when_stale=*/true);
  clock_.Advance(std::chrono::nanoseconds(std::chrono::minutes(6)).count());
  const HttpResponse refused = Ask("GET", "/management/v1/policies/login", std::string(kOwn));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body,
            R"({"code":14,"message":"policy data is older than max-staleness and policyd is )"
            R"(configured to refuse stale data"})");
}

TEST_F(KindRoutesTest, ServesBesideTheDomainRoutes) {
  CompatApi compat(*store_, *state_, clock_, "https://iam.example.com");
  Router both;
  compat.AddRoutes(both);
  api_->AddRoutes(both);
  HttpRequest request;
  request.method = "GET";
  request.path = "/admin/v1/policies/domain";
  EXPECT_EQ(both.Dispatch(request).status, 200);
  request.path = "/admin/v1/policies/login";
  EXPECT_EQ(both.Dispatch(request).status, 200);
  request.path = "/management/v1/policies/default/domain";
  EXPECT_EQ(both.Dispatch(request).status, 404);
}

}  // namespace
}  // namespace policyd::http
