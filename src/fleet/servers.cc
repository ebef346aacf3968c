#include "fleet/servers.h"

namespace policyd::fleet {

std::vector<std::string> SplitServers(std::string_view list) {
  std::vector<std::string> urls;
  std::size_t begin = 0;
  while (begin <= list.size()) {
    std::size_t end = list.find(',', begin);
    if (end == std::string_view::npos) end = list.size();
    if (end > begin) urls.emplace_back(list.substr(begin, end - begin));
    begin = end + 1;
  }
  return urls;
}

std::string RedactedServers(const std::vector<std::string>& urls) {
  std::string out;
  for (const std::string& url : urls) {
    std::string u = url;
    const std::size_t scheme = u.find("://");
    const std::size_t from = scheme == std::string::npos ? 0 : scheme + 3;
    const std::size_t end = u.find_first_of("/?#", from);
    const std::size_t at = u.rfind('@', end);
    if (at != std::string::npos && at >= from) u.erase(from, at + 1 - from);
    if (!out.empty()) out += ',';
    out += u;
  }
  return out;
}

}  // namespace policyd::fleet
