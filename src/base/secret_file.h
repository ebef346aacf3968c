// Reading a small secret file (a token, a key, a webhook signing key) the same careful way
// everywhere: a regular file, not readable by every user, of bounded size.
//
// Pure of third-party code; reads the file system. Reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policyd {

// Secret files are small; anything bigger is a mistake (the wrong file).
inline constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

// Reads `path` (following symlinks). Errors, all INVALID_ARGUMENT and naming `what` and `path`:
// it cannot be opened or read, is not a regular file, is larger than kMaxSecretFileBytes, or is
// accessible to every user (mode & 007: "chmod o= <path>" fixes it). Messages never quote the
// contents. The caller wipes the result (WipeSecret).
Result<std::string> ReadSecretFile(std::string_view what, const std::string& path);

// Overwrites `s` with zeros in a way the compiler does not elide, then clears it.
void WipeSecret(std::string& s);

}  // namespace policyd
