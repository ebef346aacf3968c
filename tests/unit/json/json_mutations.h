// Test helper: random edits of a valid JSON document, checked against simdjson's fully
// validating DOM parser, so a parser under test is shown to reject whatever is not JSON.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace policyd {

// Makes `count` documents from `base` with 1-3 random one-character edits each, and for every
// one the DOM parser rejects expects `parses(doc)` to be false. Returns how many the DOM parser
// rejected (callers check it is most of them, so the test keeps its teeth).
template <typename Parses>
int ExpectRejectsWhatTheDomParserRejects(const std::string& base, unsigned seed, int count,
                                         Parses&& parses) {
  constexpr std::string_view kAlphabet = "{}[]:,\"\\ 0123456789.eE+-tfnulrsa\x01\xff";
  std::mt19937 rng(seed);
  simdjson::dom::parser dom;
  int rejected_by_dom = 0;
  for (int i = 0; i < count; ++i) {
    std::string json = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % json.size();
      const char c = kAlphabet[rng() % kAlphabet.size()];
      switch (rng() % 3) {
        case 0:
          json[pos] = c;
          break;
        case 1:
          json.insert(json.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        default:
          json.erase(pos, 1);
          break;
      }
    }
    simdjson::dom::element ignored;
    if (dom.parse(json).get(ignored) != simdjson::SUCCESS) {
      ++rejected_by_dom;
      EXPECT_FALSE(parses(json)) << json;
    }
  }
  return rejected_by_dom;
}

}  // namespace policyd
