// The fleet-mode settings of policyd's command line and config file (docs/fleet.md).
#include <unistd.h>

#include <string>
#include <vector>

#include "daemon/config_internal.h"
#include "model/domain_policy.h"
#include "resolve/resolve.h"

namespace policyd {
namespace {

// The URLs of a comma-separated list, each "nats://HOST:PORT" or "tls://HOST:PORT" (user and
// password may precede the host). INVALID_ARGUMENT naming the bad one.
Status CheckNatsUrls(const std::string& list) {
  std::size_t begin = 0;
  while (begin <= list.size()) {
    std::size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    const std::string url = list.substr(begin, end - begin);
    std::string rest;
    if (url.starts_with("nats://")) {
      rest = url.substr(7);
    } else if (url.starts_with("tls://")) {
      rest = url.substr(6);
    } else {
      return Status::InvalidArgument("\"" + url + "\" is not a nats://HOST:PORT URL");
    }
    rest = rest.substr(rest.rfind('@') == std::string::npos ? 0 : rest.rfind('@') + 1);
    const std::size_t colon = rest.rfind(':');
    std::uint64_t port = 0;
    if (colon == std::string::npos || colon == 0 || rest.find('/') != std::string::npos ||
        !ParseUnsigned(rest.substr(colon + 1), 1, 65535, port).ok()) {
      return Status::InvalidArgument("\"" + url + "\" is not a nats://HOST:PORT URL");
    }
    begin = end + 1;
  }
  return Status::Ok();
}

Status CheckBucket(const std::string& name) {
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
          std::string::npos) {
    return Status::InvalidArgument("\"" + name +
                                   "\" is not a bucket name (1 to 64 of A-Z a-z 0-9 _ -)");
  }
  return Status::Ok();
}

// A NATS subject prefix: dot-separated non-empty tokens of printable ASCII, no wildcards.
Status CheckInboxPrefix(const std::string& prefix) {
  bool ok = !prefix.empty() && prefix.size() <= 128 && prefix.front() != '.' &&
            prefix.back() != '.' && prefix.find("..") == std::string::npos;
  for (char c : prefix) ok = ok && c > ' ' && c < 127 && c != '*' && c != '>';
  if (ok) return Status::Ok();
  return Status::InvalidArgument("\"" + prefix +
                                 "\" is not a NATS subject prefix (tokens of printable ASCII "
                                 "separated by dots, no * or >)");
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "policyd";
  return name;
}

}  // namespace

void AddFleetSettings(const AddSetting& add, DaemonConfig& config) {
  add(
      "publish-to",
      "Publisher: write the store to the NATS JetStream bucket at these URLs "
      "(nats://HOST:PORT[,...]); needs upstream or snapshot (default: off)",
      "",
      [&config](const std::string& v) {
        if (!v.empty()) POLICYD_RETURN_IF_ERROR(CheckNatsUrls(v));
        config.publish_to = v;
        return Status::Ok();
      },
      false);
  add(
      "follow",
      "Follower: take every policy from the NATS JetStream bucket at these URLs "
      "(nats://HOST:PORT[,...]), with no IAM credential (default: off)",
      "",
      [&config](const std::string& v) {
        if (!v.empty()) POLICYD_RETURN_IF_ERROR(CheckNatsUrls(v));
        config.follow = v;
        return Status::Ok();
      },
      false);
  add("nats-creds", "NATS credentials file (JWT and NKey seed) for publish-to or follow", "",
      TextSetting(config.nats_creds), false);
  add("nats-ca-file", "Trust anchor (PEM) for NATS over TLS; turns TLS on", "",
      TextSetting(config.nats_ca_file), false);
  add(
      "nats-bucket", "The JetStream key-value bucket", config.nats_bucket,
      [&config](const std::string& v) {
        POLICYD_RETURN_IF_ERROR(CheckBucket(v));
        config.nats_bucket = v;
        return Status::Ok();
      },
      false);
  add(
      "nats-replicas", "Replicas of the bucket a publisher creates (3 recommended in production)",
      "1",
      [&config](const std::string& v) {
        std::uint64_t n = 0;
        Status s = ParseUnsigned(v, 1, 5, n);
        config.nats_replicas = static_cast<std::uint32_t>(n);
        return s;
      },
      false);
  add(
      "publish-resync-interval",
      "Publisher: time between anti-entropy passes that make the bucket equal to the store", "1h",
      [&config](const std::string& v) {
        return ParseDurationInto(v, std::chrono::seconds(1), config.publish_resync_interval);
      },
      false);
  add(
      "nats-inbox-prefix",
      "Prefix of NATS reply subjects, for servers that scope a user's subscriptions (default: "
      "_INBOX_policyd_publisher or _INBOX_policyd_follower, as examples/nats/ expects)",
      "",
      [&config](const std::string& v) {
        if (!v.empty()) POLICYD_RETURN_IF_ERROR(CheckInboxPrefix(v));
        config.nats_inbox_prefix = v;
        return Status::Ok();
      },
      false);
  add(
      "publisher-id", "Publisher: its name in the bucket's heartbeat key (default: host name)", "",
      [&config](const std::string& v) {
        const std::string id = v.empty() ? HostName() : v;
        POLICYD_RETURN_IF_ERROR(ValidateId("publisher-id", id));
        config.publisher_id = id;
        return Status::Ok();
      },
      false);
}

Status ValidateFleet(const DaemonConfig& config) {
  if (!config.follow.empty() &&
      (!config.upstream.empty() || !config.snapshot.empty() || !config.publish_to.empty())) {
    return Status::InvalidArgument(
        "follow takes every policy from NATS: it cannot be combined with upstream, snapshot or "
        "publish-to");
  }
  if (!config.publish_to.empty() && config.upstream.empty() && config.snapshot.empty()) {
    return Status::InvalidArgument("publish-to needs upstream or snapshot: what would it publish?");
  }
  if (config.follow.empty() && config.publish_to.empty() &&
      (!config.nats_creds.empty() || !config.nats_ca_file.empty())) {
    return Status::InvalidArgument("nats-creds and nats-ca-file need publish-to or follow");
  }
  return Status::Ok();
}

}  // namespace policyd
