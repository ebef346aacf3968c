#include "webhook/listener.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

#include "base/secret_file.h"
#include "metrics/background_server.h"
#include "webhook/signature.h"

namespace policyd::webhook {
namespace {

constexpr std::chrono::seconds kLogEvery{10};

WebhookResult ResultOf(SignatureCheck check) {
  switch (check) {
    case SignatureCheck::kValid:
      return WebhookResult::kAccepted;
    case SignatureCheck::kMissing:
      return WebhookResult::kUnsigned;
    case SignatureCheck::kOutsideTolerance:
      return WebhookResult::kExpired;
    default:
      return WebhookResult::kInvalid;
  }
}

// The results httplib decides by itself (before or instead of a handler), by status.
WebhookResult ResultOfStatus(int status) {
  switch (status) {
    case 413:
      return WebhookResult::kTooLarge;
    case 404:
      return WebhookResult::kNotFound;
    case 405:
      return WebhookResult::kMethodNotAllowed;
    default:
      return WebhookResult::kBadRequest;
  }
}

// Whether a Content-Length value states more than `limit` bytes (one too large for any number
// does; one that is not a number is left to httplib, which refuses it).
bool DeclaresMoreThan(const std::string& length, std::size_t limit) {
  std::uint64_t value = 0;
  const auto r = std::from_chars(length.data(), length.data() + length.size(), value);
  if (r.ec == std::errc::result_out_of_range) return true;
  return r.ec == std::errc() && r.ptr == length.data() + length.size() && value > limit;
}

// `text` fit for one log line: at most 100 bytes, anything but printable ASCII as '?' (a path or
// method comes from the peer and may hold line breaks).
std::string Printable(std::string_view text) {
  std::string out(text.substr(0, 100));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

struct WebhookListener::Impl {
  ListenerOptions options;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  mutable std::mutex key_mu;
  std::shared_ptr<const std::string> key;  // guarded by key_mu

  std::array<std::atomic<std::uint64_t>, kWebhookResults> counts{};

  std::mutex log_mu;
  std::chrono::steady_clock::time_point last_log;  // guarded by log_mu
  std::uint64_t unlogged = 0;                      // guarded by log_mu

  std::shared_ptr<const std::string> Key() const {
    std::lock_guard lock(key_mu);
    return key;
  }
  void Count(WebhookResult r) { ++counts[static_cast<std::size_t>(r)]; }

  // One line per refusal, but at most one per kLogEvery: a flood of bad requests must not flood
  // the journal. Never logs the header's value or the body.
  void LogRefusal(const httplib::Request& request, int status, std::string_view why) {
    std::lock_guard lock(log_mu);
    const auto now = std::chrono::steady_clock::now();
    if (last_log.time_since_epoch().count() != 0 && now - last_log < kLogEvery) {
      ++unlogged;
      return;
    }
    spdlog::warn("webhook: refused {} {} from {}: {} {}{}", Printable(request.method),
                 Printable(request.path), request.remote_addr, status, why,
                 unlogged == 0 ? "" : fmt::format(" ({} more refused meanwhile)", unlogged));
    last_log = now;
    unlogged = 0;
  }

  // Reads the body through `reader`, never more than max_body_bytes of it: httplib's own limit
  // (payload_max_length) does not hold for a chunked body.
  void HandlePost(const httplib::Request& request, httplib::Response& response,
                  const httplib::ContentReader& reader) {
    std::string body;
    bool too_large = false;
    reader([&](const char* data, std::size_t length) {
      if (body.size() + length > options.max_body_bytes) {
        too_large = true;
        return false;
      }
      body.append(data, length);
      return true;
    });
    if (too_large) {
      response.status = 413;  // counted and logged by the logger
      response.set_header("Connection", "close");
      return;
    }
    Check(request, body, response);
  }

  void Check(const httplib::Request& request, const std::string& body,
             httplib::Response& response) {
    const std::size_t headers = request.get_header_value_count(std::string(kSignatureHeader));
    const std::string header = request.get_header_value(std::string(kSignatureHeader));
    const std::shared_ptr<const std::string> k = Key();
    SignatureCheck check = VerifySignature(header, body, *k, options.now_unix(), options.tolerance);
    if (headers > 1) check = SignatureCheck::kMalformed;  // which one would count?
    const WebhookResult result = ResultOf(check);
    Count(result);
    if (result == WebhookResult::kAccepted) {
      options.on_valid();
      response.status = 204;
      return;
    }
    const char* error = result == WebhookResult::kUnsigned  ? "signature missing"
                        : result == WebhookResult::kExpired ? "signature expired"
                                                            : "signature invalid";
    response.status = 401;
    response.set_content(std::string(R"({"error":")") + error + "\"}\n", "application/json");
    LogRefusal(request, 401, SignatureCheckName(check));
  }

  void Route() {
    const std::string path(kWebhookPath);
    server.set_payload_max_length(options.max_body_bytes);
    // Refuses a declared oversized body before reading it (httplib would read and discard it).
    server.set_pre_routing_handler([this](const httplib::Request& request,
                                          httplib::Response& response) {
      if (!DeclaresMoreThan(request.get_header_value("Content-Length"), options.max_body_bytes)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      response.status = 413;
      response.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    });
    server.Post(path, [this](const httplib::Request& request, httplib::Response& response,
                             const httplib::ContentReader& reader) {
      HandlePost(request, response, reader);
    });
    auto not_allowed = [](const httplib::Request&, httplib::Response& response) {
      response.status = 405;
      response.set_header("Allow", "POST");
    };
    server.Get(path, not_allowed);
    server.Put(path, not_allowed);
    server.Patch(path, not_allowed);
    server.Delete(path, not_allowed);
    server.Options(path, not_allowed);
    // Every other refusal, whether from httplib (413, 400, 404) or the 405 handlers, is counted
    // here: the error handler runs before the response is written, so a client that has its
    // answer finds it counted. The POST handler counts and logs its own (204, 401).
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& request, httplib::Response& response) {
          if (response.status != 401) {
            const WebhookResult result = ResultOfStatus(response.status);
            Count(result);
            LogRefusal(request, response.status, WebhookResultName(result));
          }
          return httplib::Server::HandlerResponse::Unhandled;
        }));
  }
};

WebhookListener::WebhookListener(std::string key, ListenerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->key = std::make_shared<const std::string>(std::move(key));
}

WebhookListener::~WebhookListener() { Stop(); }

int WebhookListener::port() const { return impl_->port; }

void WebhookListener::SetKey(std::string key) {
  auto fresh = std::make_shared<const std::string>(std::move(key));
  std::lock_guard lock(impl_->key_mu);
  impl_->key = std::move(fresh);
}

void WebhookListener::AddCounters(std::array<std::uint64_t, kWebhookResults>& out) const {
  for (std::size_t i = 0; i < kWebhookResults; ++i) {
    out[i] += impl_->counts[i].load(std::memory_order_relaxed);
  }
}

Status WebhookListener::Start(std::string_view address) {
  httplib::Server& server = impl_->server;
  // Two threads, as for the metrics listener: deliveries come one at a time (ZITADEL's worker
  // pool is 1 by default), and a flood cannot take more.
  metrics::ConfigureServer(server);
  impl_->Route();
  Result<int> port = metrics::BindAndServe(server, "webhook-listen", address, &impl_->thread);
  if (!port) return port.error();
  impl_->port = *port;
  return Status::Ok();
}

void WebhookListener::Stop() { metrics::StopServing(impl_->server, impl_->thread); }

Result<std::string> LoadSigningKey(const std::string& path) {
  Result<std::string> contents = ReadSecretFile("webhook signing key file", path);
  if (!contents) return Err(contents.error());
  std::string_view key = *contents;
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!key.empty() && space(key.front())) key.remove_prefix(1);
  while (!key.empty() && space(key.back())) key.remove_suffix(1);
  Status bad = Status::Ok();
  if (key.empty()) bad = Status::InvalidArgument("webhook signing key file " + path + " is empty");
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (bad.ok() && (byte <= 0x20 || byte == 0x7f)) {
      bad = Status::InvalidArgument("webhook signing key file " + path +
                                    " has whitespace or control characters inside the key");
    }
  }
  std::string out = bad.ok() ? std::string(key) : std::string();
  WipeSecret(*contents);
  if (!bad.ok()) return Err(bad);
  return out;
}

}  // namespace policyd::webhook
