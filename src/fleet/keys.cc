#include "fleet/keys.h"

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

Result<FleetKey> ParseIdKey(std::string_view key, KeyKind kind, std::string_view token) {
  auto id = UnescapeKeyToken(token);
  if (!id) return Err(id.error().WithContext("bucket key " + QuoteKey(key, 120)));
  const char* what = kind == KeyKind::kOrg ? "org id" : "publisher id";
  Status valid = ValidateId(what, *id);
  if (!valid.ok()) return Err(valid.WithContext("bucket key " + QuoteKey(key, 120)));
  return FleetKey{kind, std::move(*id)};
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
  }
  return "unknown";
}

std::string InstanceKey() { return std::string(kInstanceKey); }

Result<std::string> FormatKey(const FleetKey& key) {
  if (key.kind == KeyKind::kInstance) {
    if (!key.id.empty()) return Err(Status::InvalidArgument("the instance key takes no id"));
    return InstanceKey();
  }
  const bool org = key.kind == KeyKind::kOrg;
  if (Status s = ValidateId(org ? "org id" : "publisher id", key.id); !s.ok()) return Err(s);
  return std::string(org ? kOrgPrefix : kHeartbeatPrefix) + EscapeKeyToken(key.id);
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
  return Err(Status::InvalidArgument("bucket key " + QuoteKey(key, 120) +
                                     " is none of domain.instance, domain.org.<id>, "
                                     "heartbeat.<id>"));
}

}  // namespace policyd::fleet
