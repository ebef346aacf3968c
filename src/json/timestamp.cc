#include "json/timestamp.h"

#include <charconv>
#include <cstdint>
#include <string>

#include "json/internal.h"

namespace policyd {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;

// Howard Hinnant's days_from_civil (http://howardhinnant.github.io/date_algorithms.html):
// days since 1970-01-01 of a proleptic Gregorian date. Exact for any year an int64 can hold
// after the multiplications below, far beyond 0001..9999.
constexpr std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);  // [0, 399]
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  return era * 146'097 + static_cast<std::int64_t>(day_of_era) - 719'468;
}

struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// The inverse, civil_from_days. Defined for every day an int64 count of seconds can reach.
constexpr CivilDate CivilFromDays(std::int64_t days) {
  days += 719'468;
  const std::int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146'097);  // [0, 146096]
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;  // March-based month [0, 11]
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year =
      static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

// protobuf's google.protobuf.Timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr std::int64_t kMinSeconds = DaysFromCivil(1, 1, 1) * kSecondsPerDay;
constexpr std::int64_t kMaxSeconds = DaysFromCivil(9999, 12, 31) * kSecondsPerDay + 86'399;
static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(kMinSeconds == -62'135'596'800);
static_assert(kMaxSeconds == 253'402'300'799);
static_assert(CivilFromDays(DaysFromCivil(2000, 2, 29)).day == 29);

constexpr bool IsLeapYear(std::int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

constexpr unsigned DaysInMonth(std::int64_t year, unsigned month) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The number in text[pos, pos + width), all digits; -1 if any is not a digit.
int ReadDigits(std::string_view text, std::size_t pos, std::size_t width) {
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (!IsDigit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

Status TimestampError(std::string_view text, std::string_view what) {
  return Status::InvalidArgument("invalid timestamp " + json_internal::QuoteForMessage(text) +
                                 ": " + std::string(what));
}

constexpr std::string_view kShape =
    "expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) in RFC 3339";

// Parses "[.f{1,9}]" at `pos`, advancing it; fills `nanos`.
Status ParseFraction(std::string_view text, std::size_t& pos, std::int32_t& nanos) {
  nanos = 0;
  if (pos >= text.size() || text[pos] != '.') return Status::Ok();
  ++pos;
  std::size_t digits = 0;
  std::int32_t scale = static_cast<std::int32_t>(kNanosPerSecond);
  while (pos < text.size() && IsDigit(text[pos])) {
    if (++digits > 9) return TimestampError(text, "more than 9 fractional digits");
    scale /= 10;
    nanos += (text[pos] - '0') * scale;
    ++pos;
  }
  if (digits == 0) return TimestampError(text, "no digits after the decimal point");
  return Status::Ok();
}

// Parses "Z" or "+HH:MM"/"-HH:MM" at `pos` up to the end of `text`; fills the offset east of UTC.
Status ParseOffset(std::string_view text, std::size_t pos, std::int64_t& offset_seconds) {
  offset_seconds = 0;
  const std::string_view rest = text.substr(pos);
  if (rest == "Z" || rest == "z") return Status::Ok();
  if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':') {
    return TimestampError(text, kShape);
  }
  const int hours = ReadDigits(rest, 1, 2);
  const int minutes = ReadDigits(rest, 4, 2);
  if (hours < 0 || minutes < 0) return TimestampError(text, kShape);
  if (hours > 23) return TimestampError(text, "offset hour out of range [00, 23]");
  if (minutes > 59) return TimestampError(text, "offset minute out of range [00, 59]");
  offset_seconds = (hours * 3600 + minutes * 60) * (rest[0] == '-' ? -1 : 1);
  return Status::Ok();
}

// Writes ".fff", ".ffffff" or ".fffffffff" (protojson: the fewest of 3, 6 or 9 digits that are
// exact), or nothing for 0; returns the new end.
char* WriteFraction(char* p, std::int32_t nanos) {
  if (nanos == 0) return p;
  int digits = 9;
  std::int32_t value = nanos;
  if (nanos % 1'000'000 == 0) {
    digits = 3;
    value = nanos / 1'000'000;
  } else if (nanos % 1'000 == 0) {
    digits = 6;
    value = nanos / 1'000;
  }
  *p++ = '.';
  for (int i = digits - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + digits;
}

}  // namespace

Result<Timestamp> ParseTimestamp(std::string_view text) {
  // "YYYY-MM-DDTHH:MM:SS" is 19 bytes; at least "Z" follows.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return Err(TimestampError(text, kShape));
  }
  const int year = ReadDigits(text, 0, 4);
  const int month = ReadDigits(text, 5, 2);
  const int day = ReadDigits(text, 8, 2);
  const int hour = ReadDigits(text, 11, 2);
  const int minute = ReadDigits(text, 14, 2);
  const int second = ReadDigits(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
    return Err(TimestampError(text, kShape));
  }
  if (year == 0) return Err(TimestampError(text, "year out of range [0001, 9999]"));
  if (month < 1 || month > 12) return Err(TimestampError(text, "month out of range [01, 12]"));
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month))) {
    return Err(TimestampError(text, "day out of range for the month"));
  }
  if (hour > 23) return Err(TimestampError(text, "hour out of range [00, 23]"));
  if (minute > 59) return Err(TimestampError(text, "minute out of range [00, 59]"));
  if (second > 59) {
    return Err(TimestampError(text, "second out of range [00, 59] (no leap seconds)"));
  }
  std::size_t pos = 19;
  Timestamp out;
  if (Status s = ParseFraction(text, pos, out.nanos); !s.ok()) return Err(std::move(s));
  std::int64_t offset_seconds = 0;
  if (Status s = ParseOffset(text, pos, offset_seconds); !s.ok()) return Err(std::move(s));
  out.seconds = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                    kSecondsPerDay +
                hour * 3600 + minute * 60 + second - offset_seconds;
  if (out.seconds < kMinSeconds || out.seconds > kMaxSeconds) {
    return Err(TimestampError(text, "outside years 0001..9999 once converted to UTC"));
  }
  return out;
}

void AppendTimestamp(std::string& out, Timestamp t) {
  // Values ParseTimestamp cannot produce still format without undefined behaviour: nanos are
  // clamped, and years outside 0000..9999 are written with as many digits as they need.
  const std::int32_t nanos = static_cast<std::int32_t>(
      t.nanos < 0 ? 0 : (t.nanos >= kNanosPerSecond ? kNanosPerSecond - 1 : t.nanos));
  std::int64_t days = t.seconds / kSecondsPerDay;
  std::int64_t second_of_day = t.seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);

  char buf[64];
  char* p = buf;
  auto put2 = [&p](std::int64_t v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  if (date.year >= 0 && date.year <= 9999) {
    put2(date.year / 100);
    put2(date.year % 100);
  } else {
    p = std::to_chars(p, buf + sizeof(buf), date.year).ptr;
  }
  *p++ = '-';
  put2(date.month);
  *p++ = '-';
  put2(date.day);
  *p++ = 'T';
  put2(second_of_day / 3600);
  *p++ = ':';
  put2(second_of_day / 60 % 60);
  *p++ = ':';
  put2(second_of_day % 60);
  p = WriteFraction(p, nanos);
  *p++ = 'Z';
  out.append(buf, p);
}

std::string FormatTimestamp(Timestamp t) {
  std::string out;
  out.reserve(32);
  AppendTimestamp(out, t);
  return out;
}

}  // namespace policyd
