#include "json/timestamp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace policyd {
namespace {

using ::testing::HasSubstr;

struct ValidCase {
  std::string_view text;
  std::int64_t seconds;
  std::int32_t nanos;
};

void ExpectParses(const ValidCase& c) {
  SCOPED_TRACE(c.text);
  Result<Timestamp> t = ParseTimestamp(c.text);
  ASSERT_TRUE(t.has_value()) << t.error().ToString();
  EXPECT_EQ(t->seconds, c.seconds);
  EXPECT_EQ(t->nanos, c.nanos);
}

TEST(TimestampTest, ParsesUtcWithAnyFractionLength) {
  constexpr ValidCase kCases[] = {
      {"1970-01-01T00:00:00Z", 0, 0},
      {"2025-03-01T09:12:44Z", 1740820364, 0},
      {"2025-03-01T09:12:44.1Z", 1740820364, 100'000'000},
      {"2025-03-01T09:12:44.12Z", 1740820364, 120'000'000},
      {"2025-02-11T08:00:01.5Z", 1739260801, 500'000'000},
      {"2025-02-11T08:00:01.500Z", 1739260801, 500'000'000},
      {"2025-03-01T09:12:44.1234Z", 1740820364, 123'400'000},
      {"2025-03-01T09:12:44.123456Z", 1740820364, 123'456'000},
      {"2025-03-01T09:12:44.1234567Z", 1740820364, 123'456'700},
      {"2025-03-01T09:12:44.123456789Z", 1740820364, 123'456'789},
      {"2025-03-01T09:12:44.000000001Z", 1740820364, 1},
      {"2025-03-01T09:12:44.000000000Z", 1740820364, 0},
      {"2025-03-01t09:12:44z", 1740820364, 0},
      {"1969-12-31T23:59:59.999999999Z", -1, 999'999'999},
  };
  for (const ValidCase& c : kCases) ExpectParses(c);
}

TEST(TimestampTest, ParsesOffsetsToUtc) {
  constexpr ValidCase kCases[] = {
      {"2025-03-01T10:12:44+01:00", 1740820364, 0},
      {"2025-03-01T03:42:44.5-05:30", 1740820364, 500'000'000},
      {"2025-03-01T09:12:44+00:00", 1740820364, 0},
      {"2025-03-01T09:12:44-00:00", 1740820364, 0},
      {"2025-03-02T09:11:44+23:59", 1740820364, 0},
      {"2025-02-28T09:13:44-23:59", 1740820364, 0},
      // Crossing a year boundary in either direction.
      {"2025-01-01T00:30:00+01:00", 1735687800, 0},
      {"2024-12-31T23:30:00-01:00", 1735691400, 0},
  };
  for (const ValidCase& c : kCases) ExpectParses(c);
}

TEST(TimestampTest, AcceptsDayLimitsAndLeapYears) {
  constexpr ValidCase kCases[] = {
      {"0001-01-01T00:00:00Z", -62135596800, 0},
      {"9999-12-31T23:59:59.999999999Z", 253402300799, 999'999'999},
      {"2024-02-29T00:00:00Z", 1709164800, 0},  // divisible by 4
      {"2000-02-29T00:00:00Z", 951782400, 0},   // divisible by 400
      {"2023-02-28T00:00:00Z", 1677542400, 0},
      {"2025-01-31T00:00:00Z", 1738281600, 0},
      {"2025-04-30T00:00:00Z", 1745971200, 0},
      {"2025-12-31T23:59:59Z", 1767225599, 0},
      {"0001-01-01T00:30:00+00:30", -62135596800, 0},  // the minimum, reached through an offset
  };
  for (const ValidCase& c : kCases) ExpectParses(c);
}

TEST(TimestampTest, RejectsEveryMalformedForm) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  constexpr Case kCases[] = {
      {"", "expected YYYY-MM-DD"},
      {"2025-03-01", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44.5", "expected YYYY-MM-DD"},
      {"2025-03-01 09:12:44Z", "expected YYYY-MM-DD"},
      {"2025-03-01X09:12:44Z", "expected YYYY-MM-DD"},
      {"2025/03/01T09:12:44Z", "expected YYYY-MM-DD"},
      {"2025-3-01T09:12:44Z0", "expected YYYY-MM-DD"},
      {"20a5-03-01T09:12:44Z", "expected YYYY-MM-DD"},
      {"2025-03-01T09:1a:44Z", "expected YYYY-MM-DD"},
      {"+025-03-01T09:12:44Z", "expected YYYY-MM-DD"},
      {"12025-03-01T09:12:44Z", "expected YYYY-MM-DD"},
      {" 2025-03-01T09:12:44Z", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44Z ", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44ZZ", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44UTC", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44+0100", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44+01", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44+1:00", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44+01:00Z", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44+01-00", "expected YYYY-MM-DD"},
      {"2025-03-01T09:12:44,5Z", "expected YYYY-MM-DD"},
      {"0000-01-01T00:00:00Z", "year out of range"},
      {"2025-00-01T00:00:00Z", "month out of range"},
      {"2025-13-01T00:00:00Z", "month out of range"},
      {"2025-01-00T00:00:00Z", "day out of range"},
      {"2025-01-32T00:00:00Z", "day out of range"},
      {"2025-04-31T00:00:00Z", "day out of range"},
      {"2025-02-29T00:00:00Z", "day out of range"},  // not divisible by 4
      {"1900-02-29T00:00:00Z", "day out of range"},  // divisible by 100, not by 400
      {"2100-02-29T00:00:00Z", "day out of range"},
      {"2024-02-30T00:00:00Z", "day out of range"},
      {"2025-01-01T24:00:00Z", "hour out of range"},
      {"2025-01-01T23:60:00Z", "minute out of range"},
      {"2016-12-31T23:59:60Z", "second out of range"},
      {"2025-01-01T00:00:00.Z", "no digits after the decimal point"},
      {"2025-01-01T00:00:00.1234567890Z", "more than 9 fractional digits"},
      {"2025-01-01T00:00:00+24:00", "offset hour out of range"},
      {"2025-01-01T00:00:00+01:60", "offset minute out of range"},
      {"0001-01-01T00:00:00+00:01", "outside years 0001..9999"},
      {"9999-12-31T23:59:59-00:01", "outside years 0001..9999"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    Result<Timestamp> t = ParseTimestamp(c.text);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(t.error().message(), HasSubstr(c.message));
  }
}

TEST(TimestampTest, ErrorQuotesAndTruncatesTheInput) {
  Result<Timestamp> t = ParseTimestamp(std::string(200, 'x') + "\n");
  ASSERT_FALSE(t.has_value());
  EXPECT_THAT(t.error().message(), HasSubstr("\"" + std::string(64, 'x') + "\"..."));

  t = ParseTimestamp("2025-01-01T00:00:00\n");
  ASSERT_FALSE(t.has_value());
  EXPECT_THAT(t.error().message(), HasSubstr("\"2025-01-01T00:00:00\\n\""));
}

TEST(TimestampTest, FormatsWithTheFewestOfZeroThreeSixOrNineDigits) {
  struct Case {
    Timestamp t;
    std::string_view text;
  };
  constexpr Case kCases[] = {
      {{0, 0}, "1970-01-01T00:00:00Z"},
      {{1740820364, 0}, "2025-03-01T09:12:44Z"},
      {{1739260801, 500'000'000}, "2025-02-11T08:00:01.500Z"},
      {{1739260801, 1'000'000}, "2025-02-11T08:00:01.001Z"},
      {{1740820364, 123'456'000}, "2025-03-01T09:12:44.123456Z"},
      {{1740820364, 1'000}, "2025-03-01T09:12:44.000001Z"},
      {{1740820364, 123'456'789}, "2025-03-01T09:12:44.123456789Z"},
      {{1740820364, 1}, "2025-03-01T09:12:44.000000001Z"},
      {{1740820364, 100'000'010}, "2025-03-01T09:12:44.100000010Z"},
      {{-1, 999'999'999}, "1969-12-31T23:59:59.999999999Z"},
      {{-62135596800, 0}, "0001-01-01T00:00:00Z"},
      {{253402300799, 999'999'999}, "9999-12-31T23:59:59.999999999Z"},
      {{951782400, 0}, "2000-02-29T00:00:00Z"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(FormatTimestamp(c.t), c.text);
    std::string out = "prefix:";
    AppendTimestamp(out, c.t);
    EXPECT_EQ(out, "prefix:" + std::string(c.text));
  }
}

// Walks the calendar one day at a time with a naive counter, independent of the days_from_civil
// arithmetic, over every day of 0001..9999.
TEST(TimestampTest, AgreesWithANaiveCalendarOnEveryDay) {
  constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::int64_t days = -719162;  // 0001-01-01
  int mismatches = 0;
  for (int year = 1; year <= 9999; ++year) {
    const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    for (int month = 1; month <= 12; ++month) {
      const int month_days = kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0);
      for (int day = 1; day <= month_days; ++day, ++days) {
        char text[32];
        std::snprintf(text, sizeof(text), "%04d-%02d-%02dT00:00:00Z", year, month, day);
        const Timestamp expected{days * 86'400, 0};
        Result<Timestamp> parsed = ParseTimestamp(text);
        if (!parsed || *parsed != expected || FormatTimestamp(expected) != text) {
          if (++mismatches < 5) ADD_FAILURE() << text;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(days, 2932897);  // 9999-12-31 is day 2932896
}

TEST(TimestampTest, RoundTripsEveryFormattedValue) {
  for (std::int64_t seconds = -62135596800; seconds <= 253402300799; seconds += 7'777'777) {
    for (std::int32_t nanos : {0, 1, 999'999'999, 120'000'000, 123'456'000}) {
      const Timestamp t{seconds, nanos};
      Result<Timestamp> parsed = ParseTimestamp(FormatTimestamp(t));
      ASSERT_TRUE(parsed.has_value()) << FormatTimestamp(t);
      EXPECT_EQ(*parsed, t);
    }
  }
}

TEST(TimestampTest, FormatsOutOfRangeValuesWithoutUndefinedBehaviour) {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(FormatTimestamp({0, -5}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp({0, 2'000'000'000}), "1970-01-01T00:00:00.999999999Z");
  EXPECT_EQ(FormatTimestamp({253402300800, 0}), "10000-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp({kMax, 0}), "292277026596-12-04T15:30:07Z");
  EXPECT_EQ(FormatTimestamp({kMin, 0}), "-292277022657-01-27T08:29:52Z");
  EXPECT_FALSE(ParseTimestamp(FormatTimestamp({kMax, 0})).has_value());
}

}  // namespace
}  // namespace policyd
