// SyncCursor: where incremental sync resumes in the upstream's event stream.
//
// The upstream's event API can only be scraped by creation date (sequences are per aggregate),
// its date filter is strict (created_at > from), all events of one push share a creationDate, and
// late commits can surface slightly out of date order. So the cursor asks again from a little
// *before* the newest event seen (an overlap window) and deduplicates on
// (aggregate type, aggregate id, sequence): within one aggregate, sequences are assigned in
// commit order, so it is enough to remember, per aggregate seen inside the window, the highest
// sequence applied — an event at or below it has been applied already.
//
// Size is bounded: if a burst puts more aggregates into the window than kMaxEncodedBytes allows,
// the oldest are dropped and `from` moves past them (they can then never come back), trading the
// late-commit margin for them against a cursor that always fits in the store.
//
// The cursor is stored in StoreMeta::cursor, in the same batch as the state it describes.
//
// Pure. Thread-compatible (plain value).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/timestamp.h"
#include "model/event.h"

namespace policyd {

class SyncCursor {
 public:
  SyncCursor() = default;

  // Where the next query starts (created_at > from); nullopt: from the oldest visible event.
  const std::optional<Timestamp>& from() const { return from_; }
  // The newest creationDate applied so far (zero if none).
  Timestamp newest() const { return newest_; }
  bool Seen(const Event& event) const;
  std::size_t seen_count() const { return seen_.size(); }

  // Largest Encode() output; the store accepts meta strings up to 64 KiB.
  static constexpr std::size_t kMaxEncodedBytes = 48 * 1024;

  // Starts after a cold start whose state reflects every event up to `newest`.
  static SyncCursor StartingAt(std::optional<Timestamp> newest, std::int64_t overlap_ns);

  // Records that `events` (one page, in upstream order) were applied, and moves `from` to
  // newest - overlap, forgetting keys that can no longer come back.
  void Advance(const std::vector<Event>& events, std::int64_t overlap_ns);

  // Text form for the store: "v5 <from|-> <newest> <n>\n", then per remembered aggregate
  // "<date>\t<aggregate type>\t<aggregate id>\t<highest sequence>\n".
  std::string Encode() const;
  // Errors: INVALID_ARGUMENT for anything Encode() did not write, including the "v1" cursors of
  // policyd versions that kept no domains, the "v2" cursors of versions that compared sequences
  // across event streams, whose stores may lack changes, the "v3" cursors of versions that kept
  // only the domain policy and the "v4" cursors of versions that kept no IdP links of login
  // policies (the syncer then does a cold start).
  static Result<SyncCursor> Decode(std::string_view text);

  friend bool operator==(const SyncCursor&, const SyncCursor&) = default;

 private:
  struct Applied {
    std::uint64_t sequence = 0;  // highest applied sequence of the aggregate
    Timestamp date;              // its creationDate
    friend bool operator==(const Applied&, const Applied&) = default;
  };
  using Aggregate = std::pair<std::string, std::string>;  // (type, id)

  void Prune();
  std::size_t EncodedSize() const;

  std::optional<Timestamp> from_;
  Timestamp newest_;
  // Aggregates with an applied event dated after from_.
  std::map<Aggregate, Applied> seen_;
};

}  // namespace policyd
