#include "upstream/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "json/upstream_json.h"

namespace policyd::upstream_internal {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string OctalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

Result<std::string> ReadSecretFile(std::string_view what, const std::string& path) {
  const std::string name = std::string(what) + " " + path;
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    return Err(Status::InvalidArgument("cannot open " + name + ": " + std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) {
    return Err(Status::InvalidArgument("cannot stat " + name + ": " + std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return Err(Status::InvalidArgument(name + " is not a regular file"));
  if ((st.st_mode & 007) != 0) {
    return Err(Status::InvalidArgument(name + " is accessible to every user (mode " +
                                       OctalMode(st.st_mode) + "); run: chmod o= " + path));
  }
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxSecretFileBytes) {
    return Err(Status::InvalidArgument(name + " is larger than " +
                                       std::to_string(kMaxSecretFileBytes) + " bytes"));
  }
  // Sized up front so the buffer never reallocates and leaves copies of the secret behind.
  std::string contents(kMaxSecretFileBytes + 1, '\0');
  std::size_t size = 0;
  while (size < contents.size()) {
    const ssize_t n = read(fd.get(), contents.data() + size, contents.size() - size);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      Wipe(contents);
      return Err(Status::InvalidArgument("cannot read " + name + ": " + std::strerror(error)));
    }
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxSecretFileBytes) {
    Wipe(contents);
    return Err(Status::InvalidArgument(name + " is larger than " +
                                       std::to_string(kMaxSecretFileBytes) + " bytes"));
  }
  contents.resize(size);
  return contents;
}

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
