// Canonical params: how a config is written (key order, comments, flow or block style, quoting
// of strings, explicitly written defaults, names, suffixes, paths of outputs) never changes
// them; every value that changes an artifact does.
#include <gtest/gtest.h>

#include "test_project.h"

namespace qb::config::testing {
namespace {

using nlohmann::json;

class ParamsTest : public ProjectTest {
 protected:
  json trans(const std::string& yaml) {
    write("pipline/1-trans/t.yaml", yaml);
    auto p = load();
    EXPECT_TRUE(p.is_ok()) << yaml << diags_.render();
    return p.is_ok() ? p->trans.at(0).params.to_json() : json("load failed");
  }
  json quant(const std::string& yaml) {
    write("pipline/2-quant/q.yaml", yaml);
    auto p = load();
    EXPECT_TRUE(p.is_ok()) << yaml << diags_.render();
    return p.is_ok() ? p->quant.at(0).recipe.to_json() : json("load failed");
  }
  std::pair<json, json> eval(const std::string& yaml) {
    write("pipline/3-eval/e.yaml", yaml);
    auto p = load();
    EXPECT_TRUE(p.is_ok()) << yaml << diags_.render();
    if (!p.is_ok()) return {json("load failed"), json("load failed")};
    const EvalSpec& e = p->evals.at(0);
    return {e.sample.to_json(), json::array({e.generate.to_json(), e.score.to_json()})};
  }
};

// `base` with the first occurrence of `from` replaced by `to`.
std::string edit(std::string base, const std::string& from, const std::string& to) {
  auto pos = base.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) base.replace(pos, from.size(), to);
  return base;
}

TEST_F(ParamsTest, TransWritingStyleDoesNotMatter) {
  json base = trans(kTransSpin);
  EXPECT_EQ(base, trans("# a comment\n"
                        "quant_modifiers: {SpinQuantModifier: {transform_type: \"random-hadamard\","
                        " center_embeddings: false, seed: 0, transform_block_size: null,"
                        " rotations: [r2, 'R1']}}   # trailing comment\n"
                        "output_suffix: '-other-suffix'\n"
                        "input_model: data/models/m/\n"
                        "name: \"a different name\"\n"
                        "equivalence: {max_rel_error: 1, prompts: [x]}\n"));
}

TEST_F(ParamsTest, TransValuesMatter) {
  json base = trans(kTransSpin);
  const std::string seeded = std::string(kTransSpin) + "    seed: 0\n";
  for (const auto& changed :
       {edit(kTransSpin, "[R1, R2]", "[R1]"), edit(kTransSpin, "[R1, R2]", "[R1, R2, R4]"),
        edit(kTransSpin, "random-hadamard", "random-matrix"),
        edit(kTransSpin, "random-hadamard", "hadamard"), edit(seeded, "seed: 0", "seed: 1"),
        std::string(kTransSpin) + "    transform_block_size: 128\n",
        std::string(kTransSpin) + "    center_embeddings: true\n"}) {
    EXPECT_NE(trans(changed), base) << changed;
  }
}

TEST_F(ParamsTest, QuantWritingStyleAndDefaultsDoNotMatter) {
  json base = quant(kQuantRtnStatic);
  write("data/other-calib.txt", std::string(4096, 'x'));  // the graph keys sources by content, not path
  EXPECT_EQ(base,
            quant("calibration: {seed: 0, seq_len: 2048, num_samples: 512, "
                  "source: ./data/other-calib.txt}\n"
                  "save_compressed: true\n"
                  "quant_modifiers:\n"
                  "  QuantizationModifier:\n"
                  "    ignore: ['lm_head', lm_head]\n"
                  "    config_groups:\n"
                  "      group_0:\n"
                  "        # explicit defaults\n"
                  "        input_activations: {observer: static_minmax, dynamic: false,\n"
                  "                            symmetric: true, type: INT, num_bits: 8}\n"
                  "        weights: {group_size: -1, observer: memoryless_minmax, type: int,\n"
                  "                  symmetric: true, dynamic: false, num_bits: 8,\n"
                  "                  strategy: CHANNEL}\n"
                  "        targets: [Linear, Linear]\n"
                  "output_suffix: -another\n"
                  "name: another\n"));
}

TEST_F(ParamsTest, QuantValuesMatter) {
  json base = quant(kQuantRtnStatic);
  const std::string q = kQuantRtnStatic;
  for (const auto& changed : {
           edit(q, "strategy: channel", "strategy: tensor"),
           edit(q, "ignore: [lm_head]", "ignore: [lm_head, \"re:.*down_proj$\"]"),
           edit(q, "ignore: [lm_head]", "ignore: []"),
           edit(q, "targets: [Linear]", "targets: [\"re:.*q_proj$\"]"),
           edit(q, "QuantizationModifier", "GPTQModifier"),
           edit(q, "          strategy: tensor\n", "          strategy: tensor\n"
                                                   "          observer: minmax\n"),
           edit(q, "source: data/calib.txt", "source: data/calib.jsonl"),
           q + "  num_samples: 128\n",
           q + "  seq_len: 512\n",
           q + "  seed: 1\n",
           q + "save_compressed: false\n",
       }) {
    EXPECT_NE(quant(changed), base) << changed;
  }
}

TEST_F(ParamsTest, GptqValuesMatter) {
  const std::string g = edit(kQuantRtnStatic, "QuantizationModifier:\n",
                             "GPTQModifier:\n    block_size: 128\n    dampening_frac: 0.01\n");
  json base = quant(g);
  EXPECT_EQ(base, quant(edit(g, "block_size: 128", "actorder: static")));  // defaults
  for (const auto& changed : {edit(g, "block_size: 128", "block_size: 64"),
                              edit(g, "dampening_frac: 0.01", "dampening_frac: 0.1"),
                              edit(g, "block_size: 128", "actorder: null")}) {
    EXPECT_NE(quant(changed), base) << changed;
  }
}

TEST_F(ParamsTest, FloatsWrittenAsIntegersAreFloats) {
  json a = quant(edit(kQuantRtnStatic, "QuantizationModifier:\n",
                      "GPTQModifier:\n    dampening_frac: 0\n"));
  json b = quant(edit(kQuantRtnStatic, "QuantizationModifier:\n",
                      "GPTQModifier:\n    dampening_frac: 0.0\n"));
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a["dampening_frac"].is_number_float());
  EXPECT_EQ(a.dump(), b.dump());
}

TEST_F(ParamsTest, EvalWritingStyleDoesNotMatter) {
  auto base = eval(kEval);
  EXPECT_EQ(base, eval("sampling: {seed: 42, total_samples: 20}\n"
                       "fidelity: {enabled: true}\n"
                       "mode: generative\n"
                       "gpu_resources: {tensor_parallel_size: 1}\n"
                       "output: {work_dir: somewhere/else}\n"
                       "scoring: {strip_thinking: true}\n"
                       "generation: {max_new_tokens: {mmlu: 512, gsm8k: 1024}, batch_size: 32,\n"
                       "             enable_thinking: false, do_sample: false}\n"
                       "datasets:\n"
                       "  - {name: mmlu, weight: 1, few_shot_num: 5, task_type: knowledge,\n"
                       "     tags: [], subset_list: []}\n"
                       "  - {name: gsm8k, weight: 1.0, few_shot_num: 4, subset_list: [main]}\n"
                       "dataset_name: another-name\n"));
}

TEST_F(ParamsTest, EvalSamplingValuesMatter) {
  auto [sample, run] = eval(kEval);
  const std::string e = kEval;
  for (const auto& changed : {
           edit(e, "total_samples: 20", "total_samples: 21"),
           e + "  seed: 7\n",
           edit(e, "  - name: mmlu\n  - name: gsm8k\n", "  - name: gsm8k\n  - name: mmlu\n"),
           edit(e, "  - name: mmlu\n", "  - name: mmlu\n    weight: 2\n"),
           edit(e, "  - name: mmlu\n", "  - name: mmlu\n    few_shot_num: 1\n"),
           edit(e, "  - name: mmlu\n", "  - name: mmlu\n    subset_list: [anatomy]\n"),
           edit(e, "  - name: mmlu\n", "  - name: mmlu\n    tags: [en]\n"),
           edit(e, "  - name: mmlu\n", "  - name: mmlu\n    task_type: exam\n"),
           e + "mode: loglikelihood\n",
           e + "generation: {enable_thinking: true}\n",
       }) {
    EXPECT_NE(eval(changed).first, sample) << changed;
  }
  for (const auto& changed : {e + "generation: {max_new_tokens: 16}\n", e + "generation: {batch_size: 1}\n",
                              e + "fidelity: {enabled: false}\n", e + "scoring: {strip_thinking: false}\n"}) {
    auto [s2, r2] = eval(changed);
    EXPECT_EQ(s2, sample) << changed;
    EXPECT_NE(r2, run) << changed;
  }
}

}  // namespace
}  // namespace qb::config::testing
