// The libcurl-based Upstream: one API call = one HTTP request (plus a token request when the
// JWT-profile access token is missing, due for refresh, or was just rejected with a 401).
#include "upstream/http_upstream.h"

#include <curl/curl.h>

#include <string>
#include <utility>

#include "json/upstream_json.h"
#include "resolve/resolve.h"
#include "upstream/auth.h"
#include "upstream/credentials.h"
#include "upstream/http_errors.h"
#include "upstream/jwt.h"
#include "upstream/transport.h"

namespace policyd {
namespace upstream_internal {
namespace {

constexpr std::uint32_t kMaxPageSize = 1000;    // the upstream clamps larger limits to this
constexpr std::size_t kMaxEventTypes = 30;      // the upstream refuses more
constexpr std::size_t kMaxAggregateTypes = 10;  // likewise

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// One part of a parsed URL; "" when absent.
std::string UrlPart(CURLU* url, CURLUPart part, CURLUcode& code) {
  char* value = nullptr;
  code = curl_url_get(url, part, &value, 0);
  std::string out = value != nullptr ? value : "";
  curl_free(value);
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  if (host.substr(0, 4) != "127.") return false;
  return host.find_first_not_of("0123456789.") == std::string_view::npos;
}

// Replaces every occurrence of a (long enough to be distinctive) token in the message.
Status Redact(Status status, std::string_view token) {
  if (token.size() < 8 || status.message().find(token) == std::string::npos) return status;
  std::string message = status.message();
  for (std::size_t at = message.find(token); at != std::string::npos;
       at = message.find(token, at)) {
    message.replace(at, token.size(), "<redacted>");
  }
  return Status(status.code(), std::move(message));
}

Status Malformed(std::string_view request, const Status& parse_error) {
  return Status::Internal("malformed response from " + std::string(request) + ": " +
                          parse_error.message());
}

class HttpUpstream final : public Upstream {
 public:
  HttpUpstream(std::string base_url, std::string credentials_file, bool uses_key_file,
               const Clock& clock, std::unique_ptr<HttpTransport> transport,
               std::shared_ptr<const Credentials> credentials)
      : base_url_(std::move(base_url)),
        credentials_file_(std::move(credentials_file)),
        uses_key_file_(uses_key_file),
        clock_(clock),
        transport_(std::move(transport)),
        tokens_(std::move(credentials), base_url_ + "/oauth/v2/token", base_url_, clock) {}

  Result<InstanceRecord> GetDefaultPolicy() override {
    constexpr std::string_view kPath = "/admin/v1/policies/domain";
    Result<ParsedPolicy> policy = GetPolicy(kPath);
    if (!policy) return Err(policy.error());
    InstanceRecord instance;
    instance.id = policy->record.details.resource_owner;
    if (Status s = ValidateId("the instance id (policy.details.resourceOwner)", instance.id);
        !s.ok()) {
      return Err(Malformed("GET " + std::string(kPath), s));
    }
    instance.policy = std::move(policy->record);
    return instance;
  }

  Result<ParsedPolicy> GetOrgPolicy(std::string_view org_id) override {
    if (Status s = ValidateId("org id", org_id); !s.ok()) return Err(std::move(s));
    return GetPolicy("/admin/v1/orgs/" + PercentEncode(org_id) + "/policies/domain");
  }

  Result<ParsedKindPolicy> GetKindPolicy(PolicyKind kind, std::string_view org_id) override {
    if (kind == PolicyKind::kDomain || !IsStoredKind(static_cast<std::uint8_t>(kind))) {
      return Err(Status::InvalidArgument("GetKindPolicy: not a generic policy kind"));
    }
    const KindSpec& spec = SpecOf(kind);
    if (!org_id.empty()) {
      if (Status s = ValidateId("org id", org_id); !s.ok()) return Err(std::move(s));
    }
    const std::string path(org_id.empty() ? spec.admin_path : spec.management_path);
    Result<std::string> body = Call("GET", path, "", org_id);
    if (!body) return Err(body.error());
    Result<ParsedKindPolicy> policy = ParseKindGetResponse(kind, *body);
    if (!policy) {
      return Err(
          Malformed("GET " + path + (org_id.empty() ? "" : " (org " + std::string(org_id) + ")"),
                    policy.error()));
    }
    policy->policy.kind = kind;
    return policy;
  }

  Result<OrgPage> ListOrgs(std::uint64_t offset, std::uint32_t limit) override {
    if (limit == 0 || limit > kMaxPageSize) {
      return Err(
          Status::InvalidArgument("ListOrgs: limit must be 1.." + std::to_string(kMaxPageSize)));
    }
    constexpr std::string_view kRequest = "POST /admin/v1/orgs/_search";
    Result<std::string> body =
        Call("POST", "/admin/v1/orgs/_search", FormatListOrgsRequest(offset, limit));
    if (!body) return Err(body.error());
    Result<OrgPage> page = ParseListOrgsResponse(*body);
    if (!page) return Err(Malformed(kRequest, page.error()));
    return page;
  }

  Result<OrgDomainPage> ListOrgDomains(std::string_view org_id, std::uint64_t offset,
                                       std::uint32_t limit) override {
    if (Status s = ValidateId("org id", org_id); !s.ok()) return Err(std::move(s));
    if (limit == 0 || limit > kMaxPageSize) {
      return Err(Status::InvalidArgument("ListOrgDomains: limit must be 1.." +
                                         std::to_string(kMaxPageSize)));
    }
    constexpr std::string_view kPath = "/management/v1/orgs/me/domains/_search";
    Result<std::string> body =
        Call("POST", std::string(kPath), FormatListOrgsRequest(offset, limit), org_id);
    if (!body) return Err(body.error());
    Result<OrgDomainPage> page = ParseListOrgDomainsResponse(*body, org_id);
    if (!page) {
      return Err(Malformed("POST " + std::string(kPath) + " (org " + std::string(org_id) + ")",
                           page.error()));
    }
    return page;
  }

  Result<InstanceDomainPage> ListInstanceDomains(std::uint64_t offset,
                                                 std::uint32_t limit) override {
    if (limit == 0 || limit > kMaxPageSize) {
      return Err(Status::InvalidArgument("ListInstanceDomains: limit must be 1.." +
                                         std::to_string(kMaxPageSize)));
    }
    constexpr std::string_view kPath = "/admin/v1/domains/_search";
    Result<std::string> body =
        Call("POST", std::string(kPath), FormatListOrgsRequest(offset, limit));
    if (!body) return Err(body.error());
    Result<InstanceDomainPage> page = ParseListInstanceDomainsResponse(*body);
    if (!page) return Err(Malformed("POST " + std::string(kPath), page.error()));
    return page;
  }

  Result<std::vector<Event>> ListEvents(const EventQuery& query) override {
    if (query.limit == 0 || query.limit > kMaxPageSize) {
      return Err(
          Status::InvalidArgument("ListEvents: limit must be 1.." + std::to_string(kMaxPageSize)));
    }
    if (query.event_types.size() > kMaxEventTypes) {
      return Err(Status::InvalidArgument("ListEvents: at most " + std::to_string(kMaxEventTypes) +
                                         " event types"));
    }
    if (query.aggregate_types.size() > kMaxAggregateTypes) {
      return Err(Status::InvalidArgument("ListEvents: at most " +
                                         std::to_string(kMaxAggregateTypes) + " aggregate types"));
    }
    constexpr std::string_view kRequest = "POST /admin/v1/events/_search";
    Result<std::string> body =
        Call("POST", "/admin/v1/events/_search",
             FormatListEventsRequest(query.ascending, query.limit, query.event_types,
                                     query.aggregate_types, query.from));
    if (!body) return Err(body.error());
    Result<std::vector<Event>> events = ParseListEventsResponse(*body);
    if (!events) return Err(Malformed(kRequest, events.error()));
    return events;
  }

  std::optional<std::chrono::seconds> retry_after() const override { return retry_after_; }

  std::uint64_t request_count() const override { return transport_->request_count(); }

  void Abort() override { transport_->Abort(); }

  Status ReloadCredentials() override {
    Result<std::shared_ptr<const Credentials>> loaded = LoadCredentials();
    if (!loaded) return loaded.error();
    tokens_.Reload(std::move(*loaded));
    return Status::Ok();
  }

 private:
  Result<std::shared_ptr<const Credentials>> LoadCredentials() const {
    return uses_key_file_ ? Credentials::LoadKeyFile(credentials_file_)
                          : Credentials::LoadTokenFile(credentials_file_);
  }

  Result<ParsedPolicy> GetPolicy(std::string_view path) {
    Result<std::string> body = Call("GET", std::string(path), "");
    if (!body) return Err(body.error());
    Result<ParsedPolicy> policy = ParseGetPolicyResponse(*body);
    if (!policy) return Err(Malformed("GET " + std::string(path), policy.error()));
    return policy;
  }

  // One API call: the 2xx body, or the error as upstream.h documents it. `org_id`, unless
  // empty, is sent as x-zitadel-orgid (the management API's org; checked by ValidateId).
  Result<std::string> Call(std::string_view method, const std::string& path, std::string body,
                           std::string_view org_id = {});

  void NoteRetryAfter(const std::optional<std::string>& header) {
    if (header) retry_after_ = ParseRetryAfter(*header, clock_.Now());
  }

  const std::string base_url_;
  const std::string credentials_file_;
  const bool uses_key_file_;
  const Clock& clock_;
  std::unique_ptr<HttpTransport> transport_;
  TokenSource tokens_;
  std::optional<std::chrono::seconds> retry_after_;
};

Result<std::string> HttpUpstream::Call(std::string_view method, const std::string& path,
                                       std::string body, std::string_view org_id) {
  retry_after_.reset();
  const std::string description = std::string(method) + " " + path;
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.description = description;
  if (method == "POST") request.content_type = "application/json";
  request.body = body;
  request.org_id = org_id;
  for (int attempt = 0;; ++attempt) {
    std::optional<std::string> token_retry_after;
    Result<std::string> token = tokens_.BearerToken(*transport_, &token_retry_after);
    if (!token) {
      NoteRetryAfter(token_retry_after);
      return Err(token.error());
    }
    request.bearer_token = *token;
    Result<HttpResponse> response = transport_->Perform(request);
    request.bearer_token = {};
    if (!response) {
      Status error = Redact(response.error(), *token);
      Wipe(*token);
      return Err(std::move(error));
    }
    if (response->status >= 200 && response->status <= 299) {
      Wipe(*token);
      return std::move(response->body);
    }
    // With the JWT profile a 401 usually means the access token expired early or was revoked:
    // fetch a fresh one and try once more.
    if (response->status == 401 && attempt == 0 && tokens_.CanRefresh()) {
      tokens_.Invalidate(*token);
      Wipe(*token);
      continue;
    }
    if (response->status == 429) NoteRetryAfter(response->retry_after);
    Status error = Redact(
        StatusFromHttp(description, response->status, response->body, tokens_.CredentialsHint()),
        *token);
    Wipe(*token);
    return Err(std::move(error));
  }
}

}  // namespace

Result<std::string> NormalizeBaseUrl(std::string_view url) {
  if (Status s = InitCurlOnce(); !s.ok()) return Err(std::move(s));
  const std::string text(url);
  const auto invalid = [&text](std::string_view why) {
    return Err(Status::InvalidArgument("upstream URL \"" + text + "\" " + std::string(why)));
  };
  std::unique_ptr<CURLU, CurlUrlDeleter> parsed(curl_url());
  if (parsed == nullptr) return Err(Status::ResourceExhausted("curl_url failed"));
  if (text.empty() || curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return invalid("is not a valid absolute URL");
  }
  CURLUcode code;
  const std::string scheme = UrlPart(parsed.get(), CURLUPART_SCHEME, code);
  const std::string host = UrlPart(parsed.get(), CURLUPART_HOST, code);
  if (code != CURLUE_OK || host.empty()) return invalid("has no host");
  if (scheme != "https" && !(scheme == "http" && IsLoopbackHost(host))) {
    return invalid("must use https:// (http:// is only accepted for loopback hosts)");
  }
  UrlPart(parsed.get(), CURLUPART_USER, code);
  if (code != CURLUE_NO_USER) return invalid("must not contain user info");
  UrlPart(parsed.get(), CURLUPART_QUERY, code);
  if (code != CURLUE_NO_QUERY) return invalid("must not contain a query");
  UrlPart(parsed.get(), CURLUPART_FRAGMENT, code);
  if (code != CURLUE_NO_FRAGMENT) return invalid("must not contain a fragment");
  const std::string port = UrlPart(parsed.get(), CURLUPART_PORT, code);
  std::string path = UrlPart(parsed.get(), CURLUPART_PATH, code);
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string normalized = scheme + "://" + host;
  if (!port.empty()) normalized += ":" + port;
  return normalized + path;
}

Result<std::unique_ptr<Upstream>> MakeHttpUpstreamForTesting(const UpstreamOptions& options,
                                                             const Clock& clock,
                                                             const TestingKnobs& knobs) {
  Result<std::string> base_url = NormalizeBaseUrl(options.base_url);
  if (!base_url) return Err(base_url.error());
  if (options.token_file.empty() == options.key_file.empty()) {
    return Err(Status::InvalidArgument(
        "the upstream needs exactly one of a token file (Personal Access Token) or a key file "
        "(service-account key)"));
  }
  if (options.connect_timeout.count() <= 0 || options.total_timeout.count() <= 0) {
    return Err(Status::InvalidArgument("upstream timeouts must be positive"));
  }
  const bool key = !options.key_file.empty();
  Result<std::shared_ptr<const Credentials>> credentials =
      key ? Credentials::LoadKeyFile(options.key_file)
          : Credentials::LoadTokenFile(options.token_file);
  if (!credentials) return Err(credentials.error());

  TransportOptions transport_options;
  transport_options.connect_timeout = options.connect_timeout;
  transport_options.total_timeout = options.total_timeout;
  transport_options.user_agent = options.user_agent;
  transport_options.ca_file = options.ca_file;
  if (knobs.max_body_bytes != 0) transport_options.max_body_bytes = knobs.max_body_bytes;
  transport_options.default_ca_bundle_for_testing = knobs.default_ca_bundle;
  Result<std::unique_ptr<HttpTransport>> transport = HttpTransport::Create(transport_options);
  if (!transport) return Err(transport.error());

  return std::unique_ptr<Upstream>(std::make_unique<HttpUpstream>(
      std::move(*base_url), key ? options.key_file : options.token_file, key, clock,
      std::move(*transport), std::move(*credentials)));
}

}  // namespace upstream_internal

Result<std::unique_ptr<Upstream>> MakeHttpUpstream(const UpstreamOptions& options,
                                                   const Clock& clock) {
  return upstream_internal::MakeHttpUpstreamForTesting(options, clock, {});
}

}  // namespace policyd
