// Publisher::Want, what one key should hold: shared by publisher_writes.cc and
// publisher_kinds.cc. Internal to src/publish/.
#pragma once

#include <string>

#include "base/timestamp.h"
#include "fleet/source_version.h"
#include "publish/publisher.h"

namespace policyd::publish {

struct Publisher::Want {
  std::string key;
  bool present = true;  // write `value`; false: a delete marker
  fleet::SourceVersion version;
  std::string value;
  bool anti_entropy = false;
  Timestamp horizon;          // for a delete
  bool removal_seen = false;  // for a delete: this publisher applied the org's removal
};

}  // namespace policyd::publish
