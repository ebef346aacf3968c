// The fake upstream's side of machine authentication: verifying a JWT-profile assertion
// (RS256, as ZITADEL's token endpoint does) and minting opaque access tokens. The helpers that
// create keys, assertions and certificates for tests are declared in fake_upstream.h.
//
// Pure apart from OpenSSL and its random generator. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policyd::testing_support {

struct RegisteredKey {
  std::string user_id;
  std::string public_key_pem;
};

// Checks `jwt`: three base64url parts; header alg "RS256" and a kid found in `keys` (by key id);
// the RS256 signature against that key; iss = sub = the key's user id; aud (a string or an array)
// contains `audience`; exp > now; iat not more than an hour old nor more than a minute ahead.
// Returns the user id; INVALID_ARGUMENT naming the first check that failed.
Result<std::string> VerifyAssertion(std::string_view jwt,
                                    const std::map<std::string, RegisteredKey, std::less<>>& keys,
                                    std::string_view audience, std::int64_t now_seconds);

// OK if `pem` holds a public key (or a private key, whose public half is used).
Status CheckKeyPem(std::string_view pem);

// 32 random bytes, hex-encoded.
std::string RandomToken();

// RFC 4648 §5 without padding.
std::string Base64UrlEncode(std::string_view bytes);
// Accepts input with or without padding; nullopt on a character outside the alphabet.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace policyd::testing_support
