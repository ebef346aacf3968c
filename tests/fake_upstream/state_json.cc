#include "fake_upstream/state_json.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "json/policy_json.h"
#include "json/timestamp.h"

namespace policyd::testing_support {
namespace {

constexpr std::uint32_t kMaxLimit = 1000;

std::uint32_t ClampLimit(std::uint32_t limit) {
  return limit == 0 || limit > kMaxLimit ? kMaxLimit : limit;
}

// Appends ,"key":"value" (or without the comma at the start of an object); empty values are
// omitted like protojson does.
void AppendString(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  if (out.back() != '{') out += ',';
  AppendJsonString(out, key);
  out += ':';
  AppendJsonString(out, value);
}

void AppendUint(std::string& out, std::string_view key, std::uint64_t value) {
  if (value != 0) AppendString(out, key, std::to_string(value));
}

void AppendTime(std::string& out, std::string_view key, Timestamp t) {
  if (!t.IsZero()) AppendString(out, key, FormatTimestamp(t));
}

// zitadel.v1.ObjectDetails (read form: all four fields).
void AppendDetails(std::string& out, const Details& d) {
  out += "\"details\":{";
  AppendUint(out, "sequence", d.sequence);
  AppendTime(out, "creationDate", d.creation_date);
  AppendTime(out, "changeDate", d.change_date);
  AppendString(out, "resourceOwner", d.resource_owner);
  out += '}';
}

std::string_view AggregateMessage(std::string_view type) {
  static const std::map<std::string_view, std::string_view> kMessages = {
      {"org", "Organization"}, {"instance", "Instance"}, {"user", "User"}, {"iam", "IAM"}};
  const auto it = kMessages.find(type);
  return it == kMessages.end() ? std::string_view() : it->second;
}

std::string_view EventMessage(std::string_view type) {
  static const std::map<std::string_view, std::string_view> kMessages = {
      {"org.added", "Organization created"},
      {"org.changed", "Organization changed"},
      {"org.deactivated", "Organization deactivated"},
      {"org.reactivated", "Organization reactivated"},
      {"org.removed", "Organization removed"},
      {"org.domain.added", "Domain added"},
      {"org.domain.verified", "Domain verified"},
      {"org.domain.primary.set", "Primary domain set"},
      {"org.domain.removed", "Domain removed"},
      {"org.policy.domain.added", "Domain policy added"},
      {"org.policy.domain.changed", "Domain policy changed"},
      {"org.policy.domain.removed", "Domain policy removed"},
      {"instance.added", "Instance added"},
      {"instance.domain.added", "Instance domain added"},
      {"instance.policy.domain.added", "Default domain policy added"},
      {"instance.policy.domain.changed", "Default domain policy changed"},
  };
  const auto it = kMessages.find(type);
  return it == kMessages.end() ? std::string_view() : it->second;
}

// {"type":"<raw>","localized":{"key":"<prefix><raw>","localizedMessage":"..."}}; an untranslated
// key is its own message, as ZITADEL's i18n does.
void AppendLocalizedType(std::string& out, std::string_view key, std::string_view raw,
                         std::string_view prefix, std::string_view message) {
  AppendJsonString(out, key);
  out += ":{";
  AppendString(out, "type", raw);
  out += ",\"localized\":{";
  const std::string localized_key = std::string(prefix) + std::string(raw);
  AppendString(out, "key", localized_key);
  AppendString(out, "localizedMessage", message.empty() ? localized_key : message);
  out += "}}";
}

void AppendEvent(std::string& out, const UpstreamState& state, const StoredEvent& e) {
  out += "{\"editor\":{";
  AppendString(out, "userId", state.editor_user_id());
  AppendString(out, "displayName", state.editor_display_name());
  AppendString(out, "service", "zitadel");
  out += "},\"aggregate\":{";
  AppendString(out, "id", e.aggregate_id);
  out += ',';
  AppendLocalizedType(out, "type", e.aggregate_type, "AggregateTypes.",
                      AggregateMessage(e.aggregate_type));
  AppendString(out, "resourceOwner", e.resource_owner);
  out += '}';
  AppendUint(out, "sequence", e.sequence);
  AppendTime(out, "creationDate", e.creation_date);
  if (e.payload) {
    out += ",\"payload\":";
    out += *e.payload;
  }
  out += ',';
  AppendLocalizedType(out, "type", e.type, "EventTypes.", EventMessage(e.type));
  out += '}';
}

bool Contains(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

bool Matches(const EventSearch& s, const std::vector<std::string>& aggregate_types,
             const UpstreamState& state, const StoredEvent& e) {
  if (!s.event_types.empty() && !Contains(s.event_types, e.type)) return false;
  if (!aggregate_types.empty() && !Contains(aggregate_types, e.aggregate_type)) return false;
  if (!s.aggregate_id.empty() && e.aggregate_id != s.aggregate_id) return false;
  if (!s.resource_owner.empty() && e.resource_owner != s.resource_owner) return false;
  if (!s.editor_user_id.empty() && s.editor_user_id != state.editor_user_id()) return false;
  if (s.sequence != 0 && (s.asc ? e.sequence <= s.sequence : e.sequence >= s.sequence)) {
    return false;
  }
  if (s.from && (s.asc ? e.creation_date <= *s.from : e.creation_date >= *s.from)) return false;
  if (s.since && e.creation_date <= *s.since) return false;
  if (s.until && e.creation_date >= *s.until) return false;
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool TextMatches(std::string_view method, std::string_view value, std::string_view query) {
  std::string v(value);
  std::string q(query);
  if (method.ends_with("_IGNORE_CASE")) {
    v = Lower(v);
    q = Lower(q);
  }
  if (method.starts_with("TEXT_QUERY_METHOD_STARTS_WITH")) return v.starts_with(q);
  if (method.starts_with("TEXT_QUERY_METHOD_CONTAINS")) return v.find(q) != std::string::npos;
  if (method.starts_with("TEXT_QUERY_METHOD_ENDS_WITH")) return v.ends_with(q);
  return v == q;
}

bool OrgMatches(const FakeOrg& org, const OrgQuery& q) {
  switch (q.kind) {
    case OrgQuery::Kind::kState:
      return q.value == (org.active ? "ORG_STATE_ACTIVE" : "ORG_STATE_INACTIVE");
    case OrgQuery::Kind::kName:
      return TextMatches(q.method, org.name, q.value);
    case OrgQuery::Kind::kDomain:
      return TextMatches(q.method, org.primary_domain, q.value);
    case OrgQuery::Kind::kId:
      return org.id == q.value;
  }
  return false;
}

// eventstore.AggregateTypeFromEventType: the aggregate type of an event type the upstream still
// registers (its prefix; "instance" for "iam.idp.*", registered there), "" for the v1 names it no
// longer knows ("iam.policy.org.iam.*", "org.iam.policy.*"), which therefore match nothing unless
// the query names aggregate types
// (../shared/upstream/zitadel-events-and-policies.md §4).
std::string RegisteredAggregateType(std::string_view event_type) {
  if (event_type.starts_with("iam.policy.org.iam.") || event_type.starts_with("org.iam.policy.")) {
    return "";
  }
  // The old-style instance IdP configs kept the v1 names on the instance aggregate.
  if (event_type.starts_with("iam.idp.")) return "instance";
  return std::string(event_type.substr(0, event_type.find('.')));
}

}  // namespace

std::string RenderEvents(const UpstreamState& state, const EventSearch& search,
                         Timestamp visible_from) {
  std::vector<std::string> aggregate_types = search.aggregate_types;
  if (aggregate_types.empty()) {
    for (const std::string& type : search.event_types) {
      std::string prefix = RegisteredAggregateType(type);
      if (!Contains(aggregate_types, prefix)) aggregate_types.push_back(std::move(prefix));
    }
  }
  const std::uint32_t limit = ClampLimit(search.limit);
  const auto& events = state.events();
  std::string out = "{";
  std::uint32_t count = 0;
  const auto visit = [&](const StoredEvent& e) {
    if (e.creation_date < visible_from || !Matches(search, aggregate_types, state, e)) return;
    out += count == 0 ? "\"events\":[" : ",";
    AppendEvent(out, state, e);
    ++count;
  };
  if (search.asc) {
    for (auto it = events.begin(); it != events.end() && count < limit; ++it) visit(*it);
  } else {
    for (auto it = events.rbegin(); it != events.rend() && count < limit; ++it) visit(*it);
  }
  if (count > 0) out += ']';
  return out + "}";
}

std::string RenderOrgs(const UpstreamState& state, const OrgSearch& search) {
  std::vector<const FakeOrg*> matching;
  for (const auto& [id, org] : state.orgs()) {
    if (std::all_of(search.queries.begin(), search.queries.end(),
                    [&](const OrgQuery& q) { return OrgMatches(org, q); })) {
      matching.push_back(&org);
    }
  }
  std::sort(matching.begin(), matching.end(), [&](const FakeOrg* a, const FakeOrg* b) {
    if (a->name != b->name) return search.asc ? a->name < b->name : a->name > b->name;
    return a->id < b->id;
  });
  std::string out = "{\"details\":{";
  AppendUint(out, "totalResult", matching.size());
  const auto& events = state.events();
  AppendUint(out, "processedSequence", events.size());
  AppendTime(out, "viewTimestamp", events.empty() ? Timestamp{} : events.back().creation_date);
  out += '}';
  if (!search.sorting_column.empty() && search.sorting_column != "ORG_FIELD_NAME_UNSPECIFIED") {
    AppendString(out, "sortingColumn", search.sorting_column);
  }
  const std::uint32_t limit = ClampLimit(search.limit);
  std::uint32_t count = 0;
  for (std::uint64_t i = search.offset; i < matching.size() && count < limit; ++i, ++count) {
    const FakeOrg& org = *matching[i];
    out += count == 0 ? ",\"result\":[{" : ",{";
    AppendString(out, "id", org.id);
    out += ',';
    AppendDetails(out, org.details);
    AppendString(out, "state", org.active ? "ORG_STATE_ACTIVE" : "ORG_STATE_INACTIVE");
    AppendString(out, "name", org.name);
    AppendString(out, "primaryDomain", org.primary_domain);
    out += '}';
  }
  if (count > 0) out += ']';
  return out + "}";
}

// {"details":{"totalResult":…,"processedSequence":…,"viewTimestamp":…}: a v1 ListDetails.
std::string ListDetails(const UpstreamState& state, std::size_t total) {
  std::string out = "{\"details\":{";
  AppendUint(out, "totalResult", total);
  const auto& events = state.events();
  AppendUint(out, "processedSequence", events.size());
  AppendTime(out, "viewTimestamp", events.empty() ? Timestamp{} : events.back().creation_date);
  return out + '}';
}

// The entries of `sorted` (by name, ascending) that a page of `search` shows, in its order.
template <typename T>
std::vector<const T*> PageOf(std::vector<const T*> sorted, const DomainSearch& search) {
  if (!search.asc) std::reverse(sorted.begin(), sorted.end());
  std::vector<const T*> page;
  const std::uint32_t limit = ClampLimit(search.limit);
  for (std::uint64_t i = search.offset; i < sorted.size() && page.size() < limit; ++i) {
    page.push_back(sorted[i]);
  }
  return page;
}

std::string RenderOrgDomains(const UpstreamState& state, const FakeOrg& org,
                             const DomainSearch& search) {
  std::vector<const FakeOrgDomain*> sorted;
  for (const FakeOrgDomain& d : org.domains) sorted.push_back(&d);
  std::sort(sorted.begin(), sorted.end(),
            [](const FakeOrgDomain* a, const FakeOrgDomain* b) { return a->name < b->name; });
  std::string out = ListDetails(state, sorted.size());
  const std::vector<const FakeOrgDomain*> page = PageOf(std::move(sorted), search);
  for (std::size_t i = 0; i < page.size(); ++i) {
    const FakeOrgDomain& d = *page[i];
    out += i == 0 ? ",\"result\":[{" : ",{";
    AppendString(out, "orgId", org.id);
    out += ',';
    AppendDetails(out, d.details);
    AppendString(out, "domainName", d.name);
    if (d.verified) out += ",\"isVerified\":true";
    if (d.name == org.primary_domain) out += ",\"isPrimary\":true";
    AppendString(out, "validationType", d.validation_type);
    out += '}';
  }
  if (!page.empty()) out += ']';
  return out + "}";
}

std::string RenderInstanceDomains(const UpstreamState& state, const DomainSearch& search) {
  const std::vector<std::string>& domains = state.instance_domains();
  std::vector<const std::string*> sorted;
  for (const std::string& d : domains) sorted.push_back(&d);
  std::sort(sorted.begin(), sorted.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  std::string out = ListDetails(state, sorted.size());
  if (!search.sorting_column.empty() && search.sorting_column != "DOMAIN_FIELD_NAME_UNSPECIFIED") {
    AppendString(out, "sortingColumn", search.sorting_column);
  }
  const std::vector<const std::string*> page = PageOf(std::move(sorted), search);
  for (std::size_t i = 0; i < page.size(); ++i) {
    out += i == 0 ? ",\"result\":[{" : ",{";
    AppendDetails(out, state.InstanceDomainDetails(*page[i]));
    AppendString(out, "domain", *page[i]);
    // zitadel.instance.v1.Domain: primary = 3, generated = 4.
    if (*page[i] == domains.front()) out += ",\"primary\":true,\"generated\":true";
    out += '}';
  }
  if (!page.empty()) out += ']';
  return out + "}";
}

std::string RenderLoginPolicyIdps(const UpstreamState& state, const std::vector<IdpLinkView>& links,
                                  const DomainSearch& search) {
  std::string out = "{\"details\":{";
  AppendUint(out, "totalResult", links.size());
  const auto& events = state.events();
  AppendTime(out, "viewTimestamp", events.empty() ? Timestamp{} : events.back().creation_date);
  out += '}';
  const std::uint32_t limit = ClampLimit(search.limit);
  std::uint32_t count = 0;
  for (std::uint64_t i = search.offset; i < links.size() && count < limit; ++i, ++count) {
    out += count == 0 ? ",\"result\":[" : ",";
    out += RenderIdpLink(links[i]);
  }
  if (count > 0) out += ']';
  return out + "}";
}

std::string RenderPolicy(const DomainPolicy& policy, bool org_iam) {
  if (!org_iam) return FormatGetPolicyResponse(policy);
  // zitadel.policy.v1.OrgIAMPolicy: details=1, user_login_must_be_domain=2, is_default=3.
  std::string out = "{\"policy\":{";
  AppendDetails(out, policy.details);
  if (policy.flags.user_login_must_be_domain) out += ",\"userLoginMustBeDomain\":true";
  if (policy.is_default) out += ",\"isDefault\":true";
  return out + "}}";
}

std::string RenderDomainSettings(const DomainPolicy& policy) {
  std::string out = "{\"details\":{";
  AppendUint(out, "sequence", policy.details.sequence);
  AppendTime(out, "changeDate", policy.details.change_date);
  AppendString(out, "resourceOwner", policy.details.resource_owner);
  AppendTime(out, "creationDate", policy.details.creation_date);
  out += "},\"settings\":{";
  if (policy.flags.user_login_must_be_domain) out += "\"loginNameIncludesDomain\":true,";
  if (policy.flags.validate_org_domains) out += "\"requireOrgDomainVerification\":true,";
  if (policy.flags.smtp_sender_address_matches_instance_domain) {
    out += "\"smtpSenderAddressMatchesInstanceDomain\":true,";
  }
  out += policy.is_default ? "\"resourceOwnerType\":\"RESOURCE_OWNER_TYPE_INSTANCE\""
                           : "\"resourceOwnerType\":\"RESOURCE_OWNER_TYPE_ORG\"";
  return out + "}}";
}

std::string RenderWriteDetails(const Details& details, bool creation) {
  std::string out = "{\"details\":{";
  AppendUint(out, "sequence", details.sequence);
  AppendTime(out, creation ? "creationDate" : "changeDate",
             creation ? details.creation_date : details.change_date);
  AppendString(out, "resourceOwner", details.resource_owner);
  return out + "}}";
}

std::string RenderStatus(Code code, std::string_view message) {
  std::string out = "{";
  if (code != Code::kOk) out += "\"code\":" + std::to_string(static_cast<int>(code));
  AppendString(out, "message", message);
  const std::size_t open = message.rfind(" (");
  if (message.ends_with(')') && open != std::string_view::npos) {
    const std::string_view id = message.substr(open + 2, message.size() - open - 3);
    out += ",\"details\":[{\"@type\":\"type.googleapis.com/zitadel.v1.ErrorDetail\"";
    AppendString(out, "id", id);
    AppendString(out, "message", message.substr(0, open));
    out += "}]";
  }
  return out + "}";
}

int HttpStatusFromCode(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kCancelled:
      return 499;
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
    case Code::kOutOfRange:
      return 400;
    case Code::kDeadlineExceeded:
      return 504;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kAborted:
      return 409;
    case Code::kPermissionDenied:
      return 403;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnimplemented:
      return 501;
    case Code::kUnavailable:
      return 503;
    case Code::kUnauthenticated:
      return 401;
    default:
      return 500;
  }
}

}  // namespace policyd::testing_support
