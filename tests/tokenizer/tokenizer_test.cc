// The public API on the real Qwen3 tokenizer: vocabulary facts, special tokens, config ids,
// decode options, invalid input, id checks, threads.
#include "steps/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <thread>

#include "steps/tokenizer/chat_format.h"
#include "steps/tokenizer/utf8.h"
#include "test_util.h"

namespace qb::tok {
namespace {

using Ids = std::vector<std::int32_t>;

TEST(Tokenizer, Qwen3VocabularyFacts) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab_size(), 151669);
  EXPECT_EQ(tok->added_tokens().size(), 26u);
  EXPECT_EQ(tok->special_tokens().size(), 14u);  // <|endoftext|> .. <|video_pad|>
  EXPECT_EQ(tok->token_to_id("<|endoftext|>"), 151643);
  EXPECT_EQ(tok->token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(tok->token_to_id("<|im_end|>"), 151645);
  EXPECT_EQ(tok->token_to_id("<think>"), 151667);
  EXPECT_EQ(tok->token_to_id("Hello"), 9707);
  EXPECT_EQ(tok->token_to_id("no such token"), std::nullopt);
  EXPECT_EQ(tok->id_to_token(151668), "</think>");
  EXPECT_EQ(tok->id_to_token(220), "Ġ");
  EXPECT_EQ(tok->id_to_token(-1), "");
  EXPECT_EQ(tok->id_to_token(151669), "");
  EXPECT_TRUE(tok->is_special(151645));
  EXPECT_FALSE(tok->is_special(151667));  // <think> is added but not special
  EXPECT_FALSE(tok->is_special(9707));
  EXPECT_EQ(tok->eos_id(), 151645);  // tokenizer_config.json: <|im_end|>
  EXPECT_EQ(tok->pad_id(), 151643);  // <|endoftext|>
  EXPECT_EQ(tok->bos_id(), std::nullopt);
  for (std::string_view stop : kChatStopTokens) EXPECT_TRUE(tok->token_to_id(stop).has_value());
}

TEST(Tokenizer, EncodesKnownIds) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->encode(""), Ids{});
  EXPECT_EQ(tok->encode("Hello <|im_start|>user\nhi<|im_end|> <think>x</think>"),
            (Ids{9707, 220, 151644, 872, 198, 6023, 151645, 220, 151667, 87, 151668}));
  EXPECT_EQ(tok->encode("日本"), Ids{101059});
}

TEST(Tokenizer, DecodeSkipsSpecialTokensOnRequest) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const Ids ids = tok->encode("<|im_start|>user\nhi<|im_end|><think>x</think>");
  EXPECT_EQ(tok->decode(ids), "<|im_start|>user\nhi<|im_end|><think>x</think>");
  EXPECT_EQ(tok->decode(ids, /*skip_special=*/true), "user\nhi<think>x</think>");
}

TEST(Tokenizer, DecodeIsExactBytesEvenInsideACharacter) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const Ids ids = tok->encode("🫠");  // three byte-level tokens
  ASSERT_EQ(ids.size(), 3u);
  std::string joined;
  for (std::int32_t id : ids) joined += tok->decode(Ids{id});
  EXPECT_EQ(joined, "🫠");
  EXPECT_TRUE(find_invalid_utf8(tok->decode(Ids{ids[0]})).has_value());
  EXPECT_EQ(tok->token_bytes(ids[0]), "\xF0\x9F");
}

TEST(Tokenizer, InvalidUtf8IsRepairedFirst) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const std::string bad = "caf\xE9 \xF0\x9F\x98 ok";
  EXPECT_EQ(tok->encode(bad), tok->encode(to_valid_utf8(bad)));
  EXPECT_EQ(tok->decode(tok->encode(bad)), "caf\uFFFD \uFFFD ok");
}

TEST(Tokenizer, SpecialTokensAsPlainText) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const Ids plain = tok->encode("<|im_end|><think>", /*allow_special=*/false);
  EXPECT_EQ(plain.back(), 151667);  // <think> is not special: still one token
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 151645), 0);
  EXPECT_EQ(tok->decode(plain), "<|im_end|><think>");
}

TEST(Tokenizer, CheckIdsNamesTheBadOne) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  EXPECT_TRUE(tok->check_ids(Ids{0, 151668}).is_ok());
  EXPECT_EQ(tok->check_ids(Ids{1, 2, 151669}).message(),
            "id 151669 at position 2 is not in the vocabulary of '" + testing::kQwen3Dir +
                "/tokenizer.json' (ids 0..151668)");
  EXPECT_EQ(tok->check_ids(Ids{-5}).message().substr(0, 31), "id -5 at position 0 is not in t");
  EXPECT_EQ(tok->decode(Ids{9707, -5, 999999, 9707}), "HelloHello");  // skipped, as tokenizers
}

TEST(Tokenizer, ConcurrentEncodesAgree) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const auto corpus = testing::read_jsonl(testing::kGolden + "/corpus.jsonl");
  std::vector<Ids> want;
  for (const auto& line : corpus) want.push_back(tok->encode(testing::corpus_input(line)));
  const Tokenizer copy = *tok;  // copies share the model and its cache
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep)
        for (std::size_t i = 0; i < corpus.size(); ++i)
          bad[t] += copy.encode(testing::corpus_input(corpus[(i + t * 37) % corpus.size()])) !=
                    want[(i + t * 37) % corpus.size()];
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, (std::vector<int>{0, 0, 0, 0}));
}

TEST(ChatFormat, RendersQwen3Template) {
  EXPECT_EQ(format_chat_prompt("Hi"), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  ChatOptions no_thinking;
  no_thinking.enable_thinking = false;
  EXPECT_EQ(format_chat_prompt("Hi", no_thinking),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  EXPECT_EQ(format_chat_prompt("Hi", {.system = "Be brief."}),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
}

}  // namespace
}  // namespace qb::tok
