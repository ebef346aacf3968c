// Credentials for the upstream IAM: a Personal Access Token (token file) or a service account's
// RSA key (key file, for the JWT-profile grant). See zitadel-api.md §4. Internal to
// src/upstream/.
//
// A Credentials value is immutable once loaded and shared (shared_ptr<const Credentials>)
// between the request path and ReloadCredentials(); secrets are wiped when it is destroyed.
// Messages name the file, never its contents.
//
// Thread-safety: loading is reentrant; a loaded Credentials is safe to read from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/secret_file.h"
#include "base/status.h"
#include "base/timestamp.h"
#include "upstream/jwt.h"

namespace policyd::upstream_internal {

// The secret-file reader, shared with the webhook signing key (base/secret_file.h).
using ::policyd::kMaxSecretFileBytes;
using ::policyd::ReadSecretFile;

// A Personal Access Token from the token file's contents: surrounding whitespace (a trailing
// newline) is trimmed. INVALID_ARGUMENT when nothing is left or the token contains whitespace or
// control characters inside (it goes into an HTTP header). Messages never quote the token.
Result<std::string> ParsePersonalAccessToken(std::string_view contents);

class Credentials {
 public:
  enum class Kind { kPersonalAccessToken, kServiceAccountKey };

  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
  ~Credentials();

  // Loads a token file. Errors: as ReadSecretFile and ParsePersonalAccessToken.
  static Result<std::shared_ptr<const Credentials>> LoadTokenFile(const std::string& path);

  // Loads a service-account key file: JSON as json/upstream_json.h ParseServiceAccountKey, with an
  // RSA key as LoadRsaPrivateKey. Errors: INVALID_ARGUMENT, naming the file.
  static Result<std::shared_ptr<const Credentials>> LoadKeyFile(const std::string& path);

  Kind kind() const { return kind_; }
  const std::string& path() const { return path_; }

  // kPersonalAccessToken only.
  const std::string& personal_access_token() const { return token_; }

  // kServiceAccountKey only.
  const std::string& key_id() const { return key_id_; }
  const std::string& user_id() const { return user_id_; }
  Timestamp key_expiration() const { return key_expiration_; }  // zero: not stated
  EVP_PKEY* private_key() const { return private_key_.get(); }

 private:
  Credentials() = default;

  Kind kind_ = Kind::kPersonalAccessToken;
  std::string path_;
  std::string token_;
  std::string key_id_;
  std::string user_id_;
  Timestamp key_expiration_;
  PrivateKey private_key_;
};

}  // namespace policyd::upstream_internal
