#include "sync/kind_reducer.h"

#include <algorithm>
#include <string>

#include "sync/reducer.h"

namespace policyd {
namespace {

const std::string& OwnerOf(const Event& e) {
  return e.resource_owner.empty() ? e.aggregate_id : e.resource_owner;
}

// As sync/reducer.cc's AlreadyApplied, for a generic row.
bool AlreadyApplied(const std::optional<KindPolicy>& row, const Event& e) {
  if (!row) return false;
  if (row->stream.known()) return IsApplied(row->stream, row->details.sequence, e);
  return row->details.sequence >= e.sequence && !(row->details.change_date < e.creation_date);
}

void Touch(KindPolicy& row, const Event& e) {
  row.details.sequence = e.sequence;
  row.details.change_date = e.creation_date;
  row.stream = StreamOf(e);
}

// A row as the upstream's Go event struct is before its "added" payload is read: every field at
// its zero value. "added" payloads omit zero values, and the zero of an enum the upstream numbers
// differently from the proto is not the proto's zero: the label policy's theme mode 0 is "auto",
// which its GETs always show as THEME_MODE_AUTO.
KindPolicy ZeroEventRow(PolicyKind kind) {
  KindPolicy row = EmptyKindPolicy(kind);
  const KindSpec& spec = SpecOf(kind);
  for (std::size_t i = 0; i < spec.fields.size() && i < row.fields.size(); ++i) {
    const FieldSpec& f = spec.fields[i];
    if (f.type == FieldType::kEnum && f.enum_spec != nullptr && !f.enum_spec->from_event.empty()) {
      row.fields[i].number = f.enum_spec->from_event[0];
    }
  }
  return row;
}

ReduceOutcome Add(const Event& e, PolicyKind kind, std::optional<KindPolicy>& row) {
  if (AlreadyApplied(row, e)) return ReduceOutcome::kNoEffect;
  row = ZeroEventRow(kind);
  for (const auto& [index, value] : e.kind_patch.fields) {
    if (index < row->fields.size()) row->fields[index] = value;
  }
  row->details.creation_date = e.creation_date;
  row->details.resource_owner = OwnerOf(e);
  Touch(*row, e);
  return ReduceOutcome::kApplied;
}

// Runs `edit` on the row when there is one that does not yet reflect `e`.
template <typename Edit>
ReduceOutcome EditRow(const Event& e, std::optional<KindPolicy>& row, Edit&& edit) {
  if (!row || AlreadyApplied(row, e)) return ReduceOutcome::kNoEffect;
  edit(*row);
  Touch(*row, e);
  return ReduceOutcome::kApplied;
}

std::vector<std::uint32_t>& ListOf(KindPolicy& row, std::string_view field) {
  return row.fields[static_cast<std::size_t>(FindKindField(SpecOf(row.kind), field))].list;
}

ReduceOutcome Factor(const Event& e, KindAction action, std::optional<KindPolicy>& row) {
  const bool second =
      action == KindAction::kSecondFactorAdded || action == KindAction::kSecondFactorRemoved;
  const bool added =
      action == KindAction::kSecondFactorAdded || action == KindAction::kMultiFactorAdded;
  return EditRow(e, row, [&](KindPolicy& r) {
    auto& list = ListOf(r, second ? "secondFactors" : "multiFactors");
    if (added) {
      if (list.size() < kMaxKindListLength) list.push_back(e.kind_patch.factor);
    } else {
      list.erase(std::remove(list.begin(), list.end(), e.kind_patch.factor), list.end());
    }
  });
}

void MarkTouched(const Event& e, PolicyKind kind, KindRows& rows) {
  const auto k = static_cast<std::size_t>(kind);
  rows.touched[k] = true;
  RaiseVersion(e, rows.versions[k]);
}

ReduceOutcome Activate(const Event& e, KindRows& rows) {
  std::optional<KindPolicy>& active = rows.at(PolicyKind::kLabel);
  const std::optional<KindPolicy>& preview = rows.at(PolicyKind::kLabelPreview);
  if (!preview || AlreadyApplied(active, e)) return ReduceOutcome::kNoEffect;
  active = *preview;
  active->kind = PolicyKind::kLabel;
  Touch(*active, e);
  MarkTouched(e, PolicyKind::kLabel, rows);
  return ReduceOutcome::kApplied;
}

ReduceOutcome Label(const Event& e, const KindEventType& t, std::string_view asset_prefix,
                    KindRows& rows) {
  if (t.action == KindAction::kLabelActivated) return Activate(e, rows);
  std::optional<KindPolicy>& preview = rows.at(PolicyKind::kLabelPreview);
  ReduceOutcome out = ReduceOutcome::kNoEffect;
  switch (t.action) {
    case KindAction::kAdded:
      out = Add(e, PolicyKind::kLabelPreview, preview);
      break;
    case KindAction::kRemoved: {
      std::optional<KindPolicy>& active = rows.at(PolicyKind::kLabel);
      if ((!preview || AlreadyApplied(preview, e)) && (!active || AlreadyApplied(active, e))) {
        return ReduceOutcome::kNoEffect;
      }
      preview.reset();
      active.reset();
      MarkTouched(e, PolicyKind::kLabel, rows);
      out = ReduceOutcome::kApplied;
      break;
    }
    default:
      out = EditRow(e, preview, [&](KindPolicy& r) {
        const auto set_url = [&](std::size_t field, std::string_view key) {
          r.fields[field].text = AssetUrl(asset_prefix, r.details.resource_owner, key);
        };
        if (t.action == KindAction::kChanged) {
          for (const auto& [index, value] : e.kind_patch.fields) {
            if (index < r.fields.size()) r.fields[index] = value;
          }
        } else if (t.action == KindAction::kAssetAdded) {
          set_url(t.asset_field, e.kind_patch.store_key);
        } else if (t.action == KindAction::kAssetRemoved) {
          set_url(t.asset_field, "");
        } else {  // kAssetsRemoved
          for (const char* url : {"logoUrl", "iconUrl", "logoUrlDark", "iconUrlDark", "fontUrl"}) {
            set_url(static_cast<std::size_t>(FindKindField(SpecOf(r.kind), url)), "");
          }
        }
      });
      break;
  }
  if (out == ReduceOutcome::kApplied) MarkTouched(e, PolicyKind::kLabelPreview, rows);
  return out;
}

}  // namespace

std::string AssetUrl(std::string_view prefix, std::string_view resource_owner,
                     std::string_view store_key) {
  if (prefix.empty() || resource_owner.empty() || store_key.empty()) return {};
  std::string url;
  url.reserve(prefix.size() + resource_owner.size() + store_key.size() + 2);
  url.append(prefix).append("/").append(resource_owner).append("/").append(store_key);
  return url;
}

ReduceOutcome ReduceKindEvent(const Event& e, const KindEventType& t, std::string_view asset_prefix,
                              KindRows& rows) {
  if (t.kind == PolicyKind::kLabel) return Label(e, t, asset_prefix, rows);
  std::optional<KindPolicy>& row = rows.at(t.kind);
  ReduceOutcome out = ReduceOutcome::kNoEffect;
  switch (t.action) {
    case KindAction::kAdded:
      out = Add(e, t.kind, row);
      break;
    case KindAction::kChanged:
      out = EditRow(e, row, [&](KindPolicy& r) {
        for (const auto& [index, value] : e.kind_patch.fields) {
          if (index < r.fields.size()) r.fields[index] = value;
        }
      });
      break;
    case KindAction::kRemoved:
      if (!row || AlreadyApplied(row, e)) return ReduceOutcome::kNoEffect;
      row.reset();
      out = ReduceOutcome::kApplied;
      break;
    default:  // login factors
      out = Factor(e, t.action, row);
      break;
  }
  if (out == ReduceOutcome::kApplied) MarkTouched(e, t.kind, rows);
  return out;
}

}  // namespace policyd
