// Loading: a minimal valid tokenizer.json, then one broken field at a time, each with the exact
// error text; files and directories through Tokenizer::load.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "steps/tokenizer/byte_level.h"
#include "steps/tokenizer/tokenizer.h"
#include "util/fs.h"

namespace qb::tok {
namespace {

using nlohmann::json;

// Byte symbols (id = byte), "ab" = 256, "Ġab" = 257; added "<|end|>" = 258 (special).
json minimal() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[bytes_to_symbols(std::string(1, static_cast<char>(b)))] = b;
  vocab["ab"] = 256;
  vocab["Ġab"] = 257;
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       {{{"id", 258}, {"content", "<|end|>"}, {"single_word", false}, {"lstrip", false},
         {"rstrip", false}, {"normalized", false}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true},
                   {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
        {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
        {"byte_fallback", false}, {"ignore_merges", false}, {"vocab", vocab},
        {"merges", json::array({json::array({"a", "b"}), json::array({"Ġ", "ab"})})}}},
  };
}

std::string error_of(const json& j, const std::string& config = "") {
  auto t = Tokenizer::from_json(j.dump(), "mem.json", config, "cfg.json");
  return t.is_ok() ? "(loaded)" : t.status().message();
}

TEST(Load, MinimalTokenizerWorks) {
  auto t = Tokenizer::from_json(minimal().dump(), "mem.json");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->encode("ab ab<|end|>"), (std::vector<std::int32_t>{256, 257, 258}));
  EXPECT_EQ(t->vocab_size(), 259);
  EXPECT_EQ(t->eos_id(), std::nullopt);
  EXPECT_EQ(t->origin(), "mem.json");
}

TEST(Load, NotJson) {
  EXPECT_EQ(Tokenizer::from_json("{\"model\": ", "mem.json").status().message(),
            "tokenizer 'mem.json': not valid JSON: parse error at line 1, column 11: syntax error "
            "while parsing value - unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(error_of(json::array()), "tokenizer 'mem.json': expected a JSON object, got array");
}

TEST(Load, UnsupportedModels) {
  json j = minimal();
  j["model"]["type"] = "Unigram";
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model: type 'Unigram' is not supported (only BPE)");
  j["model"]["type"] = "WordPiece";
  EXPECT_EQ(error_of(j),
            "tokenizer 'mem.json': model: type 'WordPiece' is not supported (only BPE)");
  j["model"].erase("type");
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.type: missing");
  j.erase("model");
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model: missing");
}

TEST(Load, UnsupportedBpeOptions) {
  json j = minimal();
  j["model"]["byte_fallback"] = true;
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.byte_fallback: true is not supported");
  j = minimal();
  j["model"]["dropout"] = 0.1;
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.dropout: 0.1 is not supported (BPE dropout "
                         "is random; use null)");
  j = minimal();
  j["model"]["continuing_subword_prefix"] = "##";
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.continuing_subword_prefix: \"##\" is not "
                         "supported (byte-level BPE uses none)");
  j = minimal();
  j["truncation"] = {{"max_length", 8}};
  EXPECT_EQ(error_of(j),
            "tokenizer 'mem.json': truncation: not supported (it changes the ids; use null)");
}

TEST(Load, UnsupportedNormalizers) {
  json j = minimal();
  j["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': normalizer: type 'Lowercase' is not supported "
                         "(only NFC, a Sequence of NFC, or null)");
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers", {{{"type", "NFC"}}, {{"type", "NFKC"}}}}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': normalizer.normalizers[1]: type 'NFKC' is not "
                         "supported (only NFC, a Sequence of NFC, or null)");
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}}}};
  EXPECT_EQ(error_of(j), "(loaded)");
}

TEST(Load, UnsupportedPreTokenizers) {
  const json split = {{"type", "Split"},
                      {"pattern", {{"Regex", "\\s+"}}},
                      {"behavior", "Isolated"},
                      {"invert", false}};
  const json byte_level = minimal()["pre_tokenizer"];
  json j = minimal();
  j["pre_tokenizer"] = nullptr;
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': pre_tokenizer: null is not supported (byte-level "
                         "BPE needs ByteLevel)");
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': pre_tokenizer: type 'Whitespace' is not supported "
                         "(only Split and ByteLevel)");
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {byte_level, split}}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': pre_tokenizer.pretokenizers[0]: ByteLevel must be "
                         "the last pre-tokenizer");
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {split}}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': pre_tokenizer: no ByteLevel step (byte-level BPE "
                         "needs one, last)");
  json removed = split;
  removed["behavior"] = "Removed";
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {removed, byte_level}}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': pre_tokenizer.pretokenizers[0].behavior 'Removed' "
                         "is not supported (only Isolated)");
  json inverted = split;
  inverted["invert"] = true;
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {inverted, byte_level}}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': pre_tokenizer.pretokenizers[0].invert: true is "
                         "not supported");
  json bad = split;
  bad["pattern"] = {{"Regex", "(?<"}};
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {bad, byte_level}}};
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': pre_tokenizer.pretokenizers[0].pattern: bad regex "
                         "'(?<' at offset 3: subpattern name expected");
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {split, byte_level}}};
  EXPECT_EQ(error_of(j), "(loaded)");
}

TEST(Load, UnsupportedDecoders) {
  json j = minimal();
  j["decoder"] = nullptr;
  EXPECT_EQ(error_of(j),
            "tokenizer 'mem.json': decoder: null is not supported (only ByteLevel)");
  j["decoder"] = {{"type", "WordPiece"}};
  EXPECT_EQ(error_of(j),
            "tokenizer 'mem.json': decoder: type 'WordPiece' is not supported (only ByteLevel)");
}

TEST(Load, BadVocabularyAndMerges) {
  json j = minimal();
  j["model"]["merges"].push_back(json::array({"a", "zz"}));
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model: merges[2] ('a', 'zz'): unknown token 'zz'");
  j = minimal();
  j["model"]["merges"].push_back(json::array({"b", "a"}));
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model: merges[2] ('b', 'a'): the merged token "
                         "'ba' is not in the vocabulary");
  j = minimal();
  j["model"]["merges"] = json::array({"a b", "Ġ ab c"});
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.merges[1]: expected \"a b\" (two tokens, "
                         "one space), got 'Ġ ab c'");
  j["model"]["merges"] = json::array({"a b", 5});
  EXPECT_EQ(error_of(j),
            "tokenizer 'mem.json': model.merges[1]: expected \"a b\" or [\"a\", \"b\"], got 5");
  j["model"]["merges"] = json::array({"a b", "Ġ ab"});  // the legacy string form is fine
  EXPECT_EQ(error_of(j), "(loaded)");
  j = minimal();
  j["model"]["vocab"]["xyz"] = "7";
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.vocab['xyz']: expected an id (an integer "
                         "0..2147483646), got string");
  j["model"]["vocab"]["xyz"] = -1;
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.vocab['xyz']: expected an id (an integer "
                         "0..2147483646), got -1");
  j["model"]["vocab"]["xyz"] = 256;
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model.vocab: id 256 is used by both 'ab' and "
                         "'xyz'");
  j = minimal();
  j["model"]["vocab"].erase("Ċ");
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': model: the vocabulary lacks the byte-level symbol "
                         "'Ċ' of byte 0x0A (a byte-level BPE needs all 256)");
}

TEST(Load, BadAddedTokens) {
  json j = minimal();
  j["added_tokens"][0]["id"] = 256;
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': added_tokens[0] ('<|end|>'): id 256 already "
                         "belongs to 'ab'");
  j = minimal();
  j["added_tokens"].push_back({{"id", 300}, {"content", "ab"}, {"special", false}});
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': added_tokens[1] ('ab'): id 300, but the "
                         "vocabulary gives it id 256");
  j = minimal();
  j["added_tokens"].push_back({{"id", 259}, {"content", "<|end|>"}, {"special", true}});
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': added_tokens[1] ('<|end|>'): listed twice");
  j = minimal();
  j["added_tokens"][0].erase("content");
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': added_tokens[0].content: missing");
  j = minimal();
  j["added_tokens"][0]["special"] = "yes";
  EXPECT_EQ(error_of(j), "tokenizer 'mem.json': added_tokens[0] ('<|end|>').special: expected "
                         "true or false, got string");
}

TEST(Load, ConfigTokens) {
  const json j = minimal();
  auto t = Tokenizer::from_json(j.dump(), "mem.json",
                                R"({"eos_token": "<|end|>", "pad_token": {"content": "ab"},
                                    "bos_token": null})",
                                "cfg.json");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->eos_id(), 258);
  EXPECT_EQ(t->pad_id(), 256);
  EXPECT_EQ(t->bos_id(), std::nullopt);
  EXPECT_EQ(error_of(j, R"({"eos_token": "<|nope|>"})"),
            "tokenizer config 'cfg.json': eos_token '<|nope|>' is not in the vocabulary");
  EXPECT_EQ(error_of(j, R"({"pad_token": 3})"),
            "tokenizer config 'cfg.json': pad_token: expected a string or {\"content\": ...}, "
            "got number");
  EXPECT_EQ(error_of(j, "[1]"), "tokenizer config 'cfg.json': expected a JSON object, got array");
  EXPECT_EQ(error_of(j, "{"), "tokenizer config 'cfg.json': not valid JSON: parse error at line "
                              "1, column 2: syntax error while parsing object key - unexpected "
                              "end of input; expected string literal");
}

TEST(Load, FilesAndDirectories) {
  auto dir = fs::TempDir::create(std::filesystem::temp_directory_path(), "qb-tok-");
  ASSERT_TRUE(dir.is_ok());
  const auto root = dir->path();
  const std::string missing = (root / "nope").string();
  EXPECT_EQ(Tokenizer::load(missing).status().message(),
            "tokenizer '" + missing + "': no such file or directory");
  EXPECT_EQ(Tokenizer::load(root).status().message(),
            "tokenizer '" + root.string() + "': the directory has no tokenizer.json");

  ASSERT_TRUE(fs::write_file_atomic(root / "tokenizer.json", minimal().dump()).is_ok());
  ASSERT_TRUE(fs::write_file_atomic(root / "tokenizer_config.json", R"({"eos_token": "<|end|>"})")
                  .is_ok());
  auto by_dir = Tokenizer::load(root);
  ASSERT_TRUE(by_dir.is_ok()) << by_dir.status().to_string();
  EXPECT_EQ(by_dir->eos_id(), 258);
  EXPECT_EQ(by_dir->origin(), (root / "tokenizer.json").string());
  auto by_file = Tokenizer::load(root / "tokenizer.json");
  ASSERT_TRUE(by_file.is_ok());
  EXPECT_EQ(by_file->eos_id(), 258);  // the config beside tokenizer.json is read too

  // Another file name: no config is looked for.
  ASSERT_TRUE(fs::write_file_atomic(root / "other.json", minimal().dump()).is_ok());
  auto other = Tokenizer::load(root / "other.json");
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(other->eos_id(), std::nullopt);

  ASSERT_TRUE(fs::write_file_atomic(root / "tokenizer_config.json", "").is_ok());
  EXPECT_EQ(Tokenizer::load(root).status().message(),
            "tokenizer config '" + (root / "tokenizer_config.json").string() + "': empty file");
  ASSERT_TRUE(fs::write_file_atomic(root / "tokenizer_config.json", "{}").is_ok());
  ASSERT_TRUE(fs::write_file_atomic(root / "tokenizer.json", "not json").is_ok());
  EXPECT_EQ(Tokenizer::load(root / "tokenizer.json").status().message(),
            "tokenizer '" + (root / "tokenizer.json").string() +
                "': not valid JSON: parse error at line 1, column 2: syntax error while parsing "
                "value - invalid literal; last read: 'no'");
}

}  // namespace
}  // namespace qb::tok
