#include "json/snapshot_json.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "json/internal.h"
#include "json/ondemand.h"
#include "json/policy_json.h"
#include "resolve/resolve.h"

namespace policyd {
namespace {

using json_internal::FieldName;
using json_internal::JsonPath;
namespace od = json_internal::od;

enum TopField { kInstance, kOrgs };
constexpr std::array<FieldName, 2> kTopFields = {{{"instance", "instance"}, {"orgs", "orgs"}}};

enum EntryField { kId, kPolicy };
constexpr std::array<FieldName, 2> kEntryFields = {{{"id", "id"}, {"policy", "policy"}}};

// The smallest org entry, {"id":"x"} plus a separator, bounds how many orgs a document can hold.
constexpr std::size_t kMinOrgBytes = 11;

Status MissingField(const JsonPath& path, std::string_view name) {
  return json_internal::PathError(path, "missing \"" + std::string(name) + "\"");
}

Status ReadId(od::value& value, const JsonPath& path, std::string_view what, std::string& out) {
  std::string_view id;
  POLICYD_RETURN_IF_ERROR(json_internal::GetString(value, path, id));
  if (Status s = ValidateId(what, id); !s.ok()) return s.WithContext(path.ToString());
  out.assign(id);
  return Status::Ok();
}

Status ParseInstance(od::value& value, const JsonPath& path, InstanceRecord& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  Status s = json_internal::ForEachField(
      object, path, kEntryFields, seen,
      [&out](int index, od::value& field, const JsonPath& field_path) {
        if (index == kId) return ReadId(field, field_path, "instance id", out.id);
        // isDefault is not checked: the instance policy is the default whatever it says.
        ParsedPolicy parsed;
        Status policy = json_internal::ParsePolicyValue(field, field_path, parsed);
        if (policy.ok()) out.policy = std::move(parsed.record);
        return policy;
      });
  if (!s.ok()) return s;
  if ((seen & (1u << kId)) == 0) return MissingField(path, "id");
  if ((seen & (1u << kPolicy)) == 0) return MissingField(path, "policy");
  return Status::Ok();
}

Status ParseOrgPolicy(od::value& value, const JsonPath& path, std::optional<PolicyRecord>& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type == od::json_type::null) return json_internal::ValidateValue(value, path, 0);
  ParsedPolicy parsed;
  POLICYD_RETURN_IF_ERROR(json_internal::ParsePolicyValue(value, path, parsed));
  if (parsed.is_default) {
    return json_internal::PathError(
        path.Field("isDefault"),
        "an org's own policy cannot be the default; an org that uses the instance default "
        "must omit \"policy\"");
  }
  out = std::move(parsed.record);
  return Status::Ok();
}

Status ParseOrg(od::value& value, const JsonPath& path, OrgRecord& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(
      json_internal::ForEachField(object, path, kEntryFields, seen,
                                  [&out](int index, od::value& field, const JsonPath& field_path) {
                                    if (index == kId)
                                      return ReadId(field, field_path, "org id", out.id);
                                    return ParseOrgPolicy(field, field_path, out.policy);
                                  }));
  if ((seen & (1u << kId)) == 0) return MissingField(path, "id");
  return Status::Ok();
}

Status ParseOrgs(od::value& value, const JsonPath& path, std::size_t document_size,
                 std::vector<OrgRecord>& out) {
  return json_internal::ForEachElement(value, path, document_size, kMinOrgBytes, out,
                                       [&out](od::value& element, const JsonPath& element_path) {
                                         return ParseOrg(element, element_path, out.emplace_back());
                                       });
}

// Sorting indices rather than hashing ids keeps the check at 4 bytes per org.
Status CheckUniqueOrgIds(const std::vector<OrgRecord>& orgs) {
  std::vector<std::uint32_t> order(orgs.size());
  for (std::size_t i = 0; i < orgs.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  std::sort(order.begin(), order.end(), [&orgs](std::uint32_t a, std::uint32_t b) {
    const int c = orgs[a].id.compare(orgs[b].id);
    return c != 0 ? c < 0 : a < b;
  });
  // Report the duplicate that comes first in the document: the smallest second member of a
  // group of equal ids (groups are in index order), together with that group's first member.
  std::size_t best_first = 0;
  std::size_t best_duplicate = orgs.size();
  for (std::size_t k = 1; k < order.size(); ++k) {
    if (orgs[order[k]].id == orgs[order[k - 1]].id && order[k] < best_duplicate) {
      best_duplicate = order[k];
      best_first = order[k - 1];
    }
  }
  if (best_duplicate == orgs.size()) return Status::Ok();
  const JsonPath root;
  const JsonPath orgs_path = root.Field("orgs");
  return json_internal::PathError(orgs_path.Index(best_duplicate).Field("id"),
                                  "duplicate org id " +
                                      json_internal::QuoteForMessage(orgs[best_duplicate].id) +
                                      " (first at orgs[" + std::to_string(best_first) + "])");
}

}  // namespace

Result<Snapshot> ParseSnapshot(std::string_view json) {
  json_internal::Document document;
  od::object object;
  Snapshot out;
  if (Status s = document.Open(json); !s.ok()) return Err(std::move(s));
  if (Status s = document.RootObject(object); !s.ok()) return Err(std::move(s));
  const JsonPath root;
  std::uint32_t seen = 0;
  Status s = json_internal::ForEachField(
      object, root, kTopFields, seen,
      [&out, &json](int index, od::value& field, const JsonPath& field_path) {
        if (index == kInstance) return ParseInstance(field, field_path, out.instance);
        return ParseOrgs(field, field_path, json.size(), out.orgs);
      });
  if (!s.ok()) return Err(std::move(s));
  if ((seen & (1u << kInstance)) == 0) return Err(MissingField(root, "instance"));
  if (Status end = document.ExpectEnd(); !end.ok()) return Err(std::move(end));
  if (Status unique = CheckUniqueOrgIds(out.orgs); !unique.ok()) return Err(std::move(unique));
  return out;
}

void AppendSnapshotBegin(std::string& out, const InstanceRecord& instance) {
  const Details& details = instance.policy.details;
  out += "{\"instance\":{\"id\":";
  AppendJsonString(out, instance.id);
  out += ",\"policy\":";
  json_internal::AppendPolicyJson(
      out, instance.policy.flags, /*is_default=*/true, details,
      details.resource_owner.empty() ? std::string_view(instance.id) : details.resource_owner);
  out += "},\"orgs\":[";
}

void AppendSnapshotOrg(std::string& out, const OrgRecord& org, bool first) {
  out += first ? "\n{\"id\":" : ",\n{\"id\":";
  AppendJsonString(out, org.id);
  if (org.policy.has_value()) {
    out += ",\"policy\":";
    json_internal::AppendPolicyJson(out, org.policy->flags, /*is_default=*/false,
                                    org.policy->details, org.policy->details.resource_owner);
  }
  out += '}';
}

void AppendSnapshotEnd(std::string& out) { out += "\n]}\n"; }

std::string FormatSnapshot(const Snapshot& snapshot) {
  std::string out;
  // About 200 bytes for an org with its own policy, 30 without.
  out.reserve(512 + snapshot.orgs.size() * 96);
  AppendSnapshotBegin(out, snapshot.instance);
  for (std::size_t i = 0; i < snapshot.orgs.size(); ++i) {
    AppendSnapshotOrg(out, snapshot.orgs[i], i == 0);
  }
  AppendSnapshotEnd(out);
  return out;
}

}  // namespace policyd
