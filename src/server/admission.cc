#include "server/admission.h"

namespace policyd {

std::size_t OrdinaryPlaces(const ConnectionLimits& limits) {
  if (limits.max_connections == 0) return 0;
  return limits.max_connections > limits.reserved ? limits.max_connections - limits.reserved : 1;
}

Refusal AdmitConnection(const ConnectionLimits& limits, bool privileged, std::size_t open,
                        std::size_t open_for_peer) {
  // The per-peer limit first: a peer at its own limit is told so even when the server is full
  // too, since closing its own connections is what it can do about it.
  if (!privileged && open_for_peer >= limits.max_per_peer) return Refusal::kPerPeer;
  if (open >= limits.max_connections) return Refusal::kMaxConnections;
  if (!privileged && open >= OrdinaryPlaces(limits)) return Refusal::kReserved;
  return Refusal::kNone;
}

std::string_view RefusalReason(Refusal refusal) {
  switch (refusal) {
    case Refusal::kPerPeer:
      return "per_peer";
    case Refusal::kReserved:
      return "reserved";
    case Refusal::kMaxConnections:
      return "max_connections";
    case Refusal::kNone:
      break;
  }
  return "";
}

std::string RefusalMessage(Refusal refusal, const ConnectionLimits& limits, uid_t peer) {
  switch (refusal) {
    case Refusal::kPerPeer:
      return "uid " + std::to_string(peer) + " holds its maximum of " +
             std::to_string(limits.max_per_peer) +
             " connections (--max-connections-per-peer); close some or try again later";
    case Refusal::kReserved:
      return "policyd's places for other users are all taken: the last " +
             std::to_string(limits.max_connections - OrdinaryPlaces(limits)) +
             " of its --max-connections " + std::to_string(limits.max_connections) +
             " are reserved for root and policyd's own uid (--reserved-connections); try again "
             "later";
    case Refusal::kMaxConnections:
      return "policyd is serving its maximum of " + std::to_string(limits.max_connections) +
             " connections (--max-connections); try again later";
    case Refusal::kNone:
      break;
  }
  return "";
}

void ConnectionTable::SetLimits(const ConnectionLimits& limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

ConnectionLimits ConnectionTable::limits() const {
  std::lock_guard lock(mu_);
  return limits_;
}

Refusal ConnectionTable::Open(uid_t peer) {
  std::lock_guard lock(mu_);
  auto it = by_peer_.find(peer);
  const std::size_t for_peer = it == by_peer_.end() ? 0 : it->second;
  const Refusal refusal = AdmitConnection(limits_, IsPrivilegedPeer(peer, own_euid_),
                                          open_.load(std::memory_order_relaxed), for_peer);
  if (refusal != Refusal::kNone) return refusal;
  if (it == by_peer_.end()) {
    by_peer_.emplace(peer, 1);
  } else {
    ++it->second;
  }
  open_.fetch_add(1, std::memory_order_relaxed);
  return Refusal::kNone;
}

void ConnectionTable::Close(uid_t peer) {
  std::lock_guard lock(mu_);
  auto it = by_peer_.find(peer);
  if (it == by_peer_.end()) return;  // not opened: a caller's bug, but never a negative count
  if (--it->second == 0) by_peer_.erase(it);
  open_.fetch_sub(1, std::memory_order_relaxed);
}

std::size_t ConnectionTable::open_for(uid_t peer) const {
  std::lock_guard lock(mu_);
  auto it = by_peer_.find(peer);
  return it == by_peer_.end() ? 0 : it->second;
}

}  // namespace policyd
