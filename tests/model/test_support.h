// Shared helpers of the qb::model tests: fixture paths, the transformers reference dumps
// (tests/golden/models/<name>/reference.json, made by make_tiny_models.py), tensor comparison.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/model/model.h"
#include "steps/tokenizer/byte_level.h"

namespace qb::model::testing {

inline const std::vector<std::string> kTinyModels = {"qwen3-tiny", "qwen3-tiny-tied",
                                                    "qwen2-tiny", "llama-tiny"};

inline std::filesystem::path model_dir(const std::string& name) {
  return std::filesystem::path(QB_SOURCE_DIR) / "tests" / "golden" / "models" / name;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return nlohmann::json::parse(in);
}

inline nlohmann::json reference(const std::string& name) {
  return read_json(model_dir(name) / "reference.json");
}

// A nested JSON array of numbers -> fp32 CPU tensor (shape from the nesting).
inline at::Tensor json_tensor(const nlohmann::json& j) {
  std::vector<float> flat;
  std::vector<int64_t> shape;
  const nlohmann::json* p = &j;
  while (p->is_array()) {
    shape.push_back(static_cast<int64_t>(p->size()));
    if (p->empty()) break;
    p = &(*p)[0];
  }
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& v) {
    if (v.is_array()) {
      for (const auto& e : v) walk(e);
    } else {
      flat.push_back(v.get<float>());
    }
  };
  walk(j);
  return at::tensor(flat, at::kFloat).reshape(shape);
}

inline std::vector<std::vector<int64_t>> json_ids(const nlohmann::json& j) {
  return j.get<std::vector<std::vector<int64_t>>>();
}

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble).cpu() - b.to(at::kDouble).cpu()).abs().max().item<double>();
}

inline Model load_or_die(const std::string& name, LoadOptions opts = {}) {
  auto m = Model::load(model_dir(name), opts);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return std::move(m).value();
}

// ids [1, T] and all-valid mask for one sequence.
inline std::pair<at::Tensor, at::Tensor> one_row(const std::vector<int64_t>& ids) {
  at::Tensor t = at::tensor(ids, at::kLong).unsqueeze(0);
  return {t, at::ones_like(t, at::kBool)};
}

// A byte-level tokenizer.json for tests: ids 0..255 are the bytes, 256.. the special tokens
// <|endoftext|>, <|im_start|>, <|im_end|>, then `extra` more (<|extra_0|>, ...).
inline nlohmann::json byte_tokenizer_json(int extra = 0) {
  using nlohmann::json;
  json vocab = json::object();
  for (int b = 0; b < 256; ++b)
    vocab[tok::bytes_to_symbols(std::string(1, static_cast<char>(b)))] = b;
  std::vector<std::string> specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  for (int k = 0; k < extra; ++k) specials.push_back("<|extra_" + std::to_string(k) + "|>");
  json added = json::array();
  int id = 256;
  for (const auto& t : specials)
    added.push_back({{"id", id++}, {"content", t}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                           {"trim_offsets", true}, {"use_regex", true}};
  return {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr},
          {"added_tokens", added}, {"normalizer", nullptr},
          {"pre_tokenizer", byte_level}, {"post_processor", nullptr},
          {"decoder", byte_level},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                     {"continuing_subword_prefix", nullptr},
                     {"end_of_word_suffix", nullptr}, {"fuse_unk", false},
                     {"byte_fallback", false}, {"ignore_merges", false},
                     {"vocab", vocab}, {"merges", json::array()}}}};
}

}  // namespace qb::model::testing
