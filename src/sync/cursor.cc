#include "sync/cursor.h"

#include <algorithm>
#include <charconv>

namespace policyd {
namespace {

// v2: the state the cursor belongs to includes org and instance domains. A v1 cursor was written
// by a policyd that kept no domains: refusing it makes the syncer start over with a cold start,
// once, which fetches them.
// v4: ... and every policy kind (model/policy_kinds.h), not only the domain policy.
// v5: ... with the login policy's IdP links and the IdP table (sync/idp_reducer.h).
constexpr std::string_view kVersion = "v5";
// Cursors of older versions, whose stores need one cold start: v1 kept no domains, v2 stores
// may have skipped events of a new stream (their rows compared sequences across streams), and v3
// stores hold the domain policy only (the cold start fetches the other kinds; nothing the store
// holds is lost, it is read again with them), and v4 stores lack the login policy's IdP links.
constexpr std::string_view kVersionWithoutDomains = "v1";
constexpr std::string_view kVersionWithoutStreams = "v2";
constexpr std::string_view kVersionWithoutKinds = "v3";
constexpr std::string_view kVersionWithoutIdps = "v4";

std::string FormatTime(Timestamp t) {
  return std::to_string(t.seconds) + "." + std::to_string(t.nanos);
}

bool ParseTime(std::string_view s, Timestamp& t) {
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
  auto r1 = std::from_chars(s.data(), s.data() + dot, seconds);
  auto r2 = std::from_chars(s.data() + dot + 1, s.data() + s.size(), nanos);
  if (r1.ec != std::errc() || r1.ptr != s.data() + dot) return false;
  if (r2.ec != std::errc() || r2.ptr != s.data() + s.size()) return false;
  if (nanos < 0 || nanos >= kNanosPerSecond) return false;
  t = {seconds, nanos};
  return true;
}

// Splits off the next space- or newline-terminated token.
bool NextToken(std::string_view& rest, char end, std::string_view& token) {
  const std::size_t at = rest.find(end);
  if (at == std::string_view::npos) return false;
  token = rest.substr(0, at);
  rest.remove_prefix(at + 1);
  return !token.empty();
}

}  // namespace

SyncCursor SyncCursor::StartingAt(std::optional<Timestamp> newest, std::int64_t overlap_ns) {
  SyncCursor c;
  if (newest) {
    c.newest_ = *newest;
    c.from_ = AddNanos(*newest, -overlap_ns);
  }
  return c;
}

bool SyncCursor::Seen(const Event& event) const {
  auto it = seen_.find(Aggregate(event.aggregate_type, event.aggregate_id));
  return it != seen_.end() && event.sequence <= it->second.sequence;
}

void SyncCursor::Advance(const std::vector<Event>& events, std::int64_t overlap_ns) {
  for (const Event& e : events) {
    Applied& applied = seen_[Aggregate(e.aggregate_type, e.aggregate_id)];
    if (e.sequence >= applied.sequence) applied = {e.sequence, e.creation_date};
    newest_ = std::max(newest_, e.creation_date);
  }
  if (!newest_.IsZero()) {
    const Timestamp candidate = AddNanos(newest_, -overlap_ns);
    if (!from_ || candidate > *from_) from_ = candidate;
  }
  Prune();
  if (EncodedSize() <= kMaxEncodedBytes) return;
  // A burst: keep the newest aggregates that fit and move `from` past the others.
  std::vector<std::pair<Timestamp, Aggregate>> by_date;
  for (const auto& [aggregate, applied] : seen_) by_date.emplace_back(applied.date, aggregate);
  std::sort(by_date.begin(), by_date.end());
  std::size_t size = EncodedSize();
  std::size_t drop = 0;
  while (drop < by_date.size() && size > kMaxEncodedBytes) {
    // Drop every aggregate sharing this date: `from` cannot split a date.
    const Timestamp date = by_date[drop].first;
    while (drop < by_date.size() && by_date[drop].first == date) {
      const Aggregate& a = by_date[drop].second;
      size -= 48 + a.first.size() + a.second.size();
      ++drop;
    }
    from_ = date;
  }
  Prune();
}

void SyncCursor::Prune() {
  if (!from_) return;
  // Events at or before `from` are never returned again (the filter is strict).
  std::erase_if(seen_, [this](const auto& entry) { return entry.second.date <= *from_; });
}

std::size_t SyncCursor::EncodedSize() const {
  std::size_t size = 64;
  for (const auto& [aggregate, applied] : seen_) {
    size += 48 + aggregate.first.size() + aggregate.second.size();  // generous per line
  }
  return size;
}

std::string SyncCursor::Encode() const {
  std::string out(kVersion);
  out += ' ';
  out += from_ ? FormatTime(*from_) : "-";
  out += ' ';
  out += FormatTime(newest_);
  out += ' ';
  out += std::to_string(seen_.size());
  out += '\n';
  for (const auto& [aggregate, applied] : seen_) {
    // Tabs separate the fields: ids may hold spaces but never control characters.
    out += FormatTime(applied.date) + '\t' + aggregate.first + '\t' + aggregate.second + '\t' +
           std::to_string(applied.sequence) + '\n';
  }
  return out;
}

Result<SyncCursor> SyncCursor::Decode(std::string_view text) {
  auto bad = [](std::string why) {
    return Err(Status::InvalidArgument("sync cursor: " + std::move(why)));
  };
  std::string_view rest = text, token;
  if (NextToken(rest, ' ', token) && token == kVersionWithoutDomains) {
    return bad("written by a policyd that kept no domains (v1)");
  }
  if (token == kVersionWithoutStreams) {
    return bad("written by a policyd that compared sequences of different event streams (v2)");
  }
  if (token == kVersionWithoutKinds) {
    return bad("written by a policyd that kept only the domain policy (v3)");
  }
  if (token == kVersionWithoutIdps) {
    return bad("written by a policyd that kept no IdP links of login policies (v4)");
  }
  if (token != kVersion) return bad("unknown version");
  SyncCursor c;
  if (!NextToken(rest, ' ', token)) return bad("missing from");
  if (token != "-") {
    Timestamp from;
    if (!ParseTime(token, from)) return bad("bad from");
    c.from_ = from;
  }
  if (!NextToken(rest, ' ', token) || !ParseTime(token, c.newest_)) return bad("bad newest");
  std::size_t count = 0;
  if (!NextToken(rest, '\n', token)) return bad("missing count");
  auto r = std::from_chars(token.data(), token.data() + token.size(), count);
  if (r.ec != std::errc() || r.ptr != token.data() + token.size()) return bad("bad count");
  for (std::size_t i = 0; i < count; ++i) {
    Applied applied;
    std::string_view type, id, seq;
    if (!NextToken(rest, '\t', token) || !ParseTime(token, applied.date)) {
      return bad("bad key date");
    }
    if (!NextToken(rest, '\t', type) || !NextToken(rest, '\t', id) || !NextToken(rest, '\n', seq)) {
      return bad("truncated key");
    }
    auto rs = std::from_chars(seq.data(), seq.data() + seq.size(), applied.sequence);
    if (rs.ec != std::errc() || rs.ptr != seq.data() + seq.size()) return bad("bad sequence");
    if (!c.seen_.emplace(Aggregate(type, id), applied).second) return bad("duplicate aggregate");
  }
  if (!rest.empty()) return bad("trailing bytes");
  return c;
}

}  // namespace policyd
