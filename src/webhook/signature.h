// Verifying ZITADEL Actions v2 request signatures (the `ZITADEL-Signature` header).
//
// ZITADEL signs a target's request Stripe-style (pkg/actions/signing.go):
//   ZITADEL-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>[,v1=<hex>...]
// The key is the target's signing key (CreateTargetResponse.signing_key), used as raw bytes.
// The body is the bytes sent, whatever the target's payload type (JSON, JWT or JWE): it is
// never parsed here.
//
// Parsing follows ZITADEL's own verifier (split on ",", then on "="; no spaces are trimmed;
// unknown keys are ignored; a `v1` that is not hex is skipped), and is stricter where that is
// safer: a header without `t`, with `t` twice or with a `t` that is not a plain decimal number is
// malformed, and the timestamp must lie within the tolerance both ways (ZITADEL only refuses an
// old one). Hex may be upper or lower case (Go's hex.DecodeString accepts both).
//
// Pure (the time comes in as an argument) apart from OpenSSL's HMAC; reentrant. Signatures are
// compared in constant time (CRYPTO_memcmp).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace policyd::webhook {

// The header's name as ZITADEL spells it; HTTP header names are matched case-insensitively.
inline constexpr std::string_view kSignatureHeader = "ZITADEL-Signature";
inline constexpr std::chrono::seconds kDefaultTolerance{300};
// Longer headers are malformed (ZITADEL sends one t and one v1 per key: under 100 bytes).
inline constexpr std::size_t kMaxSignatureHeaderBytes = 4096;

enum class SignatureCheck {
  kValid,             // a v1 matches and t is within the tolerance
  kMissing,           // no header, or an empty one
  kMalformed,         // not t=...,v1=... pairs, no t, t twice, t not a number, too long
  kNoSignature,       // no v1 that is 64 hex digits
  kNoMatch,           // no v1 matches the key (a wrong key, a changed body or timestamp)
  kOutsideTolerance,  // a v1 matches, but t is more than the tolerance before or after now
};

std::string_view SignatureCheckName(SignatureCheck check);

// Checks `header` (its value; empty when the request had none) against `body` and `key`, at
// `now` (Unix seconds). The signature is checked before the timestamp, so kOutsideTolerance
// means a correctly signed request that came too late (a replay, or a clock off by minutes).
SignatureCheck VerifySignature(std::string_view header, std::string_view body, std::string_view key,
                               std::int64_t now,
                               std::chrono::seconds tolerance = kDefaultTolerance);

// The header ZITADEL would send at `t` for `body`, with one v1 per key (tests, the benchmark).
std::string ComputeSignatureHeader(std::int64_t t, std::string_view body,
                                   std::initializer_list<std::string_view> keys);

}  // namespace policyd::webhook
