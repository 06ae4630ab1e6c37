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

}  // namespace qb::model::testing
