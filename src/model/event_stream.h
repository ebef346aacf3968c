// EventStream: which of the upstream's event streams a sequence number counts in.
//
// ZITADEL numbers events per stream, i.e. per (aggregate type, aggregate id), and a new stream
// starts again at 1. An instance whose history began under the v1 names continues on another
// stream: ("iam", "IAM"), then ("instance", "IAM"), then ("instance", <instance id>)
// (../shared/upstream/zitadel-events-and-policies.md §1). So a row's sequence only says whether an
// event is already applied when the event is of the same stream; events of different streams are
// applied in the order the upstream returns them.
//
// Plain value; thread-compatible.
#pragma once

#include <string>

namespace policyd {

struct EventStream {
  std::string type;  // aggregate type, e.g. "org", "instance", "iam"; empty: unknown
  std::string id;    // aggregate id

  // False for rows whose last event is unknown: a snapshot file, a policy read from the
  // upstream's API, or a store written before policyd kept streams.
  bool known() const { return !type.empty(); }

  friend bool operator==(const EventStream&, const EventStream&) = default;
};

}  // namespace policyd
