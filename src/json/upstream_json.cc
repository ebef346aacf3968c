#include "json/upstream_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

#include "json/internal.h"
#include "json/ondemand.h"
#include "json/timestamp.h"
#include "resolve/resolve.h"

namespace policyd {
namespace {

using json_internal::FieldName;
using json_internal::JsonPath;
using json_internal::ReadString;
using json_internal::ReadTimestamp;
namespace od = json_internal::od;

// The smallest event, {"type":"a","aggregate":{"id":"b","type":"c"},"creationDate":"…"}, is far
// larger than this; it only bounds the reserve() for a hostile "events" array.
constexpr std::size_t kMinElementBytes = 8;
constexpr std::size_t kMaxErrorTextBytes = 256;

}  // namespace

// Helpers that json/domain_list_json.cc shares (declared in ondemand.h).
namespace json_internal {

Status Missing(const JsonPath& path, std::string_view name) {
  return json_internal::PathError(path, "missing \"" + std::string(name) + "\"");
}

Status ConsumeIfNull(od::value& value, const JsonPath& path, bool& is_null) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  is_null = type == od::json_type::null;
  if (is_null) return json_internal::ValidateValue(value, path, 0);
  return Status::Ok();
}

Status ReadOptionalBool(od::value& value, const JsonPath& path, std::optional<bool>& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type == od::json_type::null) return json_internal::ValidateValue(value, path, 0);
  if (type != od::json_type::boolean) return json_internal::WrongType(path, "a boolean", type);
  bool b = false;
  if (auto error = value.get_bool().get(b)) return json_internal::SyntaxError(path, error);
  out = b;
  return Status::Ok();
}

// A non-negative integer given as a decimal string (protojson's int64/uint64) or as a plain JSON
// number; at most `max`.
Status ReadUnsigned(od::value& value, const JsonPath& path, std::uint64_t max, std::uint64_t& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type == od::json_type::null) return json_internal::ValidateValue(value, path, 0);
  std::uint64_t parsed = 0;
  if (type == od::json_type::string) {
    std::string_view text;
    if (auto error = value.get_string().get(text)) return json_internal::SyntaxError(path, error);
    const bool digits_only = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (!digits_only || (text.size() > 1 && text[0] == '0') || ec != std::errc() ||
        end != text.data() + text.size()) {
      return json_internal::PathError(path,
                                      "expected an unsigned integer as a decimal string, got " +
                                          json_internal::QuoteForMessage(text));
    }
  } else if (type == od::json_type::number) {
    od::number number;
    const simdjson::error_code error = value.get_number().get(number);
    if (error && !json_internal::IsJsonNumber(value.raw_json_token())) {
      return json_internal::SyntaxError(path, error);
    }
    if (!error && number.is_uint64()) {
      parsed = number.get_uint64();
    } else if (!error && number.is_int64() && number.get_int64() >= 0) {
      parsed = static_cast<std::uint64_t>(number.get_int64());
    } else {
      return json_internal::PathError(
          path, "expected an unsigned integer, got a negative, fractional or too large number");
    }
  } else {
    return json_internal::WrongType(path, "an unsigned integer as a decimal string", type);
  }
  if (parsed > max) return json_internal::PathError(path, "integer out of range");
  out = parsed;
  return Status::Ok();
}

Status CheckId(const JsonPath& path, std::string_view what, std::string_view id) {
  if (Status s = ValidateId(what, id); !s.ok()) return s.WithContext(path.ToString());
  return Status::Ok();
}

}  // namespace json_internal

namespace {

using json_internal::CheckId;
using json_internal::ConsumeIfNull;
using json_internal::Missing;
using json_internal::ParseDocument;
using json_internal::ReadOptionalBool;
using json_internal::ReadUnsigned;

// ---- ListEvents ----

// An event type or aggregate type: {"type":"org","localized":{…}}, or tolerated as "org".
constexpr std::array<FieldName, 1> kTypeFields = {{{"type", "type"}}};

Status ReadTypeName(od::value& value, const JsonPath& path, std::string& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type == od::json_type::null) return json_internal::ValidateValue(value, path, 0);
  if (type == od::json_type::string) return ReadString(value, path, out);
  if (type != od::json_type::object) {
    return json_internal::WrongType(path, "an object or a string", type);
  }
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  return json_internal::ForEachField(object, path, kTypeFields, seen,
                                     [&out](int, od::value& field, const JsonPath& field_path) {
                                       return ReadString(field, field_path, out);
                                     });
}

enum AggregateField { kAggregateId, kAggregateType, kAggregateResourceOwner };
constexpr std::array<FieldName, 3> kAggregateFields = {{
    {"id", "id"},
    {"type", "type"},
    {"resourceOwner", "resource_owner"},
}};

// Null counts as absent (`seen_aggregate` stays false).
Status ReadAggregate(od::value& value, const JsonPath& path, Event& out, bool& seen_aggregate) {
  bool is_null = false;
  POLICYD_RETURN_IF_ERROR(ConsumeIfNull(value, path, is_null));
  if (is_null) return Status::Ok();
  seen_aggregate = true;
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(
      json_internal::ForEachField(object, path, kAggregateFields, seen,
                                  [&out](int index, od::value& field, const JsonPath& field_path) {
                                    switch (index) {
                                      case kAggregateId:
                                        return ReadString(field, field_path, out.aggregate_id);
                                      case kAggregateType:
                                        return ReadTypeName(field, field_path, out.aggregate_type);
                                      default:
                                        return ReadString(field, field_path, out.resource_owner);
                                    }
                                  }));
  if (out.aggregate_id.empty()) return Missing(path, "id");
  POLICYD_RETURN_IF_ERROR(CheckId(path.Field("id"), "aggregate id", out.aggregate_id));
  if (out.aggregate_type.empty()) return Missing(path, "type");
  return Status::Ok();
}

// Payload keys are the event's own JSON (a google.protobuf.Struct): camelCase only.
enum PayloadField { kUserLoginMustBeDomain, kValidateOrgDomains, kSmtpSender, kDomain, kOrgId };
constexpr std::array<FieldName, 5> kPayloadFields = {{
    {"userLoginMustBeDomain", "userLoginMustBeDomain"},
    {"validateOrgDomains", "validateOrgDomains"},
    {"smtpSenderAddressMatchesInstanceDomain", "smtpSenderAddressMatchesInstanceDomain"},
    {"domain", "domain"},
    {"orgId", "orgId"},
}};

Status ReadPayload(od::value& value, const JsonPath& path, Event& out) {
  bool is_null = false;
  POLICYD_RETURN_IF_ERROR(ConsumeIfNull(value, path, is_null));
  if (is_null) return Status::Ok();
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  return json_internal::ForEachField(
      object, path, kPayloadFields, seen,
      [&out](int index, od::value& field, const JsonPath& field_path) {
        PolicyPatch& patch = out.patch;
        switch (index) {
          case kUserLoginMustBeDomain:
            return ReadOptionalBool(field, field_path, patch.user_login_must_be_domain);
          case kValidateOrgDomains:
            return ReadOptionalBool(field, field_path, patch.validate_org_domains);
          case kSmtpSender:
            return ReadOptionalBool(field, field_path,
                                    patch.smtp_sender_address_matches_instance_domain);
          case kDomain:
            return ReadString(field, field_path, out.domain);
          default:
            return ReadString(field, field_path, out.org_id_payload);
        }
      });
}

// The payload of an event of a generic policy kind (model/policy_kinds.h) of meaning `t`.
Status ReadKindPayload(od::value& value, const JsonPath& path, const KindEventType& t, Event& out) {
  KindPatch& patch = out.kind_patch;
  switch (t.action) {
    case KindAction::kAdded:
    case KindAction::kChanged:
      return json_internal::ParseKindPayloadValue(value, path, t.kind,
                                                  t.action == KindAction::kAdded, patch);
    case KindAction::kSecondFactorAdded:
    case KindAction::kSecondFactorRemoved:
    case KindAction::kMultiFactorAdded:
    case KindAction::kMultiFactorRemoved:
    case KindAction::kAssetAdded:
      break;
    default:
      return ValidateValue(value, path, 0);
  }
  bool is_null = false;
  POLICYD_RETURN_IF_ERROR(ConsumeIfNull(value, path, is_null));
  if (is_null) return Status::Ok();
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  constexpr std::array<FieldName, 2> kFields = {{{"mfaType", "mfaType"}, {"storeKey", "storeKey"}}};
  std::uint32_t seen = 0;
  return json_internal::ForEachField(
      object, path, kFields, seen, [&](int index, od::value& field, const JsonPath& at) {
        if (index == 1) return ReadString(field, at, patch.store_key);
        std::uint64_t number = 0;
        POLICYD_RETURN_IF_ERROR(ReadUnsigned(field, at, UINT32_MAX, number));
        // The upstream's Go enums, mapped as its conversion to proto maps them.
        const FieldSpec& list =
            SpecOf(PolicyKind::kLogin)
                .fields[static_cast<std::size_t>(FindKindField(
                    SpecOf(PolicyKind::kLogin), t.action == KindAction::kSecondFactorAdded ||
                                                        t.action == KindAction::kSecondFactorRemoved
                                                    ? "secondFactors"
                                                    : "multiFactors"))];
        const EnumSpec& spec = *list.enum_spec;
        patch.factor =
            number < spec.from_event.size() ? spec.from_event[number] : spec.event_default;
        return Status::Ok();
      });
}

// An IdP's name: null leaves it unset ("not changed").
Status ReadIdpName(od::value& value, const JsonPath& path, std::optional<std::string>& out) {
  bool is_null = false;
  POLICYD_RETURN_IF_ERROR(ConsumeIfNull(value, path, is_null));
  if (is_null) return Status::Ok();
  std::string name;
  POLICYD_RETURN_IF_ERROR(ReadString(value, path, name));
  if (name.size() > kMaxKindStringLength) return PathError(path, "name too long");
  out = std::move(name);
  return Status::Ok();
}

// The payload of an IdP event of meaning `t` (model/idp_events.h): the IdP id under t.id_key and
// the name. A payload without a valid id leaves idp_patch.id empty, which the reducer counts as a
// malformed event and skips, rather than failing the page (these events are many and not all are
// ones policyd exists for). Names longer than kMaxKindStringLength are refused like policy fields.
Status ReadIdpPayload(od::value& value, const JsonPath& path, const IdpEventType& t, Event& out) {
  IdpPatch& patch = out.idp_patch;
  bool is_null = false;
  POLICYD_RETURN_IF_ERROR(ConsumeIfNull(value, path, is_null));
  if (is_null) return Status::Ok();
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  const std::array<FieldName, 2> fields = {{{t.id_key, t.id_key}, {"name", "name"}}};
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachField(
      object, path, fields, seen, [&](int index, od::value& field, const JsonPath& at) {
        if (index == 0) return ReadString(field, at, patch.id);
        return ReadIdpName(field, at, patch.name);
      }));
  if (!ValidateId("IdP id", patch.id).ok()) patch.id.clear();
  return Status::Ok();
}

enum EventField { kEventAggregate, kEventSequence, kEventCreationDate, kEventPayload, kEventType };
constexpr std::array<FieldName, 5> kEventFields = {{
    {"aggregate", "aggregate"},
    {"sequence", "sequence"},
    {"creationDate", "creation_date"},
    {"payload", "payload"},
    {"type", "type"},
}};

Status ReadEvent(od::value& value, const JsonPath& path, Event& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  bool aggregate_seen = false;
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachField(
      object, path, kEventFields, seen,
      [&out, &aggregate_seen](int index, od::value& field, const JsonPath& field_path) {
        switch (index) {
          case kEventAggregate:
            return ReadAggregate(field, field_path, out, aggregate_seen);
          case kEventSequence:
            return ReadUnsigned(field, field_path, UINT64_MAX, out.sequence);
          case kEventCreationDate:
            return ReadTimestamp(field, field_path, out.creation_date);
          case kEventPayload:
            return ReadPayload(field, field_path, out);
          default:
            return ReadTypeName(field, field_path, out.type);
        }
      }));
  if (out.type.empty()) return Missing(path, "type");
  if (!aggregate_seen) return Missing(path, "aggregate");
  if (out.creation_date.IsZero()) return Missing(path, "creationDate");
  // The payload comes before the type (protojson's field order), so an event of another policy
  // kind has its payload read again once its type is known; other events pay nothing for this.
  if (const auto kind = ClassifyKindEvent(out.type); kind && (seen & (1u << kEventPayload)) != 0) {
    od::value payload;
    if (auto error = object.find_field_unordered("payload").get(payload)) {
      return SyntaxError(path, error);
    }
    POLICYD_RETURN_IF_ERROR(ReadKindPayload(payload, path.Field("payload"), *kind, out));
  } else if (const auto idp = ClassifyIdpEvent(out.type); idp && (seen & (1u << kEventPayload))) {
    od::value payload;
    if (auto error = object.find_field_unordered("payload").get(payload)) {
      return SyntaxError(path, error);
    }
    POLICYD_RETURN_IF_ERROR(ReadIdpPayload(payload, path.Field("payload"), *idp, out));
  }
  return Status::Ok();
}

constexpr std::array<FieldName, 1> kEventsFields = {{{"events", "events"}}};

// ---- ListOrgs ----

enum OrgsField { kOrgsDetails, kOrgsResult };
constexpr std::array<FieldName, 2> kOrgsFields = {{{"details", "details"}, {"result", "result"}}};
constexpr std::array<FieldName, 1> kListDetailsFields = {{{"totalResult", "total_result"}}};
enum ListedOrgField { kListedOrgId, kListedOrgPrimaryDomain };
constexpr std::array<FieldName, 2> kOrgFields = {
    {{"id", "id"}, {"primaryDomain", "primary_domain"}}};

}  // namespace

Status json_internal::ReadListDetails(od::value& value, const JsonPath& path,
                                      std::uint64_t& total) {
  bool is_null = false;
  POLICYD_RETURN_IF_ERROR(ConsumeIfNull(value, path, is_null));
  if (is_null) return Status::Ok();
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  return json_internal::ForEachField(object, path, kListDetailsFields, seen,
                                     [&total](int, od::value& field, const JsonPath& field_path) {
                                       return ReadUnsigned(field, field_path, UINT64_MAX, total);
                                     });
}

namespace {

using json_internal::ReadListDetails;

// One org of the list: its id and primary domain ("" when absent).
Status ReadListedOrg(od::value& value, const JsonPath& path, std::string& id,
                     std::string& primary_domain) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(json_internal::GetObject(value, path, object));
  std::uint32_t seen = 0;
  POLICYD_RETURN_IF_ERROR(json_internal::ForEachField(
      object, path, kOrgFields, seen, [&](int index, od::value& field, const JsonPath& field_path) {
        return ReadString(field, field_path, index == kListedOrgId ? id : primary_domain);
      }));
  if (id.empty()) return Missing(path, "id");
  POLICYD_RETURN_IF_ERROR(CheckId(path.Field("id"), "org id", id));
  if (primary_domain.empty()) return Status::Ok();
  if (Status s = ValidateDomainName("primary domain", primary_domain); !s.ok()) {
    return s.WithContext(path.Field("primaryDomain").ToString());
  }
  return Status::Ok();
}

// ---- GetPolicy, token, key file ----

constexpr std::array<FieldName, 1> kGetPolicyFields = {{{"policy", "policy"}}};

enum TokenField { kAccessToken, kTokenType, kExpiresIn };
constexpr std::array<FieldName, 3> kTokenFields = {{
    {"access_token", "accessToken"},
    {"token_type", "tokenType"},
    {"expires_in", "expiresIn"},
}};

bool IsHeaderSafeToken(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; };
           return lower(x) == lower(y);
         });
}

enum KeyField { kKeyType, kKeyId, kKey, kKeyExpiration, kKeyUserId };
constexpr std::array<FieldName, 5> kKeyFields = {{
    {"type", "type"},
    {"keyId", "key_id"},
    {"key", "key"},
    {"expirationDate", "expiration_date"},
    {"userId", "user_id"},
}};

// ---- Error bodies ----

enum ErrorField { kErrorCode, kErrorMessage, kOAuthError, kOAuthDescription };
constexpr std::array<FieldName, 4> kErrorFields = {{
    {"code", "code"},
    {"message", "message"},
    {"error", "error"},
    {"error_description", "errorDescription"},
}};

// Cuts at a UTF-8 boundary and blanks control characters, so the text is safe in one log line.
std::string SanitizeForMessage(std::string_view text) {
  std::string out;
  std::size_t cut = text.size();
  if (cut > kMaxErrorTextBytes) {
    cut = kMaxErrorTextBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  out.reserve(cut + 3);
  for (std::size_t i = 0; i < cut; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c == 0x7f) ? ' ' : text[i];
  }
  if (cut < text.size()) out += "...";
  return out;
}

Status ReadCode(od::value& value, const JsonPath& path, std::string& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(json_internal::GetType(value, path, type));
  if (type != od::json_type::number) return ReadString(value, path, out);
  std::uint64_t code = 0;
  POLICYD_RETURN_IF_ERROR(ReadUnsigned(value, path, UINT32_MAX, code));
  out = std::to_string(code);
  return Status::Ok();
}

void AppendUint(std::string& out, std::uint64_t value) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace

Result<std::vector<Event>> ParseListEventsResponse(std::string_view body) {
  std::vector<Event> events;
  Status s = ParseDocument(body, [&](od::object& root) {
    std::uint32_t seen = 0;
    return json_internal::ForEachField(
        root, JsonPath(), kEventsFields, seen,
        [&](int, od::value& field, const JsonPath& field_path) {
          return json_internal::ForEachElement(
              field, field_path, body.size(), kMinElementBytes, events,
              [&events](od::value& element, const JsonPath& element_path) {
                return ReadEvent(element, element_path, events.emplace_back());
              });
        });
  });
  if (!s.ok()) return Err(std::move(s));
  return events;
}

Result<OrgPage> ParseListOrgsResponse(std::string_view body) {
  OrgPage page;
  Status s = ParseDocument(body, [&](od::object& root) {
    std::uint32_t seen = 0;
    return json_internal::ForEachField(
        root, JsonPath(), kOrgsFields, seen,
        [&](int index, od::value& field, const JsonPath& field_path) {
          if (index == kOrgsDetails) return ReadListDetails(field, field_path, page.total);
          return json_internal::ForEachElement(
              field, field_path, body.size(), kMinElementBytes, page.org_ids,
              [&page](od::value& element, const JsonPath& element_path) {
                return ReadListedOrg(element, element_path, page.org_ids.emplace_back(),
                                     page.primary_domains.emplace_back());
              });
        });
  });
  if (!s.ok()) return Err(std::move(s));
  return page;
}

Result<ParsedPolicy> ParseGetPolicyResponse(std::string_view body) {
  ParsedPolicy policy;
  bool found = false;
  Status s = ParseDocument(body, [&](od::object& root) {
    std::uint32_t seen = 0;
    return json_internal::ForEachField(
        root, JsonPath(), kGetPolicyFields, seen,
        [&](int, od::value& field, const JsonPath& field_path) {
          bool is_null = false;
          POLICYD_RETURN_IF_ERROR(ConsumeIfNull(field, field_path, is_null));
          if (is_null) return Status::Ok();
          found = true;
          return json_internal::ParsePolicyValue(field, field_path, policy);
        });
  });
  if (!s.ok()) return Err(std::move(s));
  if (!found) return Err(Missing(JsonPath(), "policy"));
  return policy;
}

Result<TokenResponse> ParseTokenResponse(std::string_view body) {
  TokenResponse token;
  std::string token_type;
  std::uint64_t expires_in = 0;
  Status s = ParseDocument(body, [&](od::object& root) {
    std::uint32_t seen = 0;
    return json_internal::ForEachField(
        root, JsonPath(), kTokenFields, seen,
        [&](int index, od::value& field, const JsonPath& field_path) {
          switch (index) {
            case kAccessToken:
              return ReadString(field, field_path, token.access_token);
            case kTokenType:
              return ReadString(field, field_path, token_type);
            default:
              return ReadUnsigned(field, field_path, INT64_MAX, expires_in);
          }
        });
  });
  if (!s.ok()) return Err(std::move(s));
  const JsonPath root;
  if (token.access_token.empty()) return Err(Missing(root, "access_token"));
  if (!IsHeaderSafeToken(token.access_token)) {
    return Err(json_internal::PathError(root.Field("access_token"),
                                        "contains spaces or non-printable characters"));
  }
  if (!token_type.empty() && !EqualsIgnoreCase(token_type, "Bearer")) {
    return Err(json_internal::PathError(
        root.Field("token_type"),
        "expected \"Bearer\", got " + json_internal::QuoteForMessage(token_type)));
  }
  token.expires_in = static_cast<std::int64_t>(expires_in);
  return token;
}

Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json) {
  ServiceAccountKey key;
  std::string type;
  Status s = ParseDocument(json, [&](od::object& root) {
    std::uint32_t seen = 0;
    return json_internal::ForEachField(
        root, JsonPath(), kKeyFields, seen,
        [&](int index, od::value& field, const JsonPath& field_path) {
          switch (index) {
            case kKeyType:
              return ReadString(field, field_path, type);
            case kKeyId:
              return ReadString(field, field_path, key.key_id);
            case kKey:
              return ReadString(field, field_path, key.private_key_pem);
            case kKeyExpiration:
              return ReadTimestamp(field, field_path, key.expiration_date);
            default:
              return ReadString(field, field_path, key.user_id);
          }
        });
  });
  if (!s.ok()) return Err(std::move(s));
  const JsonPath root;
  if (!type.empty() && type != "serviceaccount") {
    return Err(json_internal::PathError(
        root.Field("type"), "expected \"serviceaccount\", got " +
                                json_internal::QuoteForMessage(type) +
                                " (only a service user's key can be used; an application's key "
                                "authenticates an app, not a user)"));
  }
  if (key.key_id.empty()) return Err(Missing(root, "keyId"));
  if (key.private_key_pem.empty()) return Err(Missing(root, "key"));
  if (key.user_id.empty()) return Err(Missing(root, "userId"));
  return key;
}

std::optional<UpstreamErrorBody> ParseErrorBody(std::string_view body) {
  std::string code;
  std::string message;
  std::string oauth_error;
  std::string oauth_description;
  Status s = ParseDocument(body, [&](od::object& root) {
    std::uint32_t seen = 0;
    return json_internal::ForEachField(
        root, JsonPath(), kErrorFields, seen,
        [&](int index, od::value& field, const JsonPath& field_path) {
          switch (index) {
            case kErrorCode:
              return ReadCode(field, field_path, code);
            case kErrorMessage:
              return ReadString(field, field_path, message);
            case kOAuthError:
              return ReadString(field, field_path, oauth_error);
            default:
              return ReadString(field, field_path, oauth_description);
          }
        });
  });
  if (!s.ok()) return std::nullopt;
  if (code.empty()) code = std::move(oauth_error);
  if (message.empty()) message = std::move(oauth_description);
  if (code.empty() && message.empty()) return std::nullopt;
  return UpstreamErrorBody{SanitizeForMessage(code), SanitizeForMessage(message)};
}

namespace {

// Appends ,"<name>":["a","b"] unless `values` is empty.
void AppendStringArray(std::string& out, std::string_view name,
                       std::span<const std::string> values) {
  if (values.empty()) return;
  out += ",\"";
  out += name;
  out += "\":[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    AppendJsonString(out, values[i]);
  }
  out += ']';
}

}  // namespace

std::string FormatListEventsRequest(bool ascending, std::uint32_t limit,
                                    std::span<const std::string> event_types,
                                    std::span<const std::string> aggregate_types,
                                    const std::optional<Timestamp>& from) {
  std::string out = "{";
  if (ascending) out += "\"asc\":true,";
  out += "\"limit\":";
  AppendUint(out, limit);
  AppendStringArray(out, "eventTypes", event_types);
  AppendStringArray(out, "aggregateTypes", aggregate_types);
  if (from.has_value()) {
    out += ",\"from\":\"";
    AppendTimestamp(out, *from);
    out += '"';
  }
  out += '}';
  return out;
}

std::string FormatListOrgsRequest(std::uint64_t offset, std::uint32_t limit) {
  std::string out = "{\"query\":{\"offset\":\"";
  AppendUint(out, offset);
  out += "\",\"limit\":";
  AppendUint(out, limit);
  out += ",\"asc\":true}}";
  return out;
}

}  // namespace policyd
