// The text rules under the checks: UTF-8 validity and length, control characters, spaces, '@'.
#include "check/text.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace policyd::check_text {
namespace {

TEST(Utf8CharsTest, CountsCodePointsOfValidText) {
  EXPECT_EQ(Utf8Chars(""), 0u);
  EXPECT_EQ(Utf8Chars("alice"), 5u);
  EXPECT_EQ(Utf8Chars("\xc3\xa9"), 1u);          // é
  EXPECT_EQ(Utf8Chars("\xe2\x82\xac"), 1u);      // €
  EXPECT_EQ(Utf8Chars("\xf0\x9f\x98\x80"), 1u);  // U+1F600
  EXPECT_EQ(Utf8Chars("\xf4\x8f\xbf\xbf"), 1u);  // U+10FFFF, the last code point
  EXPECT_EQ(Utf8Chars("a\xc3\xa9z"), 3u);
}

TEST(Utf8CharsTest, RejectsEveryKindOfInvalidSequence) {
  for (const std::string bad : {
           "\x80",              // a continuation byte first
           "\xc3",              // truncated
           "\xc3z",             // continuation missing
           "\xc0\xaf",          // overlong 2-byte '/'
           "\xc1\xbf",          // overlong 2-byte
           "\xe0\x80\xaf",      // overlong 3-byte
           "\xf0\x80\x80\xaf",  // overlong 4-byte
           "\xed\xa0\x80",      // UTF-16 surrogate U+D800
           "\xf4\x90\x80\x80",  // U+110000
           "\xf5\x80\x80\x80",  // F5 lead byte
           "\xff",
       }) {
    EXPECT_EQ(Utf8Chars(bad), std::nullopt) << testing::PrintToString(bad);
  }
}

TEST(HasControlTest, FindsC0DeleteAndC1ButNotOtherText) {
  EXPECT_FALSE(HasControl("alice@acme.com"));
  EXPECT_FALSE(HasControl("john doe"));
  EXPECT_FALSE(HasControl("\xc3\xa9"));  // é: C3, not C2
  EXPECT_FALSE(HasControl("\xc2\xa0"));  // U+00A0 no-break space is not a control character
  EXPECT_TRUE(HasControl(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControl("a\tb"));
  EXPECT_TRUE(HasControl("a\x1f"));
  EXPECT_TRUE(HasControl("a\x7f"));
  EXPECT_TRUE(HasControl("a\xc2\x80"));  // U+0080
  EXPECT_TRUE(HasControl("a\xc2\x9f"));  // U+009F
}

TEST(HasEdgeSpaceTest, OnlyLeadingOrTrailingSpacesCount) {
  EXPECT_FALSE(HasEdgeSpace(""));
  EXPECT_FALSE(HasEdgeSpace("a b"));
  EXPECT_TRUE(HasEdgeSpace(" a"));
  EXPECT_TRUE(HasEdgeSpace("a "));
  EXPECT_TRUE(HasEdgeSpace(" "));
}

TEST(SplitAtLastAtTest, SplitsAtTheLastAt) {
  AtSplit s = SplitAtLastAt("a@b@c");
  EXPECT_TRUE(s.found);
  EXPECT_EQ(s.local, "a@b");
  EXPECT_EQ(s.domain, "c");
  s = SplitAtLastAt("abc");
  EXPECT_FALSE(s.found);
  EXPECT_EQ(s.local, "abc");
  EXPECT_EQ(s.domain, "");
  s = SplitAtLastAt("@");
  EXPECT_TRUE(s.found);
  EXPECT_EQ(s.local, "");
  EXPECT_EQ(s.domain, "");
}

}  // namespace
}  // namespace policyd::check_text
