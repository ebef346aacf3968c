// The Router: path patterns, parameters, HEAD, and the upstream gateway's routing errors.
#include "http/router.h"

#include <gtest/gtest.h>

namespace policyd::http {
namespace {

HttpRequest Request(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

// A router whose handlers answer "<route name> <params>".
Router TestRouter() {
  Router router;
  const auto named = [](std::string name) {
    return [name](const HttpRequest& r) {
      HttpResponse response;
      response.body = name;
      for (const auto& [key, value] : r.path_params) response.body += " " + key + "=" + value;
      return response;
    };
  };
  router.Add("GET", "/admin/v1/policies/domain", named("default"));
  router.Add("PUT", "/admin/v1/policies/domain", named("write default"));
  router.Add("GET", "/admin/v1/orgs/{orgId}/policies/domain", named("org"));
  router.Add("DELETE", "/admin/v1/orgs/{orgId}/policies/domain", named("reset org"));
  router.Add("GET", "/a/{x}/b/{y}", named("two"));
  router.Add("GET", "/", named("root"));
  return router;
}

TEST(RouterTest, DispatchesByMethodAndPathWithParameters) {
  const Router router = TestRouter();
  struct Case {
    std::string method, path;
    int status;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"GET", "/admin/v1/policies/domain", 200, "default"},
      {"PUT", "/admin/v1/policies/domain", 200, "write default"},
      {"GET", "/admin/v1/orgs/42/policies/domain", 200, "org orgId=42"},
      {"DELETE", "/admin/v1/orgs/42/policies/domain", 200, "reset org orgId=42"},
      {"GET", "/admin/v1/orgs/a b%2F/policies/domain", 200, "org orgId=a b%2F"},
      {"GET", "/a/1/b/2", 200, "two x=1 y=2"},
      {"GET", "/", 200, "root"},
      // HEAD is answered like GET (the server drops the body).
      {"HEAD", "/admin/v1/policies/domain", 200, "default"},
      // Unknown paths: 404 as the upstream's gateway answers.
      {"GET", "/admin/v1/policies/domain/", 404, R"({"code":5,"message":"Not Found"})"},
      {"GET", "/admin/v1/orgs//policies/domain", 404, R"({"code":5,"message":"Not Found"})"},
      {"GET", "/admin/v1/orgs/1/2/policies/domain", 404, R"({"code":5,"message":"Not Found"})"},
      {"GET", "/admin/v1/policies", 404, R"({"code":5,"message":"Not Found"})"},
      {"GET", "/ADMIN/v1/policies/domain", 404, R"({"code":5,"message":"Not Found"})"},
      {"GET", "", 404, R"({"code":5,"message":"Not Found"})"},
      // Known paths, other methods: 405.
      {"POST", "/admin/v1/policies/domain", 405, R"({"code":12,"message":"Method Not Allowed"})"},
      {"PATCH", "/admin/v1/orgs/1/policies/domain", 405,
       R"({"code":12,"message":"Method Not Allowed"})"},
      {"get", "/admin/v1/policies/domain", 405, R"({"code":12,"message":"Method Not Allowed"})"},
  };
  for (const Case& c : cases) {
    const HttpResponse response = router.Dispatch(Request(c.method, c.path));
    EXPECT_EQ(response.status, c.status) << c.method << " " << c.path;
    EXPECT_EQ(response.body, c.body) << c.method << " " << c.path;
    EXPECT_EQ(response.content_type, "application/json") << c.method << " " << c.path;
  }
}

TEST(RouterTest, FirstMatchingRouteWins) {
  Router router;
  router.Add("GET", "/x/{id}", [](const HttpRequest&) { return HttpResponse{200, "a", {}, "1"}; });
  router.Add("GET", "/x/y", [](const HttpRequest&) { return HttpResponse{200, "a", {}, "2"}; });
  EXPECT_EQ(router.Dispatch(Request("GET", "/x/y")).body, "1");
}

TEST(RouterTest, FindsTheHandlerOfAnExactMethodAndPattern) {
  const Router router = TestRouter();
  const Handler org = router.Find("GET", "/admin/v1/orgs/{orgId}/policies/domain");
  ASSERT_TRUE(org);
  HttpRequest request = Request("GET", "(not routed)");
  request.path_params.emplace_back("orgId", "4/2");
  EXPECT_EQ(org(request).body, "org orgId=4/2");
  EXPECT_EQ(router.Find("PUT", "/admin/v1/policies/domain")(Request("PUT", "")).body,
            "write default");
  // Patterns are compared as written: no matching of a path against them.
  EXPECT_FALSE(router.Find("GET", "/admin/v1/orgs/42/policies/domain"));
  EXPECT_FALSE(router.Find("POST", "/admin/v1/policies/domain"));
  EXPECT_FALSE(router.Find("GET", "/admin/v1/policies"));
  EXPECT_FALSE(router.Find("HEAD", "/admin/v1/policies/domain"));
}

TEST(RouterTest, HeadersAreCaseInsensitiveAndQueryParametersAreNot) {
  HttpRequest r = Request("GET", "/");
  r.headers.emplace("X-Zitadel-OrgId", "42");
  r.headers.emplace("x-zitadel-orgid", "43");
  r.query.emplace("ctx.orgId", "7");
  r.query.emplace("ctx.orgId", "8");
  EXPECT_EQ(r.Header("x-zitadel-orgid"), "42");
  EXPECT_EQ(r.Header("X-ZITADEL-ORGID"), "42");
  EXPECT_EQ(r.Header("x-zitadel-org"), std::nullopt);
  EXPECT_EQ(r.QueryParam("ctx.orgId"), "7");
  EXPECT_EQ(r.QueryParam("ctx.orgid"), std::nullopt);
  EXPECT_EQ(r.PathParam("orgId"), "");
}

TEST(RouterTest, ErrorsTheHttpLibraryMakesGetStatusBodies) {
  EXPECT_EQ(ErrorForHttpStatus(400).body, R"({"code":3,"message":"Bad Request"})");
  EXPECT_EQ(ErrorForHttpStatus(404).body, R"({"code":5,"message":"Not Found"})");
  EXPECT_EQ(ErrorForHttpStatus(413).body, R"({"code":8,"message":"Payload Too Large"})");
  EXPECT_EQ(ErrorForHttpStatus(414).body, R"({"code":8,"message":"URI Too Long"})");
  EXPECT_EQ(ErrorForHttpStatus(500).body, R"({"code":13,"message":"Internal Server Error"})");
  EXPECT_EQ(ErrorForHttpStatus(431).body, R"({"code":3,"message":"Bad Request"})");
  for (int status : {400, 404, 405, 413, 414, 431, 500, 503}) {
    EXPECT_EQ(ErrorForHttpStatus(status).status, status);
    EXPECT_EQ(ErrorForHttpStatus(status).content_type, "application/json");
  }
}

}  // namespace
}  // namespace policyd::http
