// StallWatch: tells a follower that its stream of bucket messages has stopped although the bucket
// holds messages it has not read.
//
// A follower's ordered consumer is re-created by cnats after missed heartbeats (a consumer on a
// server that died, a stream leader change); now and then that re-creation never delivers again
// (seen with nats-server 2.9.10 and libnats 3.4.1 when a 3-node cluster's stream leader is killed:
// "Missed Server Heartbeat" repeats and nothing arrives). The follower checks the bucket's last
// revision every bucket_check_interval anyway; a stall is when, between two checks, its cursor
// did not move at all although the earlier check already saw a newer revision. The follower then
// builds a new consumer from its cursor. A follower busy with a long backlog moves its cursor and
// is never taken for stalled; one that is caught up has no newer revision to wait for.
//
// Pure. Plain values; thread-compatible.
#pragma once

#include <cstdint>

namespace policyd::follow {

class StallWatch {
 public:
  // Records one bucket check: the follower's `cursor` (last revision applied) and the bucket's
  // `last_revision`, both read now. Returns true when the stream has stalled since the previous
  // check (see above); the watch then starts over.
  bool Check(std::uint64_t cursor, std::uint64_t last_revision) {
    const bool stalled = checked_ && cursor == cursor_ && cursor < last_revision_;
    checked_ = !stalled;
    cursor_ = cursor;
    last_revision_ = last_revision;
    return stalled;
  }

 private:
  bool checked_ = false;
  std::uint64_t cursor_ = 0;
  std::uint64_t last_revision_ = 0;
};

}  // namespace policyd::follow
