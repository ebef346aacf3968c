#include "fake_upstream/request_json.h"

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

#include "json/timestamp.h"

namespace policyd::testing_support {
namespace {

using Json = nlohmann::json;

Status Invalid(std::string_view field, std::string_view what) {
  return Status::InvalidArgument("proto: invalid value for " + std::string(field) + ": " +
                                 std::string(what));
}

Result<Json> ParseObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  Json json = Json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Err(Status::InvalidArgument("proto: syntax error: the body is not a JSON object"));
  }
  return json;
}

// The value of `camel` or `snake` in `obj`; nullptr when absent or null.
Result<const Json*> Field(const Json& obj, const char* camel, const char* snake) {
  const auto a = obj.find(camel);
  const auto b = snake == nullptr ? obj.end() : obj.find(snake);
  if (a != obj.end() && b != obj.end()) {
    return Err(Status::InvalidArgument(std::string("proto: duplicate field ") + camel));
  }
  const auto it = a != obj.end() ? a : b;
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<bool> GetBool(const Json& j, const char* name) {
  if (!j.is_boolean()) return Err(Invalid(name, "expected a boolean"));
  return j.get<bool>();
}

Result<std::uint64_t> GetUint(const Json& j, const char* name, std::uint64_t max) {
  std::uint64_t v = 0;
  if (j.is_number_unsigned()) {
    v = j.get<std::uint64_t>();
  } else if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
      return Err(Invalid(name, "expected an unsigned integer"));
    }
  } else {
    return Err(Invalid(name, "expected an unsigned integer"));
  }
  if (v > max) return Err(Invalid(name, "out of range"));
  return v;
}

Result<std::string> GetString(const Json& j, const char* name) {
  if (!j.is_string()) return Err(Invalid(name, "expected a string"));
  return j.get<std::string>();
}

Result<std::vector<std::string>> GetStrings(const Json& j, const char* name) {
  if (!j.is_array()) return Err(Invalid(name, "expected an array"));
  std::vector<std::string> out;
  for (const Json& e : j) {
    if (!e.is_string()) return Err(Invalid(name, "expected strings"));
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<Timestamp> GetTimestamp(const Json& j, const char* name) {
  if (!j.is_string()) return Err(Invalid(name, "expected an RFC 3339 string"));
  auto t = ParseTimestamp(j.get_ref<const std::string&>());
  if (!t) return Err(Invalid(name, t.error().message()));
  return *t;
}

// An enum given by name or by number (names[number]).
Result<std::string> GetEnum(const Json& j, const char* name,
                            const std::vector<std::string>& names) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_unsigned() && j.get<std::uint64_t>() < names.size()) {
    return names[j.get<std::uint64_t>()];
  }
  return Err(Invalid(name, "expected an enum name or number"));
}

// Sets `out` from the field if present. The macro keeps the dozen optional fields readable.
#define POLICYD_FIELD(obj, camel, snake, getter, out, ...)              \
  do {                                                                  \
    auto field_ = Field(obj, camel, snake);                             \
    if (!field_) return Err(field_.error());                            \
    if (*field_ != nullptr) {                                           \
      auto value_ = getter(**field_, camel __VA_OPT__(, ) __VA_ARGS__); \
      if (!value_) return Err(value_.error());                          \
      out = *value_;                                                    \
    }                                                                   \
  } while (false)

const std::vector<std::string> kTextMethods = {
    "TEXT_QUERY_METHOD_EQUALS",      "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE",
    "TEXT_QUERY_METHOD_STARTS_WITH", "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE",
    "TEXT_QUERY_METHOD_CONTAINS",    "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE",
    "TEXT_QUERY_METHOD_ENDS_WITH",   "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE"};
const std::vector<std::string> kOrgStates = {"ORG_STATE_UNSPECIFIED", "ORG_STATE_ACTIVE",
                                             "ORG_STATE_INACTIVE", "ORG_STATE_REMOVED"};

Result<OrgQuery> ParseOrgQuery(const Json& q) {
  if (!q.is_object()) return Err(Invalid("queries", "expected objects"));
  struct Kind {
    const char* camel;
    const char* snake;
    const char* field;
    OrgQuery::Kind kind;
  };
  static const Kind kKinds[] = {{"stateQuery", "state_query", "state", OrgQuery::Kind::kState},
                                {"nameQuery", "name_query", "name", OrgQuery::Kind::kName},
                                {"domainQuery", "domain_query", "domain", OrgQuery::Kind::kDomain},
                                {"idQuery", "id_query", "id", OrgQuery::Kind::kId}};
  for (const Kind& k : kKinds) {
    auto inner = Field(q, k.camel, k.snake);
    if (!inner) return Err(inner.error());
    if (*inner == nullptr) continue;
    OrgQuery out;
    out.kind = k.kind;
    if (k.kind == OrgQuery::Kind::kState) {
      POLICYD_FIELD(**inner, k.field, nullptr, GetEnum, out.value, kOrgStates);
    } else {
      POLICYD_FIELD(**inner, k.field, nullptr, GetString, out.value);
      POLICYD_FIELD(**inner, "method", nullptr, GetEnum, out.method, kTextMethods);
    }
    return out;
  }
  return Err(Invalid("queries", "unsupported query"));
}

// The ListQuery of a list request ({"query":{"offset":"…","limit":…,"asc":…}}) into `search`
// (an OrgSearch or a DomainSearch); absent fields keep their defaults.
template <typename Search>
Result<bool> ReadListQuery(const Json& json, Search& search) {
  auto query = Field(json, "query", nullptr);
  if (!query) return Err(query.error());
  if (*query != nullptr) {
    if (!(*query)->is_object()) return Err(Invalid("query", "expected an object"));
    POLICYD_FIELD(**query, "offset", nullptr, GetUint, search.offset,
                  std::numeric_limits<std::uint64_t>::max());
    POLICYD_FIELD(**query, "limit", nullptr, GetUint, search.limit,
                  std::numeric_limits<std::uint32_t>::max());
    POLICYD_FIELD(**query, "asc", nullptr, GetBool, search.asc);
  }
  return true;
}

}  // namespace

Result<PolicyFlags> ParsePolicyFlags(std::string_view body) {
  auto json = ParseObject(body);
  if (!json) return Err(json.error());
  PolicyFlags flags;
  POLICYD_FIELD(*json, "userLoginMustBeDomain", "user_login_must_be_domain", GetBool,
                flags.user_login_must_be_domain);
  POLICYD_FIELD(*json, "validateOrgDomains", "validate_org_domains", GetBool,
                flags.validate_org_domains);
  POLICYD_FIELD(*json, "smtpSenderAddressMatchesInstanceDomain",
                "smtp_sender_address_matches_instance_domain", GetBool,
                flags.smtp_sender_address_matches_instance_domain);
  return flags;
}

Result<OrgSearch> ParseOrgSearch(std::string_view body) {
  auto json = ParseObject(body);
  if (!json) return Err(json.error());
  OrgSearch search;
  if (auto read = ReadListQuery(*json, search); !read) return Err(read.error());
  POLICYD_FIELD(*json, "sortingColumn", "sorting_column", GetEnum, search.sorting_column,
                std::vector<std::string>{"ORG_FIELD_NAME_UNSPECIFIED", "ORG_FIELD_NAME_NAME"});
  auto queries = Field(*json, "queries", nullptr);
  if (!queries) return Err(queries.error());
  if (*queries != nullptr) {
    if (!(*queries)->is_array()) return Err(Invalid("queries", "expected an array"));
    for (const Json& q : **queries) {
      auto parsed = ParseOrgQuery(q);
      if (!parsed) return Err(parsed.error());
      search.queries.push_back(std::move(*parsed));
    }
  }
  return search;
}

Result<DomainSearch> ParseDomainSearch(std::string_view body, bool instance) {
  auto json = ParseObject(body);
  if (!json) return Err(json.error());
  DomainSearch search;
  if (auto read = ReadListQuery(*json, search); !read) return Err(read.error());
  if (instance) {
    POLICYD_FIELD(
        *json, "sortingColumn", "sorting_column", GetEnum, search.sorting_column,
        std::vector<std::string>{"DOMAIN_FIELD_NAME_UNSPECIFIED", "DOMAIN_FIELD_NAME_DOMAIN",
                                 "DOMAIN_FIELD_NAME_PRIMARY", "DOMAIN_FIELD_NAME_GENERATED",
                                 "DOMAIN_FIELD_NAME_CREATION_DATE"});
  }
  auto queries = Field(*json, "queries", nullptr);
  if (!queries) return Err(queries.error());
  if (*queries != nullptr) {
    if (!(*queries)->is_array()) return Err(Invalid("queries", "expected an array"));
    if (!(*queries)->empty()) return Err(Invalid("queries", "not supported by the fake"));
  }
  return search;
}

Result<EventSearch> ParseEventSearch(std::string_view body) {
  auto json = ParseObject(body);
  if (!json) return Err(json.error());
  EventSearch s;
  POLICYD_FIELD(*json, "asc", nullptr, GetBool, s.asc);
  POLICYD_FIELD(*json, "limit", nullptr, GetUint, s.limit,
                std::numeric_limits<std::uint32_t>::max());
  POLICYD_FIELD(*json, "sequence", nullptr, GetUint, s.sequence,
                std::numeric_limits<std::uint64_t>::max());
  POLICYD_FIELD(*json, "editorUserId", "editor_user_id", GetString, s.editor_user_id);
  POLICYD_FIELD(*json, "eventTypes", "event_types", GetStrings, s.event_types);
  POLICYD_FIELD(*json, "aggregateTypes", "aggregate_types", GetStrings, s.aggregate_types);
  POLICYD_FIELD(*json, "aggregateId", "aggregate_id", GetString, s.aggregate_id);
  POLICYD_FIELD(*json, "resourceOwner", "resource_owner", GetString, s.resource_owner);
  POLICYD_FIELD(*json, "creationDate", "creation_date", GetTimestamp, s.from);
  POLICYD_FIELD(*json, "from", nullptr, GetTimestamp, s.from);
  auto range = Field(*json, "range", nullptr);
  if (!range) return Err(range.error());
  if (*range != nullptr) {
    if (!(*range)->is_object()) return Err(Invalid("range", "expected an object"));
    if (json->contains("from")) {
      return Err(Status::InvalidArgument("proto: oneof creation_date_filter is already set"));
    }
    POLICYD_FIELD(**range, "since", nullptr, GetTimestamp, s.since);
    POLICYD_FIELD(**range, "until", nullptr, GetTimestamp, s.until);
  }
  if (s.event_types.size() > 30) {
    return Err(Status::InvalidArgument(
        "invalid ListEventsRequest.EventTypes: value must contain no more than 30 item(s)"));
  }
  if (s.aggregate_types.size() > 10) {
    return Err(Status::InvalidArgument(
        "invalid ListEventsRequest.AggregateTypes: value must contain no more than 10 item(s)"));
  }
  return s;
}

#undef POLICYD_FIELD

}  // namespace policyd::testing_support
