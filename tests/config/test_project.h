// A throwaway project folder for config tests: data/models/m (with config.json),
// data/datasets/{mmlu,gsm8k}, data/calib.txt, data/calib.jsonl and empty pipline/ stage
// folders. Tests write the config files they need and compare the rendered diagnostics.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "config/pipeline.h"
#include "util/fs.h"

namespace qb::config::testing {

class ProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = fs::TempDir::create(std::filesystem::temp_directory_path(), "qb_config_test_");
    ASSERT_TRUE(dir.is_ok()) << dir.status().to_string();
    tmp_ = std::move(*dir);
    write("data/models/m/config.json", "{}\n");
    write("data/models/m2/config.json", "{}\n");
    mkdir("data/models/no-config");
    mkdir("data/datasets/mmlu");
    mkdir("data/datasets/gsm8k");
    // Large enough for the default calibration (512 documents; 2048 tokens ≤ 2048 bytes).
    std::string text, docs;
    for (int i = 0; i < 512; ++i) {
      text += "hello world ";
      docs += "{\"text\": \"hello\"}\n";
    }
    write("data/calib.txt", text + "\n");
    write("data/calib.jsonl", docs);
    for (const char* stage : {"pipline/1-trans", "pipline/2-quant", "pipline/3-eval"})
      mkdir(stage);
  }

  const std::filesystem::path& root() const { return tmp_.path(); }

  void mkdir(const std::string& rel) { std::filesystem::create_directories(root() / rel); }

  void write(const std::string& rel, const std::string& text) {
    auto path = root() / rel;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  void remove(const std::string& rel) { std::filesystem::remove_all(root() / rel); }

  // Loads pipline/ into diags_; returns the result.
  Result<Pipeline> load(const std::string& dir = "pipline") {
    diags_ = Diagnostics();
    return load_pipeline(root(), diags_, dir);
  }

  // Loads and returns the rendered diagnostics.
  std::string diagnostics(const std::string& dir = "pipline") {
    auto r = load(dir);
    (void)r;
    return diags_.render();
  }

  Diagnostics diags_;

 private:
  fs::TempDir tmp_;
};

// A project with one quant config, pipline/2-quant/q.yaml: its diagnostics, or its canonical
// recipe (the quant, smoothing and FP8 config suites).
class QuantRecipeTest : public ProjectTest {
 protected:
  std::string check(const std::string& yaml) {
    write("pipline/2-quant/q.yaml", yaml);
    return diagnostics();
  }
  nlohmann::json params(const std::string& yaml) {
    write("pipline/2-quant/q.yaml", yaml);
    auto p = load();
    EXPECT_TRUE(p.is_ok()) << diags_.render();
    return p.is_ok() ? p->quant.at(0).recipe.to_json() : nlohmann::json();
  }
};

// Minimal valid configs, one per stage.
inline const char* kTransOriginal =
    "name: original\n"
    "input_model: data/models/m\n"
    "output_suffix: null\n";

inline const char* kTransSpin =
    "name: spin\n"
    "input_model: data/models/m\n"
    "output_suffix: -r1r2\n"
    "quant_modifiers:\n"
    "  SpinQuantModifier:\n"
    "    rotations: [R1, R2]\n"
    "    transform_type: random-hadamard\n";

inline const char* kQuantRtnStatic =
    "name: rtn\n"
    "output_suffix: -rtn\n"
    "quant_modifiers:\n"
    "  QuantizationModifier:\n"
    "    config_groups:\n"
    "      group_0:\n"
    "        targets: [Linear]\n"
    "        weights:\n"
    "          num_bits: 8\n"
    "          strategy: channel\n"
    "        input_activations:\n"
    "          num_bits: 8\n"
    "          strategy: tensor\n"
    "    ignore: [lm_head]\n"
    "calibration:\n"
    "  source: data/calib.txt\n";

inline const char* kEval =
    "dataset_name: mix\n"
    "datasets:\n"
    "  - name: mmlu\n"
    "  - name: gsm8k\n"
    "sampling:\n"
    "  total_samples: 20\n";

}  // namespace qb::config::testing
