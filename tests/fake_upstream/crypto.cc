#include "fake_upstream/crypto.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "fake_upstream/fake_upstream.h"

namespace policyd::testing_support {
namespace {

struct Free {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

Ptr<EVP_PKEY> ReadKey(std::string_view pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key) return key;
  bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Ptr<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Ptr<EVP_PKEY> GenerateKey(const char* algorithm, bool rsa) {
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0) return nullptr;
  if (rsa ? EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) <= 0
          : EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") <= 0) {
    return nullptr;
  }
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &key) <= 0) return nullptr;
  return Ptr<EVP_PKEY>(key);
}

Status WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

Result<nlohmann::json> DecodeJsonPart(std::string_view part, std::string_view what) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return Err(Status::InvalidArgument(std::string(what) + " is not base64url"));
  auto json = nlohmann::json::parse(*bytes, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Err(Status::InvalidArgument(std::string(what) + " is not a JSON object"));
  }
  return json;
}

bool AudienceContains(const nlohmann::json& aud, std::string_view audience) {
  const auto same = [&](const nlohmann::json& a) {
    if (!a.is_string()) return false;
    std::string_view s = a.get_ref<const std::string&>();
    if (s.ends_with('/')) s.remove_suffix(1);
    return s == audience;
  };
  if (aud.is_array()) return std::any_of(aud.begin(), aud.end(), same);
  return same(aud);
}

Status CheckClaims(const nlohmann::json& claims, const std::string& user_id,
                   std::string_view audience, std::int64_t now) {
  const auto str = [&](const char* k) {
    return claims.contains(k) && claims[k].is_string() ? claims[k].get<std::string>() : "";
  };
  if (str("iss") != user_id) return Status::InvalidArgument("iss is not the key's user id");
  if (str("sub") != user_id) return Status::InvalidArgument("sub is not the key's user id");
  if (!claims.contains("aud") || !AudienceContains(claims["aud"], audience)) {
    return Status::InvalidArgument("aud does not contain the issuer " + std::string(audience));
  }
  if (!claims.contains("exp") || !claims["exp"].is_number()) {
    return Status::InvalidArgument("exp missing");
  }
  if (claims["exp"].get<double>() <= static_cast<double>(now)) {
    return Status::InvalidArgument("assertion expired");
  }
  if (!claims.contains("iat") || !claims["iat"].is_number()) {
    return Status::InvalidArgument("iat missing");
  }
  const double iat = claims["iat"].get<double>();
  if (iat < static_cast<double>(now - 3600)) return Status::InvalidArgument("iat too old");
  if (iat > static_cast<double>(now + 60)) return Status::InvalidArgument("iat in the future");
  return Status::Ok();
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return Status::Internal(std::string("bad extension ") + value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::Ok() : Status::Internal("X509_add_ext failed");
}

Status AddExtensions(X509* cert, X509V3_CTX* ctx, bool ca) {
  POLICYD_RETURN_IF_ERROR(AddExtension(cert, ctx, NID_basic_constraints,
                                       ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  POLICYD_RETURN_IF_ERROR(AddExtension(
      cert, ctx, NID_key_usage,
      ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment"));
  POLICYD_RETURN_IF_ERROR(AddExtension(cert, ctx, NID_subject_key_identifier, "hash"));
  if (ca) return Status::Ok();
  POLICYD_RETURN_IF_ERROR(AddExtension(cert, ctx, NID_authority_key_identifier, "keyid:always"));
  POLICYD_RETURN_IF_ERROR(AddExtension(cert, ctx, NID_ext_key_usage, "serverAuth"));
  return AddExtension(cert, ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
}

// A certificate for `key` named `cn`, signed by `issuer_key` (self-signed if `issuer` is null).
Result<Ptr<X509>> MakeCertificate(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key,
                                  long serial) {
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  const Status extended = AddExtensions(cert.get(), &ctx, issuer == nullptr);
  if (!extended.ok()) return Err(extended);
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return Err(Status::Internal("X509_sign failed"));
  }
  return cert;
}

std::string CertPem(X509* cert) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioString(bio.get());
}

std::string PrivateKeyPem(EVP_PKEY* key, bool pkcs8) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (pkcs8) {
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  return BioString(bio.get());
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3F];
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  while (text.ends_with('=')) text.remove_suffix(1);
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return Err(Status::InvalidArgument("not base64url"));
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string RandomToken() {
  std::array<unsigned char, 32> bytes{};
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

Status CheckKeyPem(std::string_view pem) {
  return ReadKey(pem) ? Status::Ok() : Status::InvalidArgument("not a PEM public or private key");
}

Result<std::string> VerifyAssertion(std::string_view jwt,
                                    const std::map<std::string, RegisteredKey, std::less<>>& keys,
                                    std::string_view audience, std::int64_t now_seconds) {
  const std::size_t dot1 = jwt.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return Err(Status::InvalidArgument("assertion is not a JWS in compact form"));
  }
  auto header = DecodeJsonPart(jwt.substr(0, dot1), "JWT header");
  if (!header) return Err(header.error());
  if (header->value("alg", "") != "RS256") return Err(Status::InvalidArgument("alg is not RS256"));
  const auto key = keys.find(header->value("kid", ""));
  if (key == keys.end()) return Err(Status::InvalidArgument("unknown kid"));
  auto signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!signature) return Err(Status::InvalidArgument("signature is not base64url"));
  Ptr<EVP_PKEY> pkey = ReadKey(key->second.public_key_pem);
  Ptr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  const std::string_view signed_part = jwt.substr(0, dot2);
  if (!pkey || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestVerify(
          md.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) != 1) {
    return Err(Status::InvalidArgument("signature does not verify"));
  }
  auto claims = DecodeJsonPart(jwt.substr(dot1 + 1, dot2 - dot1 - 1), "JWT claims");
  if (!claims) return Err(claims.error());
  const Status checked = CheckClaims(*claims, key->second.user_id, audience, now_seconds);
  if (!checked.ok()) return Err(checked);
  return key->second.user_id;
}

Result<ServiceAccountKey> GenerateServiceAccountKey(const std::string& dir, std::string user_id,
                                                    std::string key_id, bool pkcs8) {
  Ptr<EVP_PKEY> key = GenerateKey("RSA", true);
  if (!key) return Err(Status::Internal("RSA key generation failed"));
  ServiceAccountKey out;
  out.user_id = std::move(user_id);
  out.key_id = std::move(key_id);
  out.private_key_pem = PrivateKeyPem(key.get(), pkcs8);
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key.get());
  out.public_key_pem = BioString(bio.get());
  out.key_file_path = dir + "/" + out.key_id + ".json";
  nlohmann::ordered_json file = {{"type", "serviceaccount"},
                                 {"keyId", out.key_id},
                                 {"key", out.private_key_pem},
                                 {"expirationDate", "9999-12-31T23:59:59Z"},
                                 {"userId", out.user_id}};
  const Status written = WriteFile(out.key_file_path, file.dump());
  if (!written.ok()) return Err(written);
  return out;
}

Result<std::string> SignAssertion(std::string_view private_key_pem, std::string_view key_id,
                                  const AssertionClaims& claims) {
  Ptr<EVP_PKEY> key = ReadKey(private_key_pem);
  if (!key) return Err(Status::InvalidArgument("not a PEM private key"));
  const nlohmann::ordered_json header = {{"alg", "RS256"}, {"kid", key_id}};
  const nlohmann::ordered_json payload = {{"iss", claims.issuer},
                                          {"sub", claims.subject},
                                          {"aud", claims.audience},
                                          {"iat", claims.issued_at},
                                          {"exp", claims.expires_at}};
  const std::string signing_input =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  Ptr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &length, data, signing_input.size()) != 1) {
    return Err(Status::Internal("EVP_DigestSign failed"));
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     signing_input.size()) != 1) {
    return Err(Status::Internal("EVP_DigestSign failed"));
  }
  signature.resize(length);
  return signing_input + "." + Base64UrlEncode(signature);
}

Result<TlsFiles> GenerateTlsFiles(const std::string& dir) {
  Ptr<EVP_PKEY> ca_key = GenerateKey("EC", false);
  Ptr<EVP_PKEY> server_key = GenerateKey("EC", false);
  if (!ca_key || !server_key) return Err(Status::Internal("EC key generation failed"));
  auto ca = MakeCertificate(ca_key.get(), "policyd test CA", nullptr, ca_key.get(), 1);
  if (!ca) return Err(ca.error());
  auto leaf = MakeCertificate(server_key.get(), "localhost", ca->get(), ca_key.get(), 2);
  if (!leaf) return Err(leaf.error());
  TlsFiles files{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem"};
  for (const auto& [path, content] :
       {std::pair{files.ca_cert_path, CertPem(ca->get())},
        std::pair{files.cert_path, CertPem(leaf->get()) + CertPem(ca->get())},
        std::pair{files.key_path, PrivateKeyPem(server_key.get(), true)}}) {
    const Status written = WriteFile(path, content);
    if (!written.ok()) return Err(written);
  }
  return files;
}

}  // namespace policyd::testing_support
