// Writes the seed corpus for the fuzz targets (valid inputs of every kind) into
// <dir>/<target>/. Run by scripts/fuzz.sh --seeds; the output is checked in.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fleet/keys.h"
#include "fleet/values.h"
#include "follow/cursor.h"
#include "json/kind_json.h"
#include "json/snapshot_json.h"
#include "store/codec.h"
#include "store/domain_index.h"
#include "store/kind_codec.h"
#include "support/kind_samples.h"
#include "sync/cursor.h"
#include "wire/dump.h"
#include "wire/request.h"
#include "wire/response.h"

namespace {

void Write(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string Body(const std::vector<std::uint8_t>& frame) {
  return std::string(frame.begin() + 4, frame.end());  // without the length prefix
}

policyd::KindPolicy SampleKind(policyd::PolicyKind kind);

// fuzz_fleet: "<key>\n<value>" for each kind of bucket entry.
void WriteFleetSeeds(const std::filesystem::path& dir, const policyd::PolicyRecord& policy,
                     const policyd::InstanceRecord& instance) {
  using namespace policyd;
  using namespace policyd::fleet;
  auto write = [&](const std::string& name, const FleetKey& key, const FleetValue& value) {
    Write(dir, name, FormatKey(key).value() + "\n" + EncodeValue(key, value).value());
  };
  const SourceVersion version{{1740820364, 123456000}, {"org", "org-1"}, 17};
  InstanceDomains instance_domains{
      {"zitadel.example.com", "mail.example.com"}, 4, {"instance", "IAM"}};
  write("instance", {KeyKind::kInstance, ""},
        {{{1740820364, 0}, {"instance", "IAM"}, 4}, InstanceEntry{instance, instance_domains}});
  write("org", {KeyKind::kOrg, "org-1"},
        {version, OrgEntry{{"org-1", policy},
                           {"org-1",
                            {{"acme.com", true, true}, {"acme.org", false, false}},
                            9,
                            {"org", "org-1"}}}});
  write("org_no_policy", {KeyKind::kOrg, "300000000000000042"},
        {{}, OrgEntry{{"300000000000000042", std::nullopt}, {"300000000000000042", {}, 0, {}}}});
  write("org_escaped_id", {KeyKind::kOrg, "a.b=c d"},
        {version, OrgEntry{{"a.b=c d", std::nullopt},
                           {"a.b=c d", {{"x.example", false, false}}, 1, {"org", "a.b=c d"}}}});
  // Every generic kind's row (an org's own and the instance default) and a tombstone.
  for (PolicyKind kind : kBucketKinds) {
    const std::string name(KindKeyName(kind));
    KindPolicy row = SampleKind(kind == PolicyKind::kLabelPreview ? PolicyKind::kLabel : kind);
    row.kind = kind;
    row.stream = {"org", "org-1"};
    write("kind_" + name, {KeyKind::kKindOrg, "org-1", kind},
          {version, KindEntry{kind, "org-1", row}});
    row.details.resource_owner = instance.id;
    write("kind_default_" + name, {KeyKind::kKindInstance, "", kind},
          {{{1740820364, 0}, {"instance", "IAM"}, 4}, KindEntry{kind, "", row}});
  }
  write("kind_tombstone", {KeyKind::kKindOrg, "org-1", PolicyKind::kLogin},
        {version, KindEntry{PolicyKind::kLogin, "org-1", std::nullopt}});
  write("heartbeat", {KeyKind::kHeartbeat, "publisher-1"},
        {{{1740820400, 5}, {}, 0},
         Heartbeat{"publisher-1", {1740820400, 5}, "iam.example.com", "0.9.0"}});
}

// A policy of `kind` with every field set to something non-zero (a login policy's lists, its
// durations, a label's theme), so a seed reaches every field of every kind's table.
policyd::KindPolicy SampleKind(policyd::PolicyKind kind) {
  using namespace policyd;
  KindPolicy p = EmptyKindPolicy(kind);
  const KindSpec& spec = SpecOf(kind);
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& field = spec.fields[i];
    FieldValue& v = p.fields[i];
    switch (field.type) {
      case FieldType::kBool:
        v.number = i % 2;
        break;
      case FieldType::kUint64:
        v.number = 8 + i;
        break;
      case FieldType::kString:
        v.text = "https://example.com/" + std::string(field.proto_name);
        break;
      case FieldType::kDuration:
        v.number = static_cast<std::uint64_t>(std::int64_t{864000} * 1'000'000'000 + 5);
        break;
      case FieldType::kEnum:
        v.number = field.enum_spec->values.size() - 1;
        break;
      case FieldType::kEnumList:
        for (std::uint32_t n = 1; n < field.enum_spec->values.size(); ++n) v.list.push_back(n);
        break;
      case FieldType::kIdpLinks:
        v.links = test::SampleLinks(field, 0, 3);
        break;
    }
  }
  p.details = {17, {1739260801, 500000000}, {1740820364, 123456000}, "org-1"};
  return p;
}

// fuzz_request: lookups naming policy kinds, a password check, and their answers.
void WriteKindSeeds(const std::filesystem::path& dir, const policyd::Resolution& res,
                    const policyd::Status& not_found) {
  using namespace policyd;
  KindSet login_page = KindSet::Of(PolicyKind::kLogin);
  login_page.insert(PolicyKind::kPasswordComplexity);
  login_page.insert(PolicyKind::kLabel);
  login_page.insert(PolicyKind::kPrivacy);
  std::vector<std::uint8_t> f;
  AppendGetOrgKinds(f, 12, "300000000000000042", login_page, false);
  Write(dir, "get_org_kinds", Body(f));
  f.clear();
  const std::vector<std::string> ids = {"a", "300000000000000042"};
  AppendGetOrgsKinds(f, 13, ids, KindSet::All(), true);
  Write(dir, "batch_kinds", Body(f));
  f.clear();
  AppendGetDefaultKinds(f, 14, KindSet::All());
  Write(dir, "default_kinds", Body(f));
  f.clear();
  AppendCheck(f, 15, {CheckKind::kPassword, "300000000000000042", "Secret-Pa55 word", true});
  Write(dir, "check_password", Body(f));

  std::vector<KindPolicy> policies;
  KindAnswers answers;
  for (PolicyKind kind : kGenericKinds) policies.push_back(SampleKind(kind));
  for (std::size_t i = 0; i < policies.size(); ++i) {
    answers.kinds[static_cast<std::size_t>(kGenericKinds[i])] = {&policies[i], i % 2 == 1};
  }
  ResponseEncoder enc;
  f.clear();
  enc.AppendOrgKinds(f, 16, "org-1", res, answers, false);
  Write(dir, "response_kinds", Body(f));
  answers.domain = false;
  const OrgAnswer batch[] = {{"org-1", &res, nullptr, &answers},
                             {"9", nullptr, &not_found, nullptr}};
  f.clear();
  enc.AppendBatch(f, 17, batch, true);
  Write(dir, "response_kinds_batch", Body(f));

  CheckDecision refused;
  refused.reason = CheckReason::kPasswordNoSymbol;
  refused.message = "Password must contain symbol";
  CheckResultView password;
  password.kind = CheckKind::kPassword;
  password.org_id = "300000000000000042";
  password.org_known = true;
  password.decision = &refused;
  password.password_policy = &policies[0];
  password.error_id = "DOMAIN-ZDLwA";
  f.clear();
  enc.AppendCheck(f, 18, password, false);
  Write(dir, "response_check_password", Body(f));
}

// The rows of the generic policy kinds (store/kind_codec.h): a default, and an org's rows with a
// tombstone among them.
void WriteKindRowSeeds(const std::filesystem::path& dir) {
  using namespace policyd;
  KindPolicy lockout = EmptyKindPolicy(PolicyKind::kLockout);
  lockout.fields[0].number = 5;
  lockout.details = {3, {1740820364, 0}, {1740820364, 5}, "org-1"};
  lockout.stream = {"org", "org-1"};
  std::string bytes;
  EncodeKindDefault(lockout, {{1740820364, 0}, {"instance", "IAM"}, 4}, &bytes);
  Write(dir, "kind_default", std::string(1, '\x0a') + bytes);
  KindPolicy preview = EmptyKindPolicy(PolicyKind::kLabelPreview);
  preview.details = {9, {1740820364, 0}, {1740820365, 0}, "org-1"};
  const std::vector<StoredKindRow> rows = {
      {PolicyKind::kLockout, true, lockout, {{1740820364, 5}, {"org", "org-1"}, 3}},
      {PolicyKind::kLabel,
       false,
       EmptyKindPolicy(PolicyKind::kLabel),
       {{1740820365, 0}, {"org", "org-1"}, 8}},
      {PolicyKind::kLabelPreview, true, preview, {{1740820365, 0}, {"org", "org-1"}, 9}}};
  EncodeOrgKinds(rows, &bytes);
  Write(dir, "org_kinds", std::string(1, '\x0b') + bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path root = argv[1];
  using namespace policyd;
  const PolicyRecord policy{{true, false, true},
                            {17, {1739260801, 500000000}, {1740820364, 123456000}, "org-1"},
                            {"org", "org-1"}};
  const InstanceRecord instance{"300000000000000001", policy};

  std::vector<std::uint8_t> f;
  AppendGetOrgPolicy(f, 1, "300000000000000042", true);
  Write(root / "fuzz_request", "get_org", Body(f));
  f.clear();
  std::vector<std::string> ids = {"a", "b", "300000000000000042"};
  AppendGetOrgPolicies(f, 2, ids, false);
  Write(root / "fuzz_request", "batch", Body(f));
  f.clear();
  AppendGetStatus(f, 3);
  Write(root / "fuzz_request", "status", Body(f));
  f.clear();
  ResponseEncoder enc;
  Resolution res{DomainPolicy{policy.flags, false, policy.details}, true};
  enc.AppendOrgPolicy(f, 4, "org-1", res, false);
  Write(root / "fuzz_request", "response_policy", Body(f));
  f.clear();
  ServerStatus status;
  status.meta.org_count = 2;
  status.instance_id = "300000000000000001";
  status.upstream = "https://iam";
  DaemonCounters& counters = status.counters.emplace();
  counters.requests = {{kKindGetOrgPolicy, Code::kOk, 7}};
  counters.latency.bounds_ns = {1000, 2000};
  counters.latency.counts = {1, 2, 3};
  enc.AppendStatus(f, 5, status);
  Write(root / "fuzz_request", "response_status", Body(f));
  // A follower's and a publisher's status (StatusReply.fleet).
  FleetStatus& fleet = status.fleet.emplace();
  fleet.role = FleetRole::kFollower;
  fleet.servers = "nats://10.0.0.1:4222,nats://10.0.0.2:4222";
  fleet.bucket = "policyd";
  fleet.connection = FleetConnection::kConnected;
  fleet.cursor = 1234;
  fleet.caught_up = true;
  fleet.publishers = {{"pub-a", {1740820400, 5}, "iam.example.com"},
                      {"pub-b", {}, "/etc/policyd/snapshot.json"}};
  fleet.values_applied = 11;
  fleet.values_refused = 1;
  fleet.cold_starts = 1;
  f.clear();
  enc.AppendStatus(f, 10, status);
  Write(root / "fuzz_request", "response_status_follower", Body(f));
  fleet = FleetStatus{};
  fleet.role = FleetRole::kPublisher;
  fleet.bucket = "policyd";
  fleet.connection = FleetConnection::kReconnecting;
  fleet.cursor = 77;
  fleet.publishers = {{"pub-a", {1740820400, 5}, "iam.example.com"}};
  fleet.writes = 21;
  fleet.write_conflicts = 2;
  fleet.resync_passes = 3;
  f.clear();
  enc.AppendStatus(f, 11, status);
  Write(root / "fuzz_request", "response_status_publisher", Body(f));
  // Checks: one of each kind, a batch of all three, and their answers.
  const std::vector<CheckRequest> checks = {
      {CheckKind::kLoginName, "300000000000000042", "alice@acme.com", true},
      {CheckKind::kSmtpSender, "", "noreply@x.example", false},
      {CheckKind::kDomainVerification, "300000000000000042", "acme.org", false}};
  for (const CheckRequest& c : checks) {
    f.clear();
    AppendCheck(f, 6, c);
    Write(root / "fuzz_request", "check_" + std::string(CheckKindName(c.kind)), Body(f));
  }
  f.clear();
  AppendCheckBatch(f, 7, checks);
  Write(root / "fuzz_request", "check_batch", Body(f));
  CheckDecision decision;
  decision.allowed = true;
  decision.reason = CheckReason::kAllowedVerifiedDomain;
  decision.matched_domain = "acme.com";
  decision.message = "acme.com is a verified domain of org 300000000000000042";
  const DomainPolicy check_policy{policy.flags, false, policy.details};
  const CheckResultView answered{
      CheckKind::kLoginName, "300000000000000042", true, &check_policy, &decision, nullptr};
  f.clear();
  enc.AppendCheck(f, 8, answered, false);
  Write(root / "fuzz_request", "response_check", Body(f));
  const Status not_found = Status::NotFound("org 9 is unknown");
  const std::vector<CheckResultView> answers = {
      answered, {CheckKind::kLoginName, "9", false, nullptr, nullptr, &not_found}};
  f.clear();
  enc.AppendCheckBatch(f, 9, answers, true);
  Write(root / "fuzz_request", "response_check_batch", Body(f));
  WriteKindSeeds(root / "fuzz_request", res, not_found);
  // A dump: its request, a chunk in the middle of the document and the last one.
  f.clear();
  AppendDump(f, 12);
  Write(root / "fuzz_request", "dump", Body(f));
  DumpChunkEncoder chunks;
  f.clear();
  chunks.Append(f, 12, 0, R"({"instance":{"id":"1","policy":{"isDefault":true}},"orgs":[)", false,
                0);
  Write(root / "fuzz_request", "response_dump_chunk", Body(f));
  f.clear();
  chunks.Append(f, 12, 59, "\n{\"id\":\"org-1\"}\n]}\n", true, 1);
  Write(root / "fuzz_request", "response_dump_last", Body(f));

  const std::string policy_json =
      R"({"details":{"sequence":"17","creationDate":"2025-02-11T08:00:01.500Z","changeDate":)"
      R"("2025-03-01T09:12:44.123456Z","resourceOwner":"42"},"userLoginMustBeDomain":true,)"
      R"("unknownField":{"x":[1,2]}})";
  Write(root / "fuzz_json", "policy", std::string(1, '\0') + policy_json);
  Write(
      root / "fuzz_json", "snapshot",
      std::string(1, '\1') +
          FormatSnapshot(Snapshot{instance, {OrgRecord{"org-1", policy}, OrgRecord{"org-2", {}}}}));
  Snapshot with_domains{instance, {OrgRecord{"org-1", policy}, OrgRecord{"org-2", {}}}};
  with_domains.org_domains = {{"org-1", {{"acme.com", true, true}, {"acme.org", false, false}}, 0},
                              {"org-2", {{"org-2.example.com", true, false}}, 0}};
  with_domains.instance_domains.names = {"zitadel.example.com", "mail.example.com"};
  Write(root / "fuzz_json", "snapshot_domains",
        std::string(1, '\1') + FormatSnapshot(with_domains));
  // Every kind under "policies" (the instance's defaults and an org's own rows), and each kind's
  // object alone (selector 8, then a byte picking the kind: its index in kGenericKinds).
  Snapshot with_kinds{instance, {OrgRecord{"org-1", policy}, OrgRecord{"org-2", {}}}};
  for (std::size_t k = 0; k < kGenericKinds.size(); ++k) {
    const PolicyKind kind = kGenericKinds[k];
    KindPolicy row = EmptyKindPolicy(kind);
    row.details = policy.details;
    const KindSpec& spec = SpecOf(kind);
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
      FieldValue& v = row.fields[i];
      switch (spec.fields[i].type) {
        case FieldType::kString:
          v.text = "https://example.com/" + std::string(spec.fields[i].json_name);
          break;
        case FieldType::kEnumList:
          v.list = {1, 0};
          break;
        case FieldType::kIdpLinks:
          v.links = test::SampleLinks(spec.fields[i], 1, 2);
          break;
        case FieldType::kDuration:
          v.number = 1'500'000'000;
          break;
        default:
          v.number = 1;
      }
    }
    with_kinds.kind_rows.push_back({"", row, {}});
    row.details.resource_owner = "org-1";
    with_kinds.kind_rows.push_back({"org-1", row, {}});
    std::string object;
    AppendKindPolicyJson(object, row, false);
    const auto index = static_cast<char>(&kind - kGenericKinds.data());
    Write(root / "fuzz_json", "kind_" + std::string(spec.snapshot_name),
          std::string(1, '') + std::string(1, index) + object);
  }
  Write(root / "fuzz_json", "snapshot_kinds", std::string(1, '\1') + FormatSnapshot(with_kinds));
  Write(root / "fuzz_json", "events_kinds",
        "\x03"
        R"({"events":[{"aggregate":{"id":"42","type":"org","resourceOwner":"42"},"sequence":"3",)"
        R"("creationDate":"2025-03-01T09:12:44Z","payload":{"forceMFA":true,)"
        R"("passwordCheckLifetime":864000000000000,"passwordlessType":1},)"
        R"("type":"org.policy.login.added"},{"aggregate":{"id":"42","type":"org"},"sequence":"4",)"
        R"("creationDate":"2025-03-01T09:12:45Z","payload":{"mfaType":2},)"
        R"("type":"org.policy.login.secondfactor.added"},{"aggregate":{"id":"42","type":"org"},)"
        R"("sequence":"5","creationDate":"2025-03-01T09:12:46Z",)"
        R"("payload":{"storeKey":"policy/label/logo-1"},"type":"org.policy.label.logo.added"},)"
        R"({"aggregate":{"id":"1","type":"instance"},"sequence":"6",)"
        R"("creationDate":"2025-03-01T09:12:47Z","payload":{},)"
        R"("type":"instance.policy.label.added"}]})");
  Write(root / "fuzz_json", "events_idps",
        "\x03"
        R"({"events":[{"aggregate":{"id":"1","type":"instance"},"sequence":"7",)"
        R"("creationDate":"2025-03-01T09:12:48Z","payload":{"id":"301","name":"Corp",)"
        R"("clientId":"c"},"type":"instance.idp.oidc.added"},{"aggregate":{"id":"42",)"
        R"("type":"org"},"sequence":"8","creationDate":"2025-03-01T09:12:49Z",)"
        R"("payload":{"idpConfigId":"301","idpProviderType":0},)"
        R"("type":"org.policy.login.idpprovider.added"},{"aggregate":{"id":"1",)"
        R"("type":"instance"},"sequence":"9","creationDate":"2025-03-01T09:12:50Z",)"
        R"("payload":{"idpConfigId":"302","name":null},"type":"iam.idp.config.changed"}]})");
  Write(root / "fuzz_json", "timestamp",
        "\x02"
        "2025-03-01T09:12:44.123456+02:00");
  Write(root / "fuzz_json", "events",
        "\x03"
        R"({"events":[{"editor":{"userId":"1","service":"zitadel"},"aggregate":{"id":"42",)"
        R"("type":{"type":"org","localized":{"key":"k"}},"resourceOwner":"42"},"sequence":"12",)"
        R"("creationDate":"2025-03-01T09:12:44.123456Z","payload":{"userLoginMustBeDomain":true},)"
        R"("type":{"type":"org.policy.domain.changed"}}]})");
  Write(root / "fuzz_json", "orgs",
        "\x04"
        R"({"details":{"totalResult":"2"},"result":[{"id":"1","name":"a"},{"id":"2"}]})");
  Write(root / "fuzz_json", "orgs_primary_domain",
        "\x04"
        R"({"details":{"totalResult":"2"},"result":[{"id":"1","name":"a",)"
        R"("primaryDomain":"a.zitadel.example.com"},{"id":"2","primary_domain":"b.com"}]})");
  // Selector 4 also runs the domain-list parsers (ListOrgDomains for org "42",
  // ListInstanceDomains).
  Write(root / "fuzz_json", "org_domains",
        "\x04"
        R"({"details":{"totalResult":"3"},"result":[{"orgId":"42","details":{"sequence":"5"},)"
        R"("domainName":"acme.com","isVerified":true,"isPrimary":true,)"
        R"("validationType":"DOMAIN_VALIDATION_TYPE_DNS"},{"orgId":"42","domainName":"b.acme.com",)"
        R"("isVerified":true},{"org_id":"42","domain_name":"pending.acme.net"}]})");
  Write(root / "fuzz_json", "instance_domains",
        "\x04"
        R"({"details":{"totalResult":"2"},"sortingColumn":"DOMAIN_FIELD_NAME_DOMAIN","result":[)"
        R"({"details":{"sequence":"3"},"domain":"zitadel.example.com","primary":true,)"
        R"("generated":true},{"domain":"login.example.com"}]})");
  Write(root / "fuzz_json", "events_domains",
        "\x03"
        R"({"events":[{"aggregate":{"id":"42","type":{"type":"org"},"resourceOwner":"42"},)"
        R"("sequence":"3","creationDate":"2025-03-01T09:12:44.123456Z",)"
        R"("payload":{"domain":"acme.com"},"type":{"type":"org.domain.primary.set"}},)"
        R"({"aggregate":{"id":"1","type":{"type":"instance"},"resourceOwner":"1"},"sequence":"4",)"
        R"("creationDate":"2025-03-01T09:12:44.123456Z",)"
        R"("payload":{"domain":"login.example.com","generated":false},)"
        R"("type":{"type":"instance.domain.added"}}]})");
  Write(root / "fuzz_json", "get_policy",
        "\x05"
        R"({"policy":)" +
            policy_json + "}");
  Write(root / "fuzz_json", "token",
        "\x06"
        R"({"access_token":"abc","token_type":"Bearer","expires_in":43199})");
  Write(root / "fuzz_json", "error",
        "\x06"
        R"j({"code":7,"message":"No (AUTH-5mWD2)"})j");
  Write(root / "fuzz_json", "driver_report",
        "\x09"
        R"j({"row":"Node (PolicydClient)","mode":"1 connection","callers":1,"lookups":120000,)j"
        R"("seconds":2.0,"p50_us":12.5,"p99_us":40.1,"rate":60000,"note":null,"ok":true})");
  Write(root / "fuzz_json", "key",
        "\x07"
        R"({"type":"serviceaccount","keyId":"1","key":"-----BEGIN RSA PRIVATE KEY-----\n",)"
        R"("expirationDate":"9999-12-31T23:59:59Z","userId":"2"})");

  std::string bytes;
  EncodePolicyRecord(policy, &bytes);
  Write(root / "fuzz_store", "policy", std::string(1, '\0') + bytes);
  // Entry rows as v3, with their entry version (the checked-in *_v1 and *_v2 seeds are rows of
  // older stores).
  EncodeInstanceRecord(instance, {{1740820364, 0}, {"instance", "IAM"}, 4}, &bytes);
  Write(root / "fuzz_store", "instance", std::string(1, '\1') + bytes);
  EncodeOrgValue(&policy, {{1740820364, 123456000}, {"org", "org-1"}, 17}, &bytes);
  Write(root / "fuzz_store", "org", std::string(1, '\2') + bytes);
  EncodeOrgValue(nullptr, {}, &bytes);
  Write(root / "fuzz_store", "org_no_policy", std::string(1, '\2') + bytes);
  EncodeStoreMeta(StoreMeta{10, 2, true, "cursor", "https://iam", {1, 2}, {3, 4}}, &bytes);
  Write(root / "fuzz_store", "meta", std::string(1, '\3') + bytes);
  SyncCursor cursor;
  Event e;
  e.aggregate_type = "org";
  e.aggregate_id = "42";
  e.sequence = 7;
  e.creation_date = {1740820364, 5};
  cursor.Advance({e}, 2'000'000'000);
  Write(root / "fuzz_store", "cursor", std::string(1, '\4') + cursor.Encode());
  EncodeOrgDomains(9, {"org", "42"}, {{"acme.com", true, true}, {"acme.org", false, false}},
                   &bytes);
  Write(root / "fuzz_store", "org_domains", std::string(1, '\5') + bytes);
  EncodeInstanceDomains(4, {"instance", "IAM"}, {"zitadel.example.com", "mail.example.com"},
                        &bytes);
  Write(root / "fuzz_store", "instance_domains", std::string(1, '\6') + bytes);
  EncodeDomainClaims(std::vector<DomainClaim>{{"42", "Acme.com"}, {"7", "acme.com"}}, &bytes);
  Write(root / "fuzz_store", "domain_claims", std::string(1, '\7') + bytes);
  Write(root / "fuzz_store", "fleet_cursor",
        std::string(1, '\x08') + follow::FleetCursor{"policyd", 1700000000123456789, 42}.Encode());
  EncodeSourceVersion({{1740820364, 123456000}, {"org", "org-1"}, 17}, &bytes);
  Write(root / "fuzz_store", "entry_version_v2_row", std::string(1, '\x09') + bytes);
  WriteKindRowSeeds(root / "fuzz_store");
  WriteFleetSeeds(root / "fuzz_fleet", policy, instance);
  return 0;
}
