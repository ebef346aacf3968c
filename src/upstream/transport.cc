#include "upstream/transport.h"

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "upstream/http_errors.h"

namespace policyd::upstream_internal {
namespace {

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using TrustAnchors = std::vector<std::unique_ptr<X509, X509Deleter>>;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

// Frees a header list after wiping it: it may hold "Authorization: Bearer <token>".
struct HeaderListDeleter {
  void operator()(curl_slist* list) const {
    for (curl_slist* item = list; item != nullptr; item = item->next) {
      if (item->data != nullptr) OPENSSL_cleanse(item->data, std::strlen(item->data));
    }
    curl_slist_free_all(list);
  }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

Result<TrustAnchors> LoadTrustAnchors(const std::string& path) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    ERR_clear_error();
    return Err(
        Status::InvalidArgument("cannot open ca file " + path + ": " + std::strerror(errno)));
  }
  TrustAnchors anchors;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    anchors.emplace_back(cert);
  }
  // The loop ends with a "no start line" error at the end of the file; anything else is real.
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (ERR_GET_REASON(error) != PEM_R_NO_START_LINE && error != 0) {
    return Err(Status::InvalidArgument("ca file " + path + " holds a malformed PEM certificate"));
  }
  if (anchors.empty()) {
    return Err(Status::InvalidArgument("ca file " + path + " holds no PEM certificate"));
  }
  return anchors;
}

// CURLOPT_SSL_CTX_FUNCTION: runs for each new TLS connection after libcurl has loaded its
// default trust store into the context, and adds policyd's extra trust anchors to it.
CURLcode AddTrustAnchors(CURL*, void* ssl_ctx, void* user) {
  const auto* anchors = static_cast<const TrustAnchors*>(user);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  if (store == nullptr) return CURLE_SSL_CACERT_BADFILE;
  for (const auto& cert : *anchors) {
    // OpenSSL 3 answers 1 for a certificate that is already in the store.
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      ERR_clear_error();
      return CURLE_SSL_CACERT_BADFILE;
    }
  }
  return CURLE_OK;
}

struct BodySink {
  std::string* body = nullptr;
  std::size_t max_bytes = 0;
  bool too_large = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t n = size * count;
  if (n > sink->max_bytes - sink->body->size()) {
    sink->too_large = true;
    return 0;  // anything but n aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

template <typename T>
Status SetOption(CURL* curl, CURLoption option, T value) {
  const CURLcode code = curl_easy_setopt(curl, option, value);
  if (code == CURLE_OK) return Status::Ok();
  return Status::Internal("libcurl refused option " + std::to_string(static_cast<int>(option)) +
                          ": " + curl_easy_strerror(code));
}

}  // namespace

// curl's progress callback: a non-zero return aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int AbortIfAsked(void* aborted, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(aborted)->load(std::memory_order_relaxed) ? 1 : 0;
}

struct HttpTransport::State {
  TransportOptions options;
  CURL* curl = nullptr;
  std::atomic<bool> aborted{false};
  TrustAnchors trust_anchors;
  BodySink sink;
  char error[CURL_ERROR_SIZE] = {};

  ~State() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  Status Configure() {
    const auto ms = [](std::chrono::milliseconds d) { return static_cast<long>(d.count()); };
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_NOSIGNAL, 1L));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_NOPROGRESS, 0L));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_XFERINFOFUNCTION, &AbortIfAsked));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_XFERINFODATA, &aborted));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_ERRORBUFFER, error));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_PROTOCOLS_STR, "http,https"));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_FOLLOWLOCATION, 0L));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_SSL_VERIFYPEER, 1L));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_SSL_VERIFYHOST, 2L));
    POLICYD_RETURN_IF_ERROR(
        SetOption(curl, CURLOPT_CONNECTTIMEOUT_MS, ms(options.connect_timeout)));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_TIMEOUT_MS, ms(options.total_timeout)));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_TCP_KEEPALIVE, 1L));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_USERAGENT, options.user_agent.c_str()));
    // gzip only: it saves most of the bandwidth of big event pages, and unlike brotli it is cheap
    // for the upstream to produce (brotli at default quality costs a server ~100x more CPU).
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_ACCEPT_ENCODING, "gzip"));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_MAXFILESIZE_LARGE,
                                      static_cast<curl_off_t>(options.max_body_bytes)));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_WRITEFUNCTION, &OnBody));
    POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_WRITEDATA, &sink));
    if (!options.default_ca_bundle_for_testing.empty()) {
      POLICYD_RETURN_IF_ERROR(
          SetOption(curl, CURLOPT_CAINFO, options.default_ca_bundle_for_testing.c_str()));
    }
    if (!trust_anchors.empty()) {
      POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_SSL_CTX_FUNCTION, &AddTrustAnchors));
      POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_SSL_CTX_DATA, &trust_anchors));
      POLICYD_RETURN_IF_ERROR(SetOption(curl, CURLOPT_CA_CACHE_TIMEOUT, 0L));
    }
    return Status::Ok();
  }
};

Status InitCurlOnce() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    return Status::Internal(std::string("curl_global_init: ") + curl_easy_strerror(result));
  }
  return Status::Ok();
}

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(const TransportOptions& options) {
  if (Status s = InitCurlOnce(); !s.ok()) return Err(std::move(s));
  auto state = std::make_unique<State>();
  state->options = options;
  if (!options.ca_file.empty()) {
    Result<TrustAnchors> anchors = LoadTrustAnchors(options.ca_file);
    if (!anchors) return Err(anchors.error());
    state->trust_anchors = std::move(*anchors);
  }
  state->curl = curl_easy_init();
  if (state->curl == nullptr) return Err(Status::Internal("curl_easy_init failed"));
  if (Status s = state->Configure(); !s.ok()) return Err(std::move(s));
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(state)));
}

HttpTransport::HttpTransport(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpTransport::~HttpTransport() = default;

void HttpTransport::Abort() { state_->aborted.store(true, std::memory_order_relaxed); }

Result<HttpResponse> HttpTransport::Perform(const HttpRequest& request) {
  if (state_->aborted.load(std::memory_order_relaxed)) {
    return Err(
        Status(Code::kCancelled, std::string(request.description) + ": policyd is stopping"));
  }
  CURL* curl = state_->curl;
  HttpResponse response;
  state_->sink = BodySink{&response.body, state_->options.max_body_bytes, false};
  state_->error[0] = '\0';

  HeaderList headers;
  const auto add = [&headers](const std::string& line) {
    curl_slist* list = curl_slist_append(headers.get(), line.c_str());
    if (list == nullptr) return false;
    (void)headers.release();
    headers.reset(list);
    return true;
  };
  bool added = add("Accept: application/json") && add("Expect:");
  const bool post = request.method == "POST";
  if (post) added = added && add("Content-Type: " + std::string(request.content_type));
  if (!request.org_id.empty()) {
    // A header value must not end the line: the org id is checked before it gets here, and again.
    if (request.org_id.find_first_of("\r\n") != std::string_view::npos) {
      return Err(Status::InvalidArgument(std::string(request.description) +
                                         ": the org id contains a line break"));
    }
    added = added && add("x-zitadel-orgid: " + std::string(request.org_id));
  }
  if (!request.bearer_token.empty()) {
    // Built in one buffer, so no temporary copy of the token is left behind unwiped.
    constexpr std::string_view kPrefix = "Authorization: Bearer ";
    std::string authorization;
    authorization.reserve(kPrefix.size() + request.bearer_token.size());
    authorization.append(kPrefix).append(request.bearer_token);
    added = added && add(authorization);
    OPENSSL_cleanse(authorization.data(), authorization.size());
  }
  if (!added) return Err(Status::ResourceExhausted("out of memory building request headers"));

  Status set = SetOption(curl, CURLOPT_URL, request.url.c_str());
  if (set.ok()) set = SetOption(curl, CURLOPT_HTTPHEADER, headers.get());
  if (set.ok() && post) {
    // POSTFIELDS = nullptr would mean "read the body from a callback"; an empty body is "".
    const char* data = request.body.empty() ? "" : request.body.data();
    set =
        SetOption(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (set.ok()) set = SetOption(curl, CURLOPT_POSTFIELDS, data);
  } else if (set.ok()) {
    set = SetOption(curl, CURLOPT_HTTPGET, 1L);
  }
  if (!set.ok()) return Err(set.WithContext(request.description));

  request_count_.fetch_add(1, std::memory_order_relaxed);
  const CURLcode code = curl_easy_perform(curl);
  // Nothing may point at this call's buffers once it returns.
  (void)curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  if (post) (void)curl_easy_setopt(curl, CURLOPT_POSTFIELDS, static_cast<const char*>(nullptr));
  state_->sink.body = nullptr;
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    return Err(Status(Code::kCancelled,
                      std::string(request.description) + ": aborted, policyd is stopping"));
  }
  if (code != CURLE_OK) {
    return Err(StatusFromCurl(request.description, code, state_->error, state_->sink.too_large,
                              state_->options.max_body_bytes));
  }
  (void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_header* retry_after = nullptr;
  if (curl_easy_header(curl, "Retry-After", 0, CURLH_HEADER, -1, &retry_after) == CURLHE_OK &&
      retry_after != nullptr && retry_after->value != nullptr) {
    response.retry_after = retry_after->value;
  }
  return response;
}

}  // namespace policyd::upstream_internal
