// WebhookListener: receives ZITADEL Actions v2 event deliveries (`--webhook-listen HOST:PORT`)
// and turns each correctly signed one into a wake-up of the sync loop. The body is never taken as
// data: ZITADEL delivers each event once, in no order and without retries, so the events API stays
// the source of truth and the poll the safety net; a delivery only says "look now".
//
// HTTP: `POST /zitadel/events` only. 204 when the signature is valid (webhook/signature.h);
// 401 with {"error":"signature missing"|"signature invalid"|"signature expired"}; 413 for a
// body over max_body_bytes (refused from its Content-Length before it is read); 405 for another
// method on the path, 404 for any other path, 400 for what is not HTTP. Each result is counted
// (AddCounters) and each refusal logged, at most one line per 10 s (with the number skipped).
//
// Threads: cpp-httplib serves on two threads of its own; `on_valid` runs on them and must be quick
// (Syncer::Nudge). Start()/Stop() from one thread; SetKey() and AddCounters() from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/counters.h"

namespace policyd::webhook {

inline constexpr std::string_view kWebhookPath = "/zitadel/events";
inline constexpr std::size_t kMaxWebhookBodyBytes = 1 << 20;

struct ListenerOptions {
  std::size_t max_body_bytes = kMaxWebhookBodyBytes;
  std::chrono::seconds tolerance{300};
  std::function<std::int64_t()> now_unix;  // the time signatures are checked at
  std::function<void()> on_valid;          // called once per accepted request
};

class WebhookListener {
 public:
  // `key`: the target's signing key (LoadSigningKey).
  WebhookListener(std::string key, ListenerOptions options);
  ~WebhookListener();
  WebhookListener(const WebhookListener&) = delete;
  WebhookListener& operator=(const WebhookListener&) = delete;

  // Binds `address` (HOST:PORT; port 0 picks one) and serves in the background. Errors:
  // INVALID_ARGUMENT for a bad address, FAILED_PRECONDITION when it cannot be bound.
  Status Start(std::string_view address);
  void Stop();
  int port() const;  // the port bound; 0 before Start()

  // Replaces the signing key (SIGHUP after a rotation); requests under way finish with the old.
  void SetKey(std::string key);
  // Adds the requests counted so far, by WebhookResult, to `out`.
  void AddCounters(std::array<std::uint64_t, kWebhookResults>& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a signing key file: a secret file (base/secret_file.h) holding the key, surrounding
// whitespace (a trailing newline) trimmed. INVALID_ARGUMENT, naming the file and never quoting
// it, when it cannot be read, is readable by every user, is empty, or has whitespace or control
// characters inside the key.
Result<std::string> LoadSigningKey(const std::string& path);

}  // namespace policyd::webhook
