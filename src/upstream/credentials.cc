#include "upstream/credentials.h"

#include <cstdint>
#include <string>

#include "json/upstream_json.h"

namespace policyd::upstream_internal {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

Result<std::string> ParsePersonalAccessToken(std::string_view contents) {
  while (!contents.empty() && IsSpace(contents.front())) contents.remove_prefix(1);
  while (!contents.empty() && IsSpace(contents.back())) contents.remove_suffix(1);
  if (contents.empty()) return Err(Status::InvalidArgument("the token file is empty"));
  for (char c : contents) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return Err(Status::InvalidArgument(
          "the token file holds more than one token, or a token with whitespace or control "
          "characters in it"));
    }
  }
  return std::string(contents);
}

Credentials::~Credentials() { Wipe(token_); }

Result<std::shared_ptr<const Credentials>> Credentials::LoadTokenFile(const std::string& path) {
  Result<std::string> contents = ReadSecretFile("token file", path);
  if (!contents) return Err(contents.error());
  Result<std::string> token = ParsePersonalAccessToken(*contents);
  Wipe(*contents);
  if (!token) return Err(token.error().WithContext("token file " + path));
  std::shared_ptr<Credentials> credentials(new Credentials());
  credentials->kind_ = Kind::kPersonalAccessToken;
  credentials->path_ = path;
  credentials->token_ = std::move(*token);
  return credentials;
}

Result<std::shared_ptr<const Credentials>> Credentials::LoadKeyFile(const std::string& path) {
  Result<std::string> contents = ReadSecretFile("key file", path);
  if (!contents) return Err(contents.error());
  Result<ServiceAccountKey> key = ParseServiceAccountKey(*contents);
  Wipe(*contents);
  if (!key) return Err(key.error().WithContext("key file " + path));
  Result<PrivateKey> private_key = LoadRsaPrivateKey(key->private_key_pem);
  Wipe(key->private_key_pem);
  if (!private_key) return Err(private_key.error().WithContext("key file " + path));
  std::shared_ptr<Credentials> credentials(new Credentials());
  credentials->kind_ = Kind::kServiceAccountKey;
  credentials->path_ = path;
  credentials->key_id_ = std::move(key->key_id);
  credentials->user_id_ = std::move(key->user_id);
  credentials->key_expiration_ = key->expiration_date;
  credentials->private_key_ = std::move(*private_key);
  return credentials;
}

}  // namespace policyd::upstream_internal
