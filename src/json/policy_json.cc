#include "json/policy_json.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <string>

#include "json/internal.h"
#include "json/ondemand.h"
#include "json/timestamp.h"

namespace policyd {
namespace json_internal {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting s[0] (a byte >= 0x80), or 0 if it is invalid
// (stray continuation byte, overlong form, surrogate, above U+10FFFF, truncated), following the
// rules of Go's utf8.DecodeRuneInString.
std::size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

void AppendEscaped(std::string& out, unsigned char c) {
  constexpr char kHex[] = "0123456789abcdef";
  out += '\\';
  switch (c) {
    case '"':
    case '\\':
      out += static_cast<char>(c);
      break;
    case '\b':
      out += 'b';
      break;
    case '\f':
      out += 'f';
      break;
    case '\n':
      out += 'n';
      break;
    case '\r':
      out += 'r';
      break;
    case '\t':
      out += 't';
      break;
    default:
      out += "u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      break;
  }
}

}  // namespace

void AppendDetailsJson(std::string& out, const Details& details, std::string_view resource_owner) {
  out += "{";
  bool empty = true;
  const auto key = [&out, &empty](std::string_view name) {
    if (!empty) out += ',';
    empty = false;
    out += '"';
    out += name;
    out += "\":";
  };
  if (details.sequence != 0) {
    key("sequence");
    char digits[24];
    const char* end = std::to_chars(digits, digits + sizeof(digits), details.sequence).ptr;
    out += '"';
    out.append(digits, static_cast<std::size_t>(end - digits));
    out += '"';
  }
  if (!details.creation_date.IsZero()) {
    key("creationDate");
    out += '"';
    AppendTimestamp(out, details.creation_date);
    out += '"';
  }
  if (!details.change_date.IsZero()) {
    key("changeDate");
    out += '"';
    AppendTimestamp(out, details.change_date);
    out += '"';
  }
  if (!resource_owner.empty()) {
    key("resourceOwner");
    AppendJsonString(out, resource_owner);
  }
  out += '}';
}

namespace {

// ---- Parsing ----

// Proto field order; the index in each table is the bit in ForEachField's `seen`.
enum PolicyField { kDetails, kUserLoginMustBeDomain, kIsDefault, kValidateOrgDomains, kSmtpSender };
constexpr std::array<FieldName, 5> kPolicyFields = {{
    {"details", "details"},
    {"userLoginMustBeDomain", "user_login_must_be_domain"},
    {"isDefault", "is_default"},
    {"validateOrgDomains", "validate_org_domains"},
    {"smtpSenderAddressMatchesInstanceDomain", "smtp_sender_address_matches_instance_domain"},
}};

enum DetailsField { kSequence, kCreationDate, kChangeDate, kResourceOwner };
constexpr std::array<FieldName, 4> kDetailsFields = {{
    {"sequence", "sequence"},
    {"creationDate", "creation_date"},
    {"changeDate", "change_date"},
    {"resourceOwner", "resource_owner"},
}};

}  // namespace

// For every field, JSON null means "not set", as in protojson.
Status ReadBool(od::value& value, const JsonPath& path, bool& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  if (type != od::json_type::boolean) return WrongType(path, "a boolean", type);
  if (auto error = value.get_bool().get(out)) return SyntaxError(path, error);
  return Status::Ok();
}

namespace {

enum class DecimalResult { kOk, kSyntax, kOverflow };

// Strict decimal: 1-20 digits, no sign, no leading zero (JSON number syntax, as protojson).
DecimalResult ParseDecimalUint64(std::string_view s, std::uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return DecimalResult::kSyntax;
  for (char c : s) {
    if (c < '0' || c > '9') return DecimalResult::kSyntax;
  }
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (error == std::errc::result_out_of_range) return DecimalResult::kOverflow;
  if (error != std::errc() || end != s.data() + s.size()) return DecimalResult::kSyntax;
  return DecimalResult::kOk;
}

}  // namespace

Status ReadUint64(od::value& value, const JsonPath& path, std::uint64_t& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  if (type == od::json_type::string) {
    std::string_view text;
    if (auto error = value.get_string().get(text)) return SyntaxError(path, error);
    switch (ParseDecimalUint64(text, out)) {
      case DecimalResult::kOk:
        return Status::Ok();
      case DecimalResult::kOverflow:
        return PathError(path, "uint64 out of range: " + QuoteForMessage(text));
      case DecimalResult::kSyntax:
        break;
    }
    return PathError(path, "expected a uint64 as a decimal string, got " + QuoteForMessage(text));
  }
  if (type != od::json_type::number) {
    return WrongType(path, "a uint64 as a decimal string", type);
  }
  od::number number;
  const simdjson::error_code error = value.get_number().get(number);
  if (error && !IsJsonNumber(value.raw_json_token())) return SyntaxError(path, error);
  if (!error && number.is_uint64()) {
    out = number.get_uint64();
  } else if (!error && number.is_int64() && number.get_int64() >= 0) {
    out = static_cast<std::uint64_t>(number.get_int64());
  } else {
    return PathError(path, "expected a uint64, got a negative, fractional or too large number");
  }
  return Status::Ok();
}

Status ReadDetails(od::value& value, const JsonPath& path, Details& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  od::object object;
  POLICYD_RETURN_IF_ERROR(GetObject(value, path, object));
  std::uint32_t seen = 0;
  return ForEachField(object, path, kDetailsFields, seen,
                      [&out](int index, od::value& field, const JsonPath& field_path) {
                        switch (index) {
                          case kSequence:
                            return ReadUint64(field, field_path, out.sequence);
                          case kCreationDate:
                            return ReadTimestamp(field, field_path, out.creation_date);
                          case kChangeDate:
                            return ReadTimestamp(field, field_path, out.change_date);
                          default:
                            return ReadString(field, field_path, out.resource_owner);
                        }
                      });
}

namespace {

Status ParsePolicyObject(od::object& object, const JsonPath& path, ParsedPolicy& out) {
  out = ParsedPolicy{};
  std::uint32_t seen = 0;
  return ForEachField(object, path, kPolicyFields, seen,
                      [&out](int index, od::value& field, const JsonPath& field_path) {
                        PolicyFlags& flags = out.record.flags;
                        switch (index) {
                          case kDetails:
                            return ReadDetails(field, field_path, out.record.details);
                          case kUserLoginMustBeDomain:
                            return ReadBool(field, field_path, flags.user_login_must_be_domain);
                          case kIsDefault:
                            return ReadBool(field, field_path, out.is_default);
                          case kValidateOrgDomains:
                            return ReadBool(field, field_path, flags.validate_org_domains);
                          default:
                            return ReadBool(field, field_path,
                                            flags.smtp_sender_address_matches_instance_domain);
                        }
                      });
}

}  // namespace

std::string QuoteForMessage(std::string_view s) {
  constexpr std::size_t kMaxBytes = 64;
  std::string out;
  if (s.size() <= kMaxBytes) {
    AppendJsonString(out, s);
    return out;
  }
  std::size_t cut = kMaxBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  AppendJsonString(out, s.substr(0, cut));
  out += "...";
  return out;
}

void AppendPolicyJson(std::string& out, const PolicyFlags& flags, bool is_default,
                      const Details& details, std::string_view resource_owner) {
  // protojson field-number order: details=1, userLoginMustBeDomain=2, isDefault=3,
  // validateOrgDomains=4, smtpSenderAddressMatchesInstanceDomain=5. Reads always set details, so
  // it is always written, as {} when every field is empty.
  out += "{\"details\":";
  AppendDetailsJson(out, details, resource_owner);
  if (flags.user_login_must_be_domain) out += ",\"userLoginMustBeDomain\":true";
  if (is_default) out += ",\"isDefault\":true";
  if (flags.validate_org_domains) out += ",\"validateOrgDomains\":true";
  if (flags.smtp_sender_address_matches_instance_domain) {
    out += ",\"smtpSenderAddressMatchesInstanceDomain\":true";
  }
  out += '}';
}

Status ParsePolicyValue(od::value& value, const JsonPath& path, ParsedPolicy& out) {
  od::object object;
  POLICYD_RETURN_IF_ERROR(GetObject(value, path, object));
  return ParsePolicyObject(object, path, out);
}

}  // namespace json_internal

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run_start = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    out.append(s, run_start, i - run_start);
    if (c < 0x80) {
      json_internal::AppendEscaped(out, c);
      ++i;
    } else if (const std::size_t n = json_internal::Utf8SequenceLength(s.substr(i)); n != 0) {
      out.append(s, i, n);
      i += n;
    } else {
      // protojson refuses to marshal invalid UTF-8; we cannot fail, so keep the output valid
      // JSON the way Go's encoding/json does: one U+FFFD per invalid byte.
      out += json_internal::kReplacementCharacter;
      ++i;
    }
    run_start = i;
  }
  out.append(s, run_start, s.size() - run_start);
  out += '"';
}

void AppendDomainPolicyJson(std::string& out, const DomainPolicy& policy) {
  json_internal::AppendPolicyJson(out, policy.flags, policy.is_default, policy.details,
                                  policy.details.resource_owner);
}

std::string FormatGetPolicyResponse(const DomainPolicy& policy) {
  std::string out = "{\"policy\":";
  AppendDomainPolicyJson(out, policy);
  out += '}';
  return out;
}

Result<ParsedPolicy> ParseDomainPolicyJson(std::string_view json) {
  json_internal::Document document;
  json_internal::od::object object;
  ParsedPolicy out;
  if (Status s = document.Open(json); !s.ok()) return Err(std::move(s));
  if (Status s = document.RootObject(object); !s.ok()) return Err(std::move(s));
  if (Status s = json_internal::ParsePolicyObject(object, json_internal::JsonPath(), out);
      !s.ok()) {
    return Err(std::move(s));
  }
  if (Status s = document.ExpectEnd(); !s.ok()) return Err(std::move(s));
  return out;
}

}  // namespace policyd
