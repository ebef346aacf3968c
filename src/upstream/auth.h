// TokenSource: the bearer token for the next API call. With a Personal Access Token that is the
// token itself; with a service-account key it is an access token from ZITADEL's token endpoint
// (JWT-profile grant, zitadel-api.md §4), cached and refreshed ahead of its expiry. Internal to
// src/upstream/.
//
// Refresh rule: a token obtained at t with expires_in E is used until
// t + E - max(60 s, E / 10); the next call after that fetches a new one. expires_in absent or 0
// counts as 300 s. Invalidate() drops a token the upstream rejected (401), so the next call fetches
// a fresh one.
//
// Thread-safety: BearerToken() and Invalidate() are called by the one thread that performs
// requests (they use the transport); Reload() and CanRefresh() may be called from any thread.
// The token fetch itself runs without holding the lock, so Reload() never waits on the network.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "upstream/credentials.h"
#include "upstream/transport.h"

namespace policyd::upstream_internal {

class TokenSource {
 public:
  // `token_url` is "<base_url>/oauth/v2/token"; `audience` is the JWT's "aud" (the base URL).
  // `clock` must outlive this object.
  TokenSource(std::shared_ptr<const Credentials> credentials, std::string token_url,
              std::string audience, const Clock& clock);

  // The token to send now. Errors (JWT profile only; a PAT never fails): the token request's
  // transport errors as StatusFromCurl; HTTP 400/401 from the token endpoint UNAUTHENTICATED
  // "the service-account key was rejected ..." naming the key file; other HTTP errors as
  // StatusFromHttp; a 200 whose body does not parse INTERNAL "malformed response from
  // POST /oauth/v2/token: ...". Never contains the key, the assertion or a token. After a 429
  // from the token endpoint, `*retry_after` (if not null) gets its Retry-After header.
  Result<std::string> BearerToken(HttpTransport& transport,
                                  std::optional<std::string>* retry_after = nullptr);

  // Forgets the cached access token if it is still `token`.
  void Invalidate(const std::string& token);

  // True when a rejected token can be replaced by fetching a new one (JWT profile).
  bool CanRefresh() const;

  // What to say after a 401: "check the token file <path>" or "check the key file <path> ...".
  std::string CredentialsHint() const;

  // Replaces the credentials and drops the cached access token.
  void Reload(std::shared_ptr<const Credentials> credentials);

 private:
  struct CachedToken {
    std::string token;
    Timestamp refresh_at;
  };

  Result<CachedToken> FetchToken(const Credentials& credentials, HttpTransport& transport,
                                 std::optional<std::string>* retry_after) const;

  const std::string token_url_;
  const std::string audience_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::shared_ptr<const Credentials> credentials_;  // guarded by mu_
  CachedToken cached_;                              // guarded by mu_; empty token: none
};

}  // namespace policyd::upstream_internal
