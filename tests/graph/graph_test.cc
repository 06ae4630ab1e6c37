// Unit tests for src/graph/graph.h: node construction, variant naming, key stability and
// sensitivity, de-duplication, unavailable kinds and target selection.
#include "graph/graph.h"

#include <gtest/gtest.h>

#include "graph_test_util.h"
#include "spec/smooth_spec.h"

namespace qb::graph {
namespace {

using namespace testing_util;

GraphInput two_by_two(bool fidelity = false) {
  GraphInput in;
  in.trans = {trans_original(), trans_spin()};
  in.quant = {quant("rtn", "-rtn", 8), quant("gptq", "-gptq", 4)};
  in.evals = {eval_mmlu(fidelity)};
  return in;
}

TEST_F(GraphTest, OriginalTransIsNoNode) {
  GraphInput in;
  in.trans = {trans_original()};
  in.quant = {quant("rtn", "-rtn", 8)};
  Graph g = build(in);
  EXPECT_EQ(count(g, "trans"), 0);
  EXPECT_EQ(count(g, "source_model"), 1);
  int q = find(g, "quant", "tiny-rtn");
  ASSERT_GE(q, 0);
  ASSERT_EQ(g.node(q).inputs.size(), 2u);
  EXPECT_EQ(g.node(g.node(q).inputs[0].node).kind, "source_model");
  EXPECT_EQ(g.node(q).inputs[1].role, "check");  // a source model is validated before it is read
  EXPECT_EQ(g.node(g.node(q).inputs[1].node).kind, "check");
}

TEST_F(GraphTest, EachSourceModelHasOneCheckThatEveryReaderDependsOn) {
  Graph g = build(two_by_two(true));
  EXPECT_EQ(count(g, "check"), 1);
  const int chk = find(g, "check", "models/tiny");
  ASSERT_GE(chk, 0);
  EXPECT_EQ(g.node(chk).inputs.size(), 1u);
  EXPECT_EQ(g.node(g.node(chk).inputs[0].node).kind, "source_model");
  auto reads_check = [&](int i) {
    for (const auto& in : g.node(i).inputs)
      if (in.role == "check") return in.node == chk;
    return false;
  };
  EXPECT_TRUE(reads_check(find(g, "trans", "tiny-spin")));
  EXPECT_TRUE(reads_check(find(g, "quant", "tiny-rtn")));
  EXPECT_TRUE(reads_check(find(g, "generate", "tiny")));        // the base model's generation
  EXPECT_FALSE(reads_check(find(g, "quant", "tiny-spin-rtn")));  // reads the transformed model
  EXPECT_FALSE(reads_check(find(g, "generate", "tiny-rtn")));
}

TEST_F(GraphTest, NodeCountsForTwoTransTwoQuantOneEval) {
  Graph g = build(two_by_two());
  EXPECT_EQ(count(g, "source_model"), 1);
  EXPECT_EQ(count(g, "source_dataset"), 1);
  EXPECT_EQ(count(g, "trans"), 1);
  EXPECT_EQ(count(g, "quant"), 4);
  EXPECT_EQ(count(g, "sample"), 1);
  EXPECT_EQ(count(g, "generate"), 4);
  EXPECT_EQ(count(g, "score"), 4);
  EXPECT_EQ(count(g, "check"), 1);
  EXPECT_EQ(g.nodes.size(), 17u);
  EXPECT_EQ(g.variants.size(), 4u);
  EXPECT_EQ(g.evals.size(), 4u);
}

TEST_F(GraphTest, OneSamplePerEvalAndEvalsPerVariant) {
  GraphInput in = two_by_two();
  EvalIn gsm = eval_mmlu();
  gsm.dataset_name = "gsm8k";
  gsm.file = "pipline/eval/gsm8k.yaml";
  gsm.datasets = {{"gsm8k", "datasets/gsm"}};
  in.evals.push_back(gsm);
  Graph g = build(in);
  EXPECT_EQ(count(g, "sample"), 2);
  EXPECT_EQ(count(g, "generate"), 8);
  EXPECT_EQ(count(g, "score"), 8);
  EXPECT_EQ(count(g, "source_dataset"), 2);
  EXPECT_GE(find(g, "sample", "gsm8k"), 0);
}

TEST_F(GraphTest, FidelityAddsOneBaseGenerateAndScorePerSourceModel) {
  Graph g = build(two_by_two(true));
  EXPECT_EQ(count(g, "generate"), 5);
  EXPECT_EQ(count(g, "score"), 5);
  EXPECT_EQ(g.nodes.size(), 19u);
  int bg = find(g, "generate", "tiny"), bs = find(g, "score", "tiny");
  ASSERT_GE(bg, 0);
  ASSERT_GE(bs, 0);
  EXPECT_EQ(g.node(bg).identity, "generate:mmlu/base/models/tiny");
  EXPECT_EQ(g.node(bg).params["logits"], "keep");
  EXPECT_EQ(g.node(bs).params["fidelity"], false);
  EXPECT_EQ(g.node(bs).settings["base"], true);
  for (const auto& e : g.evals) {
    const Node& gen = g.node(e.generate);
    ASSERT_EQ(gen.inputs.size(), 3u);
    EXPECT_EQ(gen.inputs[2].role, "base");
    EXPECT_EQ(gen.inputs[2].node, bg);
    EXPECT_EQ(gen.params["logits"], "compare");
    const Node& sc = g.node(e.node);
    ASSERT_EQ(sc.inputs.size(), 3u);
    EXPECT_EQ(sc.inputs[0].role, "generation");
    EXPECT_EQ(sc.inputs[0].node, e.generate);
    EXPECT_EQ(sc.inputs[2].role, "base");
    EXPECT_EQ(sc.inputs[2].node, bs);
    EXPECT_EQ(sc.params["fidelity"], true);
  }
}

// two_by_two(true) plus an "original" transform named "other" of a second source model.
GraphInput with_second_source(const std::string& model_dir, const std::string& suffix = "") {
  GraphInput in = two_by_two(true);
  TransIn other = trans_original();
  other.name = "other";
  other.file = "pipline/trans/other.yaml";
  other.input_model = model_dir;
  if (!suffix.empty()) other.suffix = suffix;
  in.trans.push_back(other);
  return in;
}

TEST_F(GraphTest, FidelityWithTwoSourceModelsAddsTwoBaseLogits) {
  write_text(root() / "models/other/config.json", R"({"hidden_size": 16})");
  Graph g = build(with_second_source("models/other"));
  EXPECT_EQ(count(g, "generate"), 4 + 2 + 2);  // two more variants, two base models
  EXPECT_EQ(count(g, "source_model"), 2);
  EXPECT_GE(find(g, "generate", "other"), 0);  // distinct basenames: the basename
}

TEST_F(GraphTest, BaseRowsOfSourceModelsWithOneBasenameAreNamedByPath) {
  write_text(root() / "zoo/tiny/config.json", R"({"hidden_size": 16})");
  Graph g = build(with_second_source("zoo/tiny", "-zoo"));
  int a = find(g, "score", "models_tiny"), b = find(g, "score", "zoo_tiny");
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(g.node(a).settings["variant"], "models_tiny");
  EXPECT_EQ(g.node(b).settings["variant"], "zoo_tiny");
}

TEST_F(GraphTest, WithoutFidelityGenerateAndScoreHaveNoBase) {
  Graph g = build(two_by_two());
  const Node& gen = g.node(g.evals[0].generate);
  ASSERT_EQ(gen.inputs.size(), 2u);
  EXPECT_EQ(gen.inputs[0].role, "model");
  EXPECT_EQ(gen.inputs[1].role, "eval_set");
  EXPECT_EQ(g.node(gen.inputs[1].node).kind, "sample");
  EXPECT_EQ(gen.params["logits"], "none");
  const Node& sc = g.node(g.evals[0].node);
  ASSERT_EQ(sc.inputs.size(), 2u);
  EXPECT_EQ(sc.inputs[0].role, "generation");
  EXPECT_EQ(sc.params["fidelity"], false);
}

TEST_F(GraphTest, VariantNamesAreModelTransSuffixQuantSuffix) {
  Graph g = build(two_by_two());
  std::vector<std::string> names;
  for (const auto& v : g.variants) names.push_back(v.name);
  EXPECT_EQ(names, (std::vector<std::string>{"tiny-rtn", "tiny-gptq", "tiny-spin-rtn", "tiny-spin-gptq"}));
  EXPECT_EQ(g.variants[2].trans_name, "spin");
  EXPECT_EQ(g.variants[2].quant_name, "rtn");
  EXPECT_EQ(g.node(g.variants[2].model_node).name, "tiny-spin-rtn");
}

TEST_F(GraphTest, ModelBasenameIgnoresTrailingSlash) {
  GraphInput in;
  TransIn t = trans_original();
  t.input_model = "models/tiny/";
  in.trans = {t};
  in.quant = {quant("rtn", "-rtn", 8)};
  Graph g = build(in);
  ASSERT_EQ(g.variants.size(), 1u);
  EXPECT_EQ(g.variants[0].name, "tiny-rtn");
}

TEST_F(GraphTest, NodeNamesIdentitiesLinksAndLogNames) {
  Graph g = build(two_by_two());
  const Node& t = g.node(find(g, "trans", "tiny-spin"));
  EXPECT_EQ(t.identity, "trans:spin");
  EXPECT_EQ(t.links, std::vector<std::string>{"data/models/tiny-spin"});
  EXPECT_EQ(t.log_name, "tiny-spin_trans");
  const Node& q = g.node(find(g, "quant", "tiny-spin-gptq"));
  EXPECT_EQ(q.identity, "quant:spin/gptq");
  EXPECT_EQ(q.config_file, "pipline/quant/gptq.yaml");
  EXPECT_EQ(q.links, std::vector<std::string>{"data/models/tiny-spin-gptq"});
  EXPECT_EQ(q.log_name, "tiny-spin-gptq_quant");
  const Node& s = g.node(find(g, "sample", "mmlu"));
  EXPECT_EQ(s.identity, "sample:mmlu");
  EXPECT_EQ(s.links, std::vector<std::string>{"data/mmlu.jsonl"});
  EXPECT_EQ(s.inputs[0].role, "dataset:mmlu");
  const Node& e = g.node(g.evals[3].node);
  EXPECT_EQ(e.identity, "score:mmlu/spin/gptq");
  EXPECT_EQ(e.log_name, "tiny-spin-gptq_mmlu_score");
  EXPECT_EQ(e.settings["variant"], "tiny-spin-gptq");
  EXPECT_EQ(e.settings["trans"], "spin");
  EXPECT_EQ(e.settings["quant"], "gptq");
  const Node& gen = g.node(g.evals[3].generate);
  EXPECT_EQ(gen.identity, "generate:mmlu/spin/gptq");
  EXPECT_EQ(gen.log_name, "tiny-spin-gptq_mmlu_generate");
}

TEST_F(GraphTest, StepNodesCarryCatalogCodeVersionAndGpu) {
  kinds_["sample"] = {3, false};
  Graph g = build(two_by_two());
  const Node& s = g.node(find(g, "sample", "mmlu"));
  EXPECT_EQ(s.code_version, 3);
  EXPECT_FALSE(s.gpu);
  EXPECT_TRUE(g.node(find(g, "quant", "tiny-rtn")).gpu);
}

TEST_F(GraphTest, KeysAre32HexAndIndexedByKey) {
  Graph g = build(two_by_two());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    EXPECT_TRUE(Digest::from_hex(g.nodes[i].key).is_ok()) << g.nodes[i].key;
    EXPECT_EQ(g.find_key(g.nodes[i].key), std::optional<int>(static_cast<int>(i)));
  }
  EXPECT_EQ(g.find_key(std::string(32, '0')), std::nullopt);
}

TEST_F(GraphTest, InputsComeBeforeTheirNodes) {
  Graph g = build(two_by_two(true));
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& in : g.nodes[i].inputs) EXPECT_LT(in.node, static_cast<int>(i));
}

TEST_F(GraphTest, DuplicateVariantNameIsAnError) {
  GraphInput in;
  in.trans = {trans_original()};
  QuantIn q2 = quant("rtn2", "-rtn", 4);
  in.quant = {quant("rtn", "-rtn", 8), q2};
  auto g = build_graph(in, root(), kinds_, *index_);
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(g.status().message(),
            "two variants are both named 'tiny-rtn' (pipline/trans/original.yaml × pipline/quant/rtn.yaml and "
            "pipline/trans/original.yaml × pipline/quant/rtn2.yaml); give the configs different output_suffix values");
}

TEST_F(GraphTest, MissingModelIsNotFoundWithConfigContext) {
  GraphInput in;
  TransIn t = trans_original();
  t.input_model = "models/absent";
  in.trans = {t};
  auto g = build_graph(in, root(), kinds_, *index_);
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), Code::kNotFound);
  EXPECT_EQ(g.status().message(), "pipline/trans/original.yaml: 'models/absent' does not exist");
}

TEST_F(GraphTest, IdenticalQuantRecipesShareOneNodeWithBothLinks) {
  GraphInput in;
  in.trans = {trans_original()};
  in.quant = {quant("rtn", "-rtn", 8), quant("rtn-copy", "-rtn-copy", 8)};
  Graph g = build(in);
  EXPECT_EQ(count(g, "quant"), 1);
  ASSERT_EQ(g.variants.size(), 2u);
  EXPECT_EQ(g.variants[0].model_node, g.variants[1].model_node);
  EXPECT_EQ(g.node(g.variants[0].model_node).links,
            (std::vector<std::string>{"data/models/tiny-rtn", "data/models/tiny-rtn-copy"}));
}

TEST_F(GraphTest, MissingKindMakesNodeAndDependentsUnavailable) {
  kinds_.erase("trans");
  Graph g = build(two_by_two());
  EXPECT_FALSE(g.node(find(g, "trans", "tiny-spin")).available);
  EXPECT_EQ(g.node(find(g, "trans", "tiny-spin")).code_version, 0);
  EXPECT_FALSE(g.node(find(g, "quant", "tiny-spin-rtn")).available);
  EXPECT_FALSE(g.node(find(g, "generate", "tiny-spin-rtn")).available);
  EXPECT_FALSE(g.node(find(g, "score", "tiny-spin-rtn")).available);
  EXPECT_TRUE(g.node(find(g, "quant", "tiny-rtn")).available);
  EXPECT_TRUE(g.node(find(g, "score", "tiny-rtn")).available);
  EXPECT_TRUE(g.node(find(g, "sample", "mmlu")).available);
}

TEST_F(GraphTest, KeysAreDeterministic) {
  Graph a = build(two_by_two(true));
  Graph b = build(two_by_two(true));
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (std::size_t i = 0; i < a.nodes.size(); ++i) EXPECT_EQ(a.nodes[i].key, b.nodes[i].key);
}

TEST_F(GraphTest, QuantParamsChangeQuantAndEvalKeysOnly) {
  Graph a = build(two_by_two());
  GraphInput in = two_by_two();
  in.quant[0].recipe.groups[0].weights.group_size = 64;
  Graph b = build(in);
  EXPECT_NE(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
  EXPECT_NE(key(a, "quant", "tiny-spin-rtn"), key(b, "quant", "tiny-spin-rtn"));
  EXPECT_NE(key(a, "score", "tiny-rtn"), key(b, "score", "tiny-rtn"));
  EXPECT_EQ(key(a, "quant", "tiny-gptq"), key(b, "quant", "tiny-gptq"));
  EXPECT_EQ(key(a, "score", "tiny-gptq"), key(b, "score", "tiny-gptq"));
  EXPECT_EQ(key(a, "trans", "tiny-spin"), key(b, "trans", "tiny-spin"));
  EXPECT_EQ(key(a, "sample", "mmlu"), key(b, "sample", "mmlu"));
}

TEST_F(GraphTest, TransParamsChangeDownstreamOfTransOnly) {
  Graph a = build(two_by_two());
  GraphInput in = two_by_two();
  in.trans[1].params.seed = 1;
  Graph b = build(in);
  EXPECT_NE(key(a, "trans", "tiny-spin"), key(b, "trans", "tiny-spin"));
  EXPECT_NE(key(a, "quant", "tiny-spin-rtn"), key(b, "quant", "tiny-spin-rtn"));
  EXPECT_NE(key(a, "score", "tiny-spin-rtn"), key(b, "score", "tiny-spin-rtn"));
  EXPECT_EQ(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
}

TEST_F(GraphTest, SampleParamsChangeSampleAndAllEvals) {
  Graph a = build(two_by_two());
  GraphInput in = two_by_two();
  in.evals[0].sample.total_samples = 11;
  Graph b = build(in);
  EXPECT_NE(key(a, "sample", "mmlu"), key(b, "sample", "mmlu"));
  for (const char* v : {"tiny-rtn", "tiny-gptq", "tiny-spin-rtn", "tiny-spin-gptq"})
    EXPECT_NE(key(a, "score", v), key(b, "score", v)) << v;
  EXPECT_EQ(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
}

// GPQA-Diamond's shuffle_seeds are part of the sample spec: another seed list is another eval
// set, so every generation and score reruns (the models do not); the default list keeps the key.
TEST_F(GraphTest, GpqaShuffleSeedsChangeTheSampleGenerateAndScoreKeys) {
  write_text(root() / "datasets/gpqa/train.jsonl", "{\"q\": 3}\n");
  auto with_gpqa = [](std::optional<std::vector<std::int64_t>> seeds) {
    GraphInput in = two_by_two();
    in.evals[0].datasets.push_back({"gpqa_diamond", "datasets/gpqa"});
    in.evals[0].sample.datasets.push_back(spec::SampleSpec::dataset_defaults("gpqa_diamond"));
    in.evals[0].sample.datasets.back().shuffle_seeds = std::move(seeds);
    in.evals[0].generate.max_new_tokens["gpqa_diamond"] = 16;
    return in;
  };
  Graph a = build(with_gpqa(std::nullopt));
  Graph b = build(with_gpqa(std::vector<std::int64_t>{0, 1, 2}));
  Graph c = build(with_gpqa(std::vector<std::int64_t>{0, 1, 3}));
  EXPECT_NE(key(a, "sample", "mmlu"), key(b, "sample", "mmlu"));
  EXPECT_NE(key(b, "sample", "mmlu"), key(c, "sample", "mmlu"));
  for (const char* v : {"tiny-rtn", "tiny-spin-gptq"}) {
    EXPECT_NE(key(a, "generate", v), key(b, "generate", v)) << v;
    EXPECT_NE(key(b, "generate", v), key(c, "generate", v)) << v;
    EXPECT_NE(key(a, "score", v), key(b, "score", v)) << v;
  }
  EXPECT_EQ(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
  EXPECT_EQ(key(a, "sample", "mmlu"), key(build(with_gpqa(std::nullopt)), "sample", "mmlu"));
}

TEST_F(GraphTest, ScoreSpecChangesScoreKeysOnly) {
  Graph a = build(two_by_two(true));
  GraphInput in = two_by_two(true);
  in.evals[0].score.strip_thinking = false;
  Graph b = build(in);
  for (std::size_t i = 0; i < a.nodes.size(); ++i) {
    if (a.nodes[i].kind == "score") EXPECT_NE(a.nodes[i].key, b.nodes[i].key) << a.nodes[i].name;
    else EXPECT_EQ(a.nodes[i].key, b.nodes[i].key) << a.nodes[i].kind << " " << a.nodes[i].name;
  }
}

TEST_F(GraphTest, GenerateSpecChangesGenerateAndScoreKeysOnly) {
  Graph a = build(two_by_two());
  GraphInput in = two_by_two();
  in.evals[0].generate.batch_size = 4;
  Graph b = build(in);
  for (const char* v : {"tiny-rtn", "tiny-spin-gptq"}) {
    EXPECT_NE(key(a, "generate", v), key(b, "generate", v));
    EXPECT_NE(key(a, "score", v), key(b, "score", v));
  }
  EXPECT_EQ(key(a, "sample", "mmlu"), key(b, "sample", "mmlu"));
  EXPECT_EQ(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
}

TEST_F(GraphTest, NamesTooLongForAFileNameFailAtGraphTime) {
  GraphInput in;
  in.trans = {trans_original()};
  in.quant = {quant("rtn", "-" + std::string(260, 'q'), 8)};
  auto g = build_graph(in, root(), kinds_, *index_);
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("pipline/quant/rtn.yaml: the quant step of 'tiny-qqq"), std::string::npos)
      << g.status().message();
  EXPECT_NE(g.status().message().find("at most 255"), std::string::npos);
}

TEST_F(GraphTest, SettingsDoNotChangeKeys) {
  Graph a = build(two_by_two());
  GraphInput in = two_by_two();
  in.trans[1].check.max_rel_error = 1e-2;
  in.evals[0].work_dir = "elsewhere";
  in.evals[0].devices = {1};
  Graph b = build(in);
  for (std::size_t i = 0; i < a.nodes.size(); ++i) EXPECT_EQ(a.nodes[i].key, b.nodes[i].key) << a.nodes[i].name;
}

TEST_F(GraphTest, ConfigNamesAndFilesDoNotChangeKeys) {
  Graph a = build(two_by_two());
  GraphInput in = two_by_two();
  in.quant[0].name = "renamed";
  in.quant[0].file = "pipline/quant/renamed.yaml";
  Graph b = build(in);
  EXPECT_EQ(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
}

TEST_F(GraphTest, CodeVersionChangesKeysOfThatKindAndDependents) {
  Graph a = build(two_by_two());
  kinds_["quant"].code_version = 2;
  Graph b = build(two_by_two());
  EXPECT_NE(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
  EXPECT_NE(key(a, "score", "tiny-rtn"), key(b, "score", "tiny-rtn"));
  EXPECT_EQ(key(a, "trans", "tiny-spin"), key(b, "trans", "tiny-spin"));
  EXPECT_EQ(key(a, "sample", "mmlu"), key(b, "sample", "mmlu"));
}

TEST_F(GraphTest, SourceModelContentChangeChangesDownstreamKeys) {
  Graph a = build(two_by_two());
  write_text(root() / "models/tiny/config.json", R"({"hidden_size": 9})");
  Graph b = build(two_by_two());
  EXPECT_NE(key(a, "source_model", "models/tiny"), key(b, "source_model", "models/tiny"));
  EXPECT_NE(key(a, "trans", "tiny-spin"), key(b, "trans", "tiny-spin"));
  EXPECT_NE(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
  EXPECT_EQ(key(a, "sample", "mmlu"), key(b, "sample", "mmlu"));
}

TEST_F(GraphTest, AddedModelFileChangesSourceKey) {
  Graph a = build(two_by_two());
  write_text(root() / "models/tiny/tokenizer.json", "{}");
  Graph b = build(two_by_two());
  EXPECT_NE(key(a, "source_model", "models/tiny"), key(b, "source_model", "models/tiny"));
}

TEST_F(GraphTest, HiddenFilesDoNotChangeSourceKey) {
  Graph a = build(two_by_two());
  write_text(root() / "models/tiny/.cache/lock", "x");
  write_text(root() / "models/tiny/.DS_Store", "y");
  Graph b = build(two_by_two());
  EXPECT_EQ(key(a, "source_model", "models/tiny"), key(b, "source_model", "models/tiny"));
}

TEST_F(GraphTest, DatasetContentChangeChangesSampleAndEvals) {
  Graph a = build(two_by_two());
  write_text(root() / "datasets/mmlu/test.jsonl", "{\"q\": 3}\n");
  Graph b = build(two_by_two());
  EXPECT_NE(key(a, "sample", "mmlu"), key(b, "sample", "mmlu"));
  EXPECT_NE(key(a, "score", "tiny-rtn"), key(b, "score", "tiny-rtn"));
  EXPECT_EQ(key(a, "quant", "tiny-rtn"), key(b, "quant", "tiny-rtn"));
}

TEST_F(GraphTest, MovedModelFolderWithSameContentKeepsKeys) {
  Graph a = build(two_by_two());
  stdfs::rename(root() / "models/tiny", root() / "models/moved");
  GraphInput in = two_by_two();
  for (auto& t : in.trans) t.input_model = "models/moved";
  Graph b = build(in);
  EXPECT_EQ(key(a, "source_model", "models/tiny"), key(b, "source_model", "models/moved"));
  EXPECT_EQ(key(a, "quant", "tiny-rtn"), key(b, "quant", "moved-rtn"));
}

TEST_F(GraphTest, CalibrationFileIsAHashedInput) {
  write_text(root() / "calib/c.jsonl", "a\n");
  GraphInput in;
  in.trans = {trans_original()};
  in.quant = {quant("gptq", "-gptq", 4)};
  in.quant[0].calib_path = "calib/c.jsonl";
  Graph a = build(in);
  int q = find(a, "quant", "tiny-gptq");
  ASSERT_EQ(a.node(q).inputs.size(), 3u);
  EXPECT_EQ(a.node(q).inputs[2].role, "calibration");
  EXPECT_EQ(a.node(a.node(q).inputs[2].node).kind, "source_file");
  write_text(root() / "calib/c.jsonl", "b\n");
  Graph b = build(in);
  EXPECT_NE(key(a, "quant", "tiny-gptq"), key(b, "quant", "tiny-gptq"));
}

// A recipe with smoothing stages: SmoothQuant before GPTQ W8A8 static (sq) and AWQ before RTN
// W4A16 (awq), both calibrated on calib/c.txt.
GraphInput smoothing_input() {
  GraphInput in;
  in.trans = {trans_original()};
  QuantIn sq = quant("sq", "-sq", 8);
  sq.recipe.groups = {spec::preset_group(*spec::find_scheme("W8A8"), {"Linear"})};
  sq.recipe.groups[0].input_activations->dynamic = false;
  sq.recipe.groups[0].input_activations->strategy = spec::Strategy::kTensor;
  sq.recipe.modifier = spec::Modifier::kGptq;
  sq.recipe.stages = {spec::SmoothQuantStage{}};
  sq.recipe.calibration = spec::CalibrationSpec{};
  sq.calib_path = "calib/c.txt";
  QuantIn awq = quant("awq", "-awq", 4);
  awq.recipe.stages = {spec::AwqStage{}};
  awq.recipe.calibration = spec::CalibrationSpec{};
  awq.calib_path = "calib/c.txt";
  in.quant = {sq, awq};
  return in;
}

std::vector<std::string> roles(const Graph& g, int n) {
  std::vector<std::string> out;
  for (const auto& in : g.node(n).inputs) out.push_back(in.role + ":" + g.node(in.node).kind);
  return out;
}

TEST_F(GraphTest, SmoothingStagesAreASmoothNodeBeforeTheQuantNode) {
  write_text(root() / "calib/c.txt", "text\n");
  GraphInput in = smoothing_input();
  Graph g = build(in);
  EXPECT_EQ(count(g, "smooth"), 2);
  int sm = find(g, "smooth", "tiny-sq-smoothed"), q = find(g, "quant", "tiny-sq");
  ASSERT_GE(sm, 0);
  ASSERT_GE(q, 0);
  EXPECT_EQ(roles(g, sm), (std::vector<std::string>{"model:source_model", "check:check", "calibration:source_file"}));
  EXPECT_EQ(g.node(sm).params, spec::SmoothSpec::of(in.quant[0].recipe)->to_json());
  EXPECT_EQ(g.node(sm).log_name, "tiny-sq_smooth");
  // GPTQ still calibrates; the quant node reads the smoothed model and holds no stages.
  EXPECT_EQ(roles(g, q), (std::vector<std::string>{"model:smooth", "calibration:source_file"}));
  EXPECT_EQ(g.node(q).inputs[0].node, sm);
  EXPECT_EQ(g.node(q).params, in.quant[0].recipe.quantization_stage().to_json());
  EXPECT_FALSE(g.node(q).params.contains("stages"));
  // RTN weight-only after AWQ needs no calibration.
  EXPECT_EQ(roles(g, find(g, "quant", "tiny-awq")), (std::vector<std::string>{"model:smooth"}));
}

// What SmoothQuant's output already determines is not recomputed: an edit of the GPTQ stage
// changes the quant key only; an edit of a smoothing stage changes both.
TEST_F(GraphTest, EditingTheQuantizationStageKeepsTheSmoothKey) {
  write_text(root() / "calib/c.txt", "text\n");
  Graph a = build(smoothing_input());
  GraphInput gptq = smoothing_input();
  gptq.quant[0].recipe.dampening_frac = 0.05;
  Graph b = build(gptq);
  EXPECT_EQ(key(a, "smooth", "tiny-sq-smoothed"), key(b, "smooth", "tiny-sq-smoothed"));
  EXPECT_NE(key(a, "quant", "tiny-sq"), key(b, "quant", "tiny-sq"));
  GraphInput alpha = smoothing_input();
  std::get<spec::SmoothQuantStage>(alpha.quant[0].recipe.stages[0]).smoothing_strength = 0.8;
  Graph c = build(alpha);
  EXPECT_NE(key(a, "smooth", "tiny-sq-smoothed"), key(c, "smooth", "tiny-sq-smoothed"));
  EXPECT_NE(key(a, "quant", "tiny-sq"), key(c, "quant", "tiny-sq"));
  EXPECT_EQ(key(a, "smooth", "tiny-awq-smoothed"), key(c, "smooth", "tiny-awq-smoothed"));
}

TEST_F(GraphTest, ExplainListsHashedFields) {
  GraphInput in;
  in.trans = {trans_original()};
  in.quant = {quant("rtn", "-rtn", 8)};
  Graph g = build(in);
  const int q = find(g, "quant", "tiny-rtn");
  EXPECT_EQ(explain_key(g, q), (std::vector<std::string>{"salt = qbuild-node-v1", "kind = quant", "code_version = 1",
                                                 "params = " + in.quant[0].recipe.to_json().dump(),
                                                 "input:model = " + key(g, "source_model", "models/tiny"),
                                                 "input:check = " + key(g, "check", "models/tiny")}));
}

TEST_F(GraphTest, SourceHashingUsesTheIndexMemo) {
  build(two_by_two());
  int misses = index_->memo_misses();
  EXPECT_EQ(misses, 3);  // config.json, model.safetensors, test.jsonl
  build(two_by_two());
  EXPECT_EQ(index_->memo_misses(), misses);
  EXPECT_EQ(index_->memo_hits(), 3);
}

// ---- select_targets ----

std::set<std::string> kinds_names(const Graph& g, const std::set<int>& sel) {
  std::set<std::string> out;
  for (int i : sel) out.insert(g.node(i).kind + " " + g.node(i).name);
  return out;
}

TEST_F(GraphTest, EmptyTargetsSelectEverything) {
  Graph g = build(two_by_two());
  auto sel = select_targets(g, {});
  ASSERT_TRUE(sel.is_ok());
  EXPECT_EQ(sel->size(), g.nodes.size());
}

TEST_F(GraphTest, ResultsCsvTargetSelectsAllEvalsOfDataset) {
  GraphInput in;
  in.trans = {trans_original()};
  in.quant = {quant("rtn", "-rtn", 8)};
  in.evals = {eval_mmlu()};
  Graph g = build(in);
  auto sel = select_targets(g, {"results/mmlu.csv"});
  ASSERT_TRUE(sel.is_ok()) << sel.status().to_string();
  EXPECT_EQ(kinds_names(g, *sel),
            (std::set<std::string>{"score tiny-rtn", "generate tiny-rtn", "quant tiny-rtn", "sample mmlu",
                                   "check models/tiny", "source_model models/tiny", "source_dataset datasets/mmlu"}));
}

TEST_F(GraphTest, ModelTargetSelectsModelAndItsInputs) {
  Graph g = build(two_by_two());
  auto sel = select_targets(g, {"data/models/tiny-spin-rtn"});
  ASSERT_TRUE(sel.is_ok());
  EXPECT_EQ(kinds_names(g, *sel),
            (std::set<std::string>{"quant tiny-spin-rtn", "trans tiny-spin", "check models/tiny",
                                   "source_model models/tiny"}));
}

TEST_F(GraphTest, ModelTargetWithTrailingSlashOrDotSegments) {
  Graph g = build(two_by_two());
  auto a = select_targets(g, {"data/models/tiny-rtn/"});
  auto b = select_targets(g, {"./data/models/tiny-rtn"});
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(kinds_names(g, *a), (std::set<std::string>{"quant tiny-rtn", "check models/tiny", "source_model models/tiny"}));
  EXPECT_EQ(*a, *b);
}

TEST_F(GraphTest, EvalSetTargetSelectsSampleAndDatasets) {
  Graph g = build(two_by_two());
  auto sel = select_targets(g, {"data/mmlu.jsonl"});
  ASSERT_TRUE(sel.is_ok());
  EXPECT_EQ(kinds_names(g, *sel), (std::set<std::string>{"sample mmlu", "source_dataset datasets/mmlu"}));
}

TEST_F(GraphTest, VariantNameTargetSelectsModelAndItsEvals) {
  Graph g = build(two_by_two());
  auto sel = select_targets(g, {"tiny-gptq"});
  ASSERT_TRUE(sel.is_ok());
  EXPECT_EQ(kinds_names(g, *sel),
            (std::set<std::string>{"quant tiny-gptq", "generate tiny-gptq", "score tiny-gptq", "sample mmlu",
                                   "check models/tiny", "source_model models/tiny", "source_dataset datasets/mmlu"}));
}

TEST_F(GraphTest, KeyTargetSelectsThatNode) {
  Graph g = build(two_by_two());
  auto sel = select_targets(g, {key(g, "sample", "mmlu")});
  ASSERT_TRUE(sel.is_ok());
  EXPECT_EQ(kinds_names(g, *sel), (std::set<std::string>{"sample mmlu", "source_dataset datasets/mmlu"}));
}

TEST_F(GraphTest, UnknownTargetListsExamples) {
  Graph g = build(two_by_two());
  auto sel = select_targets(g, {"results/gsm8k.csv"});
  ASSERT_FALSE(sel.is_ok());
  EXPECT_EQ(sel.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sel.status().message(),
            "unknown target 'results/gsm8k.csv'; targets are results/<dataset_name>.csv, data/models/<variant>, "
            "data/<dataset_name>.jsonl, a variant name or a node key, e.g. results/mmlu.csv, data/models/tiny-rtn, "
            "data/models/tiny-gptq, data/models/tiny-spin-rtn, data/models/tiny-spin-gptq");
}

}  // namespace
}  // namespace qb::graph
