// Split patterns: the \s rewrite (Oniguruma's White_Space instead of PCRE2's), matching, errors.
#include "steps/tokenizer/regex.h"

#include <gtest/gtest.h>

#include "steps/tokenizer/pre_tokenizer.h"

namespace qb::tok {
namespace {

const std::string kWs =
    "\\x{9}-\\x{d}\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}";

TEST(Regex, RewritesWhiteSpaceEscapes) {
  EXPECT_EQ(rewrite_white_space_escapes("\\s+"), "[" + kWs + "]+");
  EXPECT_EQ(rewrite_white_space_escapes("(?!\\S)"), "(?![^" + kWs + "])");
  EXPECT_EQ(rewrite_white_space_escapes("[^\\s\\p{L}]"), "[^" + kWs + "\\p{L}]");
  EXPECT_EQ(rewrite_white_space_escapes("[]\\s]"), "[]" + kWs + "]");  // leading ']' is literal
  EXPECT_EQ(rewrite_white_space_escapes("[[:alpha:]\\s]"), "[[:alpha:]" + kWs + "]");
  // Not escapes of s: an escaped backslash, quoted text, other classes.
  EXPECT_EQ(rewrite_white_space_escapes("\\\\s"), "\\\\s");
  EXPECT_EQ(rewrite_white_space_escapes("\\Q\\s\\E\\d"), "\\Q\\s\\E\\d");
  EXPECT_EQ(rewrite_white_space_escapes("\\p{N}\\w"), "\\p{N}\\w");
}

std::vector<std::string> matches(const Regex& re, std::string_view text) {
  std::vector<Span> spans;
  re.find_all(text, spans);
  std::vector<std::string> out;
  for (const Span& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

TEST(Regex, NotSpaceInsideAClassIsTheComplement) {
  auto re = Regex::compile("[\\S]+");
  ASSERT_TRUE(re.is_ok()) << re.status().to_string();
  EXPECT_EQ(matches(*re, "ab c\u180ed\u3000e"),
            (std::vector<std::string>{"ab", "c\u180ed", "e"}));
}

TEST(Regex, MongolianVowelSeparatorIsNotWhiteSpace) {
  auto re = Regex::compile("\\s+");
  ASSERT_TRUE(re.is_ok());
  EXPECT_EQ(matches(*re, "a\u180eb \u0085\u2028c"), (std::vector<std::string>{" \u0085\u2028"}));
}

TEST(Regex, Gpt2PatternSplitsWords) {
  auto re = Regex::compile(kGpt2SplitPattern);
  ASSERT_TRUE(re.is_ok());
  EXPECT_EQ(matches(*re, "Hello world's  42x!!\n"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", " 42", "x", "!!", "\n"}));
}

TEST(Regex, EmptyMatchesAreSkipped) {
  auto re = Regex::compile("a*");
  ASSERT_TRUE(re.is_ok());
  EXPECT_EQ(matches(*re, "baab"), (std::vector<std::string>{"aa"}));
  EXPECT_EQ(matches(*re, "é中"), (std::vector<std::string>{}));
}

TEST(Regex, LiteralPatterns) {
  auto re = Regex::compile("||", /*literal=*/true);
  ASSERT_TRUE(re.is_ok()) << re.status().to_string();
  EXPECT_EQ(matches(*re, "a||b|||"), (std::vector<std::string>{"||", "||"}));
}

TEST(Regex, BadPatternIsAnError) {
  EXPECT_EQ(Regex::compile("(a").status().message(),
            "bad regex '(a' at offset 2: missing closing parenthesis");
  EXPECT_EQ(Regex::compile("[\\s").status().message(),
            "bad regex '[\\s': missing terminating ] for character class");
}

TEST(PreTokenizer, ByteLevelPrefixSpaceThenOwnRegex) {
  auto split = Regex::compile("\\|");
  auto own = Regex::compile(kGpt2SplitPattern);
  ASSERT_TRUE(split.is_ok() && own.is_ok());
  std::vector<Regex> splits;
  splits.push_back(*split);
  const PreTokenizer pre(std::move(splits), /*add_prefix_space=*/true, *own);
  std::vector<std::string_view> pieces;
  std::deque<std::string> arena;
  pre.split("hi there| x|y", pieces, arena);
  EXPECT_EQ(pieces, (std::vector<std::string_view>{" hi", " there", " |", " x", " |", " y"}));
}

}  // namespace
}  // namespace qb::tok
