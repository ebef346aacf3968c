// How `policyctl status` shows the daemon's status (its exit codes are in cli/commands.h). Pure:
// ages are taken against the daemon's own clock (ServerStatus::now), never the local one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/store_state.h"

namespace policyd {

// For people: one "key:  value" per line. A follower (fleet role follower) shows "source: nats",
// its bucket, NATS servers, connection state, cursor (the bucket revision of the last value it
// applied), whether it has caught up, one "publisher:" line per heartbeat it has read (id, its
// source, its last sync and that sync's age) and its fleet counters; a publisher shows the
// usual sync lines, then "fleet: publisher", bucket, servers, connection, its last write's
// revision and its counters.
std::string FormatStatusText(const ServerStatus& status);

// For machines, one line of JSON: {"health":"serving","instanceId":...,"orgCount":...,
// "customPolicyCount","lastChange","lastSync","dataAgeMs","stale","source","upstream","cursor",
// "consecutiveFailures","lastError","version","now","fleet"}. "fleet" is null when not in fleet
// mode, else {"role","bucket","servers","connection","cursor","caughtUp","publishers":[{"id",
// "source","lastSync","lastSyncAgeMs"}],"valuesApplied","valuesSkipped","valuesRefused",
// "writes","writeConflicts","writeErrors","coldStarts","resyncPasses"}; a follower's "source" is
// "nats". Absent times are null.
std::string FormatStatusJson(const ServerStatus& status);

// Milliseconds from `then` to `now` (negative when `then` is later: clocks differ); nullopt when
// `then` is zero (never) or the difference does not fit (a broken or hostile answer).
std::optional<std::int64_t> AgeMillis(Timestamp then, Timestamp now);

}  // namespace policyd
