#include "daemon/config.h"

#include <grp.h>
#include <pwd.h>
#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "daemon/config_internal.h"
#include "daemon/toml_guard.h"
#include "metrics/endpoints.h"

namespace policyd {
namespace {

// One setting: its raw text from the command line or the config file, and how to apply it.
struct Setting {
  std::string raw;
  bool is_flag = false;  // boolean switch on the command line
  bool in_file = false;  // set by the config file (and not overridden by a flag)
  CLI::Option* option = nullptr;
  std::function<Status(const std::string&)> apply;
};

Status ParseMode(const std::string& text, mode_t& mode) {
  if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != std::string::npos) {
    return Status::InvalidArgument("\"" + text + "\" is not an octal mode like 0660");
  }
  mode = static_cast<mode_t>(std::stoul(text, nullptr, 8));
  return Status::Ok();
}

Status ParseBool(const std::string& text, bool& out) {
  if (text == "true") {
    out = true;
  } else if (text == "false") {
    out = false;
  } else {
    return Status::InvalidArgument("\"" + text + "\" is not true or false");
  }
  return Status::Ok();
}

// Renders a TOML value as the text the same command-line option would take.
Result<std::string> TomlText(const toml::node& node) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_floating_point()) return std::to_string(*node.value<double>());
  if (node.is_boolean()) return std::string(*node.value<bool>() ? "true" : "false");
  return Err(Status::InvalidArgument("must be a string, number or boolean"));
}

// `contents`, when given, replaces reading the file (see ParseDaemonArgs).
Status LoadConfigFile(const std::string& path, std::optional<std::string_view> contents,
                      std::map<std::string, Setting>& settings) {
  std::string file_text;
  if (!contents) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || (!in.good() && !in.eof())) {
      return Status::InvalidArgument("config file " + path + ": cannot be read");
    }
    file_text = text.str();
    contents = file_text;
  }
  if (Status s = CheckTomlCodePoints(*contents); !s.ok()) {
    return s.WithContext("config file " + path);
  }
  // Debian's toml++ is built with exceptions: translate them here, at the edge.
  toml::table table;
  try {
    table = toml::parse(*contents, path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config file " + path + " line " +
                                   std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  }
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    auto it = settings.find(name);
    if (it == settings.end() || name == "config") {
      return Status::InvalidArgument("config file " + path + ": unknown key \"" + name + "\"");
    }
    if (it->second.option->count() > 0) continue;  // the command line wins
    Result<std::string> text = TomlText(node);
    if (!text) return text.error().WithContext("config file " + path + ": " + name);
    it->second.raw = *text;
    it->second.in_file = true;
  }
  return Status::Ok();
}

// Reserved places are part of max-connections and must leave ordinary peers at least one. When
// reserved-connections was not given, its default (8) shrinks to fit a small max-connections, so
// that configurations written before it existed keep working; given, it is an error.
Status FitReservedConnections(bool given, DaemonConfig& config) {
  if (config.reserved_connections < config.max_connections) return Status::Ok();
  if (!given) {
    config.reserved_connections = config.max_connections - 1;
    return Status::Ok();
  }
  return Status::InvalidArgument(
      "reserved-connections (" + std::to_string(config.reserved_connections) +
      ") must be less than max-connections (" + std::to_string(config.max_connections) +
      "): the reserved places are part of max-connections");
}

// A user or group given by name or number.
template <typename Id>
Status ParseId(const std::string& text, bool is_user, Id& out) {
  std::uint64_t number = 0;
  if (ParseUnsigned(text, 0, 0xfffffffeu, number).ok()) {
    out = static_cast<Id>(number);
    return Status::Ok();
  }
  if (is_user) {
    if (const passwd* pw = getpwnam(text.c_str())) {
      out = static_cast<Id>(pw->pw_uid);
      return Status::Ok();
    }
  } else if (const group* gr = getgrnam(text.c_str())) {
    out = static_cast<Id>(gr->gr_gid);
    return Status::Ok();
  }
  return Status::InvalidArgument(std::string("no such ") + (is_user ? "user" : "group") + " \"" +
                                 text + "\"");
}

// "0,1000,www-data": a comma-separated list of ids or names.
template <typename Id>
Status ParseIdList(const std::string& text, bool is_user, std::set<Id>& out) {
  out.clear();
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    Id id{};
    POLICYD_RETURN_IF_ERROR(ParseId(text.substr(start, comma - start), is_user, id));
    out.insert(id);
    start = comma + 1;
  }
  return Status::Ok();
}

}  // namespace

Status ParseUnsigned(const std::string& text, std::uint64_t min, std::uint64_t max,
                     std::uint64_t& out) {
  std::uint64_t v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v < min || v > max) {
    return Status::InvalidArgument("\"" + text + "\" is not a whole number from " +
                                   std::to_string(min) + " to " + std::to_string(max));
  }
  out = v;
  return Status::Ok();
}

Status ParseDurationInto(const std::string& text, std::chrono::milliseconds min,
                         std::chrono::milliseconds& out) {
  Result<std::chrono::milliseconds> d = ParseDuration(text);
  if (!d) return d.error();
  if (*d < min) {
    return Status::InvalidArgument("\"" + text + "\" is shorter than the minimum of " +
                                   std::to_string(min.count()) + "ms");
  }
  out = *d;
  return Status::Ok();
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Err(Status::InvalidArgument("\"" + std::string(text) +
                                       "\" is not a duration like 500ms, 5s, 2m or 1h"));
  };
  std::size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return bad();
  double value = 0;
  auto r = std::from_chars(text.data(), text.data() + digits, value);
  if (r.ec != std::errc() || r.ptr != text.data() + digits || value < 0) return bad();
  const std::string_view unit = text.substr(digits);
  double ms = 0;
  if (unit.empty() || unit == "s") {
    ms = value * 1000;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "m") {
    ms = value * 60'000;
  } else if (unit == "h") {
    ms = value * 3'600'000;
  } else {
    return bad();
  }
  if (ms > 7 * 24 * 3'600'000.0) return bad();
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

ParsedArgs ParseDaemonArgs(int argc, char** argv, const std::string& version,
                           std::optional<std::string_view> config_text) {
  DaemonConfig config;
  CLI::App app{
      "policyd: serves the upstream IAM's domain policies to local services over a unix "
      "socket, from a durable RocksDB cache synchronized from the upstream's REST API."};
  app.set_version_flag("--version", "policyd " + version);
  app.get_formatter()->column_width(36);

  std::map<std::string, Setting> settings;
  auto add = [&](const std::string& name, const std::string& help, std::string default_text,
                 std::function<Status(const std::string&)> apply, bool is_flag = false) {
    Setting& s = settings[name];
    s.raw = std::move(default_text);
    s.is_flag = is_flag;
    s.apply = std::move(apply);
    if (is_flag) {
      s.option = app.add_flag_callback(
          "--" + name, [&s] { s.raw = "true"; }, help);
    } else {
      s.option = app.add_option("--" + name, s.raw, help);
      if (!s.raw.empty()) s.option->default_str(s.raw);
    }
  };
  auto text = TextSetting;
  add("socket", "Unix socket to serve lookups on", config.socket_path, text(config.socket_path));
  add("socket-mode", "File mode of the socket, octal", "0660",
      [&](const std::string& v) { return ParseMode(v, config.socket_mode); });
  add("data-dir", "Directory of the RocksDB store", config.data_dir, text(config.data_dir));
  add("snapshot", "Load this JSON snapshot into the store at start (all or nothing)", "",
      text(config.snapshot));
  add("threads", "Serving threads (0: one per core)", "0", [&](const std::string& v) {
    std::uint64_t n = 0;
    Status s = ParseUnsigned(v, 0, 256, n);
    config.threads = static_cast<unsigned>(n);
    return s;
  });
  add("max-frame-bytes", "Largest request frame accepted", "65536", [&](const std::string& v) {
    std::uint64_t n = 0;
    Status s = ParseUnsigned(v, 64, 16u << 20, n);
    config.max_frame_bytes = static_cast<std::uint32_t>(n);
    return s;
  });
  add("idle-timeout", "Close connections idle this long (e.g. 60s)", "60s",
      [&](const std::string& v) {
        return ParseDurationInto(v, std::chrono::milliseconds(100), config.idle_timeout);
      });
  add("frame-timeout", "Close connections that take longer to send one frame", "10s",
      [&](const std::string& v) {
        return ParseDurationInto(v, std::chrono::milliseconds(100), config.frame_timeout);
      });
  add("max-connections", "Connections served at once; more are refused (RESOURCE_EXHAUSTED)",
      "4096", [&](const std::string& v) {
        std::uint64_t n = 0;
        Status s = ParseUnsigned(v, 1, 1'000'000, n);
        config.max_connections = n;
        return s;
      });
  add("max-connections-per-peer",
      "Connections one peer uid may hold at once (root and policyd's own uid are exempt)", "512",
      [&](const std::string& v) {
        std::uint64_t n = 0;
        Status s = ParseUnsigned(v, 1, 1'000'000, n);
        config.max_connections_per_peer = n;
        return s;
      });
  add("reserved-connections",
      "Of max-connections, places only root and policyd's own uid may use (must be fewer)", "8",
      [&](const std::string& v) {
        std::uint64_t n = 0;
        Status s = ParseUnsigned(v, 0, 1'000'000, n);
        config.reserved_connections = n;
        return s;
      });
  add("max-inflight", "Requests of one connection answered before more are read", "128",
      [&](const std::string& v) {
        std::uint64_t n = 0;
        Status s = ParseUnsigned(v, 1, 65536, n);
        config.max_inflight = n;
        return s;
      });
  add("block-cache-mb", "RocksDB block cache size in MiB", "64", [&](const std::string& v) {
    std::uint64_t n = 0;
    Status s = ParseUnsigned(v, 1, 65536, n);
    config.block_cache_mb = n;
    return s;
  });
  add("log-level", "trace, debug, info, warn or error", "info", [&](const std::string& v) {
    if (v != "trace" && v != "debug" && v != "info" && v != "warn" && v != "error") {
      return Status::InvalidArgument("\"" + v + "\" is not trace, debug, info, warn or error");
    }
    config.log_level = v;
    return Status::Ok();
  });
  add("metrics-listen",
      "Serve /metrics (Prometheus), /healthz and /readyz over HTTP on HOST:PORT, e.g. "
      "127.0.0.1:9464 (default: off)",
      "", [&](const std::string& v) {
        if (!v.empty()) {
          if (Result<metrics::ListenAddress> a = metrics::ParseListenAddress(v); !a) {
            return a.error();
          }
        }
        config.metrics_listen = v;
        return Status::Ok();
      });
  add("http-socket",
      "Also serve the upstream's REST reads of the domain policy (HTTP/JSON) on this unix socket "
      "(default: off)",
      "", text(config.http_socket));
  add("http-socket-mode", "File mode of the HTTP socket, octal", "0660",
      [&](const std::string& v) { return ParseMode(v, config.http_socket_mode); });
  add("upstream", "Base URL of the upstream IAM (e.g. https://iam.example.com); enables sync", "",
      text(config.upstream));
  add("token-file", "File holding a Personal Access Token", "", text(config.token_file));
  add("key-file", "Service-account key JSON (JWT profile)", "", text(config.key_file));
  add("ca-file", "Extra trust anchor (PEM) for the upstream's TLS", "", text(config.ca_file));
  add("poll-interval", "Time between syncs, randomised ±20%", "5s", [&](const std::string& v) {
    return ParseDurationInto(v, std::chrono::milliseconds(50), config.poll_interval);
  });
  add("max-staleness", "Answers older than this are flagged stale", "5m",
      [&](const std::string& v) {
        return ParseDurationInto(v, std::chrono::milliseconds(1), config.max_staleness);
      });
  add(
      "refuse-when-stale", "Answer UNAVAILABLE instead of stale data (fail closed)", "false",
      [&](const std::string& v) { return ParseBool(v, config.refuse_when_stale); }, true);
  add("request-metrics",
      "Count and time every request by kind and status (false: /metrics and `policyctl top` "
      "show no request counts or latencies)",
      "true", [&](const std::string& v) { return ParseBool(v, config.request_metrics); });
  add("connect-timeout", "Upstream connect timeout", "5s", [&](const std::string& v) {
    return ParseDurationInto(v, std::chrono::milliseconds(10), config.connect_timeout);
  });
  add("request-timeout", "Upstream total timeout per request", "30s", [&](const std::string& v) {
    return ParseDurationInto(v, std::chrono::milliseconds(10), config.request_timeout);
  });
  add("webhook-listen",
      "Accept ZITADEL Actions v2 event deliveries (POST /zitadel/events) on HOST:PORT, each a "
      "signed wake-up of the sync (needs upstream and webhook-signing-key-file; default: off)",
      "", [&](const std::string& v) {
        if (!v.empty()) {
          if (Result<metrics::ListenAddress> a = metrics::ParseListenAddress(v); !a) {
            return a.error();
          }
        }
        config.webhook_listen = v;
        return Status::Ok();
      });
  add("webhook-signing-key-file",
      "File holding the ZITADEL target's signing key, for webhook-listen", "",
      text(config.webhook_signing_key_file));
  AddFleetSettings(add, config);
  add("socket-owner", "Owner of the socket file (name or uid)", "", [&](const std::string& v) {
    return v.empty() ? Status::Ok() : ParseId(v, true, config.socket_owner);
  });
  add("socket-group", "Group of the socket file (name or gid)", "", [&](const std::string& v) {
    return v.empty() ? Status::Ok() : ParseId(v, false, config.socket_group);
  });
  add("allow-uid", "Only these peer uids may connect (comma list; names or numbers)", "",
      [&](const std::string& v) { return ParseIdList(v, true, config.allow_uids); });
  add("allow-gid", "...or peers in one of these groups (comma list)", "",
      [&](const std::string& v) { return ParseIdList(v, false, config.allow_gids); });
  app.add_option("--config", config.config_file,
                 "TOML file with the same keys as these flags (flags override it)");

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
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "policyd: %s\n", s.message().c_str());
    return ParsedArgs{std::nullopt, kExitConfig};
  };
  if (!config.config_file.empty()) {
    Status s = LoadConfigFile(config.config_file, config_text, settings);
    if (!s.ok()) return fail(s);
  }
  for (auto& [name, setting] : settings) {
    if (Status s = setting.apply(setting.raw); !s.ok()) return fail(s.WithContext(name));
  }
  const Setting& reserved = settings["reserved-connections"];
  if (Status s = FitReservedConnections(reserved.in_file || reserved.option->count() > 0, config);
      !s.ok()) {
    return fail(s);
  }
  if (config.data_dir.empty() || config.socket_path.empty()) {
    return fail(Status::InvalidArgument("data-dir and socket must not be empty"));
  }
  if (config.http_socket == config.socket_path) {
    return fail(Status::InvalidArgument("http-socket must differ from socket"));
  }
  if (!config.upstream.empty() && config.token_file.empty() == config.key_file.empty()) {
    return fail(Status::InvalidArgument(
        "upstream needs exactly one of token-file (a Personal Access Token) or key-file (a "
        "service-account key)"));
  }
  if (config.upstream.empty() && (!config.token_file.empty() || !config.key_file.empty())) {
    return fail(Status::InvalidArgument("token-file and key-file need upstream"));
  }
  if (config.webhook_listen.empty() != config.webhook_signing_key_file.empty()) {
    return fail(Status::InvalidArgument(
        "webhook-listen and webhook-signing-key-file go together: an unsigned delivery is "
        "refused"));
  }
  if (!config.webhook_listen.empty() && config.upstream.empty()) {
    return fail(Status::InvalidArgument(
        "webhook-listen needs upstream: a webhook delivery only wakes the sync from the upstream"));
  }
  if (Status s = ValidateFleet(config); !s.ok()) return fail(s);
  return {std::move(config), 0};
}

}  // namespace policyd
