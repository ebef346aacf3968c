// The upstream's messages (connect/codec.h): every served method's types are generated, requests
// are read in both codecs (and refused when malformed), answers are encoded with the upstream's
// field numbers, and REST errors become Connect errors with their ZITADEL error detail.
#include "connect/codec.h"

#include <gtest/gtest.h>

#include "zitadel/admin.pb.h"
#include "zitadel/management.pb.h"
#include "zitadel/message.pb.h"
#include "zitadel/settings_v2.pb.h"

namespace policyd::connect {
namespace {

const MethodSpec& Method(std::string_view service, std::string_view name) {
  const MethodSpec* spec = FindMethod(service, name);
  EXPECT_NE(spec, nullptr) << name;
  return *spec;
}

TEST(CodecTest, EveryServedMethodHasItsMessages) {
  EXPECT_TRUE(AllMethodsDeclared());
  EXPECT_EQ(FindMethod(kManagementService, "AddOrg"), nullptr);
  EXPECT_EQ(FindMethod(kAdminService, "GetOrgIAMPolicy")->rest_pattern,
            "/admin/v1/policies/orgiam");
}

TEST(CodecTest, ReadsRequestsInBothCodecs) {
  const MethodSpec& custom = Method(kAdminService, "GetCustomDomainPolicy");
  const MethodSpec& domain = Method(kManagementService, "GetDomainPolicy");
  struct Case {
    const MethodSpec* spec;
    Codec codec;
    std::string body;
    std::optional<std::string> org_id;  // nullopt: INVALID_ARGUMENT
  };
  const std::vector<Case> cases = {
      {&domain, Codec::kJson, "{}", ""},
      {&domain, Codec::kJson, R"({"unknownField":[1,{"a":null}]})", ""},
      {&domain, Codec::kProto, "", ""},
      // Field 1 is unknown to the empty request: ignored.
      {&domain, Codec::kProto,
       std::string("\x0a\x02"
                   "42",
                   4),
       ""},
      {&custom, Codec::kJson, R"({"orgId":"42"})", "42"},
      {&custom, Codec::kJson, R"({"org_id":"4/2"})", "4/2"},
      {&custom, Codec::kJson, R"( { } )", ""},
      {&custom, Codec::kProto,
       std::string("\x0a\x02"
                   "42",
                   4),
       "42"},
      {&custom, Codec::kProto,
       std::string("\x10\x01\x0a\x01"
                   "7",
                   5),
       "7"},
      {&domain, Codec::kJson, "", std::nullopt},
      {&domain, Codec::kJson, "[]", std::nullopt},
      {&domain, Codec::kJson, "{", std::nullopt},
      {&domain, Codec::kJson, "{} x", std::nullopt},
      {&custom, Codec::kJson, R"({"orgId":42})", std::nullopt},
      {&custom, Codec::kProto,
       std::string("\x0a\x05"
                   "ab",
                   4),
       std::nullopt},
      {&custom, Codec::kProto, std::string("\x0a\x01\xff", 3), std::nullopt},
      {&custom, Codec::kProto, std::string("\x0f", 1), std::nullopt},
      {&domain, Codec::kProto,
       std::string("\x0a\x05"
                   "ab",
                   4),
       std::nullopt},
  };
  for (const Case& c : cases) {
    const std::string what =
        std::string(c.spec->method) + " " + (c.codec == Codec::kJson ? "json " : "proto ") + c.body;
    Result<RequestArgs> org_id = ReadRequest(*c.spec, c.codec, c.body);
    if (c.org_id) {
      ASSERT_TRUE(org_id.has_value()) << what << ": " << org_id.error().ToString();
      EXPECT_EQ(org_id->org_id.value_or(""), *c.org_id) << what;
      EXPECT_EQ(org_id->org_id.has_value(), c.spec == &custom) << what;
      EXPECT_FALSE(org_id->instance.has_value()) << what;
    } else {
      ASSERT_FALSE(org_id.has_value()) << what;
      EXPECT_EQ(org_id.error().code(), Code::kInvalidArgument) << what;
      EXPECT_NE(org_id.error().message().find(std::string(c.spec->method) + "Request"),
                std::string::npos)
          << what << ": " << org_id.error().message();
    }
  }
}

TEST(CodecTest, ReadsTheRequestContextOfTheV2Settings) {
  const MethodSpec& settings = Method(kSettingsService, "GetDomainSettings");
  EXPECT_EQ(settings.rest_pattern, "/v2/settings/domain");
  EXPECT_EQ(settings.org, RequestOrg::kContextInQuery);
  struct Case {
    Codec codec;
    std::string body;
    std::optional<std::string> org_id;
    std::optional<bool> instance;
  };
  // ctx (1) { org_id (1) | instance (2) }
  const std::vector<Case> cases = {
      {Codec::kJson, "{}", std::nullopt, std::nullopt},
      {Codec::kJson, R"({"ctx":{}})", std::nullopt, std::nullopt},
      {Codec::kJson, R"({"ctx":{"orgId":"42"}})", "42", std::nullopt},
      {Codec::kJson, R"({"ctx":{"org_id":""}})", "", std::nullopt},
      {Codec::kJson, R"({"ctx":{"instance":true}})", std::nullopt, true},
      {Codec::kJson, R"({"ctx":{"instance":false}})", std::nullopt, false},
      {Codec::kProto, "", std::nullopt, std::nullopt},
      {Codec::kProto, std::string("\x0a\x00", 2), std::nullopt, std::nullopt},
      {Codec::kProto,
       std::string("\x0a\x04\x0a\x02"
                   "42",
                   6),
       "42", std::nullopt},
      {Codec::kProto, std::string("\x0a\x02\x0a\x00", 4), "", std::nullopt},
      {Codec::kProto, std::string("\x0a\x02\x10\x01", 4), std::nullopt, true},
      // The oneof's last case read wins, as protobuf's rule for a oneof sent twice.
      {Codec::kProto,
       std::string("\x0a\x06\x0a\x02"
                   "42\x10\x01",
                   8),
       std::nullopt, true},
      {Codec::kProto,
       std::string("\x0a\x06\x10\x01\x0a\x02"
                   "42",
                   8),
       "42", std::nullopt},
  };
  for (const Case& c : cases) {
    const std::string what = (c.codec == Codec::kJson ? "json " : "proto ") + c.body;
    const Result<RequestArgs> args = ReadRequest(settings, c.codec, c.body);
    ASSERT_TRUE(args.has_value()) << what << ": " << args.error().ToString();
    EXPECT_EQ(args->org_id, c.org_id) << what;
    EXPECT_EQ(args->instance, c.instance) << what;
  }
  for (const auto& [codec, body] : std::vector<std::pair<Codec, std::string>>{
           {Codec::kJson, R"({"ctx":{"orgId":42}})"},
           {Codec::kJson, R"({"ctx":{"instance":[true]}})"},
           {Codec::kJson, R"({"ctx":[]})"},
           {Codec::kProto, std::string("\x0a\x04\x0a\x02\xff\xfe", 6)},
           {Codec::kProto, std::string("\x0a\x05\x0a\x02", 4)},
       }) {
    const Result<RequestArgs> args = ReadRequest(settings, codec, body);
    ASSERT_FALSE(args.has_value()) << body;
    EXPECT_EQ(args.error().code(), Code::kInvalidArgument) << body;
    EXPECT_NE(args.error().message().find("zitadel.settings.v2.GetDomainSettingsRequest"),
              std::string::npos)
        << args.error().message();
  }
}

TEST(CodecTest, EncodesTheDomainSettingsWithTheUpstreamsFieldNumbers) {
  const Result<std::string> binary = ResponseToBinary(
      Method(kSettingsService, "GetDomainSettings"),
      R"({"details":{"sequence":"17","resourceOwner":"o"},)"
      R"("settings":{"loginNameIncludesDomain":true,"resourceOwnerType":"RESOURCE_OWNER_TYPE_ORG"}})");
  ASSERT_TRUE(binary.has_value()) << binary.error().ToString();
  // details (1) { sequence (1) = 17, resource_owner (3) = "o" },
  // settings (2) { login_name_includes_domain (1) = true, resource_owner_type (6) = ORG (2) }
  EXPECT_EQ(*binary, std::string("\x0a\x05\x08\x11\x1a\x01o\x12\x04\x08\x01\x30\x02", 13));
  zitadel::settings::v2::GetDomainSettingsResponse response;
  ASSERT_TRUE(response.ParseFromString(*binary));
  EXPECT_EQ(response.settings().resource_owner_type(),
            zitadel::settings::v2::RESOURCE_OWNER_TYPE_ORG);
}

TEST(CodecTest, MalformedRequestsLeaveNoLibraryLogLines) {
  // libprotobuf logs an ERROR line for a proto3 string that is not UTF-8: a local client must not
  // be able to write policyd's log.
  ::testing::internal::CaptureStderr();
  const Result<RequestArgs> org_id = ReadRequest(Method(kAdminService, "GetCustomOrgIAMPolicy"),
                                                 Codec::kProto, std::string("\x0a\x01\xfe", 3));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_FALSE(org_id.has_value());
}

TEST(CodecTest, EncodesAnswersWithTheUpstreamsFieldNumbers) {
  Result<std::string> binary = ResponseToBinary(
      Method(kManagementService, "GetDomainPolicy"),
      R"({"policy":{"details":{"sequence":"17","resourceOwner":"o"},)"
      R"("userLoginMustBeDomain":true,"smtpSenderAddressMatchesInstanceDomain":true}})");
  ASSERT_TRUE(binary.has_value()) << binary.error().ToString();
  // policy (1) { details (1) { sequence (1) = 17, resource_owner (4) = "o" },
  //              user_login_must_be_domain (2) = true, smtp_... (5) = true }
  EXPECT_EQ(*binary, std::string("\x0a\x0b\x0a\x05\x08\x11\x22\x01o\x10\x01\x28\x01", 13));
  // The deprecated top-level is_default (2) of the management responses that have it.
  binary = ResponseToBinary(Method(kManagementService, "GetLockoutPolicy"),
                            R"({"policy":{"isDefault":true},"isDefault":true})");
  ASSERT_TRUE(binary.has_value()) << binary.error().ToString();
  EXPECT_EQ(*binary, std::string("\x0a\x02\x20\x01\x10\x01", 6));
}

TEST(CodecTest, EncodesEveryKindOfFieldTheLoginPolicyHas) {
  const std::string json =
      R"({"policy":{"details":{"sequence":"3","creationDate":"2025-02-11T08:00:01.500Z",)"
      R"("changeDate":"2025-03-01T09:12:44.123456Z","resourceOwner":"42"},)"
      R"("allowUsernamePassword":true,"passwordlessType":"PASSWORDLESS_TYPE_ALLOWED",)"
      R"("defaultRedirectUri":"https://x","passwordCheckLifetime":"864000s",)"
      R"("externalLoginCheckLifetime":"1.500s","mfaInitSkipLifetime":"0s",)"
      R"("secondFactors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"],)"
      R"("multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],)"
      R"("idps":[{"idpId":"7","idpName":"Google","idpType":"IDP_TYPE_OIDC"},{"idpId":"8"}],)"
      R"("forceMfaLocalOnly":true,"useDefaultUriForNotificationLinks":true},"isDefault":true})";
  Result<std::string> binary = ResponseToBinary(Method(kManagementService, "GetLoginPolicy"), json);
  ASSERT_TRUE(binary.has_value()) << binary.error().ToString();
  zitadel::management::v1::GetLoginPolicyResponse response;
  ASSERT_TRUE(response.ParseFromString(*binary));
  const zitadel::policy::v1::LoginPolicy& p = response.policy();
  EXPECT_TRUE(response.is_default());
  EXPECT_EQ(p.details().sequence(), 3u);
  EXPECT_EQ(p.details().creation_date().seconds(), 1739260801);
  EXPECT_EQ(p.details().creation_date().nanos(), 500'000'000);
  EXPECT_EQ(p.details().change_date().nanos(), 123'456'000);
  EXPECT_EQ(p.details().resource_owner(), "42");
  EXPECT_TRUE(p.allow_username_password());
  EXPECT_EQ(p.passwordless_type(), zitadel::policy::v1::PASSWORDLESS_TYPE_ALLOWED);
  EXPECT_EQ(p.default_redirect_uri(), "https://x");
  EXPECT_EQ(p.password_check_lifetime().seconds(), 864000);
  EXPECT_EQ(p.external_login_check_lifetime().nanos(), 500'000'000);
  EXPECT_TRUE(p.has_mfa_init_skip_lifetime());
  EXPECT_FALSE(p.has_multi_factor_check_lifetime());
  ASSERT_EQ(p.second_factors_size(), 2);
  EXPECT_EQ(p.second_factors(1), zitadel::policy::v1::SECOND_FACTOR_TYPE_U2F);
  ASSERT_EQ(p.multi_factors_size(), 1);
  ASSERT_EQ(p.idps_size(), 2);
  EXPECT_EQ(p.idps(0).idp_name(), "Google");
  EXPECT_EQ(p.idps(0).idp_type(), zitadel::idp::v1::IDP_TYPE_OIDC);
  EXPECT_EQ(p.idps(1).idp_id(), "8");
  EXPECT_TRUE(p.force_mfa_local_only());
  // useDefaultUriForNotificationLinks is not in upstream's message: dropped, not an error.
  EXPECT_TRUE(p.GetReflection()->GetUnknownFields(p).empty());
}

TEST(CodecTest, RefusesAnAnswerThatIsNotTheResponseMessage) {
  for (std::string_view json : {"", "{", R"({"policy":5})", R"({"policy":{"minLength":"x"}})"}) {
    Result<std::string> binary =
        ResponseToBinary(Method(kAdminService, "GetPasswordComplexityPolicy"), json);
    ASSERT_FALSE(binary.has_value()) << json;
    EXPECT_EQ(binary.error().code(), Code::kInternal) << json;
  }
}

TEST(CodecTest, TranslatesRestErrorsWithTheirZitadelDetail) {
  const std::string org_does_not_exist =
      R"j({"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)","details":[{"@type":)j"
      R"("type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-Bs7Ds",)"
      R"("message":"Organisation doesn't exist"},{"@type":"type.googleapis.com/other.T","a":1}]})";
  Error error = ErrorFromRestAnswer(403, org_does_not_exist);
  EXPECT_EQ(error.code, Code::kPermissionDenied);
  EXPECT_EQ(error.message, "Organisation doesn't exist (AUTH-Bs7Ds)");
  ASSERT_EQ(error.details.size(), 1u);
  EXPECT_EQ(error.details[0].type, "zitadel.v1.ErrorDetail");
  EXPECT_EQ(error.details[0].value, std::string("\x0a\x0a"
                                                "AUTH-Bs7Ds"
                                                "\x12\x1a"
                                                "Organisation doesn't exist"));
  zitadel::v1::ErrorDetail detail;
  ASSERT_TRUE(detail.ParseFromString(error.details[0].value));
  EXPECT_EQ(detail.id(), "AUTH-Bs7Ds");

  error = ErrorFromRestAnswer(503, R"({"code":14,"message":"no data"})");
  EXPECT_EQ(error.code, Code::kUnavailable);
  EXPECT_EQ(error.message, "no data");
  EXPECT_TRUE(error.details.empty());

  // Not a google.rpc.Status: the code of the HTTP status, the body as the message.
  const std::vector<std::tuple<int, std::string, Code>> odd = {
      {502, "Bad Gateway", Code::kInternal},
      {400, "{}", Code::kInvalidArgument},
      {403, R"({"code":0})", Code::kPermissionDenied},
      {404, R"({"code":17})", Code::kNotFound},
      {418, R"({"code":2.5})", Code::kUnknown},
      {429, R"({"code":"7"})", Code::kResourceExhausted},
  };
  for (const auto& [status, body, code] : odd) {
    error = ErrorFromRestAnswer(status, body);
    EXPECT_EQ(error.code, code) << body;
    EXPECT_EQ(error.message, body);
  }
}

}  // namespace
}  // namespace policyd::connect
