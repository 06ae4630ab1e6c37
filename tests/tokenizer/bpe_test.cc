// BPE merging: hand-made cases, the fast model against the reference on the real Qwen3 vocabulary,
// the cache, and build errors.
#include "steps/tokenizer/bpe.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "steps/tokenizer/byte_level.h"
#include "test_util.h"

namespace qb::tok {
namespace {

// The 256 byte symbols with id = byte value, then `extra` tokens with ids 256, 257, ...
Vocab byte_vocab(const std::vector<std::string>& extra = {}) {
  Vocab v;
  for (int b = 0; b < 256; ++b) v.emplace(bytes_to_symbols(std::string(1, static_cast<char>(b))), b);
  for (const std::string& t : extra) v.emplace(t, static_cast<std::int32_t>(v.size()));
  return v;
}

std::vector<std::int32_t> encode(const BpeModel& m, std::string_view word) {
  std::vector<std::int32_t> out;
  m.encode_word(word, out);
  return out;
}

TEST(Bpe, LowerRankMergesFirst) {
  {
    auto m = BpeModel::build(byte_vocab({"ab", "bc"}), {{"a", "b"}, {"b", "c"}}, {});
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    EXPECT_EQ(encode(*m, "abc"), (std::vector<std::int32_t>{256, 'c'}));
  }
  {
    auto m = BpeModel::build(byte_vocab({"ab", "bc"}), {{"b", "c"}, {"a", "b"}}, {});
    ASSERT_TRUE(m.is_ok());
    EXPECT_EQ(encode(*m, "abc"), (std::vector<std::int32_t>{'a', 257}));
  }
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  auto m = BpeModel::build(byte_vocab({"aa", "aaaa"}), {{"a", "a"}, {"aa", "aa"}}, {});
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(encode(*m, "aaa"), (std::vector<std::int32_t>{256, 'a'}));
  EXPECT_EQ(encode(*m, "aaaa"), (std::vector<std::int32_t>{257}));
  EXPECT_EQ(encode(*m, "aaaaa"), (std::vector<std::int32_t>{257, 'a'}));
}

TEST(Bpe, BytesUseTheByteLevelAlphabet) {
  auto m = BpeModel::build(byte_vocab({"ĠĠ"}), {{"Ġ", "Ġ"}}, {});
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(encode(*m, "   "), (std::vector<std::int32_t>{256, ' '}));
  EXPECT_EQ(encode(*m, "\n\xFF"), (std::vector<std::int32_t>{'\n', 0xFF}));
}

TEST(Bpe, IgnoreMergesTakesWholeVocabularyWords) {
  // "abc" is in the vocabulary but no merge builds it.
  auto plain = BpeModel::build(byte_vocab({"abc"}), {}, {});
  auto whole = BpeModel::build(byte_vocab({"abc"}), {}, {.ignore_merges = true});
  ASSERT_TRUE(plain.is_ok() && whole.is_ok());
  EXPECT_EQ(encode(*plain, "abc"), (std::vector<std::int32_t>{'a', 'b', 'c'}));
  EXPECT_EQ(encode(*whole, "abc"), (std::vector<std::int32_t>{256}));
  EXPECT_EQ(encode(*whole, "abcd"), (std::vector<std::int32_t>{'a', 'b', 'c', 'd'}));
}

TEST(Bpe, CacheGivesTheSameIds) {
  auto m = BpeModel::build(byte_vocab({"ab"}), {{"a", "b"}}, {});
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->cache_size(), 0u);
  const auto first = encode(*m, "abab");
  EXPECT_EQ(m->cache_size(), 1u);
  EXPECT_EQ(encode(*m, "abab"), first);
  EXPECT_EQ(m->cache_size(), 1u);
  const std::string long_word(BpeModel::kMaxCachedWord + 1, 'a');
  encode(*m, long_word);
  EXPECT_EQ(m->cache_size(), 1u);  // long words are not cached
}

TEST(Bpe, BuildErrorsNameTheMerge) {
  Vocab no_byte = byte_vocab();
  no_byte.erase("Ġ");
  EXPECT_EQ(BpeModel::build(no_byte, {}, {}).status().message(),
            "the vocabulary lacks the byte-level symbol 'Ġ' of byte 0x20 (a byte-level BPE "
            "needs all 256)");
  EXPECT_EQ(BpeModel::build(byte_vocab({"ab"}), {{"a", "b"}, {"x", "yz"}}, {}).status().message(),
            "merges[1] ('x', 'yz'): unknown token 'yz'");
  EXPECT_EQ(BpeModel::build(byte_vocab(), {{"qq", "b"}}, {}).status().message(),
            "merges[0] ('qq', 'b'): unknown token 'qq'");
  EXPECT_EQ(BpeModel::build(byte_vocab(), {{"a", "b"}}, {}).status().message(),
            "merges[0] ('a', 'b'): the merged token 'ab' is not in the vocabulary");
}

// The real vocabulary and merges, read independently of the loader.
struct Qwen3Model {
  Vocab vocab;
  MergeList merges;
  Qwen3Model() {
    std::ifstream in(testing::kQwen3Dir + "/tokenizer.json", std::ios::binary);
    const auto j = nlohmann::json::parse(in);
    for (const auto& [k, v] : j["model"]["vocab"].items()) vocab.emplace(k, v.get<std::int32_t>());
    for (const auto& m : j["model"]["merges"]) merges.emplace_back(m[0], m[1]);
  }
};

TEST(Bpe, FastMatchesReferenceOnQwen3Vocabulary) {
  const Qwen3Model q;
  auto fast = BpeModel::build(q.vocab, q.merges, {});
  ASSERT_TRUE(fast.is_ok()) << fast.status().to_string();
  const ReferenceBpe ref(q.vocab, q.merges, {});

  // Words: every whitespace-separated word of the corpus (with and without a leading space),
  // plus random byte strings and random concatenations of vocabulary entries.
  std::vector<std::string> words;
  for (const auto& line : testing::read_jsonl(testing::kGolden + "/corpus.jsonl")) {
    std::istringstream s(testing::corpus_input(line));
    std::string w;
    while (s >> w) {
      words.push_back(w);
      words.push_back(" " + w);
    }
  }
  std::mt19937 rng(7);
  std::vector<std::string> entries;
  for (const auto& [tok, id] : q.vocab)
    if (auto b = symbols_to_bytes(tok)) entries.push_back(*b);
  for (int i = 0; i < 3000; ++i) {
    std::string w;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int k = 0; k < n; ++k) w += entries[rng() % entries.size()];
    words.push_back(w);
  }
  for (int i = 0; i < 1000; ++i) {
    std::string w(1 + rng() % 12, '\0');
    for (char& c : w) c = static_cast<char>(rng() % 256);
    words.push_back(w);
  }
  std::size_t mismatches = 0;
  for (const std::string& w : words) {
    std::vector<std::int32_t> got;
    fast->encode_word_uncached(w, got);
    const auto want = ref.encode_word(w);
    if (got != want && ++mismatches <= 5)
      ADD_FAILURE() << "word " << nlohmann::json(bytes_to_symbols(w)).dump();
  }
  EXPECT_EQ(mismatches, 0u) << "of " << words.size() << " words";
  std::printf("[bpe] fast == reference on %zu words\n", words.size());
}

}  // namespace
}  // namespace qb::tok
