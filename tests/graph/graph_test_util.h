// A temporary qbuild project for the graph tests: a model folder, dataset folders, an index
// and a hand-built GraphInput (no YAML: the config layer is tested elsewhere).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "graph/graph.h"
#include "store/index.h"
#include "store/layout.h"
#include "util/fs.h"

namespace qb::graph::testing_util {

namespace stdfs = std::filesystem;

inline void write_text(const stdfs::path& p, const std::string& data) {
  stdfs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

inline TransIn trans_original() {
  TransIn t;
  t.name = "original";
  t.file = "pipline/trans/original.yaml";
  t.input_model = "models/tiny";
  return t;
}

inline TransIn trans_spin() {
  TransIn t;
  t.name = "spin";
  t.file = "pipline/trans/spin.yaml";
  t.input_model = "models/tiny";
  t.suffix = "-spin";
  t.params.transform_type = spec::RotationType::kRandomHadamard;  // seeded
  return t;
}

// A weight-only recipe with `bits`-bit weights, groups of 128.
inline QuantIn quant(const std::string& name, const std::string& suffix, int bits) {
  QuantIn q;
  q.name = name;
  q.file = "pipline/quant/" + name + ".yaml";
  q.suffix = suffix;
  q.recipe.groups = {spec::preset_group(*spec::find_scheme("W8A16"), {"Linear"})};
  q.recipe.groups[0].weights.num_bits = bits;
  return q;
}

inline EvalIn eval_mmlu(bool fidelity = false) {
  EvalIn e;
  e.dataset_name = "mmlu";
  e.file = "pipline/eval/mmlu.yaml";
  e.datasets = {{"mmlu", "datasets/mmlu"}};
  e.sample.datasets = {spec::SampleSpec::dataset_defaults("mmlu")};
  e.sample.total_samples = 10;
  e.sample.seed = 1;
  e.generate.max_new_tokens = {{"mmlu", 16}};
  e.score.fidelity = fidelity;
  return e;
}

inline KindCatalog all_kinds() {
  return {{"check", {1, false}}, {"trans", {1, true}}, {"smooth", {1, true}}, {"quant", {1, true}},
          {"sample", {1, false}}, {"generate", {1, true}}, {"score", {1, false}}};
}

class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = fs::TempDir::create(stdfs::temp_directory_path(), "qb_graph_test.");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    root_ = std::move(*t);
    write_text(root() / "models/tiny/config.json", R"({"hidden_size": 8})");
    write_text(root() / "models/tiny/model.safetensors", "weights");
    write_text(root() / "datasets/mmlu/test.jsonl", "{\"q\": 1}\n");
    write_text(root() / "datasets/gsm/test.jsonl", "{\"q\": 2}\n");
    stdfs::create_directories(layout().cache());
    auto idx = store::Index::open(layout().index_db());
    ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
    index_ = std::make_unique<store::Index>(std::move(*idx));
    kinds_ = all_kinds();
  }
  const stdfs::path& root() const { return root_.path(); }
  store::Layout layout() const { return store::Layout(root_.path()); }

  Graph build(const GraphInput& in) {
    auto g = build_graph(in, root(), kinds_, *index_);
    EXPECT_TRUE(g.is_ok()) << g.status().to_string();
    return g.is_ok() ? std::move(*g) : Graph{};
  }
  // The one node of `kind` named `name` (-1 when absent).
  static int find(const Graph& g, const std::string& kind, const std::string& name) {
    int found = -1;
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].kind == kind && g.nodes[i].name == name) {
        EXPECT_EQ(found, -1) << "two " << kind << " nodes named " << name;
        found = static_cast<int>(i);
      }
    return found;
  }
  static std::string key(const Graph& g, const std::string& kind, const std::string& name) {
    int i = find(g, kind, name);
    return i < 0 ? std::string("<none>") : g.node(i).key;
  }
  static int count(const Graph& g, const std::string& kind) {
    int n = 0;
    for (const auto& node : g.nodes) n += node.kind == kind;
    return n;
  }

  fs::TempDir root_;
  std::unique_ptr<store::Index> index_;
  KindCatalog kinds_;
};

}  // namespace qb::graph::testing_util
