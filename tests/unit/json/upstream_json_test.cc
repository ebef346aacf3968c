#include "json/upstream_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace policyd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The response of zitadel-api.md §3.3, with two more events and unknown fields sprinkled in.
constexpr std::string_view kEventsBody = R"({"events": [{
  "editor": {"userId": "2593", "displayName": "sync-bot", "service": "zitadel"},
  "aggregate": {"id": "2594", "type": {"type": "org", "localized": {"key": "AggregateTypes.org",
                "localizedMessage": "Organization"}}, "resourceOwner": "2594", "future": [1, {}]},
  "sequence": "12",
  "creationDate": "2025-03-01T09:12:44.123456Z",
  "payload": {"userLoginMustBeDomain": true},
  "type": {"type": "org.policy.domain.changed", "localized": {"key": "EventTypes.org.policy.domain.changed", "localizedMessage": "\u00e9"}}
}, {
  "aggregate": {"id": "2594", "type": "org", "resourceOwner": "2594"},
  "sequence": 13,
  "creationDate": "2025-03-01T09:12:45Z",
  "type": "org.policy.domain.removed"
}, {
  "aggregate": {"id": "1", "type": {"type": "instance"}, "resource_owner": "1"},
  "sequence": "7",
  "creation_date": "2025-03-01T09:12:46.5Z",
  "payload": {"validateOrgDomains": false, "smtpSenderAddressMatchesInstanceDomain": true,
              "userLoginMustBeDomain": null, "domain": "a.example.com", "orgId": "42",
              "validationCode": {"crypted": "x"}, "generated": true},
  "type": {"type": "instance.domain.added"},
  "unknownTopLevelEventField": null
}], "details": {"totalResult": "3"}})";

TEST(ListEventsResponseTest, ParsesTheDocumentedShapeAndIgnoresUnknownFields) {
  Result<std::vector<Event>> events = ParseListEventsResponse(kEventsBody);
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 3u);

  Event first;
  first.type = "org.policy.domain.changed";
  first.aggregate_type = "org";
  first.aggregate_id = "2594";
  first.resource_owner = "2594";
  first.sequence = 12;
  first.creation_date = {1740820364, 123'456'000};
  first.patch.user_login_must_be_domain = true;
  EXPECT_EQ((*events)[0], first);

  Event second;
  second.type = "org.policy.domain.removed";
  second.aggregate_type = "org";
  second.aggregate_id = "2594";
  second.resource_owner = "2594";
  second.sequence = 13;
  second.creation_date = {1740820365, 0};
  EXPECT_EQ((*events)[1], second);

  Event third;
  third.type = "instance.domain.added";
  third.aggregate_type = "instance";
  third.aggregate_id = "1";
  third.resource_owner = "1";
  third.sequence = 7;
  third.creation_date = {1740820366, 500'000'000};
  third.patch.validate_org_domains = false;  // an explicit false is kept
  third.patch.smtp_sender_address_matches_instance_domain = true;
  third.domain = "a.example.com";
  third.org_id_payload = "42";
  EXPECT_EQ((*events)[2], third);
}

// Events of the other policy kinds: their payloads are the upstream's Go event structs (numbers,
// nanosecond durations, Go enum numbers), read once the type (which comes after them) is known.
TEST(ListEventsResponseTest, ReadsThePayloadsOfEveryPolicyKind) {
  constexpr std::string_view kBody = R"({"events": [{
  "aggregate": {"id": "1", "type": "instance", "resourceOwner": "1"}, "sequence": "3",
  "creationDate": "2025-03-01T09:12:44Z",
  "payload": {"allowUsernamePassword": true, "passwordlessType": 1, "forceMFA": true,
              "passwordCheckLifetime": 864000000000000, "mfaInitSkipLifetime": 8.64e+14,
              "forceMfa": "not the event key", "userLoginMustBeDomain": true},
  "type": {"type": "instance.policy.login.added"}
}, {
  "aggregate": {"id": "2", "type": "org", "resourceOwner": "2"}, "sequence": "4",
  "creationDate": "2025-03-01T09:12:45Z", "payload": {"mfaType": 3},
  "type": "org.policy.login.secondfactor.added"
}, {
  "aggregate": {"id": "2", "type": "org", "resourceOwner": "2"}, "sequence": "5",
  "creationDate": "2025-03-01T09:12:46Z",
  "payload": {"disableMsgPopup": true, "themeMode": 2, "primaryColor": "#123456"},
  "type": "org.policy.label.added"
}, {
  "aggregate": {"id": "2", "type": "org", "resourceOwner": "2"}, "sequence": "6",
  "creationDate": "2025-03-01T09:12:47Z", "payload": {"disableWatermark": false, "themeMode": 9},
  "type": "org.policy.label.changed"
}, {
  "aggregate": {"id": "2", "type": "org", "resourceOwner": "2"}, "sequence": "7",
  "creationDate": "2025-03-01T09:12:48Z", "payload": {"storeKey": "policy/label/logo-7"},
  "type": "org.policy.label.logo.added"
}]})";
  auto events = ParseListEventsResponse(kBody);
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 5u);
  const KindSpec& login = SpecOf(PolicyKind::kLogin);
  const auto field = [](const KindSpec& spec, std::string_view name) {
    return static_cast<std::uint8_t>(FindKindField(spec, name));
  };
  const std::int64_t k240h = 864'000'000'000'000;
  EXPECT_EQ((*events)[0].kind_patch.fields,
            (std::vector<std::pair<std::uint8_t, FieldValue>>{
                {field(login, "allowUsernamePassword"), FieldValue{1, {}, {}}},
                {field(login, "passwordlessType"), FieldValue{1, {}, {}}},
                {field(login, "forceMfa"), FieldValue{1, {}, {}}},
                {field(login, "passwordCheckLifetime"), FieldValue{k240h, {}, {}}},
                {field(login, "mfaInitSkipLifetime"), FieldValue{k240h, {}, {}}}}));
  EXPECT_EQ((*events)[1].kind_patch.factor, 3u);  // SECOND_FACTOR_TYPE_OTP_EMAIL
  const KindSpec& label = SpecOf(PolicyKind::kLabel);
  EXPECT_EQ((*events)[2].kind_patch.fields,
            (std::vector<std::pair<std::uint8_t, FieldValue>>{
                {field(label, "disableWatermark"), FieldValue{1, {}, {}}},
                {field(label, "themeMode"), FieldValue{2, {}, {}}},  // Go's dark is proto's 2
                {field(label, "primaryColor"), FieldValue{0, "#123456", {}}}}));
  EXPECT_EQ((*events)[3].kind_patch.fields,
            (std::vector<std::pair<std::uint8_t, FieldValue>>{
                {field(label, "disableWatermark"), FieldValue{0, {}, {}}},
                {field(label, "themeMode"), FieldValue{1, {}, {}}}}));  // unknown: AUTO
  EXPECT_EQ((*events)[4].kind_patch.store_key, "policy/label/logo-7");

  for (
      std::string_view bad :
      {R"({"events":[{"aggregate":{"id":"1","type":"org"},"sequence":"1","creationDate":"2025-03-01T09:12:44Z","payload":{"minLength":-1},"type":"org.policy.password.complexity.added"}]})",
       R"({"events":[{"aggregate":{"id":"1","type":"org"},"sequence":"1","creationDate":"2025-03-01T09:12:44Z","payload":{"minLength":1.5},"type":"org.policy.password.complexity.added"}]})",
       R"({"events":[{"aggregate":{"id":"1","type":"org"},"sequence":"1","creationDate":"2025-03-01T09:12:44Z","payload":{"tosLink":true},"type":"org.policy.privacy.changed"}]})",
       R"({"events":[{"aggregate":{"id":"1","type":"org"},"sequence":"1","creationDate":"2025-03-01T09:12:44Z","payload":{"mfaType":"x"},"type":"org.policy.login.multifactor.added"}]})"}) {
    auto parsed = ParseListEventsResponse(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_THAT(parsed.error().message(), HasSubstr("events[0].payload.")) << bad;
  }
}

// A payload gives exactly its keys, enums mapped from the Go numbers to proto's (an added row's
// missing keys are the reducer's business: sync/kind_reducer.h starts it at the upstream's zeros,
// the label's themeMode THEME_MODE_AUTO among them).
TEST(ListEventsResponseTest, KindPayloadsCarryTheirOwnKeysOnly) {
  const KindSpec& label = SpecOf(PolicyKind::kLabel);
  const auto theme = static_cast<std::uint8_t>(FindKindField(label, "themeMode"));
  const auto color = static_cast<std::uint8_t>(FindKindField(label, "primaryColor"));
  const auto body = [](std::string_view type, std::string_view payload) {
    return R"({"events":[{"aggregate":{"id":"1","type":"instance","resourceOwner":"1"},)"
           R"("sequence":"13","creationDate":"2025-03-01T09:12:44Z","payload":)" +
           std::string(payload) + R"(,"type":")" + std::string(type) + R"("}]})";
  };
  using Fields = std::vector<std::pair<std::uint8_t, FieldValue>>;
  const std::vector<std::tuple<std::string, std::string, Fields>> cases = {
      {"instance.policy.label.added", R"({"primaryColor":"#5469d4"})",
       Fields{{color, FieldValue{0, "#5469d4", {}}}}},
      {"instance.policy.label.added", "{}", Fields{}},
      {"instance.policy.label.added", "null", Fields{}},
      {"instance.policy.label.added", R"({"themeMode":1})", Fields{{theme, FieldValue{3, {}, {}}}}},
      {"instance.policy.label.changed", R"({"primaryColor":"#5469d4"})",
       Fields{{color, FieldValue{0, "#5469d4", {}}}}},
      {"instance.policy.login.added", "{}", Fields{}},
  };
  for (const auto& [type, payload, want] : cases) {
    auto events = ParseListEventsResponse(body(type, payload));
    ASSERT_TRUE(events.has_value()) << events.error().ToString();
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].kind_patch.fields, want) << type << " " << payload;
  }
}

// IdP events (model/idp_events.h): the id under the type's key ("id" for the templates,
// "idpConfigId" for the old configurations and the links) and the name when the key is there;
// a payload without a valid id leaves it empty (the reducer skips the event), a wrong type fails.
TEST(ListEventsResponseTest, IdpPayloadsCarryTheIdAndTheName) {
  const auto body = [](std::string_view type, std::string_view payload) {
    return R"({"events":[{"aggregate":{"id":"1","type":"instance","resourceOwner":"1"},)"
           R"("sequence":"13","creationDate":"2025-03-01T09:12:44Z","payload":)" +
           std::string(payload) + R"(,"type":")" + std::string(type) + R"("}]})";
  };
  const std::vector<std::tuple<std::string, std::string, IdpPatch>> cases = {
      {"instance.idp.oidc.added", R"({"id":"301","name":"Corp","clientId":"x","idpConfigId":"9"})",
       IdpPatch{"301", "Corp"}},
      {"instance.idp.google.added", R"({"id":"302"})", IdpPatch{"302", std::nullopt}},
      {"instance.idp.google.changed", R"({"id":"302","name":null})", IdpPatch{"302", std::nullopt}},
      {"iam.idp.config.added", R"({"idpConfigId":"303","name":"Old","id":"9"})",
       IdpPatch{"303", "Old"}},
      {"instance.policy.login.idpprovider.added", R"({"idpConfigId":"304"})",
       IdpPatch{"304", std::nullopt}},
      {"org.policy.login.idpprovider.added", R"({"idpConfigId":"305","idpProviderType":1})",
       IdpPatch{"305", std::nullopt}},
      {"instance.idp.removed", R"({"idpConfigId":"306"})", IdpPatch{}},  // not its key
      {"instance.idp.removed", "{}", IdpPatch{}},
      {"instance.idp.removed", "null", IdpPatch{}},
      {"instance.idp.removed", R"({"id":""})", IdpPatch{}},
      {"instance.idp.removed", R"({"id":")" + std::string(201, '7') + R"("})", IdpPatch{}},
      {"instance.idp.config.added", R"({"idpConfigId":"307"})", IdpPatch{}},  // not an IdP event
  };
  for (const auto& [type, payload, want] : cases) {
    auto events = ParseListEventsResponse(body(type, payload));
    ASSERT_TRUE(events.has_value()) << type << " " << payload << ": " << events.error().ToString();
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].idp_patch, want) << type << " " << payload;
  }
  for (std::string_view bad : {R"({"id":301})", R"({"id":"301","name":7})", R"([1])"}) {
    EXPECT_FALSE(ParseListEventsResponse(body("instance.idp.oidc.added", bad))) << bad;
  }
}

TEST(ListEventsResponseTest, MissingNullOrEmptyEventsMeanNoEvents) {
  for (std::string_view body :
       {R"({})", R"({"events":null})", R"({"events":[]})", R"( {"other":{"x":[1,2]}} )"}) {
    Result<std::vector<Event>> events = ParseListEventsResponse(body);
    ASSERT_TRUE(events.has_value()) << body << ": " << events.error().ToString();
    EXPECT_TRUE(events->empty()) << body;
  }
}

TEST(ListEventsResponseTest, AbsentOrNullPayloadLeavesThePatchEmpty) {
  constexpr std::string_view kBodies[] = {
      R"({"events":[{"aggregate":{"id":"o","type":"org"},"creationDate":"2025-01-01T00:00:00Z",)"
      R"("type":"org.policy.domain.removed"}]})",
      R"({"events":[{"aggregate":{"id":"o","type":"org"},"creationDate":"2025-01-01T00:00:00Z",)"
      R"("type":"org.policy.domain.added","payload":null}]})",
      R"({"events":[{"aggregate":{"id":"o","type":"org"},"creationDate":"2025-01-01T00:00:00Z",)"
      R"("type":"org.policy.domain.added","payload":{}}]})",
  };
  for (std::string_view body : kBodies) {
    Result<std::vector<Event>> events = ParseListEventsResponse(body);
    ASSERT_TRUE(events.has_value()) << events.error().ToString();
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].patch, PolicyPatch{});
    EXPECT_EQ((*events)[0].sequence, 0u);
    EXPECT_EQ((*events)[0].resource_owner, "");
  }
}

struct BadCase {
  std::string_view body;
  std::string_view message;  // expected substring of the error message
};

constexpr std::string_view kEventPrefix = R"({"events":[{"aggregate":{"id":"o","type":"org"},)";

TEST(ListEventsResponseTest, RejectsMalformedEventsWithAJsonPath) {
  const std::string p(kEventPrefix);
  const std::string ok_tail = R"("creationDate":"2025-01-01T00:00:00Z","type":"t")";
  const std::vector<std::pair<std::string, std::string_view>> cases = {
      {"[]", "top level: expected an object, got an array"},
      {"null", "top level: expected an object, got null"},
      {R"({"events":{}})", "events: expected an array, got an object"},
      {R"({"events":[1]})", "events[0]: expected an object, got a number"},
      {R"({"events":[{"aggregate":{"id":"o","type":"org"},"creationDate":"2025-01-01T00:00:00Z"}]})",
       "events[0]: missing \"type\""},
      {p + R"("creationDate":"2025-01-01T00:00:00Z","type":{"localized":{}}}]})",
       "events[0]: missing \"type\""},
      {p + R"("creationDate":"2025-01-01T00:00:00Z","type":7}]})",
       "events[0].type: expected an object or a string, got a number"},
      {p + R"("creationDate":"2025-01-01T00:00:00Z","type":{"type":true}}]})",
       "events[0].type.type: expected a string, got a boolean"},
      {R"({"events":[{"creationDate":"2025-01-01T00:00:00Z","type":"t"}]})",
       "events[0]: missing \"aggregate\""},
      {R"({"events":[{"aggregate":null,"creationDate":"2025-01-01T00:00:00Z","type":"t"}]})",
       "events[0]: missing \"aggregate\""},
      {R"({"events":[{"aggregate":"org","creationDate":"2025-01-01T00:00:00Z","type":"t"}]})",
       "events[0].aggregate: expected an object, got a string"},
      {R"({"events":[{"aggregate":{"type":"org"},"creationDate":"2025-01-01T00:00:00Z","type":"t"}]})",
       "events[0].aggregate: missing \"id\""},
      {R"({"events":[{"aggregate":{"id":"o"},"creationDate":"2025-01-01T00:00:00Z","type":"t"}]})",
       "events[0].aggregate: missing \"type\""},
      {R"({"events":[{"aggregate":{"id":"o\u0001","type":"org"},"type":"t"}]})",
       "events[0].aggregate.id: aggregate id contains a control character"},
      {"{\"events\":[{\"aggregate\":{\"id\":\"" + std::string(201, 'x') + "\",\"type\":\"org\"}}]}",
       "events[0].aggregate.id: aggregate id is longer than 200 bytes"},
      {p + R"("type":"t"}]})", "events[0]: missing \"creationDate\""},
      {p + R"("creationDate":"yesterday","type":"t"}]})", "events[0].creationDate: "},
      {p + R"("creationDate":1740820364,"type":"t"}]})",
       "events[0].creationDate: expected a string, got a number"},
      {p + R"("sequence":"abc",)" + ok_tail + "}]}",
       "events[0].sequence: expected an unsigned integer as a decimal string, got \"abc\""},
      {p + R"("sequence":"-1",)" + ok_tail + "}]}", "events[0].sequence: expected an unsigned"},
      {p + R"("sequence":"012",)" + ok_tail + "}]}", "events[0].sequence: expected an unsigned"},
      {p + R"("sequence":"18446744073709551616",)" + ok_tail + "}]}",
       "events[0].sequence: expected an unsigned"},
      {p + R"("sequence":-3,)" + ok_tail + "}]}", "events[0].sequence: expected an unsigned"},
      {p + R"("sequence":1.5,)" + ok_tail + "}]}", "events[0].sequence: expected an unsigned"},
      {p + R"("sequence":true,)" + ok_tail + "}]}",
       "events[0].sequence: expected an unsigned integer as a decimal string, got a boolean"},
      {p + R"("payload":[],)" + ok_tail + "}]}",
       "events[0].payload: expected an object, got an array"},
      {p + R"("payload":{"userLoginMustBeDomain":"true"},)" + ok_tail + "}]}",
       "events[0].payload.userLoginMustBeDomain: expected a boolean, got a string"},
      {p + R"("payload":{"validateOrgDomains":1},)" + ok_tail + "}]}",
       "events[0].payload.validateOrgDomains: expected a boolean, got a number"},
      {p + R"("payload":{"domain":5},)" + ok_tail + "}]}",
       "events[0].payload.domain: expected a string, got a number"},
      {p + R"("payload":{"orgId":{}},)" + ok_tail + "}]}",
       "events[0].payload.orgId: expected a string, got an object"},
      {p + R"("sequence":"1","sequence":"2",)" + ok_tail + "}]}",
       "events[0].sequence: duplicate field"},
      // simdjson finds structural errors when it counts the array's elements.
      {p + ok_tail + R"(,"unknown":[1,2,}]})", "events: malformed JSON"},
      {p + ok_tail + "}]} x", "top level: malformed JSON"},
      {p + ok_tail + "}]}{}", "top level: unexpected content after the JSON value"},
      {"", "top level: "},
      {"\xff", "top level: "},
  };
  for (const auto& [body, message] : cases) {
    Result<std::vector<Event>> events = ParseListEventsResponse(body);
    ASSERT_FALSE(events.has_value()) << body;
    EXPECT_EQ(events.error().code(), Code::kInvalidArgument) << body;
    EXPECT_THAT(events.error().message(), StartsWith(std::string(message))) << body;
  }
}

TEST(ListEventsResponseTest, RejectsDeeplyNestedUnknownFields) {
  std::string body = std::string(kEventPrefix) + R"("creationDate":"2025-01-01T00:00:00Z",)" +
                     R"("type":"t","deep":)" + std::string(100, '[') + std::string(100, ']') +
                     "}]}";
  Result<std::vector<Event>> events = ParseListEventsResponse(body);
  ASSERT_FALSE(events.has_value());
  EXPECT_THAT(events.error().message(), HasSubstr("nested too deeply"));
}

// Every proper prefix of a valid document is an error, never a shorter valid answer.
template <typename Parse>
void ExpectEveryTruncationFails(std::string_view body, Parse parse) {
  std::size_t end = body.size();
  while (end > 0 && (body[end - 1] == ' ' || body[end - 1] == '\n')) --end;
  for (std::size_t n = 0; n < end; ++n) {
    auto result = parse(body.substr(0, n));
    ASSERT_FALSE(result.has_value()) << "prefix of " << n << " bytes parsed: " << body.substr(0, n);
    EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  }
}

TEST(ListEventsResponseTest, EveryTruncationIsAnError) {
  ExpectEveryTruncationFails(kEventsBody, ParseListEventsResponse);
}

// zitadel-api.md §3.4, plus unknown fields.
constexpr std::string_view kOrgsBody =
    R"({"details":{"totalResult":"42","processedSequence":"99","viewTimestamp":"2025-03-01T09:12:44Z"},)"
    R"("sortingColumn":"ORG_FIELD_NAME_NAME","result":[)"
    R"({"id":"300000000000000042","details":{"sequence":"3","creationDate":"2025-02-11T08:00:01.5Z"},)"
    R"("state":"ORG_STATE_ACTIVE","name":"ZITADEL","primaryDomain":"zitadel.domain.tld"},)"
    R"({"id":"300000000000000043","state":"ORG_STATE_INACTIVE","name":"B","newField":{"a":[]}}]})";

TEST(ListOrgsResponseTest, ParsesIdsInOrderAndTheTotal) {
  Result<OrgPage> page = ParseListOrgsResponse(kOrgsBody);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->total, 42u);
  EXPECT_THAT(page->org_ids, ::testing::ElementsAre("300000000000000042", "300000000000000043"));
}

TEST(ListOrgsResponseTest, ReadsEachOrgsPrimaryDomain) {
  Result<OrgPage> page = ParseListOrgsResponse(
      R"({"result":[{"id":"1","primaryDomain":"acme.zitadel.example.com"},{"id":"2"},)"
      R"({"primary_domain":"b.com","id":"3"}]})");
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_THAT(page->org_ids, ::testing::ElementsAre("1", "2", "3"));
  EXPECT_THAT(page->primary_domains,
              ::testing::ElementsAre("acme.zitadel.example.com", "", "b.com"));
  page = ParseListOrgsResponse(R"({"result":[{"id":"1","primaryDomain":"a b"}]})");
  ASSERT_FALSE(page.has_value());
  EXPECT_THAT(page.error().message(), ::testing::HasSubstr("result[0].primaryDomain"));
}

TEST(ListOrgsResponseTest, AbsentResultAndTotalMeanEmpty) {
  for (std::string_view body : {R"({})", R"({"details":{}})", R"({"details":null,"result":null})",
                                R"({"details":{"totalResult":"0"},"result":[]})"}) {
    Result<OrgPage> page = ParseListOrgsResponse(body);
    ASSERT_TRUE(page.has_value()) << body << ": " << page.error().ToString();
    EXPECT_EQ(*page, OrgPage{}) << body;
  }
  Result<OrgPage> numeric = ParseListOrgsResponse(R"({"details":{"totalResult":7}})");
  ASSERT_TRUE(numeric.has_value());
  EXPECT_EQ(numeric->total, 7u);
  Result<OrgPage> snake = ParseListOrgsResponse(R"({"details":{"total_result":"8"}})");
  ASSERT_TRUE(snake.has_value());
  EXPECT_EQ(snake->total, 8u);
}

TEST(ListOrgsResponseTest, RejectsMalformedPagesWithAJsonPath) {
  const std::vector<BadCase> cases = {
      {R"({"details":{"totalResult":"x"}})", "details.totalResult: expected an unsigned"},
      {R"({"details":{"totalResult":-1}})", "details.totalResult: expected an unsigned"},
      {R"({"details":[]})", "details: expected an object, got an array"},
      {R"({"result":{}})", "result: expected an array, got an object"},
      {R"({"result":["a"]})", "result[0]: expected an object, got a string"},
      {R"({"result":[{"id":"a"},{"name":"b"}]})", "result[1]: missing \"id\""},
      {R"({"result":[{"id":""}]})", "result[0]: missing \"id\""},
      {R"({"result":[{"id":5}]})", "result[0].id: expected a string, got a number"},
      {R"({"result":[{"id":"a","id":"b"}]})", "result[0].id: duplicate field"},
      {R"({"result":[{"id":"a\n"}]})", "result[0].id: org id contains a control character"},
      {R"({"result":[{"id":"a"}]]})", "top level: "},
  };
  for (const BadCase& c : cases) {
    Result<OrgPage> page = ParseListOrgsResponse(c.body);
    ASSERT_FALSE(page.has_value()) << c.body;
    EXPECT_EQ(page.error().code(), Code::kInvalidArgument) << c.body;
    EXPECT_THAT(page.error().message(), StartsWith(std::string(c.message))) << c.body;
  }
}

TEST(ListOrgsResponseTest, EveryTruncationIsAnError) {
  ExpectEveryTruncationFails(kOrgsBody, ParseListOrgsResponse);
}

constexpr std::string_view kPolicyBody =
    R"({"policy":{"details":{"sequence":"3","creationDate":"2025-02-11T08:00:01.5Z",)"
    R"("changeDate":"2025-03-01T09:12:44Z","resourceOwner":"300000000000000001"},)"
    R"("isDefault":true,"validateOrgDomains":true,"futureFlag":true},"isDefault":false})";

TEST(GetPolicyResponseTest, ParsesThePolicyObject) {
  Result<ParsedPolicy> policy = ParseGetPolicyResponse(kPolicyBody);
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  EXPECT_TRUE(policy->is_default);
  EXPECT_EQ(policy->record.flags, (PolicyFlags{false, true, false}));
  EXPECT_EQ(policy->record.details.sequence, 3u);
  EXPECT_EQ(policy->record.details.resource_owner, "300000000000000001");
  EXPECT_EQ(policy->record.details.creation_date, (Timestamp{1739260801, 500'000'000}));
}

TEST(GetPolicyResponseTest, AnAllDefaultPolicyIsAnEmptyObject) {
  Result<ParsedPolicy> policy = ParseGetPolicyResponse(R"({"policy":{}})");
  ASSERT_TRUE(policy.has_value());
  EXPECT_FALSE(policy->is_default);
  EXPECT_EQ(policy->record, PolicyRecord{});
}

TEST(GetPolicyResponseTest, RejectsMalformedBodiesWithAJsonPath) {
  const std::vector<BadCase> cases = {
      {R"({})", "top level: missing \"policy\""},
      {R"({"policy":null})", "top level: missing \"policy\""},
      {R"({"policy":[]})", "policy: expected an object, got an array"},
      {R"({"policy":{"isDefault":"yes"}})", "policy.isDefault: expected a boolean"},
      {R"({"policy":{"details":{"sequence":"x"}}})", "policy.details.sequence: "},
      {R"({"policy":{},"policy":{}})", "policy: duplicate field"},
      {R"("policy")", "top level: expected an object, got a string"},
  };
  for (const BadCase& c : cases) {
    Result<ParsedPolicy> policy = ParseGetPolicyResponse(c.body);
    ASSERT_FALSE(policy.has_value()) << c.body;
    EXPECT_EQ(policy.error().code(), Code::kInvalidArgument) << c.body;
    EXPECT_THAT(policy.error().message(), StartsWith(std::string(c.message))) << c.body;
  }
}

TEST(GetPolicyResponseTest, EveryTruncationIsAnError) {
  ExpectEveryTruncationFails(kPolicyBody, ParseGetPolicyResponse);
}

TEST(TokenResponseTest, ParsesTheOAuthAnswer) {
  Result<TokenResponse> token = ParseTokenResponse(
      R"({"access_token":"abc.DEF-_~+/=","token_type":"Bearer","expires_in":43199,)"
      R"("id_token":"x","scope":"openid"})");
  ASSERT_TRUE(token.has_value()) << token.error().ToString();
  EXPECT_EQ(token->access_token, "abc.DEF-_~+/=");
  EXPECT_EQ(token->expires_in, 43199);

  Result<TokenResponse> lenient =
      ParseTokenResponse(R"({"access_token":"t","token_type":"bearer","expires_in":"60"})");
  ASSERT_TRUE(lenient.has_value()) << lenient.error().ToString();
  EXPECT_EQ(lenient->expires_in, 60);

  Result<TokenResponse> minimal = ParseTokenResponse(R"({"access_token":"t"})");
  ASSERT_TRUE(minimal.has_value());
  EXPECT_EQ(minimal->expires_in, 0);
}

TEST(TokenResponseTest, RejectsBadAnswersWithoutQuotingTheToken) {
  const std::vector<BadCase> cases = {
      {R"({"token_type":"Bearer"})", "top level: missing \"access_token\""},
      {R"({"access_token":""})", "top level: missing \"access_token\""},
      {R"({"access_token":7})", "access_token: expected a string, got a number"},
      {R"({"access_token":"secret token"})", "access_token: contains spaces"},
      {R"({"access_token":"secret\r\nX-Evil: 1"})", "access_token: contains spaces"},
      {R"({"access_token":"secret","token_type":"MAC"})",
       "token_type: expected \"Bearer\", got \"MAC\""},
      {R"({"access_token":"secret","expires_in":-5})", "expires_in: expected an unsigned"},
      {R"({"access_token":"secret","expires_in":"9223372036854775808"})",
       "expires_in: integer out of range"},
  };
  for (const BadCase& c : cases) {
    Result<TokenResponse> token = ParseTokenResponse(c.body);
    ASSERT_FALSE(token.has_value()) << c.body;
    EXPECT_THAT(token.error().message(), StartsWith(std::string(c.message))) << c.body;
    EXPECT_THAT(token.error().message(), Not(HasSubstr("secret"))) << c.body;
  }
}

constexpr std::string_view kKeyFile =
    R"({"type":"serviceaccount","keyId":"181828078849229057",)"
    R"("key":"-----BEGIN RSA PRIVATE KEY-----\nSECRETSECRET\n-----END RSA PRIVATE KEY-----\n",)"
    R"("expirationDate":"2026-01-01T00:00:00Z","userId":"181828061098934529"})";

TEST(ServiceAccountKeyTest, ParsesTheKeyFile) {
  Result<ServiceAccountKey> key = ParseServiceAccountKey(kKeyFile);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(key->key_id, "181828078849229057");
  EXPECT_EQ(key->user_id, "181828061098934529");
  EXPECT_EQ(key->private_key_pem,
            "-----BEGIN RSA PRIVATE KEY-----\nSECRETSECRET\n-----END RSA PRIVATE KEY-----\n");
  EXPECT_EQ(key->expiration_date, (Timestamp{1767225600, 0}));
}

TEST(ServiceAccountKeyTest, RejectsIncompleteOrForeignKeysWithoutQuotingTheKey) {
  const std::vector<BadCase> cases = {
      {R"({"type":"application","keyId":"k","key":"SECRET","appId":"a","clientId":"c"})",
       "type: expected \"serviceaccount\", got \"application\" (only a service user's key"},
      {R"({"key":"SECRET","userId":"u"})", "top level: missing \"keyId\""},
      {R"({"keyId":"k","userId":"u"})", "top level: missing \"key\""},
      {R"({"keyId":"k","key":"SECRET"})", "top level: missing \"userId\""},
      {R"({"keyId":"k","key":"SECRET","userId":"u","expirationDate":"soon"})", "expirationDate: "},
      {R"({"keyId":"k","key":["SECRET"],"userId":"u"})", "key: expected a string, got an array"},
      {R"({"keyId":"k","key":"SECRET","userId":"u")", "top level: "},
  };
  for (const BadCase& c : cases) {
    Result<ServiceAccountKey> key = ParseServiceAccountKey(c.body);
    ASSERT_FALSE(key.has_value()) << c.body;
    EXPECT_EQ(key.error().code(), Code::kInvalidArgument) << c.body;
    EXPECT_THAT(key.error().message(), StartsWith(std::string(c.message))) << c.body;
    EXPECT_THAT(key.error().message(), Not(HasSubstr("SECRET"))) << c.body;
  }
}

TEST(ErrorBodyTest, ReadsGatewayConnectAndOAuthErrors) {
  std::optional<UpstreamErrorBody> gateway = ParseErrorBody(
      R"json({"code":7,"message":"No matching permissions found (AUTH-5mWD2)","details":)json"
      R"([{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-5mWD2"}]})");
  ASSERT_TRUE(gateway.has_value());
  EXPECT_EQ(gateway->code, "7");
  EXPECT_EQ(gateway->message, "No matching permissions found (AUTH-5mWD2)");

  std::optional<UpstreamErrorBody> connect =
      ParseErrorBody(R"({"code":"not_found","message":"Org IAM Policy not found"})");
  ASSERT_TRUE(connect.has_value());
  EXPECT_EQ(connect->code, "not_found");

  std::optional<UpstreamErrorBody> oauth =
      ParseErrorBody(R"({"error":"invalid_grant","error_description":"assertion invalid"})");
  ASSERT_TRUE(oauth.has_value());
  EXPECT_EQ(oauth->code, "invalid_grant");
  EXPECT_EQ(oauth->message, "assertion invalid");
}

TEST(ErrorBodyTest, IsBestEffort) {
  for (std::string_view body : {"", "<html>502 Bad Gateway</html>", "{}", R"({"code":7)",
                                R"({"code":[1]})", R"({"details":[]})"}) {
    EXPECT_FALSE(ParseErrorBody(body).has_value()) << body;
  }
}

TEST(ErrorBodyTest, CutsLongMessagesAndBlanksControlCharacters) {
  std::optional<UpstreamErrorBody> body =
      ParseErrorBody(R"({"code":13,"message":"a\nb\u0000c)" + std::string(600, 'x') + "\"}");
  ASSERT_TRUE(body.has_value());
  EXPECT_THAT(body->message, StartsWith("a b c"));
  EXPECT_EQ(body->message.size(), 256u + 3u);
  EXPECT_THAT(body->message, ::testing::EndsWith("x..."));

  // The cut never splits a UTF-8 sequence.
  std::optional<UpstreamErrorBody> utf8 =
      ParseErrorBody("{\"message\":\"" + std::string(255, 'x') + "\xC3\xA9\"}");
  ASSERT_TRUE(utf8.has_value());
  EXPECT_EQ(utf8->message, std::string(255, 'x') + "...");
}

TEST(RequestBodyTest, FormatsListEvents) {
  const std::vector<std::string> types = {"org.policy.domain.added", "org.removed"};
  const std::vector<std::string> aggregates = {"org", "iam"};
  EXPECT_EQ(
      FormatListEventsRequest(true, 1000, types, aggregates, Timestamp{1740820364, 123'456'000}),
      R"({"asc":true,"limit":1000,"eventTypes":["org.policy.domain.added","org.removed"],)"
      R"("aggregateTypes":["org","iam"],"from":"2025-03-01T09:12:44.123456Z"})");
  EXPECT_EQ(FormatListEventsRequest(true, 1, {}, {}, std::nullopt), R"({"asc":true,"limit":1})");
  EXPECT_EQ(FormatListEventsRequest(false, 1, types, {}, std::nullopt),
            R"({"limit":1,"eventTypes":["org.policy.domain.added","org.removed"]})");
  const std::vector<std::string> odd = {"a\"b"};
  EXPECT_EQ(FormatListEventsRequest(true, 5, odd, odd, Timestamp{0, 0}),
            R"({"asc":true,"limit":5,"eventTypes":["a\"b"],"aggregateTypes":["a\"b"],)"
            R"("from":"1970-01-01T00:00:00Z"})");
}

TEST(RequestBodyTest, FormatsListOrgs) {
  EXPECT_EQ(FormatListOrgsRequest(0, 1000), R"({"query":{"offset":"0","limit":1000,"asc":true}})");
  EXPECT_EQ(FormatListOrgsRequest(18446744073709551615u, 1),
            R"({"query":{"offset":"18446744073709551615","limit":1,"asc":true}})");
}

}  // namespace
}  // namespace policyd
