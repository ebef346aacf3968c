// ParseArgs: runs ParseDaemonArgs on `args` (without the program name) as the daemon would,
// with `toml`, when given, as the contents of a --config file. For the daemon's config tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"

namespace policyd {

inline ParsedArgs ParseArgs(std::vector<std::string> args,
                            std::optional<std::string_view> toml = {}) {
  args.insert(args.begin(), "policyd");
  if (toml) args.insert(args.end(), {"--config", "/nonexistent/policyd.toml"});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseDaemonArgs(static_cast<int>(argv.size()), argv.data(), "test", toml);
}

}  // namespace policyd
