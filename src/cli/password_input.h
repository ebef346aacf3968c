// How `policyctl check password` reads the password: from a file descriptor (standard input),
// never from the command line, into one fixed buffer that is wiped after use.
//
// A password must not be left behind: SecretBuffer never reallocates (so no copy of it stays in
// freed memory) and wipes itself with explicit_bzero when destroyed or cleared. On a terminal the
// password is typed with echo turned off, and the terminal's settings are restored on every path,
// including a SIGINT, SIGTERM, SIGHUP or SIGQUIT that ends the process while it waits.
//
// Single-threaded: ReadPassword installs process-wide signal handlers for the time it waits on a
// terminal (and puts the previous ones back). Nothing here logs or prints the password.
#pragma once

#include <array>
#include <cstddef>
#include <iosfwd>
#include <string_view>

#include "base/status.h"

namespace policyd {

// The longest password accepted (bytes, after the trailing newline is removed). The upstream
// checks the whole string (bcrypt only looks at 72 bytes later), so nothing is truncated: longer
// input is refused.
inline constexpr std::size_t kMaxPasswordBytes = 4096;

// Room for one password of kMaxPasswordBytes, a "\r\n" and one more byte, whose presence tells
// that the input is too long. Wiped on destruction; not copyable or movable.
class SecretBuffer {
 public:
  static constexpr std::size_t kCapacity = kMaxPasswordBytes + 3;

  SecretBuffer() = default;
  ~SecretBuffer();
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;

  // The secret held (valid until Clear() or destruction).
  std::string_view view() const { return {bytes_.data(), size_}; }
  std::size_t size() const { return size_; }
  // Wipes every byte of the buffer, not only the ones in use.
  void Clear();

  // For readers: the free room after the bytes held, and committing what was written there.
  char* end() { return bytes_.data() + size_; }
  std::size_t room() const { return kCapacity - size_; }
  void Grow(std::size_t n) { size_ += n; }
  // Drops the last `n` bytes held, wiping them.
  void Shrink(std::size_t n);

 private:
  std::array<char, kCapacity> bytes_{};
  std::size_t size_ = 0;
};

// How many bytes at the end of `input` are one trailing line end: 2 for "\r\n", 1 for "\n", 0
// otherwise (a lone "\r", or any other whitespace, belongs to the password).
std::size_t TrailingNewlineLength(std::string_view input);

// Reads the password from `fd` into `out` (cleared first):
//  * not a terminal: everything up to end of file;
//  * a terminal: writes "Password: " to `prompt`, turns echo off, reads one line, restores the
//    terminal, and ends the prompt's line on `prompt`.
// Then removes one trailing "\n" or "\r\n" (so `echo pw |` and here-strings work).
// Errors, after which `out` is wiped: INVALID_ARGUMENT when the password is empty or longer than
// kMaxPasswordBytes, INTERNAL when reading (or setting up the terminal) fails. The messages never
// contain the password.
Status ReadPassword(int fd, std::ostream& prompt, SecretBuffer& out);

}  // namespace policyd
