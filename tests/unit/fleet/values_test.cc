#include "fleet/values.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "fleet_generated.h"

namespace policyd::fleet {
namespace {

const PolicyRecord kPolicy{{true, false, true},
                           {17, {1739260801, 500000000}, {1740820364, 123456000}, "42"},
                           {"org", "42"}};
const SourceVersion kVersion{{1740820364, 123456000}, {"org", "42"}, 17};
const FleetKey kInstanceKey{KeyKind::kInstance, ""};
const FleetKey kOrgKey{KeyKind::kOrg, "42"};
const FleetKey kHeartbeatKey{KeyKind::kHeartbeat, "pub-1"};

FleetValue Instance() {
  PolicyRecord p = kPolicy;
  p.details.resource_owner = "300000000000000001";
  p.stream = {"instance", "300000000000000001"};
  InstanceEntry e{{"300000000000000001", p},
                  {{"zitadel.example.com", "login.example.com"}, 4, {"instance", "IAM"}}};
  return {{{1740820364, 0}, {"instance", "300000000000000001"}, 9}, e};
}

FleetValue Org() {
  OrgEntry e{{"42", kPolicy},
             {"42", {{"acme.com", true, true}, {"acme.org", false, false}}, 9, {"org", "42"}}};
  return {kVersion, e};
}

FleetValue Heart() {
  return {{{1740820400, 5}, {}, 0},
          Heartbeat{"pub-1", {1740820400, 5}, "iam.example.com", "0.9.0"}};
}

std::string Encode(const FleetKey& key, const FleetValue& v) {
  auto bytes = EncodeValue(key, v);
  EXPECT_TRUE(bytes) << bytes.error().ToString();
  return bytes ? *bytes : std::string();
}

void ExpectRoundTrip(const FleetKey& key, const FleetValue& v) {
  const std::string bytes = Encode(key, v);
  auto back = DecodeValue(key, bytes);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, v);
}

OrgEntry& OrgOf(FleetValue& v) { return std::get<OrgEntry>(v.entry); }

TEST(FleetValuesTest, RoundTripsEveryKind) {
  ExpectRoundTrip(kInstanceKey, Instance());
  ExpectRoundTrip(kOrgKey, Org());
  ExpectRoundTrip(kHeartbeatKey, Heart());
}

TEST(FleetValuesTest, RoundTripsMinimalValues) {
  FleetValue org{{}, OrgEntry{{"42", std::nullopt}, {"42", {}, 0, {}}}};
  ExpectRoundTrip(kOrgKey, org);
  FleetValue instance{{}, InstanceEntry{{"1", {}}, {}}};
  ExpectRoundTrip(kInstanceKey, instance);
  FleetValue heartbeat{{}, Heartbeat{"p", {}, "", ""}};
  ExpectRoundTrip({KeyKind::kHeartbeat, "p"}, heartbeat);
}

TEST(FleetValuesTest, RoundTripsAnEscapedIdAndAFullDomainList) {
  const FleetKey key{KeyKind::kOrg, "a.b=c d\xc3\xa9"};
  FleetValue v{kVersion, OrgEntry{{key.id, kPolicy}, {key.id, {}, 3, {"org", key.id}}}};
  for (std::size_t i = 0; i < kMaxDomainsPerList; ++i) {
    std::string name = std::to_string(i) + ".";
    name += std::string(250 - name.size() - 4, 'x') + ".com";  // 250 bytes
    OrgOf(v).domains.domains.push_back({name, i == 0, i == 0});
  }
  const std::string bytes = Encode(key, v);
  EXPECT_LT(bytes.size(), 300'000u);  // docs/fleet.md: under 300 KB
  EXPECT_EQ(DecodeValue(key, bytes).value(), v);
}

TEST(FleetValuesTest, ReadsUnalignedBytes) {
  const std::string bytes = Encode(kOrgKey, Org());
  const std::string shifted = "x" + bytes;
  EXPECT_EQ(DecodeValue(kOrgKey, std::string_view(shifted).substr(1)).value(), Org());
}

// Each case breaks one rule the encoder must refuse (and the decoder too, see below).
struct Broken {
  const char* name;
  FleetKey key;
  FleetValue value;
};

std::vector<Broken> BrokenValues() {
  std::vector<Broken> out;
  auto org = [&](const char* name, auto change) {
    FleetValue v = Org();
    change(v);
    out.push_back({name, kOrgKey, v});
  };
  org("org id differs from key", [](FleetValue& v) { OrgOf(v).org.id = "43"; });
  org("domain list of another org", [](FleetValue& v) { OrgOf(v).domains.org_id = "43"; });
  org("version nanos", [](FleetValue& v) { v.version.date.nanos = 1'000'000'000; });
  org("version negative nanos", [](FleetValue& v) { v.version.date.nanos = -1; });
  org("version stream id without type", [](FleetValue& v) { v.version.stream = {"", "42"}; });
  org("version stream control char", [](FleetValue& v) { v.version.stream.type = "o\trg"; });
  org("policy change nanos",
      [](FleetValue& v) { OrgOf(v).org.policy->details.change_date.nanos = 1'000'000'000; });
  org("policy creation nanos",
      [](FleetValue& v) { OrgOf(v).org.policy->details.creation_date.nanos = -5; });
  org("policy owner too long",
      [](FleetValue& v) { OrgOf(v).org.policy->details.resource_owner = std::string(201, '1'); });
  org("policy stream too long",
      [](FleetValue& v) { OrgOf(v).org.policy->stream.id = std::string(201, '1'); });
  org("duplicate domain", [](FleetValue& v) {
    OrgOf(v).domains.domains.push_back({"ACME.com", false, false});
  });
  org("unverified primary", [](FleetValue& v) {
    OrgOf(v).domains.domains[1] = {"acme.org", false, true};
  });
  org("empty domain", [](FleetValue& v) { OrgOf(v).domains.domains[1].name = ""; });
  org("too many domains", [](FleetValue& v) {
    for (std::size_t i = 0; i < kMaxDomainsPerList; ++i) {
      OrgOf(v).domains.domains.push_back({"d" + std::to_string(i) + ".com", false, false});
    }
  });
  {
    FleetValue v = Instance();
    std::get<InstanceEntry>(v.entry).domains.names.push_back("ZITADEL.example.com");
    out.push_back({"duplicate instance domain", kInstanceKey, v});
    v = Instance();
    std::get<InstanceEntry>(v.entry).instance.id = "";
    out.push_back({"empty instance id", kInstanceKey, v});
    v = Instance();
    std::get<InstanceEntry>(v.entry).instance.policy.details.change_date.nanos = -1;
    out.push_back({"instance policy nanos", kInstanceKey, v});
  }
  {
    FleetValue v = Heart();
    std::get<Heartbeat>(v.entry).publisher_id = "pub-2";
    out.push_back({"publisher id differs from key", kHeartbeatKey, v});
    v = Heart();
    v.version.sequence = 1;
    out.push_back({"heartbeat version is not its last sync", kHeartbeatKey, v});
    v = Heart();
    std::get<Heartbeat>(v.entry).last_sync.nanos = 1'000'000'000;
    v.version.date.nanos = 1'000'000'000;
    out.push_back({"last sync nanos", kHeartbeatKey, v});
    v = Heart();
    std::get<Heartbeat>(v.entry).source = std::string(kMaxSourceLength + 1, 's');
    out.push_back({"source too long", kHeartbeatKey, v});
    v = Heart();
    std::get<Heartbeat>(v.entry).policyd_version = "1.0\n";
    out.push_back({"version control char", kHeartbeatKey, v});
  }
  out.push_back({"org under the instance key", kInstanceKey, Org()});
  out.push_back({"instance under an org key", kOrgKey, Instance()});
  out.push_back({"heartbeat under an org key", kOrgKey, Heart()});
  return out;
}

TEST(FleetValuesTest, EncoderRefusesEveryBrokenValue) {
  for (const Broken& b : BrokenValues()) {
    auto bytes = EncodeValue(b.key, b.value);
    ASSERT_FALSE(bytes) << b.name;
    EXPECT_EQ(bytes.error().code(), Code::kInvalidArgument) << b.name;
    EXPECT_EQ(bytes.error().message().rfind("bucket key ", 0), 0u) << bytes.error().message();
  }
}

// Builds a Value with the generated API, bypassing the encoder's checks, as a hostile or buggy
// publisher could.
struct Raw {
  std::uint32_t major = kSchemaMajor;
  bool version = true;
  bool entry = true;
  fb::Entry entry_type = fb::Entry::OrgEntry;
  std::string org_id = "42";
  std::vector<std::string> domains = {"acme.com"};
  bool verified = true;
  std::int32_t nanos = 0;
  const char* identifier = "PDFL";
};

std::string BuildRaw(const Raw& r) {
  flatbuffers::FlatBufferBuilder fbb;
  const fb::Timestamp date(1740820364, r.nanos);
  auto version = r.version ? fb::CreateSourceVersion(fbb, &date) : 0;
  std::vector<flatbuffers::Offset<fb::OrgDomain>> domains;
  for (const std::string& d : r.domains) {
    domains.push_back(fb::CreateOrgDomain(fbb, fbb.CreateString(d), r.verified, false));
  }
  auto org = fb::CreateOrgEntry(fbb, fbb.CreateString(r.org_id), 0, fbb.CreateVector(domains));
  fb::ValueBuilder b(fbb);
  b.add_schema_major(r.major);
  if (r.version) b.add_version(version);
  if (r.entry) {
    b.add_entry_type(r.entry_type);
    b.add_entry(org.Union());
  }
  // Finish without the required-field assertion of the generated Finish.
  fbb.Finish(flatbuffers::Offset<fb::Value>(fbb.EndTable(b.start_)), r.identifier);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

TEST(FleetValuesTest, DecoderRefusesHostileValues) {
  EXPECT_TRUE(DecodeValue(kOrgKey, BuildRaw({})))
      << DecodeValue(kOrgKey, BuildRaw({})).error().ToString();
  struct Case {
    const char* name;
    Raw raw;
    Code code;
  };
  std::vector<Case> cases;
  Raw r;
  r.major = 2;
  cases.push_back({"unknown major", r, Code::kFailedPrecondition});
  r = {};
  r.major = 0;
  cases.push_back({"no major", r, Code::kFailedPrecondition});
  r = {};
  r.version = false;
  cases.push_back({"no version", r, Code::kInvalidArgument});
  r = {};
  r.entry = false;
  cases.push_back({"no entry", r, Code::kInvalidArgument});
  r = {};
  r.org_id = "43";
  cases.push_back({"org id differs from key", r, Code::kInvalidArgument});
  r = {};
  r.org_id = "4\n2";
  cases.push_back({"control char in org id", r, Code::kInvalidArgument});
  r = {};
  r.domains = {"acme.com", "ACME.COM"};
  cases.push_back({"duplicate domain", r, Code::kInvalidArgument});
  r = {};
  r.domains.assign(kMaxDomainsPerList + 1, "d.com");
  cases.push_back({"too many domains", r, Code::kInvalidArgument});
  r = {};
  r.nanos = 1'000'000'000;
  cases.push_back({"nanos", r, Code::kInvalidArgument});
  r = {};
  r.entry_type = static_cast<fb::Entry>(9);
  cases.push_back({"unknown entry type", r, Code::kInvalidArgument});
  r = {};
  r.entry_type = fb::Entry::Heartbeat;
  cases.push_back({"entry type of another table", r, Code::kInvalidArgument});
  r = {};
  r.identifier = "PDRQ";
  cases.push_back({"other file identifier", r, Code::kInvalidArgument});
  for (const Case& c : cases) {
    auto v = DecodeValue(kOrgKey, BuildRaw(c.raw));
    ASSERT_FALSE(v) << c.name;
    EXPECT_EQ(v.error().code(), c.code) << c.name << ": " << v.error().ToString();
    EXPECT_EQ(v.error().message().rfind("bucket key domain.org.42: ", 0), 0u)
        << v.error().message();
  }
}

TEST(FleetValuesTest, DecoderRefusesWhatTheEncoderRefuses) {
  // Values that pass the encoder under one key and are read under another, or whose bytes were
  // made for another key: the decoder refuses the mismatch.
  EXPECT_FALSE(DecodeValue(kInstanceKey, Encode(kOrgKey, Org())));
  EXPECT_FALSE(DecodeValue({KeyKind::kOrg, "43"}, Encode(kOrgKey, Org())));
  EXPECT_FALSE(DecodeValue(kOrgKey, Encode(kHeartbeatKey, Heart())));
  EXPECT_FALSE(DecodeValue({KeyKind::kHeartbeat, "pub-2"}, Encode(kHeartbeatKey, Heart())));
  EXPECT_FALSE(DecodeValue(kHeartbeatKey, Encode(kInstanceKey, Instance())));
}

TEST(FleetValuesTest, DecoderRefusesGarbageAndEveryTruncation) {
  EXPECT_FALSE(DecodeValue(kOrgKey, ""));
  EXPECT_FALSE(DecodeValue(kOrgKey, "garbage"));
  EXPECT_FALSE(DecodeValue(kOrgKey, std::string(64, '\0')));
  EXPECT_FALSE(DecodeValue(kOrgKey, std::string(kMaxValueBytes + 1, '\0')));
  const std::string bytes = Encode(kOrgKey, Org());
  // The builder may end the buffer with up to 7 bytes of alignment padding that nothing points
  // into: a cut within them loses nothing. Every other cut is refused.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto v = DecodeValue(kOrgKey, std::string_view(bytes).substr(0, n));
    if (n + 8 <= bytes.size()) {
      EXPECT_FALSE(v) << "prefix of " << n << " bytes";
    } else if (v) {
      EXPECT_EQ(*v, Org()) << "prefix of " << n << " bytes";
    }
  }
}

TEST(FleetValuesTest, RandomDamageNeverCrashesAndWhatDecodesRoundTrips) {
  std::mt19937 rng(13);
  const std::vector<std::pair<FleetKey, std::string>> samples = {
      {kInstanceKey, Encode(kInstanceKey, Instance())},
      {kOrgKey, Encode(kOrgKey, Org())},
      {kHeartbeatKey, Encode(kHeartbeatKey, Heart())}};
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    const auto& [key, original] = samples[round % samples.size()];
    std::string bytes = original;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    auto v = DecodeValue(key, bytes);
    if (!v) continue;
    ++accepted;
    auto again = EncodeValue(key, *v);
    ASSERT_TRUE(again) << again.error().ToString();
    ASSERT_EQ(DecodeValue(key, *again).value(), *v);
  }
  // Flipping a flag or a date byte keeps a valid value: some damage must get through.
  EXPECT_GT(accepted, 0);
}

TEST(FleetValuesTest, KindOfFollowsTheEntry) {
  EXPECT_EQ(KindOf(Instance()), KeyKind::kInstance);
  EXPECT_EQ(KindOf(Org()), KeyKind::kOrg);
  EXPECT_EQ(KindOf(Heart()), KeyKind::kHeartbeat);
}

}  // namespace
}  // namespace policyd::fleet
