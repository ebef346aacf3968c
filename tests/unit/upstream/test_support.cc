#include "test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace policyd::upstream_test {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;

std::string DrainBio(BIO* bio) {
  std::string out(BIO_ctrl_pending(bio), '\0');
  const int n = BIO_read(bio, out.data(), static_cast<int>(out.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

bool AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key`, issued by `issuer` (self-signed when null).
Cert MakeCert(std::string_view common_name, EVP_PKEY* key, const CertAndKey* issuer, bool ca) {
  static std::atomic<long> serial{1};
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  const std::string cn(common_name);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, cert.get(), nullptr, nullptr, 0);
  bool ok = AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (ca) {
    ok = ok && AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
    ok = ok && AddExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    ok = ok && AddExtension(cert.get(), &ctx, NID_basic_constraints, "CA:FALSE");
    ok = ok &&
         AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    ok = ok && AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
    ok = ok && AddExtension(cert.get(), &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  }
  EVP_PKEY* signer = issuer != nullptr ? issuer->key.get() : key;
  if (!ok || X509_sign(cert.get(), signer, EVP_sha256()) == 0) {
    ERR_clear_error();
    return nullptr;
  }
  return cert;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/policyd-upstream-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) != nullptr) path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

testing::AssertionResult WriteFile(const std::string& path, std::string_view contents,
                                   mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return testing::AssertionFailure() << "open " << path << ": " << errno;
  const bool written = WriteAll(fd, contents);
  const bool chmoded = fchmod(fd, mode) == 0;
  close(fd);
  if (!written || !chmoded) return testing::AssertionFailure() << "write/chmod " << path;
  return testing::AssertionSuccess();
}

Pkey GenerateRsaKey(unsigned bits) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{bits}));
}

Pkey GenerateEcKey() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

std::string PrivateKeyPemTraditional(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return DrainBio(bio.get());
}

std::string PrivateKeyPemPkcs8(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return DrainBio(bio.get());
}

std::string PrivateKeyPemEncrypted(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  static const char kPassphrase[] = "passphrase";
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_128_cbc(), kPassphrase,
                                static_cast<int>(sizeof(kPassphrase) - 1), nullptr, nullptr);
  return DrainBio(bio.get());
}

std::string CertPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return DrainBio(bio.get());
}

CertAndKey MakeCa(std::string_view common_name) {
  CertAndKey ca;
  ca.key = GenerateEcKey();
  ca.cert = MakeCert(common_name, ca.key.get(), nullptr, /*ca=*/true);
  return ca;
}

CertAndKey MakeServerCert(const CertAndKey& ca) {
  CertAndKey server;
  server.key = GenerateEcKey();
  server.cert = MakeCert("localhost", server.key.get(), &ca, /*ca=*/false);
  return server;
}

bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  ERR_clear_error();
  return ok;
}

testing::AssertionResult WaitFor(const std::function<bool()>& condition,
                                 std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) {
      return testing::AssertionFailure()
             << "condition not met within " << deadline.count() << " ms";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return testing::AssertionSuccess();
}

void Gate::Open() {
  std::lock_guard lock(mu_);
  open_ = true;
  cv_.notify_all();
}

bool Gate::Wait(std::chrono::milliseconds max) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, max, [this] { return open_; });
}

HttpTestServer::HttpTestServer(std::unique_ptr<httplib::Server> server)
    : server_(std::move(server)) {}

HttpTestServer::~HttpTestServer() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

testing::AssertionResult HttpTestServer::Start() {
  if (!server_->is_valid()) return testing::AssertionFailure() << "server is not valid (TLS?)";
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) return testing::AssertionFailure() << "bind_to_any_port failed";
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return WaitFor([this] { return server_->is_running(); }, std::chrono::seconds(10));
}

RawTestServer::RawTestServer(std::function<bool(int fd)> on_connection)
    : on_connection_(std::move(on_connection)) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 16) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return;
  }
  listen_fd_ = fd;
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Run(); });
}

RawTestServer::~RawTestServer() {
  stopping_ = true;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void RawTestServer::Run() {
  while (!stopping_) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;
    }
    ++connections_;
    if (!on_connection_(fd)) close(fd);
  }
}

bool ReadRequest(int fd) {
  std::string data;
  char buffer[4096];
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  std::size_t content_length = 0;
  std::string head = data.substr(0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (const std::size_t at = head.find("content-length:"); at != std::string::npos) {
    content_length = std::strtoul(head.c_str() + at + 15, nullptr, 10);
  }
  while (data.size() - head_end - 4 < content_length) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) {
      const ssize_t w = write(fd, data.data(), data.size());
      if (w <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(w));
      continue;
    }
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void CloseWithReset(int fd) {
  linger option{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
  close(fd);
}

int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace policyd::upstream_test
