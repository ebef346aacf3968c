// FleetMode: the daemon's part of fleet mode (README "Fleet mode", docs/fleet.md). From the
// configuration it builds a publisher (publish/, --publish-to) or a follower (follow/, --follow),
// puts it between the store and whoever writes it, and reports its state on every status surface
// (ServingState's fleet source).
//
// Order of use, from the daemon's main thread: Make() after the store is open and before the
// syncer is built (a publisher's syncer must write through writer_store()); Start() once the
// socket is served; Stop() before the store is flushed at exit.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "daemon/config.h"
#include "model/fleet_status.h"
#include "server/serving_state.h"
#include "store/store.h"

namespace policyd {

namespace publish {
class ChangeFeed;
class Publisher;
}  // namespace publish
namespace follow {
class Follower;
}  // namespace follow

class FleetMode {
 public:
  // nullptr when `config` names neither --publish-to nor --follow. `store` and `clock` must
  // outlive the result. Errors: INVALID_ARGUMENT for settings the NATS client refuses (a
  // missing creds or CA file: checked at Start()).
  static std::unique_ptr<FleetMode> Make(const DaemonConfig& config, Store& store,
                                         const Clock& clock);
  ~FleetMode();
  FleetMode(const FleetMode&) = delete;
  FleetMode& operator=(const FleetMode&) = delete;

  // What sync and snapshot loading must write to: a publisher's change feed (so that every
  // change is published), or the store itself.
  Store& writer_store();
  // The FreshnessOptions::upstream of a follower (its servers, without credentials), so that its
  // data can go stale; "" for a publisher (its upstream, or none, decides).
  std::string freshness_source() const;
  bool follower() const { return follower_ != nullptr; }

  // Starts the publisher or follower and makes `state` report its status. Returns at once (NATS
  // is reached in the background). Errors: INVALID_ARGUMENT for an unreadable creds or CA file
  // or a bad publisher id (the daemon exits 78).
  Status Start(ServingState& state);
  // Stops the publisher or follower, removes the status source and releases the NATS library's
  // threads: call once, at exit, before the store is flushed. Idempotent.
  void Stop();
  FleetStatus Report() const;

 private:
  FleetMode() = default;

  Store* store_ = nullptr;
  std::unique_ptr<publish::ChangeFeed> feed_;
  std::unique_ptr<publish::Publisher> publisher_;
  std::unique_ptr<follow::Follower> follower_;
  const Clock* clock_ = nullptr;
  const DaemonConfig* config_ = nullptr;
  ServingState* state_ = nullptr;
  bool stopped_ = false;
};

}  // namespace policyd
