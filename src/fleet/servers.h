// NATS server lists as fleet mode's settings and status surfaces handle them. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace policyd::fleet {

// The URLs of a comma-separated list ("nats://a:4222,nats://b:4222"), empty items dropped.
std::vector<std::string> SplitServers(std::string_view list);

// The URLs for status lines, logs and StoreMeta::source: comma-separated, each without its
// "user:password@" part ("nats://u:p@h:4222" -> "nats://h:4222"; the user part ends at the
// authority's last '@', since a password may hold one).
std::string RedactedServers(const std::vector<std::string>& urls);

}  // namespace policyd::fleet
