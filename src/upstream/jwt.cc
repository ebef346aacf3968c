#include "upstream/jwt.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <climits>
#include <memory>
#include <string>

#include "base/base64.h"
#include "json/policy_json.h"

namespace policyd::upstream_internal {
namespace {

constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr int kMinRsaBits = 2048;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// The reason of the oldest queued OpenSSL error (never key material), and an empty queue after.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(code);
}

// Refuses to prompt for a passphrase (OpenSSL's default callback would read the terminal).
int NoPassphrase(char*, int, int, void*) { return -1; }

int Base64Value(char c) {
  const std::size_t pos = kBase64UrlAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  return Base64EncodeNoPad(bytes, Base64Alphabet::kUrl);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text) {
    const int value = Base64Value(c);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xFF);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

void EvpPkeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Result<PrivateKey> LoadRsaPrivateKey(std::string_view pem) {
  if (pem.size() > INT_MAX) return Err(Status::InvalidArgument("private key too large"));
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return Err(Status::Internal("BIO_new_mem_buf: " + TakeOpenSslError()));
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return Err(Status::InvalidArgument("the private key is not an unencrypted PEM key (" +
                                       TakeOpenSslError() + ")"));
  }
  if (!EVP_PKEY_is_a(key.get(), "RSA")) {
    return Err(Status::InvalidArgument("the private key is not an RSA key (RS256 needs one)"));
  }
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    return Err(Status::InvalidArgument("the RSA key has " +
                                       std::to_string(EVP_PKEY_get_bits(key.get())) +
                                       " bits; RS256 needs at least 2048"));
  }
  return key;
}

Result<std::string> SignRs256(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return Err(Status::Internal("EVP_MD_CTX_new: " + TakeOpenSslError()));
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return Err(Status::Internal("EVP_DigestSignInit: " + TakeOpenSslError()));
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, bytes, data.size()) != 1) {
    return Err(Status::Internal("EVP_DigestSign: " + TakeOpenSslError()));
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, bytes,
                     data.size()) != 1) {
    return Err(Status::Internal("EVP_DigestSign: " + TakeOpenSslError()));
  }
  signature.resize(size);
  return signature;
}

std::string JwtHeaderJson(const JwtAssertionClaims& claims) {
  std::string out = R"({"alg":"RS256","kid":)";
  AppendJsonString(out, claims.key_id);
  out += '}';
  return out;
}

std::string JwtClaimsJson(const JwtAssertionClaims& claims) {
  std::string out = R"({"iss":)";
  AppendJsonString(out, claims.user_id);
  out += R"(,"sub":)";
  AppendJsonString(out, claims.user_id);
  out += R"(,"aud":)";
  AppendJsonString(out, claims.audience);
  out += R"(,"iat":)";
  out += std::to_string(claims.issued_at);
  out += R"(,"exp":)";
  out += std::to_string(claims.issued_at + claims.lifetime.count());
  out += '}';
  return out;
}

Result<std::string> MakeJwtAssertion(EVP_PKEY* key, const JwtAssertionClaims& claims) {
  std::string jwt = Base64UrlEncode(JwtHeaderJson(claims));
  jwt += '.';
  jwt += Base64UrlEncode(JwtClaimsJson(claims));
  Result<std::string> signature = SignRs256(key, jwt);
  if (!signature) return Err(signature.error());
  jwt += '.';
  jwt += Base64UrlEncode(*signature);
  return jwt;
}

std::string JwtBearerGrantForm(std::string_view assertion) {
  std::string out = "grant_type=" + PercentEncode("urn:ietf:params:oauth:grant-type:jwt-bearer");
  out += "&scope=" + PercentEncode("openid urn:zitadel:iam:org:project:id:zitadel:aud");
  out += "&assertion=";
  out += PercentEncode(assertion);
  return out;
}

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace policyd::upstream_internal
