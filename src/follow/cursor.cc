#include "follow/cursor.h"

#include <charconv>
#include <limits>
#include <vector>

namespace policyd::follow {
namespace {

constexpr std::string_view kPrefix = "fleet v1 ";

bool ValidBucket(std::string_view name) {
  if (name.empty() || name.size() > kMaxBucketNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Canonical decimal: digits only, no leading zero unless the number is 0, no overflow.
template <typename T>
bool ParseCanonical(std::string_view text, T* out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> SplitSpaces(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t space = text.find(' ', start);
    fields.push_back(text.substr(start, space == std::string_view::npos ? space : space - start));
    if (space == std::string_view::npos) return fields;
    start = space + 1;
  }
}

}  // namespace

std::string FleetCursor::Encode() const {
  return std::string(kPrefix) + bucket + " " + std::to_string(created_ns) + " " +
         std::to_string(revision);
}

Result<FleetCursor> FleetCursor::Decode(std::string_view text) {
  if (!text.starts_with(kPrefix)) {
    return Err(Status::InvalidArgument("not a fleet cursor (no \"fleet v1 \" prefix)"));
  }
  const std::vector<std::string_view> fields = SplitSpaces(text.substr(kPrefix.size()));
  if (fields.size() != 3) {
    return Err(Status::InvalidArgument("fleet cursor: expected bucket, creation time, revision"));
  }
  FleetCursor cursor;
  if (!ValidBucket(fields[0])) return Err(Status::InvalidArgument("fleet cursor: bad bucket"));
  cursor.bucket = fields[0];
  if (!ParseCanonical(fields[1], &cursor.created_ns) || cursor.created_ns <= 0) {
    return Err(Status::InvalidArgument("fleet cursor: bad creation time"));
  }
  if (!ParseCanonical(fields[2], &cursor.revision)) {
    return Err(Status::InvalidArgument("fleet cursor: bad revision"));
  }
  return cursor;
}

StartPlan PlanStart(std::string_view stored_cursor, const BucketPosition& bucket) {
  if (stored_cursor.empty()) return {true, 0, "the store has no cursor"};
  Result<FleetCursor> cursor = FleetCursor::Decode(stored_cursor);
  if (!cursor) {
    return {true, 0, "the store's cursor is not a fleet cursor (" + cursor.error().message() + ")"};
  }
  if (cursor->bucket != bucket.bucket) {
    return {true, 0, "the store followed bucket " + cursor->bucket};
  }
  if (cursor->created_ns != bucket.created_ns) {
    return {true, 0,
            "bucket " + bucket.bucket + " was recreated (created at " +
                std::to_string(bucket.created_ns) + " ns, the store's cursor says " +
                std::to_string(cursor->created_ns) + ")"};
  }
  if (cursor->revision > bucket.last_seq ||
      cursor->revision == std::numeric_limits<std::uint64_t>::max()) {
    return {true, 0,
            "the store's cursor (revision " + std::to_string(cursor->revision) +
                ") is beyond the bucket's last revision " + std::to_string(bucket.last_seq)};
  }
  return {false, cursor->revision + 1,
          "resuming after revision " + std::to_string(cursor->revision)};
}

}  // namespace policyd::follow
