// Shared helpers of the tokenizer tests: fixture paths, JSONL reading, the Qwen3 tokenizer
// (loaded once per process), and a readable description of an id mismatch.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "steps/tokenizer/tokenizer.h"

namespace qb::tok::testing {

inline const std::string kGolden = QB_SOURCE_DIR "/tests/golden/tokenizer";
inline const std::string kQwen3Dir = QB_SOURCE_DIR "/data/tokenizers/qwen3";

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline std::vector<std::int32_t> ids_of(const nlohmann::json& j) {
  return j.get<std::vector<std::int32_t>>();
}

// A corpus line's input: "text", or the raw bytes of "hex" (may be invalid UTF-8).
inline std::string corpus_input(const nlohmann::json& line) {
  if (line.contains("text")) return line["text"].get<std::string>();
  const std::string hex = line["hex"].get<std::string>();
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

// The Qwen3 tokenizer of data/tokenizers/qwen3, loaded once; nullptr (and a failure) if it
// does not load.
inline const Tokenizer* qwen3() {
  static const Result<Tokenizer> tok = Tokenizer::load(kQwen3Dir);
  EXPECT_TRUE(tok.is_ok()) << tok.status().to_string();
  return tok.is_ok() ? &tok.value() : nullptr;
}

// "first difference at position k of n/m; expected ... got ..." with the tokens around it.
inline std::string describe_mismatch(const Tokenizer& tok, const std::vector<std::int32_t>& want,
                                     const std::vector<std::int32_t>& got) {
  std::size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  const auto around = [&](const std::vector<std::int32_t>& ids) {
    std::ostringstream s;
    const std::size_t lo = k >= 3 ? k - 3 : 0, hi = std::min(ids.size(), k + 4);
    for (std::size_t i = lo; i < hi; ++i)
      s << (i == k ? " >>" : " ") << ids[i] << ":" << nlohmann::json(tok.id_to_token(ids[i])).dump();
    return s.str();
  };
  std::ostringstream s;
  s << "first difference at position " << k << " (expected " << want.size() << " ids, got "
    << got.size() << ")\n  expected:" << around(want) << "\n  got:     " << around(got);
  return s.str();
}

}  // namespace qb::tok::testing
