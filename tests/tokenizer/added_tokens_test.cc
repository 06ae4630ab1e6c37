// Added-token matching: leftmost-longest, special tokens as text, single_word, lstrip/rstrip.
#include "steps/tokenizer/added_tokens.h"

#include <gtest/gtest.h>

namespace qb::tok {
namespace {

AddedToken token(std::int32_t id, std::string content, bool special = true) {
  AddedToken t;
  t.id = id;
  t.content = std::move(content);
  t.special = special;
  return t;
}

// "text|<id>|text" rendering of the segments, for readable expectations.
std::string render(const AddedTokenMatcher& m, std::string_view text, bool allow_special = true) {
  std::vector<Segment> segs;
  m.split(text, allow_special, segs);
  std::string out;
  std::size_t expect_begin = 0;
  for (const Segment& s : segs) {
    EXPECT_EQ(s.begin, expect_begin) << "segments must cover the text in order";
    expect_begin = s.end;
    if (!out.empty()) out += "|";
    out += s.id >= 0 ? "<" + std::to_string(s.id) + ":" + std::string(text.substr(s.begin, s.end - s.begin)) + ">"
                     : std::string(text.substr(s.begin, s.end - s.begin));
  }
  EXPECT_EQ(expect_begin, text.size());
  return out;
}

TEST(AddedTokens, LeftmostLongestNonOverlapping) {
  AddedTokenMatcher m;
  m.add(token(1, "<|a|>"), "<|a|>");
  m.add(token(2, "<|a|><|b|>"), "<|a|><|b|>");
  m.add(token(3, "<|b|>"), "<|b|>");
  EXPECT_EQ(render(m, "x<|a|><|b|>y"), "x|<2:<|a|><|b|>>|y");
  EXPECT_EQ(render(m, "<|a|><|a|><|b|><|b|>"), "<1:<|a|>>|<2:<|a|><|b|>>|<3:<|b|>>");
  EXPECT_EQ(render(m, "<|a|"), "<|a|");
  EXPECT_EQ(render(m, "no tokens"), "no tokens");
}

TEST(AddedTokens, SpecialTokensAsTextWhenNotAllowed) {
  AddedTokenMatcher m;
  m.add(token(1, "<|a|><|b|>"), "<|a|><|b|>");
  m.add(token(3, "<|b|>"), "<|b|>");
  m.add(token(4, "<t>", /*special=*/false), "<t>");
  // The skipped special match is still consumed: "<|b|>" inside it is not found.
  EXPECT_EQ(render(m, "<|a|><|b|> <t> <|b|>", false), "<|a|><|b|> |<4:<t>>| <|b|>");
  EXPECT_EQ(render(m, "<|a|><|b|> <t> <|b|>", true), "<1:<|a|><|b|>>| |<4:<t>>| |<3:<|b|>>");
}

TEST(AddedTokens, SingleWordNeedsNonWordNeighbours) {
  AddedTokenMatcher m;
  AddedToken t = token(7, "<w>", false);
  t.single_word = true;
  m.add(t, "<w>");
  EXPECT_EQ(render(m, "<w> a<w> <w>b (<w>), é<w>"), "<7:<w>>| a<w> <w>b (|<7:<w>>|), é<w>");
  EXPECT_EQ(render(m, "中<w>"), "中<w>");
}

TEST(AddedTokens, StripTakesWhiteSpaceAround) {
  AddedTokenMatcher m;
  AddedToken t = token(5, "[M]");
  t.lstrip = t.rstrip = true;
  m.add(t, "[M]");
  EXPECT_EQ(render(m, "x  [M]\t y"), "x|<5:  [M]\t >|y");
  EXPECT_EQ(render(m, "x\u3000[M]\u00a0y"), "x|<5:\u3000[M]\u00a0>|y");
  // lstrip never reaches back into the previous match.
  EXPECT_EQ(render(m, "[M] [M]"), "<5:[M] >|<5:[M]>");
  EXPECT_EQ(render(m, "x\u180e[M]"), "x\u180e|<5:[M]>");  // U+180E is not White_Space
}

TEST(AddedTokens, EmptyContentIsIgnored) {
  AddedTokenMatcher m;
  m.add(token(1, ""), "");
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(render(m, "abc"), "abc");
}

}  // namespace
}  // namespace qb::tok
