// The upstream's JSON bodies: google.rpc.Status errors, OrgIAMPolicy and v2 domain settings.
#include "http/compat_json.h"

#include <gtest/gtest.h>

namespace policyd::http {
namespace {

DomainPolicy Policy(PolicyFlags flags, bool is_default, Details details) {
  return DomainPolicy{flags, is_default, std::move(details)};
}

const Details kDetails{17, Timestamp{1739260801, 500'000'000}, Timestamp{1740820364, 123'456'000},
                       "300000000000000042"};

TEST(CompatJsonTest, StatusBodyWithZitadelErrorIdCarriesAnErrorDetail) {
  EXPECT_EQ(FormatStatusBody(Code::kPermissionDenied, "Organisation doesn't exist", "AUTH-Bs7Ds"),
            R"j({"code":7,"message":"Organisation doesn't exist (AUTH-Bs7Ds)","details":[{)j"
            R"("@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-Bs7Ds",)"
            R"("message":"Organisation doesn't exist"}]})");
}

TEST(CompatJsonTest, StatusBodyWithoutIdHasNoDetails) {
  EXPECT_EQ(FormatStatusBody(Code::kNotFound, "Not Found"), R"({"code":5,"message":"Not Found"})");
  EXPECT_EQ(FormatStatusBody(Code::kUnimplemented, "a \"quoted\"\nline"),
            R"({"code":12,"message":"a \"quoted\"\nline"})");
  // Zero code and empty message are omitted, as protojson omits zero values.
  EXPECT_EQ(FormatStatusBody(Code::kOk, ""), "{}");
  EXPECT_EQ(FormatStatusBody(Code::kInternal, ""), R"({"code":13})");
}

TEST(CompatJsonTest, HttpStatusFollowsGrpcGatewayMapping) {
  const std::vector<std::pair<Code, int>> cases = {
      {Code::kOk, 200},
      {Code::kCancelled, 499},
      {Code::kUnknown, 500},
      {Code::kInvalidArgument, 400},
      {Code::kDeadlineExceeded, 504},
      {Code::kNotFound, 404},
      {Code::kAlreadyExists, 409},
      {Code::kPermissionDenied, 403},
      {Code::kResourceExhausted, 429},
      {Code::kFailedPrecondition, 400},
      {Code::kAborted, 409},
      {Code::kOutOfRange, 400},
      {Code::kUnimplemented, 501},
      {Code::kInternal, 500},
      {Code::kUnavailable, 503},
      {Code::kDataLoss, 500},
      {Code::kUnauthenticated, 401},
  };
  for (const auto& [code, status] : cases)
    EXPECT_EQ(HttpStatusFromCode(code), status) << static_cast<int>(code);
}

TEST(CompatJsonTest, OrgIamPolicyKeepsOnlyUserLoginMustBeDomainAndIsDefault) {
  EXPECT_EQ(FormatOrgIamPolicyResponse(Policy({true, true, true}, true, kDetails)),
            R"({"policy":{"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z",)"
            R"("changeDate":"2025-03-01T09:12:44.123456Z","resourceOwner":"300000000000000042"},)"
            R"("userLoginMustBeDomain":true,"isDefault":true}})");
  EXPECT_EQ(
      FormatOrgIamPolicyResponse(Policy({false, true, true}, false, kDetails)),
      R"({"policy":{"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z",)"
      R"("changeDate":"2025-03-01T09:12:44.123456Z","resourceOwner":"300000000000000042"}}})");
  EXPECT_EQ(FormatOrgIamPolicyResponse(Policy({}, false, {})), R"({"policy":{"details":{}}})");
}

TEST(CompatJsonTest, DomainSettingsUseV2NamesAndDetailsOrder) {
  // The API notes' example (§1.3), byte for byte.
  EXPECT_EQ(FormatDomainSettingsResponse(Policy({true, true, false}, false, kDetails)),
            R"({"details":{"sequence":"17","changeDate":"2025-03-01T09:12:44.123456Z",)"
            R"("resourceOwner":"300000000000000042","creationDate":"2025-02-11T08:00:01.500Z"},)"
            R"("settings":{"loginNameIncludesDomain":true,"requireOrgDomainVerification":true,)"
            R"("resourceOwnerType":"RESOURCE_OWNER_TYPE_ORG"}})");
  EXPECT_EQ(FormatDomainSettingsResponse(Policy({false, false, true}, true, kDetails)),
            R"({"details":{"sequence":"17","changeDate":"2025-03-01T09:12:44.123456Z",)"
            R"("resourceOwner":"300000000000000042","creationDate":"2025-02-11T08:00:01.500Z"},)"
            R"("settings":{"smtpSenderAddressMatchesInstanceDomain":true,)"
            R"("resourceOwnerType":"RESOURCE_OWNER_TYPE_INSTANCE"}})");
  EXPECT_EQ(FormatDomainSettingsResponse(Policy({}, true, {})),
            R"({"details":{},"settings":{"resourceOwnerType":"RESOURCE_OWNER_TYPE_INSTANCE"}})");
}

}  // namespace
}  // namespace policyd::http
