#include "json/ondemand.h"

#include <string>

#include "json/internal.h"
#include "json/timestamp.h"

namespace policyd::json_internal {
namespace {

// Field names that read unambiguously in a dotted path; others are quoted as ["..."].
bool IsPlainName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || c == '@' || c == '$';
    if (!plain) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsJsonNumber(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  std::size_t i = 0;
  const std::size_t n = token.size();
  const auto digits = [&]() {
    const std::size_t start = i;
    while (i < n && IsDigit(token[i])) ++i;
    return i > start;
  };
  if (i < n && token[i] == '-') ++i;
  if (i < n && token[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && token[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < n && (token[i] == '+' || token[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

void JsonPath::AppendTo(std::string& out) const {
  if (parent_ != nullptr) parent_->AppendTo(out);
  switch (kind_) {
    case Kind::kRoot:
      break;
    case Kind::kField:
      if (IsPlainName(name_)) {
        if (!out.empty()) out += '.';
        out += name_;
      } else {
        out += '[';
        out += QuoteForMessage(name_);
        out += ']';
      }
      break;
    case Kind::kIndex:
      out += '[';
      out += std::to_string(index_);
      out += ']';
      break;
  }
}

std::string JsonPath::ToString() const {
  std::string out;
  AppendTo(out);
  return out.empty() ? "top level" : out;
}

Status PathError(const JsonPath& path, std::string_view message) {
  return Status::InvalidArgument(path.ToString() + ": " + std::string(message));
}

Status SyntaxError(const JsonPath& path, simdjson::error_code error) {
  if (error == simdjson::MEMALLOC) {
    return Status::ResourceExhausted(path.ToString() + ": out of memory while parsing JSON");
  }
  return PathError(path, std::string("malformed JSON (") + simdjson::error_message(error) + ")");
}

std::string_view TypeName(od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "an unknown JSON type";
}

Status WrongType(const JsonPath& path, std::string_view expected, od::json_type actual) {
  return PathError(path,
                   "expected " + std::string(expected) + ", got " + std::string(TypeName(actual)));
}

Status GetType(od::value& value, const JsonPath& path, od::json_type& type) {
  if (auto error = value.type().get(type)) return SyntaxError(path, error);
  return Status::Ok();
}

Status GetObject(od::value& value, const JsonPath& path, od::object& object) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type != od::json_type::object) return WrongType(path, "an object", type);
  if (auto error = value.get_object().get(object)) return SyntaxError(path, error);
  return Status::Ok();
}

Status GetString(od::value& value, const JsonPath& path, std::string_view& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type != od::json_type::string) return WrongType(path, "a string", type);
  if (auto error = value.get_string().get(out)) return SyntaxError(path, error);
  return Status::Ok();
}

Status ValidateValue(od::value& value, const JsonPath& path, int depth) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  switch (type) {
    case od::json_type::object: {
      if (depth >= kMaxUnknownDepth) return PathError(path, "nested too deeply");
      od::object object;
      if (auto error = value.get_object().get(object)) return SyntaxError(path, error);
      for (auto field_or_error : object) {
        od::field field;
        if (auto error = std::move(field_or_error).get(field)) return SyntaxError(path, error);
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return SyntaxError(path, error);
        POLICYD_RETURN_IF_ERROR(ValidateValue(field.value(), path.Field(key), depth + 1));
      }
      return Status::Ok();
    }
    case od::json_type::array: {
      if (depth >= kMaxUnknownDepth) return PathError(path, "nested too deeply");
      od::array array;
      if (auto error = value.get_array().get(array)) return SyntaxError(path, error);
      std::size_t index = 0;
      for (auto element_or_error : array) {
        od::value element;
        if (auto error = std::move(element_or_error).get(element)) {
          return SyntaxError(path.Index(index), error);
        }
        POLICYD_RETURN_IF_ERROR(ValidateValue(element, path.Index(index), depth + 1));
        ++index;
      }
      return Status::Ok();
    }
    case od::json_type::string: {
      std::string_view ignored;
      if (auto error = value.get_string().get(ignored)) return SyntaxError(path, error);
      return Status::Ok();
    }
    case od::json_type::number:
      // On Demand skips a scalar it was not asked to read, so checking the token is enough.
      if (!IsJsonNumber(value.raw_json_token())) return SyntaxError(path, simdjson::NUMBER_ERROR);
      return Status::Ok();
    case od::json_type::boolean: {
      bool ignored;
      if (auto error = value.get_bool().get(ignored)) return SyntaxError(path, error);
      return Status::Ok();
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return SyntaxError(path, error);
      if (!is_null) return SyntaxError(path, simdjson::N_ATOM_ERROR);
      return Status::Ok();
    }
  }
  return SyntaxError(path, simdjson::TAPE_ERROR);
}

Status Document::Open(std::string_view json) {
  const JsonPath root;
  if (json.size() > simdjson::SIMDJSON_MAXSIZE_BYTES) {
    return PathError(root, "document larger than " +
                               std::to_string(simdjson::SIMDJSON_MAXSIZE_BYTES) + " bytes");
  }
  padded_ = simdjson::padded_string(json);
  if (padded_.size() != json.size()) {
    return Status::ResourceExhausted("cannot allocate " + std::to_string(json.size()) +
                                     " bytes to parse JSON");
  }
  if (auto error = parser_.iterate(padded_).get(document_)) return SyntaxError(root, error);
  return Status::Ok();
}

Status Document::RootObject(od::object& object) {
  const JsonPath root;
  od::json_type type;
  if (auto error = document_.type().get(type)) return SyntaxError(root, error);
  if (type != od::json_type::object) {
    // Name the type only if the root is a well-formed value of it ("nonsense" is not null).
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == od::json_type::null) {
      bool is_null = false;
      error = document_.is_null().get(is_null);
      if (!error && !is_null) error = simdjson::N_ATOM_ERROR;
    } else if (type == od::json_type::boolean) {
      bool ignored;
      error = document_.get_bool().get(ignored);
    } else if (type == od::json_type::number) {
      od::number ignored;
      error = document_.get_number().get(ignored);
    } else if (type == od::json_type::string) {
      std::string_view ignored;
      error = document_.get_string().get(ignored);
    }
    if (error) return SyntaxError(root, error);
    return WrongType(root, "an object", type);
  }
  if (auto error = document_.get_object().get(object)) return SyntaxError(root, error);
  return Status::Ok();
}

Status Document::ExpectEnd() {
  const char* location = nullptr;
  // OUT_OF_BOUNDS here means the iterator stands at the end of the input: nothing follows.
  if (document_.current_location().get(location) == simdjson::OUT_OF_BOUNDS) return Status::Ok();
  return PathError(JsonPath(), "unexpected content after the JSON value");
}

Status ReadString(od::value& value, const JsonPath& path, std::string& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  std::string_view text;
  POLICYD_RETURN_IF_ERROR(GetString(value, path, text));
  out.assign(text);
  return Status::Ok();
}

Status ReadTimestamp(od::value& value, const JsonPath& path, Timestamp& out) {
  od::json_type type;
  POLICYD_RETURN_IF_ERROR(GetType(value, path, type));
  if (type == od::json_type::null) return ValidateValue(value, path, 0);
  std::string_view text;
  POLICYD_RETURN_IF_ERROR(GetString(value, path, text));
  Result<Timestamp> parsed = ParseTimestamp(text);
  if (!parsed) return parsed.error().WithContext(path.ToString());
  out = *parsed;
  return Status::Ok();
}

}  // namespace policyd::json_internal
