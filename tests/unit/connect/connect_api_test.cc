// The Connect routes (connect/connect_api.h) on the real REST reads of a store loaded from the
// example snapshot: every served method, for an org with its own policies, one on the defaults,
// an unknown org and no org, in both codecs, answers what the REST read answers (JSON byte for
// byte; binary decoded back to protojson, byte for byte); then what the protocol refuses.
#include "connect/connect_api.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "connect/codec.h"
#include "http/compat_routes.h"
#include "http/kind_routes.h"
#include "json/snapshot_json.h"

namespace policyd::connect {
namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr std::string_view kOwn = "300000000000000042";    // own domain, complexity, login, label
constexpr std::string_view kPlain = "300000000000000107";  // every kind on the default
constexpr std::string_view kUnknown = "300000000000000999";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The protojson of the binary `bytes` of `spec`'s response message, as libprotobuf writes it.
std::string BinaryToJson(const MethodSpec& spec, const std::string& bytes) {
  namespace pb = google::protobuf;
  const pb::MethodDescriptor* method = pb::DescriptorPool::generated_pool()->FindMethodByName(
      std::string(spec.service) + "." + std::string(spec.method));
  if (method == nullptr) return "(no such method)";
  std::unique_ptr<pb::Message> message(
      pb::MessageFactory::generated_factory()->GetPrototype(method->output_type())->New());
  if (!message->ParseFromString(bytes)) return "(not a " + method->output_type()->full_name() + ")";
  std::string json;
  if (!pb::util::MessageToJsonString(*message, &json).ok()) return "(cannot write JSON)";
  return json;
}

class ConnectApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-connect-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> opened = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(*opened);
    Result<Snapshot> snapshot =
        ParseSnapshot(ReadFile(std::string(POLICYD_EXAMPLES_DIR) + "/snapshot.json"));
    ASSERT_TRUE(snapshot.has_value()) << snapshot.error().ToString();
    ASSERT_TRUE(store_->Replace(*snapshot, "", "test", clock_.Now()).ok());
    state_.RecordSync(clock_.Now());
    compat_ = std::make_unique<http::CompatApi>(*store_, state_, clock_, "https://iam.example.com");
    kinds_ = std::make_unique<http::KindApi>(*store_, state_, clock_, "https://iam.example.com");
    compat_->AddRoutes(router_);
    kinds_->AddRoutes(router_);
    ASSERT_TRUE(ConnectApi::AddRoutes(router_).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpResponse Post(std::string path, std::string content_type, std::string body,
                    std::optional<std::string_view> org = std::nullopt,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest request;
    request.method = "POST";
    request.path = std::move(path);
    request.headers.emplace("Content-Type", std::move(content_type));
    request.headers.emplace("Connect-Protocol-Version", "1");
    if (org) request.headers.emplace("x-zitadel-orgid", std::string(*org));
    for (auto& [name, value] : headers) request.headers.emplace(name, value);
    request.body = std::move(body);
    return router_.Dispatch(std::move(request));
  }

  // The call of `spec` for `org`: in the request's org_id or ctx.org_id when it has one, else in
  // the x-zitadel-orgid header.
  HttpResponse Call(const MethodSpec& spec, Codec codec, std::optional<std::string_view> org) {
    std::string body = codec == Codec::kJson ? "{}" : "";
    const bool in_request = spec.org != RequestOrg::kNone && org;
    if (in_request) {
      const std::string id(*org);
      const std::string org_id = "\x0a" + std::string(1, static_cast<char>(id.size())) + id;
      if (spec.org == RequestOrg::kOrgIdInPath) {
        body = codec == Codec::kJson ? R"({"orgId":")" + id + "\"}" : org_id;
      } else {
        body = codec == Codec::kJson
                   ? R"({"ctx":{"orgId":")" + id + "\"}}"
                   : "\x0a" + std::string(1, static_cast<char>(org_id.size())) + org_id;
      }
    }
    return Post("/" + std::string(spec.service) + "/" + std::string(spec.method),
                std::string(ContentType(codec)), body, in_request ? std::nullopt : org);
  }

  HttpResponse Rest(const MethodSpec& spec, std::optional<std::string_view> org) {
    HttpRequest request;
    request.method = "GET";
    request.path = std::string(spec.rest_pattern);
    if (spec.org == RequestOrg::kOrgIdInPath) {
      request.path.replace(request.path.find("{orgId}"), 7, std::string(org.value_or("x")));
    } else if (spec.org == RequestOrg::kContextInQuery && org) {
      request.query.emplace("ctx.orgId", std::string(*org));
    } else if (org) {
      request.headers.emplace("x-zitadel-orgid", std::string(*org));
    }
    return router_.Dispatch(std::move(request));
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  FakeClock clock_{Timestamp{1750000000, 0}};
  ServingState state_{FreshnessOptions{"https://iam.example.com", std::chrono::minutes(5), false}};
  std::unique_ptr<http::CompatApi> compat_;
  std::unique_ptr<http::KindApi> kinds_;
  http::Router router_;
};

TEST_F(ConnectApiTest, EveryMethodAnswersWhatTheRestReadAnswers) {
  int compared_ok = 0, compared_errors = 0;
  for (const MethodSpec& spec : Methods()) {
    for (std::optional<std::string_view> org :
         {std::optional<std::string_view>(kOwn), std::optional<std::string_view>(kPlain),
          std::optional<std::string_view>(kUnknown), std::optional<std::string_view>()}) {
      if (spec.org == RequestOrg::kOrgIdInPath && !org) continue;
      const HttpResponse rest = Rest(spec, org);
      for (Codec codec : {Codec::kJson, Codec::kProto}) {
        const std::string what = std::string(spec.service) + "/" + std::string(spec.method) +
                                 " org " + std::string(org.value_or("(none)")) +
                                 (codec == Codec::kJson ? " json" : " proto");
        const HttpResponse answer = Call(spec, codec, org);
        ASSERT_EQ(answer.status, rest.status) << what << ": " << answer.body;
        EXPECT_EQ(answer.headers, rest.headers) << what;
        if (rest.status != 200) {
          EXPECT_EQ(answer.content_type, "application/json") << what;
          const Error want = ErrorFromRestAnswer(rest.status, rest.body);
          EXPECT_EQ(answer.body, FormatErrorBody(want)) << what;
          ++compared_errors;
          continue;
        }
        EXPECT_EQ(answer.content_type, ContentType(codec)) << what;
        EXPECT_EQ(codec == Codec::kJson ? answer.body : BinaryToJson(spec, answer.body), rest.body)
            << what;
        ++compared_ok;
      }
    }
  }
  // 30 methods: 28 x 4 orgs and the 2 GetCustom*Policy x 3 orgs, in two codecs.
  EXPECT_EQ(compared_ok + compared_errors, 2 * (28 * 4 + 2 * 3));
  EXPECT_GT(compared_ok, 150);
}

TEST_F(ConnectApiTest, AnUnknownOrgIsPermissionDeniedWithTheZitadelErrorDetail) {
  const std::string want =
      R"j({"code":"permission_denied","message":"Organisation doesn't exist (AUTH-Bs7Ds)",)j"
      R"("details":[{"type":"zitadel.v1.ErrorDetail",)"
      R"("value":"CgpBVVRILUJzN0RzEhpPcmdhbmlzYXRpb24gZG9lc24ndCBleGlzdA"}]})";
  for (std::string type : {"application/json", "application/proto"}) {
    const HttpResponse answer = Post("/zitadel.management.v1.ManagementService/GetDomainPolicy",
                                     type, type == "application/json" ? "{}" : "", kUnknown);
    EXPECT_EQ(answer.status, 403) << type;
    EXPECT_EQ(answer.content_type, "application/json") << type;
    EXPECT_EQ(answer.body, want) << type;
  }
}

struct Refusal {
  std::string what;
  std::string method;
  std::string path;
  std::optional<std::string> content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int status;
  std::string code;
  std::string message_part;
  std::vector<std::pair<std::string, std::string>> answer_headers = {};
};

TEST_F(ConnectApiTest, RefusesWhatTheProtocolDoesNotAllowWithTheSpecsCodes) {
  const std::string domain = "/zitadel.management.v1.ManagementService/GetDomainPolicy";
  const std::string custom = "/zitadel.admin.v1.AdminService/GetCustomDomainPolicy";
  const std::vector<Refusal> cases = {
      {"unknown method",
       "POST",
       "/zitadel.management.v1.ManagementService/AddOrg",
       "application/json",
       "{}",
       {},
       404,
       "unimplemented",
       "zitadel.management.v1.ManagementService/AddOrg is not served by policyd"},
      {"a write",
       "POST",
       "/zitadel.admin.v1.AdminService/UpdateDomainPolicy",
       "application/proto",
       "",
       {},
       404,
       "unimplemented",
       "not served"},
      {"GET",
       "GET",
       domain,
       std::nullopt,
       "",
       {},
       405,
       "unimplemented",
       "POST",
       {{"Allow", "POST"}}},
      {"DELETE",
       "DELETE",
       domain,
       "application/json",
       "{}",
       {},
       405,
       "unimplemented",
       "POST",
       {{"Allow", "POST"}}},
      {"streaming",
       "POST",
       domain,
       "application/connect+json",
       "{}",
       {},
       415,
       "unimplemented",
       "application/connect+json",
       {{"Accept-Post", "application/json, application/proto"}}},
      {"gRPC",
       "POST",
       domain,
       "application/grpc",
       "",
       {},
       415,
       "unimplemented",
       "gRPC",
       {{"Accept-Post", "application/json, application/proto"}}},
      {"no content type",
       "POST",
       domain,
       std::nullopt,
       "{}",
       {},
       415,
       "unimplemented",
       "none",
       {{"Accept-Post", "application/json, application/proto"}}},
      {"malformed JSON",
       "POST",
       domain,
       "application/json",
       "{\"a\":",
       {},
       400,
       "invalid_argument",
       "zitadel.management.v1.GetDomainPolicyRequest"},
      {"empty JSON",
       "POST",
       domain,
       "application/json",
       "",
       {},
       400,
       "invalid_argument",
       "empty body"},
      {"malformed binary",
       "POST",
       custom,
       "application/proto",
       "\x0a\x09",
       {},
       400,
       "invalid_argument",
       "zitadel.admin.v1.GetCustomDomainPolicyRequest"},
      {"no org id",
       "POST",
       custom,
       "application/json",
       "{}",
       {},
       400,
       "invalid_argument",
       "invalid GetCustomDomainPolicyRequest.OrgId: value length must be between 1 and 200"},
      {"org id too long",
       "POST",
       custom,
       "application/json",
       R"({"orgId":")" + std::string(201, '7') + "\"}",
       {},
       400,
       "invalid_argument",
       "invalid GetCustomDomainPolicyRequest.OrgId: value length must be between 1 and 200"},
      {"protocol version",
       "POST",
       domain,
       "application/json",
       "{}",
       {{"Connect-Protocol-Version", "2"}},
       400,
       "invalid_argument",
       "connect-protocol-version"},
      {"compressed",
       "POST",
       domain,
       "application/json",
       "{}",
       {{"Content-Encoding", "zstd"}},
       501,
       "unimplemented",
       "zstd"},
      {"bad timeout",
       "POST",
       domain,
       "application/json",
       "{}",
       {{"Connect-Timeout-Ms", "soon"}},
       400,
       "invalid_argument",
       "connect-timeout-ms"},
      {"no org header",
       "POST",
       domain,
       "application/json",
       "{}",
       {},
       400,
       "invalid_argument",
       "x-zitadel-orgid header missing"},
  };
  for (const Refusal& c : cases) {
    HttpRequest request;
    request.method = c.method;
    request.path = c.path;
    if (c.content_type) request.headers.emplace("Content-Type", *c.content_type);
    for (const auto& [name, value] : c.headers) request.headers.emplace(name, value);
    request.body = c.body;
    const HttpResponse answer = router_.Dispatch(std::move(request));
    EXPECT_EQ(answer.status, c.status) << c.what << ": " << answer.body;
    EXPECT_EQ(answer.content_type, "application/json") << c.what;
    EXPECT_TRUE(answer.body.starts_with(R"({"code":")" + c.code + "\",\"message\":"))
        << c.what << ": " << answer.body;
    EXPECT_NE(answer.body.find(c.message_part), std::string::npos) << c.what << ": " << answer.body;
    EXPECT_EQ(answer.headers, c.answer_headers) << c.what;
  }
}

TEST_F(ConnectApiTest, OtherPathsAnswerAsBefore) {
  HttpRequest request;
  request.method = "POST";
  request.path = "/zitadel.user.v2.UserService/GetUserByID";
  request.headers.emplace("Content-Type", "application/json");
  const HttpResponse unknown_service = router_.Dispatch(request);
  EXPECT_EQ(unknown_service.status, 404);
  EXPECT_EQ(unknown_service.body, R"({"code":5,"message":"Not Found"})");
  request.method = "GET";
  request.path = "/management/v1/policies/domain";
  request.headers.emplace("x-zitadel-orgid", std::string(kOwn));
  const HttpResponse rest = router_.Dispatch(request);
  EXPECT_EQ(rest.status, 200);
  EXPECT_TRUE(rest.body.starts_with(R"({"policy":{"details":)")) << rest.body;
}

TEST_F(ConnectApiTest, TheSettingsRequestContextIsTheRestQuery) {
  const std::string path = "/zitadel.settings.v2.SettingsService/GetDomainSettings";
  struct Case {
    std::string what;
    Codec codec;
    std::string body;
    std::optional<std::string_view> header;                  // x-zitadel-orgid, on both calls
    std::vector<std::pair<std::string, std::string>> query;  // of the REST twin
    int status;
    std::string_view owner_type;  // in a 200 answer
  };
  const std::string own(kOwn);
  const std::vector<Case> cases = {
      {"instance",
       Codec::kJson,
       R"({"ctx":{"instance":true}})",
       kOwn,
       {{"ctx.instance", "true"}},
       200,
       "RESOURCE_OWNER_TYPE_INSTANCE"},
      {"instance",
       Codec::kProto,
       std::string("\x0a\x02\x10\x01", 4),
       kOwn,
       {{"ctx.instance", "true"}},
       200,
       "RESOURCE_OWNER_TYPE_INSTANCE"},
      {"org id over the header",
       Codec::kJson,
       R"({"ctx":{"orgId":")" + own + "\"}}",
       kUnknown,
       {{"ctx.orgId", own}},
       200,
       "RESOURCE_OWNER_TYPE_ORG"},
      {"org_id",
       Codec::kJson,
       R"({"ctx":{"org_id":")" + own + "\"}}",
       std::nullopt,
       {{"ctx.orgId", own}},
       200,
       "RESOURCE_OWNER_TYPE_ORG"},
      {"unknown org id: the default",
       Codec::kProto,
       "\x0a\x14\x0a\x12" + std::string(kUnknown),
       std::nullopt,
       {{"ctx.orgId", std::string(kUnknown)}},
       200,
       "RESOURCE_OWNER_TYPE_INSTANCE"},
      {"no ctx: the header", Codec::kJson, "{}", kOwn, {}, 200, "RESOURCE_OWNER_TYPE_ORG"},
      {"no ctx: the header", Codec::kProto, "", kOwn, {}, 200, "RESOURCE_OWNER_TYPE_ORG"},
      {"empty org id: the header",
       Codec::kJson,
       R"({"ctx":{"orgId":""}})",
       kOwn,
       {{"ctx.orgId", ""}},
       200,
       "RESOURCE_OWNER_TYPE_ORG"},
      {"instance false: the header",
       Codec::kProto,
       std::string("\x0a\x02\x10\x00", 4),
       kOwn,
       {{"ctx.instance", "false"}},
       200,
       "RESOURCE_OWNER_TYPE_ORG"},
      {"unknown org in the header", Codec::kJson, "{}", kUnknown, {}, 403, ""},
      {"no org at all", Codec::kProto, "", std::nullopt, {}, 400, ""},
  };
  for (const Case& c : cases) {
    const std::string what = c.what + (c.codec == Codec::kJson ? " json" : " proto");
    HttpRequest rest_request;
    rest_request.method = "GET";
    rest_request.path = "/v2/settings/domain";
    rest_request.query.insert(c.query.begin(), c.query.end());
    if (c.header) rest_request.headers.emplace("x-zitadel-orgid", std::string(*c.header));
    const HttpResponse rest = router_.Dispatch(std::move(rest_request));
    ASSERT_EQ(rest.status, c.status) << what << ": " << rest.body;
    const HttpResponse answer = Post(path, std::string(ContentType(c.codec)), c.body, c.header);
    ASSERT_EQ(answer.status, c.status) << what << ": " << answer.body;
    if (c.status != 200) {
      EXPECT_EQ(answer.body, FormatErrorBody(ErrorFromRestAnswer(rest.status, rest.body))) << what;
      continue;
    }
    const std::string json =
        c.codec == Codec::kJson
            ? answer.body
            : BinaryToJson(*FindMethod(kSettingsService, "GetDomainSettings"), answer.body);
    EXPECT_EQ(json, rest.body) << what;
    EXPECT_NE(json.find(c.owner_type), std::string::npos) << what << ": " << json;
  }
}

TEST_F(ConnectApiTest, OtherSettingsMethodsAreUnimplemented) {
  const HttpResponse answer =
      Post("/zitadel.settings.v2.SettingsService/GetLoginSettings", "application/json", "{}", kOwn);
  EXPECT_EQ(answer.status, 404);
  EXPECT_TRUE(answer.body.starts_with(R"({"code":"unimplemented")")) << answer.body;
}

TEST_F(ConnectApiTest, StaleAnswersKeepTheStaleHeader) {
  clock_.Advance(std::chrono::nanoseconds(std::chrono::minutes(6)).count());
  const HttpResponse answer =
      Post("/zitadel.admin.v1.AdminService/GetLoginPolicy", "application/proto", "");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.content_type, "application/proto");
  const std::vector<std::pair<std::string, std::string>> stale = {{"x-policyd-stale", "true"}};
  EXPECT_EQ(answer.headers, stale);
}

TEST(ConnectApiRoutesTest, NeedsTheRestReadsFirst) {
  http::Router empty;
  const Status s = ConnectApi::AddRoutes(empty);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("/management/v1/policies/orgiam"), std::string::npos) << s.message();
  HttpRequest request;
  request.method = "POST";
  request.path = "/zitadel.management.v1.ManagementService/GetOrgIAMPolicy";
  EXPECT_EQ(empty.Dispatch(request).status, 404);
}

}  // namespace
}  // namespace policyd::connect
