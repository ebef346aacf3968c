#include "json/snapshot_json.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "json/internal.h"
#include "json/kind_json.h"
#include "json/ondemand.h"
#include "json/policy_json.h"
#include "resolve/resolve.h"

namespace policyd {
namespace {

using json_internal::FieldName;
using json_internal::JsonPath;
namespace od = json_internal::od;

enum TopField { kInstance, kOrgs, kInstanceDomains };
constexpr std::array<FieldName, 3> kTopFields = {
    {{"instance", "instance"}, {"orgs", "orgs"}, {"instanceDomains", "instance_domains"}}};

enum EntryField { kId, kPolicy, kDomains, kPolicies };
// The instance has no "domains" (its are "instanceDomains" at the top): that slot's key, "", is
// ignored like any unknown one.
constexpr std::array<FieldName, 4> kInstanceFields = {
    {{"id", "id"}, {"policy", "policy"}, {"", ""}, {"policies", "policies"}}};
constexpr std::array<FieldName, 4> kOrgFields = {
    {{"id", "id"}, {"policy", "policy"}, {"domains", "domains"}, {"policies", "policies"}}};

// The management API's org-domain field names, and the admin API's instance-domain one.
enum DomainField { kDomainName, kIsVerified, kIsPrimary };
constexpr std::array<FieldName, 3> kOrgDomainFields = {
    {{"domainName", "domain_name"}, {"isVerified", "is_verified"}, {"isPrimary", "is_primary"}}};
constexpr std::array<FieldName, 1> kInstanceDomainFields = {{{"domain", "domain"}}};
// {"domain":"a"} plus a separator.
constexpr std::size_t kMinDomainBytes = 15;

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

// "policies": {"<kind's snapshot name>": <that kind's policy object>, ...} of the instance
// (`org_id` empty: isDefault is not checked) or of an org (its own rows: isDefault refused).
// Unknown kind names (a newer policyd's) are checked for well-formed JSON and ignored.
Status ParsePolicies(od::value& value, const JsonPath& path, const std::string& org_id,
                     std::vector<KindRow>& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type == od::json_type::null) return json_internal::ValidateValue(value, path, 0);
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  KindSet seen;
  for (auto field_or_error : object) {
    od::field field;
    if (auto error = std::move(field_or_error).get(field)) {
      return json_internal::SyntaxError(path, error);
    }
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return json_internal::SyntaxError(path, error);
    const JsonPath at = path.Field(key);
    const std::optional<PolicyKind> kind = KindFromSnapshotName(key);
    if (!kind || *kind == PolicyKind::kDomain) {
      // "domain" stays in "policy"; a name this policyd does not know is a newer one's kind.
      if (kind) return json_internal::PathError(at, "the domain policy is \"policy\"");
      POLICYD_RETURN_IF_ERROR(json_internal::ValidateValue(field.value(), at, 0));
      continue;
    }
    if (seen.contains(*kind)) return json_internal::PathError(at, "duplicate field");
    seen.insert(*kind);
    ParsedKindPolicy parsed;
    POLICYD_RETURN_IF_ERROR(json_internal::ParseKindPolicyValue(field.value(), at, *kind, parsed));
    if (!org_id.empty() && parsed.is_default) {
      return json_internal::PathError(
          at.Field("isDefault"),
          "an org's own policy cannot be the default; an org that uses the instance default "
          "omits the kind");
    }
    out.push_back(KindRow{org_id, std::move(parsed.policy), {}});
  }
  return Status::Ok();
}

Status ParseInstance(od::value& value, const JsonPath& path, InstanceRecord& out,
                     std::vector<KindRow>& kind_rows) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  Status s = json_internal::ForEachField(
      object, path, kInstanceFields, seen,
      [&out, &kind_rows](int index, od::value& field, const JsonPath& field_path) {
        if (index == kId) return ReadId(field, field_path, "instance id", out.id);
        if (index == kPolicies) return ParsePolicies(field, field_path, "", kind_rows);
        if (index == kDomains) return json_internal::ValidateValue(field, field_path, 0);
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

Status ReadDomainName(od::value& value, const JsonPath& path, std::string& out) {
  std::string_view name;
  POLICYD_RETURN_IF_ERROR(json_internal::GetString(value, path, name));
  if (Status s = ValidateDomainName("domain", name); !s.ok()) return s.WithContext(path.ToString());
  out.assign(name);
  return Status::Ok();
}

// A boolean that protojson omits when false; null also means false.
Status ReadFlag(od::value& value, const JsonPath& path, bool& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type == od::json_type::null) return json_internal::ValidateValue(value, path, 0);
  if (type != od::json_type::boolean) return json_internal::WrongType(path, "a boolean", type);
  if (auto error = value.get_bool().get(out)) return json_internal::SyntaxError(path, error);
  return Status::Ok();
}

Status ParseOrgDomain(od::value& value, const JsonPath& path, OrgDomain& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachField(
      object, path, kOrgDomainFields, seen,
      [&out](int index, od::value& field, const JsonPath& field_path) {
        if (index == kDomainName) return ReadDomainName(field, field_path, out.name);
        return ReadFlag(field, field_path, index == kIsVerified ? out.verified : out.primary);
      }));
  if ((seen & (1u << kDomainName)) == 0) return MissingField(path, "domainName");
  if (out.primary && !out.verified) {
    return json_internal::PathError(path.Field("isPrimary"),
                                    "a primary domain must be verified (\"isVerified\":true)");
  }
  return Status::Ok();
}

Status ParseInstanceDomain(od::value& value, const JsonPath& path, std::string& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(
      json_internal::ForEachField(object, path, kInstanceDomainFields, seen,
                                  [&out](int, od::value& field, const JsonPath& field_path) {
                                    return ReadDomainName(field, field_path, out);
                                  }));
  if (seen == 0) return MissingField(path, "domain");
  return Status::Ok();
}

Status TooManyDomains(const JsonPath& path) {
  return json_internal::PathError(path, "more than " + std::to_string(kMaxDomainsPerList) +
                                            " domains (policyd's limit per org or instance)");
}

// The first name of `names` that an earlier one equals (SameDomain), as a path error naming both
// positions under `path` (`field` names the element's name field, if any).
Status CheckUniqueDomains(const JsonPath& path, std::string_view field,
                          const std::vector<std::string_view>& names) {
  std::vector<std::uint32_t> order(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  auto lower = [](std::string_view a, std::string_view b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      auto l = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
      return l(x) < l(y);
    });
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return lower(names[a], names[b]); });
  std::size_t first = 0;
  std::size_t duplicate = names.size();
  for (std::size_t k = 1; k < order.size(); ++k) {
    if (SameDomain(names[order[k]], names[order[k - 1]]) && order[k] < duplicate) {
      duplicate = order[k];
      first = order[k - 1];
    }
  }
  if (duplicate == names.size()) return Status::Ok();
  const JsonPath element = path.Index(duplicate);
  return json_internal::PathError(field.empty() ? element : element.Field(field),
                                  "duplicate domain " +
                                      json_internal::QuoteForMessage(names[duplicate]) +
                                      " (first at [" + std::to_string(first) + "])");
}

Status ParseOrgDomains(od::value& value, const JsonPath& path, std::size_t document_size,
                       std::vector<OrgDomain>& out) {
  std::size_t primary = 0;
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachElement(
      value, path, document_size, kMinDomainBytes, out,
      [&](od::value& element, const JsonPath& element_path) {
        if (out.size() == kMaxDomainsPerList) return TooManyDomains(path);
        if (Status s = ParseOrgDomain(element, element_path, out.emplace_back()); !s.ok()) {
          return s;
        }
        if (!out.back().primary) return Status::Ok();
        if (primary++ > 0) {
          return json_internal::PathError(element_path.Field("isPrimary"),
                                          "a second primary domain");
        }
        return Status::Ok();
      }));
  std::vector<std::string_view> names;
  names.reserve(out.size());
  for (const OrgDomain& d : out) names.push_back(d.name);
  return CheckUniqueDomains(path, "domainName", names);
}

Status ParseInstanceDomains(od::value& value, const JsonPath& path, std::size_t document_size,
                            std::vector<std::string>& out) {
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachElement(
      value, path, document_size, kMinDomainBytes, out,
      [&](od::value& element, const JsonPath& element_path) {
        if (out.size() == kMaxDomainsPerList) return TooManyDomains(path);
        return ParseInstanceDomain(element, element_path, out.emplace_back());
      }));
  return CheckUniqueDomains(path, "domain", std::vector<std::string_view>(out.begin(), out.end()));
}

// One org; its domains, if any, are appended to `domains` (with the org's id), its rows of the
// other kinds to `kind_rows`.
Status ParseOrg(od::value& value, const JsonPath& path, std::size_t document_size, OrgRecord& out,
                std::vector<OrgDomains>& domains, std::vector<KindRow>& kind_rows) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  std::vector<OrgDomain> list;
  std::vector<KindRow> rows;
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachField(
      object, path, kOrgFields, seen, [&](int index, od::value& field, const JsonPath& field_path) {
        if (index == kId) return ReadId(field, field_path, "org id", out.id);
        if (index == kDomains) return ParseOrgDomains(field, field_path, document_size, list);
        // The org id may come after "policies": rows get it below.
        if (index == kPolicies) return ParsePolicies(field, field_path, "(org)", rows);
        return ParseOrgPolicy(field, field_path, out.policy);
      }));
  if ((seen & (1u << kId)) == 0) return MissingField(path, "id");
  if (!list.empty()) domains.push_back(OrgDomains{out.id, std::move(list), 0});
  for (KindRow& row : rows) {
    row.org_id = out.id;
    kind_rows.push_back(std::move(row));
  }
  return Status::Ok();
}

Status ParseOrgs(od::value& value, const JsonPath& path, std::size_t document_size, Snapshot& out) {
  return json_internal::ForEachElement(value, path, document_size, kMinOrgBytes, out.orgs,
                                       [&](od::value& element, const JsonPath& element_path) {
                                         return ParseOrg(element, element_path, document_size,
                                                         out.orgs.emplace_back(), out.org_domains,
                                                         out.kind_rows);
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
        if (index == kInstance)
          return ParseInstance(field, field_path, out.instance, out.kind_rows);
        if (index == kInstanceDomains) {
          return ParseInstanceDomains(field, field_path, json.size(), out.instance_domains.names);
        }
        return ParseOrgs(field, field_path, json.size(), out);
      });
  if (!s.ok()) return Err(std::move(s));
  if ((seen & (1u << kInstance)) == 0) return Err(MissingField(root, "instance"));
  if (Status end = document.ExpectEnd(); !end.ok()) return Err(std::move(end));
  if (Status unique = CheckUniqueOrgIds(out.orgs); !unique.ok()) return Err(std::move(unique));
  return out;
}

namespace {

// ,"policies":{...} of `rows` (kinds in number order, the label preview left out), or nothing
// when there is none.
void AppendPolicies(std::string& out, std::span<const KindPolicy* const> rows, bool is_default) {
  bool first = true;
  for (std::size_t k = 0; k < kPolicyKindCount; ++k) {
    for (const KindPolicy* row : rows) {
      if (row == nullptr || static_cast<std::size_t>(row->kind) != k) continue;
      out += first ? ",\"policies\":{\"" : ",\"";
      first = false;
      out += SpecOf(row->kind).snapshot_name;
      out += "\":";
      AppendKindPolicyJson(out, *row, is_default);
    }
  }
  if (!first) out += '}';
}

}  // namespace

void AppendSnapshotBegin(std::string& out, const InstanceRecord& instance,
                         std::span<const std::string> instance_domains,
                         std::span<const KindPolicy* const> instance_kinds) {
  const Details& details = instance.policy.details;
  out += "{\"instance\":{\"id\":";
  AppendJsonString(out, instance.id);
  out += ",\"policy\":";
  json_internal::AppendPolicyJson(
      out, instance.policy.flags, /*is_default=*/true, details,
      details.resource_owner.empty() ? std::string_view(instance.id) : details.resource_owner);
  AppendPolicies(out, instance_kinds, /*is_default=*/true);
  out += '}';
  if (!instance_domains.empty()) {
    out += ",\"instanceDomains\":[";
    for (std::size_t i = 0; i < instance_domains.size(); ++i) {
      out += i == 0 ? "{\"domain\":" : ",{\"domain\":";
      AppendJsonString(out, instance_domains[i]);
      out += '}';
    }
    out += ']';
  }
  out += ",\"orgs\":[";
}

void AppendSnapshotOrg(std::string& out, const OrgRecord& org, bool first,
                       std::span<const OrgDomain> domains,
                       std::span<const KindPolicy* const> kinds) {
  out += first ? "\n{\"id\":" : ",\n{\"id\":";
  AppendJsonString(out, org.id);
  if (org.policy.has_value()) {
    out += ",\"policy\":";
    json_internal::AppendPolicyJson(out, org.policy->flags, /*is_default=*/false,
                                    org.policy->details, org.policy->details.resource_owner);
  }
  AppendPolicies(out, kinds, /*is_default=*/false);
  if (!domains.empty()) {
    out += ",\"domains\":[";
    for (std::size_t i = 0; i < domains.size(); ++i) {
      out += i == 0 ? "{\"domainName\":" : ",{\"domainName\":";
      AppendJsonString(out, domains[i].name);
      // False booleans are omitted, as the upstream's JSON does.
      if (domains[i].verified) out += ",\"isVerified\":true";
      if (domains[i].primary) out += ",\"isPrimary\":true";
      out += '}';
    }
    out += ']';
  }
  out += '}';
}

void AppendSnapshotEnd(std::string& out) { out += "\n]}\n"; }

std::string FormatSnapshot(const Snapshot& snapshot) {
  std::string out;
  // About 200 bytes for an org with its own policy, 30 without.
  out.reserve(512 + snapshot.orgs.size() * 96);
  std::unordered_map<std::string_view, const OrgDomains*> domains;
  domains.reserve(snapshot.org_domains.size());
  for (const OrgDomains& d : snapshot.org_domains) domains.emplace(d.org_id, &d);
  std::unordered_map<std::string_view, std::vector<const KindPolicy*>> kinds;
  for (const KindRow& row : snapshot.kind_rows) kinds[row.org_id].push_back(&row.policy);
  const auto kinds_of = [&kinds](std::string_view id) {
    auto it = kinds.find(id);
    return it == kinds.end() ? std::span<const KindPolicy* const>() : it->second;
  };
  AppendSnapshotBegin(out, snapshot.instance, snapshot.instance_domains.names, kinds_of(""));
  for (std::size_t i = 0; i < snapshot.orgs.size(); ++i) {
    const OrgRecord& org = snapshot.orgs[i];
    auto it = domains.find(org.id);
    AppendSnapshotOrg(out, org, i == 0,
                      it == domains.end() ? std::span<const OrgDomain>() : it->second->domains,
                      kinds_of(org.id));
  }
  AppendSnapshotEnd(out);
  return out;
}

}  // namespace policyd
