#include "fleet/keys.h"

#include <optional>

#include "model/domain_policy.h"
#include "resolve/resolve.h"

namespace policyd::fleet {
namespace {

constexpr std::string_view kInstanceKey = "domain.instance";
constexpr std::string_view kOrgPrefix = "domain.org.";
constexpr std::string_view kHeartbeatPrefix = "heartbeat.";
constexpr char kHex[] = "0123456789ABCDEF";

// The bytes that stand for themselves in an id token.
bool Plain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '/';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<FleetKey> ParseIdKey(std::string_view key, KeyKind kind, std::string_view token,
                            PolicyKind policy = PolicyKind::kDomain) {
  auto id = UnescapeKeyToken(token);
  if (!id) return Err(id.error().WithContext("bucket key " + QuoteKey(key, 120)));
  const char* what = kind == KeyKind::kHeartbeat ? "publisher id" : "org id";
  Status valid = ValidateId(what, *id);
  if (!valid.ok()) return Err(valid.WithContext("bucket key " + QuoteKey(key, 120)));
  return FleetKey{kind, std::move(*id), policy};
}

// "<kind>.instance" or "<kind>.org.<id>" of a bucket kind; nullopt when `key` starts with no
// bucket kind's name and a dot.
std::optional<Result<FleetKey>> ParseKindKey(std::string_view key) {
  for (PolicyKind kind : kBucketKinds) {
    const std::string_view name = KindKeyName(kind);
    if (key.size() <= name.size() || !key.starts_with(name) || key[name.size()] != '.') continue;
    const std::string_view rest = key.substr(name.size() + 1);
    if (rest == "instance") return FleetKey{KeyKind::kKindInstance, {}, kind};
    if (rest.starts_with("org.")) {
      return ParseIdKey(key, KeyKind::kKindOrg, rest.substr(4), kind);
    }
    return Result<FleetKey>(Err(Status::InvalidArgument(
        "bucket key " + QuoteKey(key, 120) + " is neither " + std::string(name) + ".instance nor " +
        std::string(name) + ".org.<id>")));
  }
  return std::nullopt;
}

}  // namespace

std::string QuoteKey(std::string_view bytes, std::size_t max) {
  std::string out = "\"";
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > max) out += "...";
  return out + "\"";
}

std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kInstance:
      return "instance";
    case KeyKind::kOrg:
      return "org";
    case KeyKind::kHeartbeat:
      return "heartbeat";
    case KeyKind::kKindInstance:
      return "kind instance";
    case KeyKind::kKindOrg:
      return "kind org";
  }
  return "unknown";
}

std::string_view KindKeyName(PolicyKind kind) {
  if (kind == PolicyKind::kLabelPreview) return "label-preview";
  return SpecOf(kind).cli_name;
}

std::string InstanceKey() { return std::string(kInstanceKey); }

std::string KindKey(PolicyKind kind, std::string_view org_id) {
  std::string out(KindKeyName(kind));
  if (org_id.empty()) return out + ".instance";
  return out + ".org." + EscapeKeyToken(org_id);
}

Result<std::string> FormatKey(const FleetKey& key) {
  const bool kind_key = key.kind == KeyKind::kKindInstance || key.kind == KeyKind::kKindOrg;
  if (kind_key != (key.policy != PolicyKind::kDomain) || (kind_key && !IsBucketKind(key.policy))) {
    return Err(Status::InvalidArgument("key of kind " + std::string(KeyKindName(key.kind)) +
                                       " with policy kind " +
                                       std::to_string(static_cast<int>(key.policy))));
  }
  if (key.kind == KeyKind::kInstance || key.kind == KeyKind::kKindInstance) {
    if (!key.id.empty()) return Err(Status::InvalidArgument("an instance key takes no id"));
    return key.kind == KeyKind::kInstance ? InstanceKey() : KindKey(key.policy, {});
  }
  const bool heartbeat = key.kind == KeyKind::kHeartbeat;
  if (Status s = ValidateId(heartbeat ? "publisher id" : "org id", key.id); !s.ok()) return Err(s);
  if (key.kind == KeyKind::kKindOrg) return KindKey(key.policy, key.id);
  return std::string(heartbeat ? kHeartbeatPrefix : kOrgPrefix) + EscapeKeyToken(key.id);
}

std::string EscapeKeyToken(std::string_view id) {
  std::string out;
  out.reserve(id.size());
  for (char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (Plain(c)) {
      out += ch;
    } else {
      out += '=';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<std::string> UnescapeKeyToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (Plain(c)) {
      out += token[i];
      continue;
    }
    if (c != '=') {
      return Err(Status::InvalidArgument("id token holds a byte a key cannot carry unescaped (" +
                                         std::string(1, kHex[c >> 4]) + kHex[c & 0xf] + ")"));
    }
    if (i + 2 >= token.size())
      return Err(Status::InvalidArgument("id token ends inside an escape"));
    const int h = HexValue(token[i + 1]);
    const int l = HexValue(token[i + 2]);
    if (h < 0 || l < 0) {
      return Err(
          Status::InvalidArgument("id token has an escape that is not =XX (upper-case hex)"));
    }
    const auto byte = static_cast<unsigned char>(h * 16 + l);
    if (Plain(byte)) {
      return Err(Status::InvalidArgument("id token escapes a byte that stands for itself"));
    }
    out += static_cast<char>(byte);
    i += 2;
  }
  return out;
}

Result<FleetKey> ParseKey(std::string_view key) {
  if (key == kInstanceKey) return FleetKey{KeyKind::kInstance, {}};
  if (key.starts_with(kOrgPrefix)) {
    return ParseIdKey(key, KeyKind::kOrg, key.substr(kOrgPrefix.size()));
  }
  if (key.starts_with(kHeartbeatPrefix)) {
    return ParseIdKey(key, KeyKind::kHeartbeat, key.substr(kHeartbeatPrefix.size()));
  }
  if (std::optional<Result<FleetKey>> kind = ParseKindKey(key)) return std::move(*kind);
  return Err(Status::InvalidArgument("bucket key " + QuoteKey(key, 120) +
                                     " is none of domain.instance, domain.org.<id>, "
                                     "heartbeat.<id>, <kind>.instance, <kind>.org.<id>"));
}

}  // namespace policyd::fleet
