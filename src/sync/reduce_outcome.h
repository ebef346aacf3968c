// What applying one upstream event to the sync reducer's working set did (sync/reducer.h,
// sync/kind_reducer.h).
//
// Pure. Plain value.
#pragma once

namespace policyd {

enum class ReduceOutcome {
  kApplied,     // a row changed
  kNoEffect,    // understood, nothing to change (already applied, or not about policies)
  kInvalid,     // malformed (bad aggregate id or type): skipped
  kResnapshot,  // the instance was removed: the state must be rebuilt from scratch
};

}  // namespace policyd
