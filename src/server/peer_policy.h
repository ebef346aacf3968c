// Who may use the socket beyond what its file permissions allow: an allowlist of peer uids and
// gids, checked with SO_PEERCRED when a connection is accepted.
//
// Pure (the credential lookup is done by the caller). Immutable once built; the server swaps a
// whole PeerPolicy atomically on reload.
#pragma once

#include <sys/types.h>

#include <set>
#include <span>
#include <string>

namespace policyd {

struct PeerPolicy {
  std::set<uid_t> uids;
  std::set<gid_t> gids;

  // Empty lists: only the socket's file permissions decide.
  bool enabled() const { return !uids.empty() || !gids.empty(); }
  // A peer is allowed when its uid, its primary gid or one of its supplementary groups
  // (`groups`, from SO_PEERGROUPS) is listed.
  bool Permits(uid_t uid, gid_t gid, std::span<const gid_t> groups = {}) const {
    if (!enabled() || uids.contains(uid) || gids.contains(gid)) return true;
    for (gid_t g : groups) {
      if (gids.contains(g)) return true;
    }
    return false;
  }
  friend bool operator==(const PeerPolicy&, const PeerPolicy&) = default;
};

}  // namespace policyd
