// Fuzzes the config file: `policyd --config FILE` with the input as FILE's contents, through the
// same ParseDaemonArgs as the daemon (toml++, key lookup, value rendering, every setting's
// parser). It must either exit 78 with a message or yield a configuration within the documented
// bounds.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "daemon/config.h"

namespace {

// Aborts naming the line of the broken bound (rerun the crash input to see it: the fuzz scripts
// close the target's stderr).
void Require(bool ok, int line = __builtin_LINE()) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_config: the bound at line %d does not hold\n", line);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static char arg0[] = "policyd";
  static char arg1[] = "--config";
  static char arg2[] = "fuzz.toml";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const policyd::ParsedArgs parsed = policyd::ParseDaemonArgs(3, argv, "fuzz", text);
  if (!parsed.config) {
    if (parsed.exit_code != policyd::kExitConfig) __builtin_trap();
    return 0;
  }
  using std::chrono::milliseconds;
  constexpr milliseconds kWeek = std::chrono::hours(7 * 24);
  const policyd::DaemonConfig& c = *parsed.config;
  Require(parsed.exit_code == 0);
  Require(!c.socket_path.empty() && !c.data_dir.empty());
  Require(c.socket_mode <= 07777);
  Require(c.http_socket_mode <= 07777 && c.http_socket != c.socket_path);
  Require(c.threads <= 256);
  Require(c.max_frame_bytes >= 64 && c.max_frame_bytes <= (16u << 20));
  Require(c.block_cache_mb >= 1 && c.block_cache_mb <= 65536);
  Require(c.idle_timeout >= milliseconds(100) && c.idle_timeout <= kWeek);
  Require(c.poll_interval >= milliseconds(50) && c.poll_interval <= kWeek);
  Require(c.max_staleness >= milliseconds(1) && c.max_staleness <= kWeek);
  Require(c.connect_timeout >= milliseconds(10) && c.connect_timeout <= kWeek);
  Require(c.request_timeout >= milliseconds(10) && c.request_timeout <= kWeek);
  // Sync needs exactly one credential; without sync, none.
  Require(c.upstream.empty() ? c.token_file.empty() && c.key_file.empty()
                             : c.token_file.empty() != c.key_file.empty());
  return 0;
}
