// The pieces of ZITADEL's JWT-profile grant (zitadel-api.md §4) that need no network: base64url,
// percent-encoding, loading the service account's RSA key, and building and RS256-signing the
// assertion. Internal to src/upstream/.
//
// Pure apart from OpenSSL (which keeps no state we depend on). Thread-safe: an EVP_PKEY may be
// used for signing from several threads at once.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policyd::upstream_internal {

// RFC 4648 §5 base64url without padding.
std::string Base64UrlEncode(std::string_view bytes);

// The inverse; nullopt for characters outside the base64url alphabet, padding, or a length that
// no encoding has (4n+1).
std::optional<std::string> Base64UrlDecode(std::string_view text);

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~),
// with uppercase hex: safe both as a URL path segment and as an
// application/x-www-form-urlencoded value (space becomes %20).
std::string PercentEncode(std::string_view s);

// Owns an EVP_PKEY.
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const;
};
using PrivateKey = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// Loads an unencrypted PEM private key ("BEGIN RSA PRIVATE KEY" or "BEGIN PRIVATE KEY").
// Errors: INVALID_ARGUMENT when it does not parse, is encrypted, is not RSA, or has fewer than
// 2048 bits (RFC 7518 §3.3). Messages never contain key material.
Result<PrivateKey> LoadRsaPrivateKey(std::string_view pem);

// The raw RSASSA-PKCS1-v1_5 SHA-256 signature of `data`. INTERNAL if OpenSSL fails.
Result<std::string> SignRs256(EVP_PKEY* key, std::string_view data);

// What goes into the assertion. Times are seconds since the Unix epoch.
struct JwtAssertionClaims {
  std::string key_id;    // header "kid": the key file's keyId
  std::string user_id;   // "iss" and "sub": the service user's id
  std::string audience;  // "aud": the upstream's issuer URL, e.g. "https://iam.example.com"
  std::int64_t issued_at = 0;
  std::chrono::seconds lifetime{3600};  // "exp" = issued_at + lifetime
};

// The JWT header and claims JSON, exactly:
//   {"alg":"RS256","kid":"<kid>"}
//   {"iss":"<user>","sub":"<user>","aud":"<aud>","iat":<iat>,"exp":<exp>}
std::string JwtHeaderJson(const JwtAssertionClaims& claims);
std::string JwtClaimsJson(const JwtAssertionClaims& claims);

// base64url(header) "." base64url(claims) "." base64url(RS256 signature over the first two).
Result<std::string> MakeJwtAssertion(EVP_PKEY* key, const JwtAssertionClaims& claims);

// The token request body: grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer
// &scope=openid%20urn%3Azitadel%3Aiam%3Aorg%3Aproject%3Aid%3Azitadel%3Aaud&assertion=<jwt>.
std::string JwtBearerGrantForm(std::string_view assertion);

// Overwrites `s`'s bytes with zeros (OPENSSL_cleanse, which the compiler cannot drop) and
// clears it.
void Wipe(std::string& s);

}  // namespace policyd::upstream_internal
