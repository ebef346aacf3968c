// VerifySignature: every case of ZITADEL's `t=<unix>,v1=<hex>[,v1=<hex>...]` header, table-driven.
#include "webhook/signature.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace policyd::webhook {
namespace {

// A 36-character key like ZITADEL's default SigningKey generator makes (letters and digits).
constexpr std::string_view kKey = "Xq7CtbD2k9mVn4RwZp1sLf8gHj3aEu6yTc0B";
constexpr std::string_view kOtherKey = "Xq7CtbD2k9mVn4RwZp1sLf8gHj3aEu6yTc0C";
constexpr std::string_view kBody =
    R"({"aggregateID":"123","aggregateType":"org","resourceOwner":"123","instanceID":"9",)"
    R"("version":"v1","sequence":2,"event_type":"org.policy.domain.added",)"
    R"("created_at":"2026-12-06T09:00:00.123456Z","userID":"7","event_payload":{}})";
constexpr std::int64_t kNow = 1'796'000'000;

std::string Sig(std::int64_t t, std::string_view body, std::string_view key) {
  return ComputeSignatureHeader(t, body, {key});
}
std::string V1(std::int64_t t, std::string_view body, std::string_view key) {
  return Sig(t, body, key).substr(Sig(t, body, key).find(",v1=") + 4);
}
std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

struct Case {
  std::string name;
  std::string header;
  std::string body;
  SignatureCheck want;
};

std::vector<Case> Cases() {
  const std::string t = std::to_string(kNow);
  const std::string good = V1(kNow, kBody, kKey);
  const std::string wrong = V1(kNow, kBody, kOtherKey);
  const std::string b(kBody);
  return {
      {"valid single v1", Sig(kNow, kBody, kKey), b, SignatureCheck::kValid},
      {"valid as ZITADEL sends it for two keys, the right one last",
       ComputeSignatureHeader(kNow, kBody, {kOtherKey, kKey}), b, SignatureCheck::kValid},
      {"several v1, one valid", "t=" + t + ",v1=" + wrong + ",v1=" + good + ",v1=" + wrong, b,
       SignatureCheck::kValid},
      {"v1 before t", "v1=" + good + ",t=" + t, b, SignatureCheck::kValid},
      {"uppercase hex (Go's hex.DecodeString accepts it)", "t=" + t + ",v1=" + Upper(good), b,
       SignatureCheck::kValid},
      {"an unknown scheme is ignored", "t=" + t + ",v0=abc,v1=" + good, b, SignatureCheck::kValid},
      {"a v1 that is not hex is skipped", "t=" + t + ",v1=zz,v1=" + good, b,
       SignatureCheck::kValid},
      {"empty body signed", Sig(kNow, "", kKey), "", SignatureCheck::kValid},
      {"JWT body, never parsed", Sig(kNow, "eyJhbGciOi.eyJzdWIi.c2ln", kKey),
       "eyJhbGciOi.eyJzdWIi.c2ln", SignatureCheck::kValid},
      {"at the edge of the tolerance, old", Sig(kNow - 300, kBody, kKey), b,
       SignatureCheck::kValid},
      {"at the edge of the tolerance, future", Sig(kNow + 300, kBody, kKey), b,
       SignatureCheck::kValid},
      {"wrong key", Sig(kNow, kBody, kOtherKey), b, SignatureCheck::kNoMatch},
      {"tampered body", Sig(kNow, kBody, kKey), b + " ", SignatureCheck::kNoMatch},
      {"tampered timestamp", "t=" + std::to_string(kNow - 1) + ",v1=" + good, b,
       SignatureCheck::kNoMatch},
      {"expired", Sig(kNow - 301, kBody, kKey), b, SignatureCheck::kOutsideTolerance},
      {"from the future", Sig(kNow + 301, kBody, kKey), b, SignatureCheck::kOutsideTolerance},
      {"expired and wrong: the signature is checked first", Sig(kNow - 3600, kBody, kOtherKey), b,
       SignatureCheck::kNoMatch},
      {"empty header", "", b, SignatureCheck::kMissing},
      {"missing t", "v1=" + good, b, SignatureCheck::kMalformed},
      {"duplicate t", "t=" + t + ",t=" + t + ",v1=" + good, b, SignatureCheck::kMalformed},
      {"t not a number", "t=12a,v1=" + good, b, SignatureCheck::kMalformed},
      {"t negative", "t=-1,v1=" + good, b, SignatureCheck::kMalformed},
      {"t with a sign", "t=+" + t + ",v1=" + good, b, SignatureCheck::kMalformed},
      {"t empty", "t=,v1=" + good, b, SignatureCheck::kMalformed},
      {"t too long", "t=1234567890123456789,v1=" + good, b, SignatureCheck::kMalformed},
      {"space after the comma (Go trims nothing)", "t=" + t + ", v1=" + good, b,
       SignatureCheck::kNoSignature},
      {"space in t", "t= " + t + ",v1=" + good, b, SignatureCheck::kMalformed},
      {"a part without =", "t=" + t + ",v1", b, SignatureCheck::kMalformed},
      {"a part with two =", "t=" + t + ",v1=" + good + "=", b, SignatureCheck::kMalformed},
      {"trailing comma", "t=" + t + ",v1=" + good + ",", b, SignatureCheck::kMalformed},
      {"only a comma", ",", b, SignatureCheck::kMalformed},
      {"no v1", "t=" + t, b, SignatureCheck::kNoSignature},
      {"bad hex", "t=" + t + ",v1=" + good.substr(0, 63) + "g", b, SignatureCheck::kNoSignature},
      {"short hex", "t=" + t + ",v1=" + good.substr(0, 62), b, SignatureCheck::kNoSignature},
      {"long hex", "t=" + t + ",v1=" + good + "00", b, SignatureCheck::kNoSignature},
      {"base64 instead of hex (the pre-v2.66 scheme)", "t=" + t + ",v1=q83vEjRWeJA=", b,
       SignatureCheck::kMalformed},
      {"huge header", "t=" + t + ",v1=" + good + std::string(5000, ','), b,
       SignatureCheck::kMalformed},
      {"many v1 within the limit, none valid",
       [&] {
         std::string h = "t=" + t;
         for (int i = 0; i < 40; ++i) h += ",v1=" + wrong;
         return h;
       }(),
       b, SignatureCheck::kNoMatch},
  };
}

TEST(SignatureTest, EveryCase) {
  for (const Case& c : Cases()) {
    EXPECT_EQ(VerifySignature(c.header, c.body, kKey, kNow), c.want)
        << c.name << ": got " << SignatureCheckName(VerifySignature(c.header, c.body, kKey, kNow))
        << " for " << c.header;
  }
}

TEST(SignatureTest, MatchesZitadelsGoImplementation) {
  // What ZITADEL's ComputeSignatureHeader(time.Unix(1700000000, 0), []byte(`{"a":1}`), "key")
  // yields: the HMAC from `printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key`.
  const std::string zitadel =
      "t=1700000000,v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03";
  EXPECT_EQ(ComputeSignatureHeader(1'700'000'000, R"({"a":1})", {"key"}), zitadel);
  EXPECT_EQ(VerifySignature(zitadel, R"({"a":1})", "key", 1'700'000'100), SignatureCheck::kValid);
  EXPECT_EQ(ComputeSignatureHeader(5, "", {}), "t=5");
}

TEST(SignatureTest, ToleranceIsAParameter) {
  const std::string header = Sig(kNow - 10, kBody, kKey);
  EXPECT_EQ(VerifySignature(header, kBody, kKey, kNow, std::chrono::seconds(9)),
            SignatureCheck::kOutsideTolerance);
  EXPECT_EQ(VerifySignature(header, kBody, kKey, kNow, std::chrono::seconds(10)),
            SignatureCheck::kValid);
}

TEST(SignatureTest, AnEmptyKeyMatchesOnlyItsOwnSignature) {
  EXPECT_EQ(VerifySignature(Sig(kNow, kBody, kKey), kBody, "", kNow), SignatureCheck::kNoMatch);
}

TEST(SignatureTest, EveryCheckHasAName) {
  for (SignatureCheck c : {SignatureCheck::kValid, SignatureCheck::kMissing,
                           SignatureCheck::kMalformed, SignatureCheck::kNoSignature,
                           SignatureCheck::kNoMatch, SignatureCheck::kOutsideTolerance}) {
    EXPECT_NE(SignatureCheckName(c), "unknown");
  }
}

}  // namespace
}  // namespace policyd::webhook
