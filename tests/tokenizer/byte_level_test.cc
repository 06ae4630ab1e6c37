// GPT-2's byte <-> unicode alphabet.
#include "steps/tokenizer/byte_level.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace qb::tok {
namespace {

TEST(ByteLevel, KnownSymbols) {
  EXPECT_EQ(byte_to_unicode('A'), U'A');
  EXPECT_EQ(byte_to_unicode('!'), U'!');
  EXPECT_EQ(byte_to_unicode(0x00), 0x100u);  // 'Ā'
  EXPECT_EQ(byte_to_unicode(' '), 0x120u);   // 'Ġ'
  EXPECT_EQ(byte_to_unicode('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(byte_to_unicode(0x7F), 0x121u);
  EXPECT_EQ(byte_to_unicode(0xA0), 0x142u);
  EXPECT_EQ(byte_to_unicode(0xAD), 0x143u);  // 'Ń', the last one
  EXPECT_EQ(byte_to_unicode(0xE9), 0xE9u);   // 'é' maps to itself
}

TEST(ByteLevel, IsABijection) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t cp = byte_to_unicode(static_cast<std::uint8_t>(b));
    EXPECT_TRUE(seen.insert(cp).second) << b;
    EXPECT_EQ(unicode_to_byte(cp), b);
  }
  EXPECT_EQ(unicode_to_byte(0x144), std::nullopt);
  EXPECT_EQ(unicode_to_byte(U' '), std::nullopt);  // space is not a symbol; 'Ġ' is
  EXPECT_EQ(unicode_to_byte(U'中'), std::nullopt);
}

TEST(ByteLevel, StringsRoundTrip) {
  EXPECT_EQ(bytes_to_symbols("hi there\n"), "hiĠthereĊ");
  EXPECT_EQ(bytes_to_symbols("é"), "Ã©");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(symbols_to_bytes(bytes_to_symbols(all)), all);
  EXPECT_EQ(symbols_to_bytes("<ｘ>"), std::nullopt);
  EXPECT_EQ(symbols_to_bytes("\xFF"), std::nullopt);
}

TEST(ByteLevel, Qwen3VocabularyStartsWithTheAlphabet) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->token_to_id("!"), 0);
  EXPECT_EQ(tok->token_to_id("Ċ"), 198);
  EXPECT_EQ(tok->token_to_id("Ġ"), 220);
  for (int b = 0; b < 256; ++b) {
    const auto id = tok->token_to_id(bytes_to_symbols(std::string(1, static_cast<char>(b))));
    ASSERT_TRUE(id.has_value()) << b;
    EXPECT_LT(*id, 256);
    EXPECT_EQ(tok->token_bytes(*id), std::string(1, static_cast<char>(b)));
  }
}

}  // namespace
}  // namespace qb::tok
