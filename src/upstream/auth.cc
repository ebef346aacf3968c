#include "upstream/auth.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "json/timestamp.h"
#include "json/upstream_json.h"
#include "upstream/http_errors.h"
#include "upstream/jwt.h"

namespace policyd::upstream_internal {
namespace {

constexpr std::int64_t kDefaultExpiresIn = 300;          // when the answer does not say
constexpr std::int64_t kMaxExpiresIn = 365 * 24 * 3600;  // keeps the arithmetic far from overflow
constexpr std::int64_t kMinRefreshMargin = 60;
constexpr std::chrono::seconds kAssertionLifetime{3600};
constexpr std::string_view kTokenRequest = "POST /oauth/v2/token";

// When to stop using a token obtained at `now` that expires in `expires_in` seconds.
Timestamp RefreshAt(Timestamp now, std::int64_t expires_in) {
  const std::int64_t lifetime =
      expires_in > 0 ? std::min(expires_in, kMaxExpiresIn) : kDefaultExpiresIn;
  const std::int64_t margin = std::max(kMinRefreshMargin, lifetime / 10);
  return Timestamp{now.seconds + std::max<std::int64_t>(0, lifetime - margin), now.nanos};
}

std::string KeyHint(const Credentials& credentials, Timestamp now) {
  std::string hint = "check the key file " + credentials.path() + " (keyId " +
                     credentials.key_id() + ", userId " + credentials.user_id() + ")";
  const Timestamp expiration = credentials.key_expiration();
  if (!expiration.IsZero() && expiration <= now) {
    hint += "; the key expired at " + FormatTimestamp(expiration);
  }
  return hint;
}

}  // namespace

TokenSource::TokenSource(std::shared_ptr<const Credentials> credentials, std::string token_url,
                         std::string audience, const Clock& clock)
    : token_url_(std::move(token_url)),
      audience_(std::move(audience)),
      clock_(clock),
      credentials_(std::move(credentials)) {}

Result<std::string> TokenSource::BearerToken(HttpTransport& transport,
                                             std::optional<std::string>* retry_after) {
  std::shared_ptr<const Credentials> credentials;
  {
    std::lock_guard lock(mu_);
    credentials = credentials_;
    if (credentials->kind() == Credentials::Kind::kPersonalAccessToken) {
      return credentials->personal_access_token();
    }
    if (!cached_.token.empty() && clock_.Now() < cached_.refresh_at) return cached_.token;
  }
  Result<CachedToken> fetched = FetchToken(*credentials, transport, retry_after);
  if (!fetched) return Err(fetched.error());
  std::lock_guard lock(mu_);
  // A Reload() during the fetch wins: this token belongs to the old key, so it is not cached
  // (but it is still valid for this one call).
  if (credentials_ == credentials) {
    Wipe(cached_.token);
    cached_ = *fetched;
  }
  std::string token = std::move(fetched->token);
  return token;
}

Result<TokenSource::CachedToken> TokenSource::FetchToken(
    const Credentials& credentials, HttpTransport& transport,
    std::optional<std::string>* retry_after) const {
  const Timestamp now = clock_.Now();
  JwtAssertionClaims claims;
  claims.key_id = credentials.key_id();
  claims.user_id = credentials.user_id();
  claims.audience = audience_;
  claims.issued_at = now.seconds;
  claims.lifetime = kAssertionLifetime;
  Result<std::string> assertion = MakeJwtAssertion(credentials.private_key(), claims);
  if (!assertion) return Err(assertion.error().WithContext("signing the token request"));
  std::string form = JwtBearerGrantForm(*assertion);
  Wipe(*assertion);

  HttpRequest request;
  request.method = "POST";
  request.url = token_url_;
  request.description = kTokenRequest;
  request.content_type = "application/x-www-form-urlencoded";
  request.body = form;
  Result<HttpResponse> response = transport.Perform(request);
  Wipe(form);
  if (!response) return Err(response.error());
  if (response->status == 400 || response->status == 401) {
    return Err(Status::Unauthenticated(
        DescribeHttpAnswer(kTokenRequest, response->status, response->body) +
        ": the service-account key was rejected; " + KeyHint(credentials, now)));
  }
  if (response->status < 200 || response->status > 299) {
    if (response->status == 429 && retry_after != nullptr) *retry_after = response->retry_after;
    return Err(
        StatusFromHttp(kTokenRequest, response->status, response->body, KeyHint(credentials, now)));
  }
  Result<TokenResponse> token = ParseTokenResponse(response->body);
  Wipe(response->body);
  if (!token) {
    return Err(Status::Internal("malformed response from " + std::string(kTokenRequest) + ": " +
                                token.error().message()));
  }
  return CachedToken{std::move(token->access_token), RefreshAt(now, token->expires_in)};
}

void TokenSource::Invalidate(const std::string& token) {
  std::lock_guard lock(mu_);
  if (cached_.token == token) Wipe(cached_.token);
}

bool TokenSource::CanRefresh() const {
  std::lock_guard lock(mu_);
  return credentials_->kind() == Credentials::Kind::kServiceAccountKey;
}

std::string TokenSource::CredentialsHint() const {
  std::lock_guard lock(mu_);
  if (credentials_->kind() == Credentials::Kind::kPersonalAccessToken) {
    return "check the token file " + credentials_->path() +
           " (the token may be expired or revoked)";
  }
  return KeyHint(*credentials_, clock_.Now());
}

void TokenSource::Reload(std::shared_ptr<const Credentials> credentials) {
  std::lock_guard lock(mu_);
  credentials_ = std::move(credentials);
  Wipe(cached_.token);
}

}  // namespace policyd::upstream_internal
