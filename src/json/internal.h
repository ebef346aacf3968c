// Helpers shared by the json module's .cc files. Internal to src/json/: other modules include the
// public headers (timestamp.h, policy_json.h, snapshot_json.h) only.
//
// Pure. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "model/domain_policy.h"

namespace policyd::json_internal {

// `s` as a JSON string literal for an error message: escaped like AppendJsonString and cut at a
// UTF-8 boundary after about 64 bytes, with "..." after the closing quote when cut.
std::string QuoteForMessage(std::string_view s);

// Appends a DomainPolicy object built from parts, so that callers holding a PolicyRecord need not
// copy it into a DomainPolicy. `resource_owner` replaces details.resource_owner.
void AppendPolicyJson(std::string& out, const PolicyFlags& flags, bool is_default,
                      const Details& details, std::string_view resource_owner);

// Appends a zitadel.v1.ObjectDetails object as reads return it: {"sequence":"3",
// "creationDate":…,"changeDate":…,"resourceOwner":…}, each omitted when zero or empty;
// `resource_owner` replaces details.resource_owner.
void AppendDetailsJson(std::string& out, const Details& details, std::string_view resource_owner);

}  // namespace policyd::json_internal
