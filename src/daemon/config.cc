#include "daemon/config.h"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace policyd {
namespace {

// Parses an octal file mode such as "0660"; only permission bits are allowed.
bool ParseMode(const std::string& text, mode_t& mode) {
  if (text.empty() || text.size() > 4) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return false;
    value = value * 8 + static_cast<unsigned>(c - '0');
  }
  if (value > 0777) return false;
  mode = static_cast<mode_t>(value);
  return true;
}

}  // namespace

ParsedArgs ParseDaemonArgs(int argc, char** argv, const std::string& version) {
  DaemonConfig config;
  CLI::App app{
      "policyd: serves the upstream IAM's domain policies to local services over a unix "
      "socket, from a durable RocksDB cache."};
  app.set_version_flag("--version", "policyd " + version);
  std::string mode = "0660";
  long long idle_seconds = 60;
  app.add_option("--socket", config.socket_path, "Unix socket to serve lookups on")
      ->capture_default_str();
  app.add_option("--socket-mode", mode, "File mode of the socket, octal")->capture_default_str();
  app.add_option("--data-dir", config.data_dir, "Directory of the RocksDB store")
      ->capture_default_str();
  app.add_option("--snapshot", config.snapshot,
                 "Load this JSON snapshot into the store at start (all or nothing), replacing "
                 "what the store held");
  app.add_option("--threads", config.threads, "Serving threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 256u));
  app.add_option("--max-frame-bytes", config.max_frame_bytes, "Largest request frame accepted")
      ->capture_default_str()
      ->check(CLI::Range(64u, 16u << 20));
  app.add_option("--idle-timeout", idle_seconds, "Close connections idle this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(1LL, 86400LL));
  app.add_option("--block-cache-mb", config.block_cache_mb, "RocksDB block cache size in MiB")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}));
  app.add_option("--log-level", config.log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForVersion& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "policyd: %s (see --help)\n", e.what());
    return {std::nullopt, kExitConfig};
  }
  if (!ParseMode(mode, config.socket_mode)) {
    std::fprintf(stderr, "policyd: --socket-mode %s is not an octal mode like 0660\n",
                 mode.c_str());
    return {std::nullopt, kExitConfig};
  }
  if (config.data_dir.empty() || config.socket_path.empty()) {
    std::fprintf(stderr, "policyd: --data-dir and --socket must not be empty\n");
    return {std::nullopt, kExitConfig};
  }
  config.idle_timeout = std::chrono::seconds(idle_seconds);
  return {std::move(config), 0};
}

}  // namespace policyd
