// The event reducer of the generic policy kinds (model/policy_kinds.h): ZITADEL's policy
// projections (internal/query/projection/*_policy.go) applied to one owner's rows.
//
//   <scope>.<base>.added      set the row (missing payload keys = zero values; the label policy:
//                             its preview row)
//   <scope>.<base>.changed    patch the row (only the keys present; no row: no effect)
//   org.<base>.removed        delete the row (the label policy: both rows)
//   *.policy.login.{second,multi}factor.added/removed
//                             append the factor to the list / remove every occurrence of it
//   *.policy.label.activated  copy the preview row onto the active row, with the activation's
//                             sequence and change date (creation date and owner as the preview)
//   *.policy.label.<asset>.added/removed, .assets.removed
//                             set / clear asset URLs of the preview row: "<asset prefix>/
//                             <resource owner>/<store key>" (domain.AssetURL), the prefix being
//                             the upstream's origin + "/assets/v1"
// Every applied event sets the row's details.sequence, change_date and stream to the event's; an
// event a row already reflects (its stream at or after the event's sequence, or for a row of
// unknown stream an event newer neither by sequence nor by date) has no effect — the same rule
// as the domain policy's rows (sync/reducer.h), so replaying an overlap is harmless.
//
// Pure. Thread-compatible.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "model/event.h"
#include "model/policy_kinds.h"
#include "model/source_version.h"
#include "sync/reduce_outcome.h"

namespace policyd {

// One owner's (the instance's or an org's) rows of every stored generic kind, indexed by kind
// number (kDomain's slot is unused), each row entry's version (raised by every event applied to
// it, never lowered), and which of them the events changed.
struct KindRows {
  std::array<std::optional<KindPolicy>, kStoredKindCount> rows{};
  std::array<SourceVersion, kStoredKindCount> versions{};
  std::array<bool, kStoredKindCount> touched{};

  std::optional<KindPolicy>& at(PolicyKind kind) { return rows[static_cast<std::size_t>(kind)]; }
  const std::optional<KindPolicy>& at(PolicyKind kind) const {
    return rows[static_cast<std::size_t>(kind)];
  }
};

// Applies `e`, of type `t` (ClassifyKindEvent(e.type)), to `rows`, the rows of e's owner.
// `asset_prefix` is "<origin>/assets/v1" (empty: asset URLs stay empty, as the upstream's
// AssetURL gives for an empty prefix). Returns kApplied when a row changed (and raises the
// version of each row entry it changed), else kNoEffect.
ReduceOutcome ReduceKindEvent(const Event& e, const KindEventType& t, std::string_view asset_prefix,
                              KindRows& rows);

// The URL the upstream answers for an asset: "<prefix>/<resource owner>/<store key>", or empty
// when any part is empty (domain.AssetURL).
std::string AssetUrl(std::string_view prefix, std::string_view resource_owner,
                     std::string_view store_key);

}  // namespace policyd
