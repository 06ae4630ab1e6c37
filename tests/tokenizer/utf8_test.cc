// UTF-8 validation and repair (expected strings from Python's bytes.decode(errors="replace")),
// code point decoding and the White_Space / word classes.
#include "steps/tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace qb::tok {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, ValidTextHasNoInvalidOffset) {
  EXPECT_EQ(find_invalid_utf8(""), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("plain ascii text longer than eight bytes"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("é中😀\xF4\x8F\xBF\xBF"), std::nullopt);  // up to U+10FFFF
  EXPECT_EQ(find_invalid_utf8(std::string("a\0b", 3)), std::nullopt);
}

TEST(Utf8, FirstInvalidOffsetIsReported) {
  EXPECT_EQ(find_invalid_utf8("abcdefghij\xFF"), 10u);
  EXPECT_EQ(find_invalid_utf8("ab\xC3"), 2u);             // truncated at the end
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);       // a surrogate
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);           // overlong
  EXPECT_EQ(find_invalid_utf8("x\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
}

TEST(Utf8, RepairReplacesMaximalSubpartsLikePython) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},
      {"\xF0\x9F\x98", kFffd},
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},
      {"\xC3(", kFffd + "("},
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},
      {"a\xE4\xB8" "b", "a" + kFffd + "b"},
      {"\xC0\xAF", kFffd + kFffd},
      {"\xF0\x9F\x98\x80\xF0\x9F", "😀" + kFffd},
      {"\xE2\x82(", kFffd + "("},
      {"\xF0(\x8C\xBC", kFffd + "(" + kFffd + kFffd},
      {"\xFE", kFffd},
      {"valid é", "valid é"},
  };
  for (const Case& c : cases) EXPECT_EQ(to_valid_utf8(c.in), c.out) << c.in;
}

TEST(Utf8, DecodesForwardAndBackward) {
  const std::string s = "aé中😀";
  std::size_t len = 0;
  EXPECT_EQ(decode_utf8(s, 1, &len), U'é');
  EXPECT_EQ(len, 2u);
  EXPECT_EQ(decode_utf8(s, 3, &len), U'中');
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(decode_utf8_before(s, s.size(), &len), U'😀');
  EXPECT_EQ(len, 4u);
  EXPECT_EQ(decode_utf8_before(s, 1, &len), U'a');
  std::string out;
  for (char32_t c : {U'a', U'é', U'中', U'😀'}) append_utf8(out, c);
  EXPECT_EQ(out, s);
}

TEST(Utf8, WhiteSpaceIsTheUnicodeProperty) {
  int count = 0;
  for (char32_t c = 0; c < 0x110000; ++c) count += is_white_space(c);
  EXPECT_EQ(count, 25);
  EXPECT_TRUE(is_white_space(0x85));
  EXPECT_TRUE(is_white_space(0x3000));
  EXPECT_FALSE(is_white_space(0x180E));  // not White_Space since Unicode 6.3
  EXPECT_FALSE(is_white_space(0x200B));
  EXPECT_FALSE(is_white_space(0x1C));
}

TEST(Utf8, WordCharacters) {
  EXPECT_TRUE(is_word_char(U'a'));
  EXPECT_TRUE(is_word_char(U'中'));
  EXPECT_TRUE(is_word_char(U'7'));
  EXPECT_TRUE(is_word_char(U'_'));
  EXPECT_TRUE(is_word_char(0x0301));  // combining acute
  EXPECT_FALSE(is_word_char(U','));
  EXPECT_FALSE(is_word_char(U'-'));
  EXPECT_FALSE(is_word_char(U' '));
  EXPECT_FALSE(is_word_char(U'😀'));
}

}  // namespace
}  // namespace qb::tok
