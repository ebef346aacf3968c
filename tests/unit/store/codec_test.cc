#include "store/codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace policyd {
namespace {

PolicyRecord SamplePolicy(std::uint64_t seq = 7, std::string owner = "org-1") {
  return PolicyRecord{
      PolicyFlags{true, false, true},
      Details{seq, Timestamp{1700000000, 123}, Timestamp{1700000100, 999'999'999}, owner},
      EventStream{"org", owner}};
}

StoreMeta SampleMeta() {
  return StoreMeta{10,
                   3,
                   true,
                   "cursor-1",
                   "https://iam.example.com",
                   Timestamp{1700000200, 5},
                   Timestamp{1700000300, 6}};
}

std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Encoded(const PolicyRecord& r) {
  std::string out;
  EncodePolicyRecord(r, &out);
  return out;
}
// An entry version with every field set.
SourceVersion SampleVersion() {
  return SourceVersion{Timestamp{1700000400, 7}, EventStream{"org", "org-1"}, 42};
}

// The bytes of `v`'s version body at the end of a v3 entry row, counted by hand.
std::size_t ExpectedVersionBodySize(const SourceVersion& v) {
  return 12 + 4 + v.stream.type.size() + 4 + v.stream.id.size() + 8;
}

std::string Encoded(const InstanceRecord& r, const SourceVersion& v = {}) {
  std::string out;
  EncodeInstanceRecord(r, v, &out);
  return out;
}
std::string EncodedOrg(const PolicyRecord* p, const SourceVersion& v = {}) {
  std::string out;
  EncodeOrgValue(p, v, &out);
  return out;
}
std::string Encoded(const StoreMeta& m) {
  std::string out;
  EncodeStoreMeta(m, &out);
  return out;
}

TEST(StoreCodecTest, PolicyRecordRoundTrips) {
  const std::vector<PolicyRecord> records = {
      PolicyRecord{},
      SamplePolicy(),
      PolicyRecord{PolicyFlags{true, true, true},
                   Details{UINT64_MAX, Timestamp{INT64_MIN, 0}, Timestamp{INT64_MAX, 999'999'999},
                           std::string(kMaxIdLength, 'x')}},
      PolicyRecord{PolicyFlags{false, true, false}, Details{1, Timestamp{-5, 1}, {}, ""}},
      PolicyRecord{PolicyFlags{}, Details{},
                   EventStream{std::string(kMaxIdLength, 't'), std::string(kMaxIdLength, 'i')}},
  };
  for (const PolicyRecord& r : records) {
    PolicyRecord back;
    ASSERT_TRUE(DecodePolicyRecord(Encoded(r), &back).ok());
    EXPECT_EQ(back, r);
  }
}

TEST(StoreCodecTest, InstanceOrgAndMetaRoundTrip) {
  const InstanceRecord instance{"inst-1", SamplePolicy(3, "inst-1")};
  InstanceRecord instance_back;
  ASSERT_TRUE(DecodeInstanceRecord(Encoded(instance), &instance_back).ok());
  EXPECT_EQ(instance_back, instance);

  const PolicyRecord policy = SamplePolicy();
  bool has_policy = false;
  PolicyRecord policy_back;
  ASSERT_TRUE(DecodeOrgValue(EncodedOrg(&policy), &has_policy, &policy_back).ok());
  EXPECT_TRUE(has_policy);
  EXPECT_EQ(policy_back, policy);
  ASSERT_TRUE(DecodeOrgValue(EncodedOrg(nullptr), &has_policy, &policy_back).ok());
  EXPECT_FALSE(has_policy);

  for (const StoreMeta& meta : {StoreMeta{}, SampleMeta(),
                                StoreMeta{5,
                                          5,
                                          false,
                                          std::string(kMaxMetaStringLength, 'c'),
                                          std::string(kMaxMetaStringLength, 's'),
                                          {},
                                          {}}}) {
    StoreMeta back;
    ASSERT_TRUE(DecodeStoreMeta(Encoded(meta), &back).ok());
    EXPECT_EQ(back, meta);
  }
}

// v3 entry rows carry the entry version: it reads back exactly, whether the row has a policy or
// not, and a reader that passes no version still checks the row.
TEST(StoreCodecTest, EntryRowsRoundTripTheirVersion) {
  const std::vector<SourceVersion> versions = {
      SourceVersion{},
      SampleVersion(),
      SourceVersion{Timestamp{INT64_MIN, 999'999'999},
                    EventStream{std::string(kMaxIdLength, 't'), std::string(kMaxIdLength, 'i')},
                    UINT64_MAX},
      SourceVersion{Timestamp{-1, 0}, EventStream{"instance", ""}, 0},
  };
  const PolicyRecord policy = SamplePolicy();
  for (const SourceVersion& v : versions) {
    SCOPED_TRACE(v.stream.type + "/" + v.stream.id);
    for (const PolicyRecord* p : {&policy, static_cast<const PolicyRecord*>(nullptr)}) {
      bool has_policy = false;
      PolicyRecord policy_back;
      SourceVersion back = SampleVersion();
      ASSERT_TRUE(DecodeOrgValue(EncodedOrg(p, v), &has_policy, &policy_back, &back).ok());
      EXPECT_EQ(has_policy, p != nullptr);
      if (p != nullptr) {
        EXPECT_EQ(policy_back, *p);
      }
      EXPECT_EQ(back, v);
      EXPECT_TRUE(DecodeOrgValue(EncodedOrg(p, v), &has_policy, &policy_back).ok());
    }
    EXPECT_EQ(VersionBodySize(v), ExpectedVersionBodySize(v));
    EXPECT_EQ(
        EncodedOrg(&policy, v).size(),
        EncodedOrg(&policy).size() - ExpectedVersionBodySize({}) + ExpectedVersionBodySize(v));
    const InstanceRecord instance{"inst-1", SamplePolicy(3, "inst-1")};
    InstanceRecord instance_back;
    SourceVersion back;
    ASSERT_TRUE(DecodeInstanceRecord(Encoded(instance, v), &instance_back, &back).ok());
    EXPECT_EQ(instance_back, instance);
    EXPECT_EQ(back, v);
    EXPECT_TRUE(DecodeInstanceRecord(Encoded(instance, v), &instance_back).ok());
  }
}

// Entry rows of format v1 and v2 stores (which kept versions in rows of their own) still read,
// with the version zero, overwriting whatever the output held.
TEST(StoreCodecTest, V2EntryRowsDecodeWithAZeroVersion) {
  const PolicyRecord policy = SamplePolicy();
  std::string v2_org = EncodedOrg(&policy);
  v2_org.resize(v2_org.size() - ExpectedVersionBodySize({}));
  v2_org[0] = static_cast<char>(kCodecV2);
  bool has_policy = false;
  PolicyRecord back;
  SourceVersion version = SampleVersion();
  ASSERT_TRUE(DecodeOrgValue(v2_org, &has_policy, &back, &version).ok());
  EXPECT_TRUE(has_policy);
  EXPECT_EQ(back, policy);
  EXPECT_EQ(version, SourceVersion{});

  const InstanceRecord instance{"inst-1", SamplePolicy(3, "inst-1")};
  std::string v2_instance = Encoded(instance);
  v2_instance.resize(v2_instance.size() - ExpectedVersionBodySize({}));
  v2_instance[0] = static_cast<char>(kCodecV2);
  InstanceRecord instance_back;
  version = SampleVersion();
  ASSERT_TRUE(DecodeInstanceRecord(v2_instance, &instance_back, &version).ok());
  EXPECT_EQ(instance_back, instance);
  EXPECT_EQ(version, SourceVersion{});
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// The bytes are the on-disk format: changing them needs a codec version or a format bump.
TEST(StoreCodecTest, EncodingIsTheDocumentedFormat) {
  const PolicyRecord r{
      PolicyFlags{true, false, true},
      Details{0x0102030405060708, Timestamp{1, 2}, Timestamp{-1, 999'999'999}, "o"},
      EventStream{"iam", "IAM"}};
  EXPECT_EQ(Hex(Encoded(r)),
            "02"                                                           // version
            "05"                                                           // flags: bits 0 and 2
            "0807060504030201"                                             // sequence
            "0100000000000000"                                             // creation seconds
            "02000000"                                                     // creation nanos
            "ffffffffffffffff"                                             // change seconds (-1)
            "ffc99a3b"                                                     // change nanos 999999999
            "01000000"                                                     // resource owner length
            "6f"                                                           // "o"
            "0300000069616d"                                               // stream type "iam"
            "0300000049414d");                                             // stream id "IAM"
  EXPECT_EQ(Hex(EncodedOrg(nullptr)), "0300" + std::string(2 * 28, '0'));  // a zero version
  EXPECT_EQ(Hex(EncodedOrg(nullptr, SourceVersion{Timestamp{1, 2}, EventStream{"org", "o"}, 5})),
            "03"                // version
            "00"                // has_policy
            "0100000000000000"  // version date seconds
            "02000000"          // version date nanos
            "030000006f7267"    // stream type "org"
            "010000006f"        // stream id "o"
            "0500000000000000"  // sequence
  );
  EXPECT_EQ(Hex(EncodedOrg(&r)), "0301" + Hex(Encoded(r)).substr(2) + std::string(2 * 28, '0'));
  EXPECT_EQ(Hex(Encoded(InstanceRecord{"i", PolicyRecord{}})).substr(0, 12), "030100000069");
  EXPECT_EQ(Hex(Encoded(StoreMeta{2, 1, true, "c", "", Timestamp{3, 4}, Timestamp{}})),
            "01"
            "0200000000000000"
            "0100000000000000"
            "01"
            "0100000063"
            "00000000"
            "030000000000000004000000"
            "000000000000000000000000");
}

// Rows written before policyd kept event streams (codec v1) still read, with the stream unknown.
TEST(StoreCodecTest, V1RowsDecodeWithAnUnknownStream) {
  const std::string v1_body =
      "05"
      "0807060504030201"
      "0100000000000000"
      "02000000"
      "ffffffffffffffff"
      "ffc99a3b"
      "01000000"
      "6f";
  const PolicyRecord want{
      PolicyFlags{true, false, true},
      Details{0x0102030405060708, Timestamp{1, 2}, Timestamp{-1, 999'999'999}, "o"}};
  PolicyRecord back = SamplePolicy();
  ASSERT_TRUE(DecodePolicyRecord(Unhex("01" + v1_body), &back).ok());
  EXPECT_EQ(back, want);
  bool has_policy = false;
  back = SamplePolicy();
  SourceVersion version = SampleVersion();
  ASSERT_TRUE(DecodeOrgValue(Unhex("0101" + v1_body), &has_policy, &back, &version).ok());
  EXPECT_TRUE(has_policy);
  EXPECT_EQ(back, want);
  EXPECT_EQ(version, SourceVersion{});
  InstanceRecord instance;
  version = SampleVersion();
  ASSERT_TRUE(DecodeInstanceRecord(Unhex("010100000069" + v1_body), &instance, &version).ok());
  EXPECT_EQ(instance, (InstanceRecord{"i", want}));
  EXPECT_EQ(version, SourceVersion{});
  // A v1 body with the v2 fields after it is not v1.
  EXPECT_EQ(DecodePolicyRecord(Unhex("01" + v1_body + "0000000000000000"), &back).code(),
            Code::kDataLoss);
}

TEST(StoreCodecTest, EncodingReusesTheCallersBuffer) {
  std::string out;
  out.reserve(4096);
  const char* data = out.data();
  const PolicyRecord policy = SamplePolicy();
  EncodeOrgValue(&policy, SampleVersion(), &out);
  EncodeStoreMeta(SampleMeta(), &out);
  EncodeInstanceRecord(InstanceRecord{"i", policy}, {}, &out);
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out, Encoded(InstanceRecord{"i", policy}));  // replaced, not appended
}

TEST(StoreCodecTest, CheckPolicyRecordRejectsWhatWouldNotDecode) {
  EXPECT_TRUE(CheckPolicyRecord("p", SamplePolicy()).ok());
  PolicyRecord r = SamplePolicy();
  r.details.creation_date.nanos = 1'000'000'000;
  EXPECT_EQ(CheckPolicyRecord("p", r).code(), Code::kInvalidArgument);
  r = SamplePolicy();
  r.details.change_date.nanos = -1;
  EXPECT_EQ(CheckPolicyRecord("p", r).code(), Code::kInvalidArgument);
  r = SamplePolicy(1, std::string(kMaxIdLength + 1, 'o'));
  EXPECT_EQ(CheckPolicyRecord("p", r).code(), Code::kInvalidArgument);
  r = SamplePolicy();
  r.stream.type.assign(kMaxIdLength + 1, 't');
  EXPECT_EQ(CheckPolicyRecord("p", r).code(), Code::kInvalidArgument);
  EXPECT_TRUE(CheckMetaString("cursor", std::string(kMaxMetaStringLength, 'c')).ok());
  EXPECT_EQ(CheckMetaString("cursor", std::string(kMaxMetaStringLength + 1, 'c')).code(),
            Code::kInvalidArgument);
}

enum class Kind { kPolicy, kInstance, kOrg, kMeta };

// Entry rows are decoded twice, with and without a version out (which skips the version's strings
// rather than copying them): both must give the same outcome.
Status DecodeAs(Kind kind, const std::string& bytes) {
  PolicyRecord policy;
  InstanceRecord instance;
  StoreMeta meta;
  SourceVersion version;
  bool has_policy = false;
  Status with_version;
  Status without;
  switch (kind) {
    case Kind::kPolicy:
      return DecodePolicyRecord(bytes, &policy);
    case Kind::kInstance:
      with_version = DecodeInstanceRecord(bytes, &instance, &version);
      without = DecodeInstanceRecord(bytes, &instance);
      break;
    case Kind::kOrg:
      with_version = DecodeOrgValue(bytes, &has_policy, &policy, &version);
      without = DecodeOrgValue(bytes, &has_policy, &policy);
      break;
    case Kind::kMeta:
      return DecodeStoreMeta(bytes, &meta);
  }
  if (with_version.code() != without.code() || with_version.message() != without.message()) {
    return Status::Internal("decoding with and without the version disagree: " +
                            with_version.ToString() + " / " + without.ToString());
  }
  return with_version;
}

std::string Patched(std::string s, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) s[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return s;
}
std::string PatchedByte(std::string s, std::size_t offset, std::uint8_t value) {
  s[offset] = static_cast<char>(value);
  return s;
}

struct MalformedCase {
  std::string name;
  Kind kind;
  std::string bytes;
  std::string message;  // expected in the DATA_LOSS message
};

std::vector<MalformedCase> MalformedCases() {
  const PolicyRecord p = SamplePolicy();
  const std::string policy = Encoded(p);   // owner length at 34, creation nanos at 18
  const std::string org = EncodedOrg(&p);  // body starts at 2
  // The version body starts at `vb`: date seconds, nanos at +8, stream type length at +12.
  const std::string versioned = EncodedOrg(&p, SampleVersion());
  const std::size_t vb = versioned.size() - ExpectedVersionBodySize(SampleVersion());
  const std::string versioned_instance = Encoded(InstanceRecord{"inst", p}, SampleVersion());
  const std::size_t ivb = versioned_instance.size() - ExpectedVersionBodySize(SampleVersion());
  const std::string instance = Encoded(InstanceRecord{"inst", p});  // id length at 1, body at 9
  const std::string meta = Encoded(SampleMeta());  // has_instance at 17, cursor length at 18
  return {
      {"Empty policy", Kind::kPolicy, "", "truncated at version"},
      {"Empty org", Kind::kOrg, "", "truncated at version"},
      {"Empty instance", Kind::kInstance, "", "truncated at version"},
      {"Empty meta", Kind::kMeta, "", "truncated at version"},
      {"VersionZero", Kind::kPolicy, PatchedByte(policy, 0, 0), "unsupported encoding version 0"},
      {"VersionFour", Kind::kOrg, PatchedByte(org, 0, 4), "unsupported encoding version 4"},
      {"InstanceVersionFour", Kind::kInstance, PatchedByte(instance, 0, 4),
       "unsupported encoding version 4 (this binary reads 1 to 3)"},
      {"PolicyVersionThree", Kind::kPolicy, PatchedByte(policy, 0, 3),
       "unsupported encoding version 3 (this binary reads 1 to 2)"},
      {"V2OrgWithAVersion", Kind::kOrg, PatchedByte(versioned, 0, 2),
       std::to_string(ExpectedVersionBodySize(SampleVersion())) + " trailing bytes"},
      {"VersionDateNanos", Kind::kOrg, Patched(versioned, vb + 8, 1'000'000'000),
       "date nanos 1000000000 out of range"},
      {"VersionStreamTypeTooLong", Kind::kOrg, Patched(versioned, vb + 12, 201),
       "stream type length 201"},
      {"VersionStreamTypePastEnd", Kind::kInstance, Patched(versioned_instance, ivb + 12, 90),
       "truncated at stream type"},
      {"VersionStreamIdTooLong", Kind::kInstance,
       Patched(versioned_instance, ivb + 12 + 4 + 3, 0xffffffff), "stream id length 4294967295"},
      {"VersionStreamIdWithoutType", Kind::kOrg,
       EncodedOrg(nullptr, SourceVersion{{}, EventStream{"", "x"}, 0}),
       "a stream id without a stream type"},
      {"InstanceStreamIdWithoutType", Kind::kInstance,
       Encoded(InstanceRecord{"inst", p}, SourceVersion{{}, EventStream{"", "x"}, 0}),
       "a stream id without a stream type"},
      {"TrailingAfterVersion", Kind::kOrg, versioned + "x", "1 trailing bytes"},
      {"MetaVersionTwo", Kind::kMeta, PatchedByte(meta, 0, 2), "unsupported encoding version 2"},
      {"StreamTypeTooLong", Kind::kPolicy,
       Encoded(PolicyRecord{{}, {}, EventStream{std::string(201, 't'), "i"}}),
       "stream type length 201"},
      {"Version255", Kind::kMeta, PatchedByte(meta, 0, 255), "unsupported encoding version 255"},
      {"InstanceVersion", Kind::kInstance, PatchedByte(instance, 0, 9), "unsupported"},
      {"TrailingByte", Kind::kPolicy, policy + "x", "1 trailing bytes"},
      {"TrailingOrg", Kind::kOrg, EncodedOrg(nullptr) + "abc", "3 trailing bytes"},
      {"TrailingInstance", Kind::kInstance, instance + std::string(1, '\0'), "trailing"},
      {"TrailingMeta", Kind::kMeta, meta + "zz", "2 trailing bytes"},
      {"UnknownFlagBits", Kind::kPolicy, PatchedByte(policy, 1, 0x08), "unknown flag bits"},
      {"HasPolicyTwo", Kind::kOrg, PatchedByte(org, 1, 2), "has_policy byte is 2"},
      {"HasPolicyButNoBody", Kind::kOrg, PatchedByte(EncodedOrg(nullptr).substr(0, 2), 1, 1),
       "truncated at flags"},
      {"HasInstanceTwo", Kind::kMeta, PatchedByte(meta, 17, 2), "has_instance byte is 2"},
      {"NanosOneBillion", Kind::kPolicy, Patched(policy, 18, 1'000'000'000), "creation_date nanos"},
      {"NanosMax", Kind::kOrg, Patched(org, 2 + 29, 0xffffffff), "change_date nanos 4294967295"},
      {"OwnerTooLong", Kind::kPolicy,
       Patched(policy.substr(0, 38) + std::string(201, 'o'), 34, 201), "resource_owner length 201"},
      {"OwnerLengthHuge", Kind::kPolicy, Patched(policy, 34, 0xffffffff), "resource_owner length"},
      {"OwnerLengthPastEnd", Kind::kPolicy, Patched(policy, 34, 100),
       "truncated at resource_owner"},
      {"InstanceIdEmpty", Kind::kInstance, Patched(instance, 1, 0), "instance id length 0"},
      {"InstanceIdTooLong", Kind::kInstance, Patched(instance, 1, 201), "instance id length 201"},
      {"CursorTooLong", Kind::kMeta, Patched(meta, 18, kMaxMetaStringLength + 1), "cursor length"},
      {"CursorLengthPastEnd", Kind::kMeta, Patched(meta, 18, 60000), "truncated at cursor"},
      {"CustomAboveOrgCount", Kind::kMeta, Encoded(StoreMeta{1, 2, false, "", "", {}, {}}),
       "custom_policy_count 2 exceeds org_count 1"},
      {"MetaNanos", Kind::kMeta, Patched(Encoded(StoreMeta{}), 18 + 4 + 4 + 8, 1'000'000'000),
       "last_change nanos"},
  };
}

TEST(StoreCodecTest, MalformedBytesAreDataLoss) {
  for (const MalformedCase& c : MalformedCases()) {
    SCOPED_TRACE(c.name);
    Status s = DecodeAs(c.kind, c.bytes);
    EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
  }
}

TEST(StoreCodecTest, EveryTruncationIsDataLoss) {
  const PolicyRecord p = SamplePolicy();
  const std::vector<std::pair<Kind, std::string>> valid = {
      {Kind::kPolicy, Encoded(p)},
      {Kind::kOrg, EncodedOrg(&p)},
      {Kind::kOrg, EncodedOrg(nullptr)},
      {Kind::kOrg, EncodedOrg(&p, SampleVersion())},
      {Kind::kInstance, Encoded(InstanceRecord{"inst", p})},
      {Kind::kInstance, Encoded(InstanceRecord{"inst", p}, SampleVersion())},
      {Kind::kMeta, Encoded(SampleMeta())},
  };
  for (const auto& [kind, bytes] : valid) {
    ASSERT_TRUE(DecodeAs(kind, bytes).ok());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      Status s = DecodeAs(kind, bytes.substr(0, n));
      EXPECT_EQ(s.code(), Code::kDataLoss) << "kept " << n << " of " << bytes.size();
      EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
    }
  }
}

// Not a fuzzer, but the same idea in miniature: random damage never crashes a decoder (run it
// under ASan/UBSan) and gives either a value or DATA_LOSS.
TEST(StoreCodecTest, RandomDamageNeverCrashes) {
  const PolicyRecord p = SamplePolicy();
  const std::vector<std::pair<Kind, std::string>> valid = {
      {Kind::kPolicy, Encoded(p)},
      {Kind::kOrg, EncodedOrg(&p, SampleVersion())},
      {Kind::kInstance, Encoded(InstanceRecord{"inst", p}, SampleVersion())},
      {Kind::kMeta, Encoded(SampleMeta())},
  };
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    const auto& [kind, bytes] = valid[round % valid.size()];
    std::string damaged = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) damaged.resize(rng() % (damaged.size() + 1));
    Status s = DecodeAs(kind, damaged);
    EXPECT_TRUE(s.ok() || s.code() == Code::kDataLoss) << s.ToString();
  }
}

TEST(StoreCodecTest, DecodingIntoAReusedRecordOverwritesEveryField) {
  PolicyRecord out = SamplePolicy(99, std::string(150, 'z'));
  const PolicyRecord small{PolicyFlags{}, Details{1, {}, {}, "a"}};
  ASSERT_TRUE(DecodePolicyRecord(Encoded(small), &out).ok());
  EXPECT_EQ(out, small);
}

}  // namespace
}  // namespace policyd
