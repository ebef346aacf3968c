#include "base/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace policyd {
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
      WipeSecret(contents);
      return Err(Status::InvalidArgument("cannot read " + name + ": " + std::strerror(error)));
    }
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxSecretFileBytes) {
    WipeSecret(contents);
    return Err(Status::InvalidArgument(name + " is larger than " +
                                       std::to_string(kMaxSecretFileBytes) + " bytes"));
  }
  contents.resize(size);
  return contents;
}

void WipeSecret(std::string& s) {
  explicit_bzero(s.data(), s.size());
  s.clear();
}

}  // namespace policyd
