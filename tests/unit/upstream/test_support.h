// Helpers for the upstream tests: temp files, keys and certificates made with OpenSSL at test
// time, a cpp-httplib server on 127.0.0.1 (plain or TLS) and a raw TCP server for faults that
// HTTP libraries will not produce (truncated bodies, resets). Servers run on their own threads
// and are stopped and joined by their destructors. Waits use deadlines, never fixed sleeps.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace policyd::upstream_test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Writes `contents` to `path` with exactly `mode` (umask notwithstanding).
testing::AssertionResult WriteFile(const std::string& path, std::string_view contents, mode_t mode);

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Cert = std::unique_ptr<X509, X509Deleter>;

Pkey GenerateRsaKey(unsigned bits);
Pkey GenerateEcKey();                                 // P-256
std::string PrivateKeyPemTraditional(EVP_PKEY* key);  // "BEGIN RSA PRIVATE KEY" for RSA
std::string PrivateKeyPemPkcs8(EVP_PKEY* key);        // "BEGIN PRIVATE KEY"
std::string PrivateKeyPemEncrypted(EVP_PKEY* key);    // "BEGIN ENCRYPTED PRIVATE KEY"
std::string CertPem(X509* cert);

struct CertAndKey {
  Cert cert;
  Pkey key;
};
// A self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign), valid for a day.
CertAndKey MakeCa(std::string_view common_name);
// A server certificate issued by `ca` for DNS:localhost and IP:127.0.0.1.
CertAndKey MakeServerCert(const CertAndKey& ca);

// True if `signature` is a valid RS256 signature of `data` by `key`'s public half.
bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view signature);

// Polls `condition` until it holds or `deadline` passes.
testing::AssertionResult WaitFor(const std::function<bool()>& condition,
                                 std::chrono::milliseconds deadline);

// A latch that handlers block on (bounded), so that "slow upstream" tests end promptly.
class Gate {
 public:
  void Open();
  // True if opened within `max`.
  bool Wait(std::chrono::milliseconds max);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// An httplib::Server (or SSLServer) listening on 127.0.0.1 on an ephemeral port.
class HttpTestServer {
 public:
  explicit HttpTestServer(
      std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>());
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  httplib::Server& server() { return *server_; }
  // Binds and starts serving; routes may be added before or after.
  testing::AssertionResult Start();
  int port() const { return port_; }
  std::string HttpUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string HttpsUrl() const { return "https://localhost:" + std::to_string(port_); }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
};

// Accepts TCP connections on 127.0.0.1 and runs `on_connection(fd)` for each, one at a time, on
// its own thread; the fd is closed afterwards unless on_connection returns true (it closed it).
class RawTestServer {
 public:
  explicit RawTestServer(std::function<bool(int fd)> on_connection);
  ~RawTestServer();
  RawTestServer(const RawTestServer&) = delete;
  RawTestServer& operator=(const RawTestServer&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  std::string HttpUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }

 private:
  void Run();

  std::function<bool(int)> on_connection_;
  int listen_fd_ = -1;
  int port_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// Reads until the end of an HTTP request head and its Content-Length body; false on EOF/error.
bool ReadRequest(int fd);
bool WriteAll(int fd, std::string_view data);
// Closes `fd` so that the peer sees a reset (SO_LINGER 0).
void CloseWithReset(int fd);

// A 127.0.0.1 port on which nothing listens (bound, then released).
int UnusedPort();

}  // namespace policyd::upstream_test
