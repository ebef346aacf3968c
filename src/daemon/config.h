// policyd's command line, validated into a DaemonConfig.
//
// Bad input is one clear line and exit code 78 (EX_CONFIG), so systemd's
// RestartPreventExitStatus=78 stops a restart loop on a broken configuration.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace policyd {

inline constexpr int kExitConfig = 78;  // EX_CONFIG

struct DaemonConfig {
  std::string socket_path = "/run/policyd/policyd.sock";
  mode_t socket_mode = 0660;
  std::string data_dir = "/var/lib/policyd";
  std::string snapshot;  // load this snapshot at start ("" = serve the store as it is)
  unsigned threads = 0;  // 0: one per core
  std::uint32_t max_frame_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
  std::size_t block_cache_mb = 64;
  std::string log_level = "info";
};

// Either a config to run with, or an exit code to return right away (after --help, --version
// or an error, whose message has already been printed).
struct ParsedArgs {
  std::optional<DaemonConfig> config;
  int exit_code = 0;
};

ParsedArgs ParseDaemonArgs(int argc, char** argv, const std::string& version);

}  // namespace policyd
