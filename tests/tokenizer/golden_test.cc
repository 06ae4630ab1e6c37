// The tokenizer against the `tokenizers` package (0.23.3) on the real Qwen3 tokenizer and on
// three tiny byte-level BPE fixtures; fixtures from tests/golden/scripts/tokenizer_golden.py.
#include <gtest/gtest.h>

#include "steps/tokenizer/chat_format.h"
#include "steps/tokenizer/tokenizer.h"
#include "steps/tokenizer/utf8.h"
#include "test_util.h"

namespace qb::tok {
namespace {

using testing::corpus_input;
using testing::describe_mismatch;
using testing::ids_of;
using testing::kGolden;
using testing::read_jsonl;

// Every line: identical ids (with and without special tokens), exact decode both ways.
// `rows` carry their own input, or take it from `inputs` (same order).
void check_rows(const Tokenizer& tok, const std::vector<nlohmann::json>& rows,
                const std::vector<nlohmann::json>& inputs, std::size_t* n_ids) {
  ASSERT_FALSE(rows.empty());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const nlohmann::json& row = rows[i];
    const nlohmann::json& in = inputs.empty() ? row : inputs.at(i);
    const std::string text = corpus_input(in);
    const std::string label = "line " + std::to_string(i + 1) + " [" + in.value("tag", "") +
                              "] " + in.dump().substr(0, 160);
    const std::vector<std::int32_t> want = ids_of(row["ids"]);
    const std::vector<std::int32_t> got = tok.encode(text);
    *n_ids += want.size();
    if (got != want) {
      ++bad;
      ADD_FAILURE() << label << "\n" << describe_mismatch(tok, want, got);
      continue;
    }
    const std::vector<std::int32_t> want_plain =
        row.contains("ids_no_special") ? ids_of(row["ids_no_special"]) : want;
    const std::vector<std::int32_t> got_plain = tok.encode(text, /*allow_special=*/false);
    if (got_plain != want_plain) {
      ++bad;
      ADD_FAILURE() << label << " (allow_special=false)\n"
                    << describe_mismatch(tok, want_plain, got_plain);
    }
    // The package returns str, so its decode is lossy where a token cut a character.
    const std::string decoded = tok.decode(got);
    EXPECT_EQ(to_valid_utf8(decoded), row["decode"].get<std::string>()) << label;
    const std::string skip = row.value("decode_skip_special", row["decode"].get<std::string>());
    EXPECT_EQ(to_valid_utf8(tok.decode(got, /*skip_special=*/true)), skip) << label;
  }
  EXPECT_EQ(bad, 0u) << "of " << rows.size() << " lines";
}

TEST(Qwen3Golden, CorpusIdsAndDecodeMatchTokenizers) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const auto corpus = read_jsonl(kGolden + "/corpus.jsonl");
  const auto rows = read_jsonl(kGolden + "/expected.jsonl");
  ASSERT_EQ(corpus.size(), rows.size());
  ASSERT_GE(corpus.size(), 300u);
  std::size_t n_ids = 0;
  check_rows(*tok, rows, corpus, &n_ids);
  std::printf("[qwen3] %zu corpus lines, %zu ids compared\n", corpus.size(), n_ids);
}

TEST(Qwen3Golden, WholeCorpusAsOneDocumentMatchesTokenizers) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  std::string document;
  const auto corpus = read_jsonl(kGolden + "/corpus.jsonl");
  for (std::size_t i = 0; i < corpus.size(); ++i)
    document += (i ? "\n" : "") + to_valid_utf8(corpus_input(corpus[i]));
  std::ifstream in(kGolden + "/expected_document.json");
  const std::vector<std::int32_t> want = ids_of(nlohmann::json::parse(in)["ids"]);
  const std::vector<std::int32_t> got = tok->encode(document);
  EXPECT_EQ(got, want) << describe_mismatch(*tok, want, got);
  std::printf("[qwen3] one %zu-byte document, %zu ids\n", document.size(), want.size());
}

TEST(Qwen3Golden, DecodeOfValidTextIsExactNfcRoundTrip) {
  // For valid UTF-8 lines the decode is exact bytes (no U+FFFD needed): the package's decode
  // string, which the oracle checked equals NFC(text).
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const auto corpus = read_jsonl(kGolden + "/corpus.jsonl");
  const auto rows = read_jsonl(kGolden + "/expected.jsonl");
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const std::string decoded = tok->decode(tok->encode(corpus_input(corpus[i])));
    EXPECT_FALSE(find_invalid_utf8(decoded).has_value()) << "line " << i + 1;
    EXPECT_EQ(decoded, rows[i]["decode"].get<std::string>()) << "line " << i + 1;
  }
}

TEST(Qwen3Golden, SingleTokenDecodesMatchTokenizers) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const auto rows = read_jsonl(kGolden + "/token_decodes.jsonl");
  ASSERT_GT(rows.size(), 1000u);
  for (const auto& row : rows) {
    const std::int32_t id = row["id"].get<std::int32_t>();
    EXPECT_EQ(tok->id_to_token(id), row["token"].get<std::string>()) << id;
    EXPECT_EQ(tok->token_to_id(row["token"].get<std::string>()), id) << id;
    const std::int32_t one[] = {id};
    EXPECT_EQ(to_valid_utf8(tok->decode(one)), row["decode"].get<std::string>()) << id;
  }
}

TEST(Qwen3Golden, ChatTemplateRenderingMatchesTransformers) {
  const Tokenizer* tok = testing::qwen3();
  ASSERT_NE(tok, nullptr);
  const auto rows = read_jsonl(kGolden + "/chat_expected.jsonl");
  ASSERT_GE(rows.size(), 40u);
  for (const auto& row : rows) {
    ChatOptions opt;
    if (!row["system"].is_null()) opt.system = row["system"].get<std::string>();
    opt.enable_thinking = row["enable_thinking"].is_null() || row["enable_thinking"].get<bool>();
    const std::string text = format_chat_prompt(row["user"].get<std::string>(), opt);
    EXPECT_EQ(text, row["text"].get<std::string>()) << row.dump();
    const std::vector<std::int32_t> want = ids_of(row["ids"]);
    const std::vector<std::int32_t> got = tok->encode(text);
    EXPECT_EQ(got, want) << row.dump() << "\n" << describe_mismatch(*tok, want, got);
  }
}

class TinyGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyGolden, IdsAndDecodeMatchTokenizers) {
  const std::string dir = kGolden + "/" + GetParam();
  auto tok = Tokenizer::load(dir + "/tokenizer.json");
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  std::size_t n_ids = 0;
  check_rows(*tok, read_jsonl(dir + "/expected.jsonl"), {}, &n_ids);
  std::printf("[%s] %zu ids compared\n", GetParam(), n_ids);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TinyGolden, ::testing::Values("gpt2_tiny", "variants", "nosplit"));

}  // namespace
}  // namespace qb::tok
