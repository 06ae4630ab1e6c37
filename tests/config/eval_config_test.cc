// pipline/3-eval: the sample / generate / score specs, defaults, and each eval rule (exact messages).
#include <gtest/gtest.h>

#include "spec/tasks.h"
#include "test_project.h"

namespace qb::config::testing {
namespace {

using nlohmann::json;

class EvalTest : public ProjectTest {
 protected:
  std::string check(const std::string& yaml) {
    write("pipline/3-eval/e.yaml", yaml);
    return diagnostics();
  }
  EvalSpec spec(const std::string& yaml) {
    write("pipline/3-eval/e.yaml", yaml);
    auto p = load();
    EXPECT_TRUE(p.is_ok()) << diags_.render();
    return p.is_ok() ? p->evals.at(0) : EvalSpec{};
  }
};

TEST_F(EvalTest, DefaultsAreSpelledOut) {
  EvalSpec e = spec(kEval);
  EXPECT_EQ(e.dataset_name, "mix");
  EXPECT_EQ(e.sample.total_samples, 20);
  EXPECT_EQ(e.sample.seed, 42u);
  EXPECT_EQ(e.work_dir, "outputs");
  EXPECT_TRUE(e.devices.empty());
  ASSERT_EQ(e.sample.datasets.size(), 2u);
  EXPECT_EQ(e.dataset_dirs[0], "data/datasets/mmlu");
  // MMLU 5-shot and GSM8K 4-shot: evalscope 1.12.0's defaults (spec/tasks.h).
  EXPECT_EQ(e.sample.to_json(), json::parse(R"({
    "datasets": [
      {"name": "mmlu", "weight": 1.0, "task_type": "knowledge", "tags": [], "few_shot_num": 5,
       "subset_list": [], "format": "auto"},
      {"name": "gsm8k", "weight": 1.0, "task_type": "math", "tags": [], "few_shot_num": 4,
       "subset_list": [], "format": "auto"}],
    "total_samples": 20, "seed": 42, "mode": "generative", "enable_thinking": false,
    "prompt_format": "evalscope-compatible/1"})"));
  EXPECT_EQ(e.generate.to_json(), json::parse(R"({
    "max_new_tokens": {"mmlu": 512, "gsm8k": 1024}, "batch_size": 32, "decoding": "greedy",
    "device": "cpu", "compute_dtype": "float32", "logits": "none"})"));
  EXPECT_EQ(e.score.to_json(), json::parse(R"({
    "scorer": "evalscope-1.12.0/qbuild-scorer-1", "strip_thinking": true, "fidelity": true})"));
  EXPECT_TRUE(e.sample.to_json()["datasets"][0]["weight"].is_number_float());
}

TEST_F(EvalTest, GenerationSettingsChangeTheGenerateSpecOnly) {
  EvalSpec a = spec(kEval);
  EvalSpec b = spec(std::string(kEval) +
                    "generation: {max_new_tokens: 300, batch_size: 4}\nfidelity: {enabled: false}\n");
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_NE(a.generate, b.generate);
  EXPECT_EQ(b.generate.to_json()["max_new_tokens"], json::parse(R"({"mmlu": 300, "gsm8k": 300})"));
  EXPECT_FALSE(b.score.fidelity);
}

TEST_F(EvalTest, ContinuousBatchingIsAGenerationSetting) {
  EvalSpec a = spec(kEval);
  EvalSpec b = spec(std::string(kEval) + "generation: {batching: continuous}\n");
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_EQ(a.generate.batching, "static");
  EXPECT_EQ(b.generate.batching, "continuous");
  EXPECT_EQ(b.generate.to_json()["batching"], "continuous");
  EXPECT_EQ(check(std::string(kEval) + "generation: {batching: dynamic}\n").substr(0, 103),
            "pipline/3-eval/e.yaml:7:24: error: invalid value 'dynamic' for 'batching' (allowed: static, continuous)");
}

TEST_F(EvalTest, ScoringSettingsChangeTheScoreSpecOnly) {
  EvalSpec a = spec(kEval);
  EvalSpec b = spec(std::string(kEval) + "scoring: {strip_thinking: false}\n");
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_EQ(a.generate, b.generate);
  EXPECT_NE(a.score, b.score);
  EXPECT_FALSE(b.score.strip_thinking);
}

TEST_F(EvalTest, MaxNewTokensPerTask) {
  EvalSpec e = spec(std::string(kEval) + "generation:\n  max_new_tokens: {gsm8k: 2048}\n");
  EXPECT_EQ(e.generate.to_json()["max_new_tokens"], json::parse(R"({"mmlu": 512, "gsm8k": 2048})"));
}

TEST_F(EvalTest, ThinkingChangesTheSample) {
  EvalSpec a = spec(kEval);
  EvalSpec b = spec(std::string(kEval) + "generation: {enable_thinking: true}\n");
  EXPECT_NE(a.sample, b.sample);
}

// lm-evaluation-harness 0.4.13's mmlu task sets no num_fewshot: 0-shot in loglikelihood mode.
TEST_F(EvalTest, LoglikelihoodModeUsesZeroShotMmluAndNoTokenBudget) {
  EvalSpec e = spec(std::string(kEval) + "mode: loglikelihood\n");
  EXPECT_EQ(e.sample.mode, "loglikelihood");
  EXPECT_EQ(e.sample.datasets[0].few_shot_num, 0);
  EXPECT_EQ(e.generate.to_json()["max_new_tokens"], json::parse(R"({"gsm8k": 1024})"));
}

TEST_F(EvalTest, LoglikelihoodWithoutMmluWarnsAndIsCanonicalGenerative) {
  std::string yaml =
      "dataset_name: g\ndatasets: [{name: gsm8k}]\nsampling: {total_samples: 5}\n"
      "mode: loglikelihood\n";
  EXPECT_EQ(check(yaml),
            "pipline/3-eval/e.yaml:4:7: warning: mode 'loglikelihood' applies only to MMLU, and "
            "this eval has no mmlu dataset\n"
            "    4 | mode: loglikelihood\n"
            "      |       ^~~~~~~~~~~~~\n");
  EXPECT_EQ(spec(yaml).sample.mode, "generative");
}

TEST_F(EvalTest, TensorParallelIsRejected) {
  EXPECT_EQ(check(std::string(kEval) + "gpu_resources: {tensor_parallel_size: 2}\n"),
            "pipline/3-eval/e.yaml:7:39: error: tensor_parallel_size 2 is not supported: the "
            "native runtime runs each eval on one GPU; list several 'devices' to run several "
            "evals in parallel\n"
            "    7 | gpu_resources: {tensor_parallel_size: 2}\n"
            "      |                                       ^\n");
}

TEST_F(EvalTest, SamplingIsGreedyOnly) {
  EXPECT_EQ(check(std::string(kEval) + "generation:\n  do_sample: true\n"),
            "pipline/3-eval/e.yaml:8:14: error: 'do_sample: true' is not supported: only greedy "
            "decoding (do_sample: false)\n"
            "    8 |   do_sample: true\n"
            "      |              ^~~~\n");
}

TEST_F(EvalTest, MissingDatasetDirectory) {
  remove("data/datasets/gsm8k");
  EXPECT_EQ(check(kEval),
            "pipline/3-eval/e.yaml:4:11: error: dataset directory 'data/datasets/gsm8k' does not "
            "exist; see data/HELP.md for how to get it\n"
            "    4 |   - name: gsm8k\n"
            "      |           ^~~~~\n");
}

TEST_F(EvalTest, DatasetDirOverridesTheDefaultFolder) {
  write("data/demo/gsm/main/test.jsonl", "");
  EvalSpec e = spec("dataset_name: e\ndatasets:\n  - {name: gsm8k, dataset_dir: data/demo/gsm}\n"
                    "sampling: {total_samples: 5}\n");
  ASSERT_EQ(e.sample.datasets.size(), 1u);
  EXPECT_EQ(e.dataset_dirs[0], "data/demo/gsm");
  EXPECT_EQ(e.sample.to_json()["datasets"][0].count("dataset_dir"), 0u);  // the path is not hashed
}

TEST_F(EvalTest, FormatPicksTheFilesAndIsKeyed) {
  EvalSpec e = spec("dataset_name: e\ndatasets:\n  - {name: gsm8k, format: csv}\nsampling: {total_samples: 5}\n");
  EXPECT_EQ(e.sample.datasets[0].format, "csv");
  EXPECT_EQ(e.sample.to_json()["datasets"][0]["format"], "csv");
  EvalSpec a = spec("dataset_name: e\ndatasets:\n  - {name: gsm8k, format: auto}\nsampling: {total_samples: 5}\n");
  EXPECT_EQ(a.sample.to_json()["datasets"][0]["format"], "auto");
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - {name: gsm8k, format: xlsx}\nsampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:3:27: error: invalid value 'xlsx' for 'format' (allowed: auto, jsonl, csv, "
            "parquet)\n"
            "    3 |   - {name: gsm8k, format: xlsx}\n"
            "      |                           ^~~~\n");
}

TEST_F(EvalTest, MissingDatasetDirIsNamed) {
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - {name: gsm8k, dataset_dir: data/nope}\n"
                  "sampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:3:32: error: dataset directory 'data/nope' does not exist; see "
            "data/HELP.md for how to get it\n"
            "    3 |   - {name: gsm8k, dataset_dir: data/nope}\n"
            "      |                                ^~~~~~~~~\n");
}

TEST_F(EvalTest, UnknownTask) {
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - name: mmluu\nsampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:3:11: error: invalid value 'mmluu' for 'name' (allowed: mmlu, "
            "gsm8k, mmlu_pro, math_500, gpqa_diamond, arc_challenge, arc_easy, hellaswag, winogrande, piqa, wikitext, perplexity); "
            "did you mean 'mmlu'?\n"
            "    3 |   - name: mmluu\n"
            "      |           ^~~~~\n");
}

TEST_F(EvalTest, UnknownSubset) {
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - name: mmlu\n"
                  "    subset_list: [astronomy, astronmy]\nsampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:4:30: error: unknown mmlu subset 'astronmy'; did you mean "
            "'astronomy'?\n"
            "    4 |     subset_list: [astronomy, astronmy]\n"
            "      |                              ^~~~~~~~\n");
}

// evalscope draws subsets in the order subset_list gives them: the order is part of the key.
TEST_F(EvalTest, SubsetOrderIsKept) {
  EvalSpec a = spec("dataset_name: e\ndatasets:\n  - name: mmlu\n"
                    "    subset_list: [virology, anatomy]\nsampling: {total_samples: 5}\n");
  EvalSpec b = spec("dataset_name: e\ndatasets:\n  - name: mmlu\n"
                    "    subset_list: [anatomy, virology]\nsampling: {total_samples: 5}\n");
  EXPECT_NE(a.sample, b.sample);
  EXPECT_EQ(a.sample.datasets[0].subset_list, (std::vector<std::string>{"virology", "anatomy"}));
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - name: mmlu\n"
                  "    subset_list: [anatomy, virology, anatomy]\nsampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:4:38: error: subset 'anatomy' is listed twice\n"
            "    4 |     subset_list: [anatomy, virology, anatomy]\n"
            "      |                                      ^~~~~~~\n");
}

TEST_F(EvalTest, EverySubsetInTheReferenceOrderIsTheDefault) {
  std::string all;
  for (const auto& s : spec::mmlu_subjects()) all += (all.empty() ? "" : ", ") + s;
  EvalSpec a = spec("dataset_name: e\ndatasets:\n  - name: mmlu\n    subset_list: [" + all +
                    "]\nsampling: {total_samples: 5}\n");
  EXPECT_TRUE(a.sample.datasets[0].subset_list.empty());
  EXPECT_EQ(a.sample, spec("dataset_name: e\ndatasets:\n  - name: mmlu\nsampling: {total_samples: 5}\n").sample);
}

// gpqa_diamond's shuffle_seeds: keyed when given, the default spelled out is the default.
TEST_F(EvalTest, GpqaShuffleSeedsAreInTheSampleKey) {
  write("data/datasets/gpqa_diamond/train.jsonl", "");
  const std::string head = "dataset_name: e\ndatasets:\n  - name: gpqa_diamond\n";
  const std::string tail = "sampling: {total_samples: 5}\n";
  EvalSpec plain = spec(head + tail);
  EvalSpec zero = spec(head + "    shuffle_seeds: [0]\n" + tail);
  EvalSpec three = spec(head + "    shuffle_seeds: [0, 1, 2]\n" + tail);
  EXPECT_FALSE(plain.sample.datasets[0].shuffle_seeds.has_value());
  EXPECT_EQ(plain.sample, zero.sample);  // [0] is evalscope's order: the default, spelled out
  EXPECT_EQ(plain.sample.to_json(), zero.sample.to_json());
  EXPECT_NE(plain.sample.to_json(), three.sample.to_json());
  EXPECT_EQ(three.sample.to_json()["datasets"][0]["shuffle_seeds"], json::parse("[0, 1, 2]"));
  EXPECT_EQ(plain.generate, three.generate);  // the generation reruns through the eval set's key
}

// Each bad list at its line and column, with the message the sample step gives for the same
// list (SampleSpec::validate runs at both; the step reports the canonical path).
TEST_F(EvalTest, BadShuffleSeedsAreRejectedAtTheirLine) {
  write("data/datasets/gpqa_diamond/train.jsonl", "");
  struct Row {
    const char* name;
    const char* line;   // the dataset's second line
    const char* error;  // the first diagnostic, rendered
    std::optional<std::vector<std::int64_t>> step_seeds;  // the same list as the step sees it
  };
  const std::vector<Row> rows = {
      {"empty", "    shuffle_seeds: []",
       "pipline/3-eval/e.yaml:4:20: error: 'shuffle_seeds' is empty: list at least one seed (0 is evalscope's order)",
       std::vector<std::int64_t>{}},
      {"negative", "    shuffle_seeds: [0, -3]",
       "pipline/3-eval/e.yaml:4:24: error: a shuffle seed must be a non-negative integer, got -3",
       std::vector<std::int64_t>{0, -3}},
      {"duplicate", "    shuffle_seeds: [1, 2, 1]",
       "pipline/3-eval/e.yaml:4:27: error: shuffle seed 1 is listed twice", std::vector<std::int64_t>{1, 2, 1}},
      {"not an integer", "    shuffle_seeds: [1, 2.5]",
       "pipline/3-eval/e.yaml:4:24: error: expected an integer for 'shuffle_seeds', got '2.5'", std::nullopt},
      {"a string", "    shuffle_seeds: [one]",
       "pipline/3-eval/e.yaml:4:21: error: expected an integer for 'shuffle_seeds', got 'one'", std::nullopt},
      {"not a list", "    shuffle_seeds: 3",
       "pipline/3-eval/e.yaml:4:20: error: expected a list for 'shuffle_seeds', got '3'", std::nullopt},
      {"another benchmark", "    shuffle_seeds: [1]",
       "pipline/3-eval/e.yaml:4:20: error: 'shuffle_seeds' applies to gpqa_diamond only (the benchmark whose "
       "answers are shuffled), not mmlu",
       std::nullopt},
  };
  for (const auto& r : rows) {
    const std::string name = std::string(r.name) == "another benchmark" ? "mmlu" : "gpqa_diamond";
    const std::string got = check("dataset_name: e\ndatasets:\n  - name: " + name + "\n" + r.line +
                                  "\nsampling: {total_samples: 5}\n");
    const std::string first = got.substr(0, got.find('\n'));
    EXPECT_EQ(first, r.error) << r.name;
    if (!r.step_seeds) continue;
    spec::SampleSpec s;
    s.datasets = {spec::SampleSpec::dataset_defaults("gpqa_diamond")};
    s.datasets[0].shuffle_seeds = r.step_seeds;
    s.total_samples = 5;
    spec::Issues issues;
    s.validate(issues);
    const std::string step = issues.to_status("sample spec").message();
    const std::string message = first.substr(first.find("error: ") + 7);
    EXPECT_EQ(step.substr(step.size() - message.size()), message) << r.name << ": " << step;
  }
}

TEST_F(EvalTest, TooManyMmluShots) {
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - {name: mmlu, few_shot_num: 6}\n"
                  "sampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:3:32: error: few_shot_num 6 is too large for mmlu: its dev "
            "split has 5 questions per subject\n"
            "    3 |   - {name: mmlu, few_shot_num: 6}\n"
            "      |                                ^\n");
}

TEST_F(EvalTest, DatasetListedTwice) {
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - name: mmlu\n  - name: mmlu\n"
                  "sampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:4:11: error: dataset 'mmlu' is listed twice\n"
            "    4 |   - name: mmlu\n"
            "      |           ^~~~\n"
            "pipline/3-eval/e.yaml:3:11: note: first listed here\n"
            "    3 |   - name: mmlu\n"
            "      |           ^~~~\n");
}

TEST_F(EvalTest, WeightsMustBePositiveAndFloats) {
  EXPECT_EQ(check("dataset_name: e\ndatasets:\n  - {name: mmlu, weight: 0}\n"
                  "sampling: {total_samples: 5}\n"),
            "pipline/3-eval/e.yaml:3:26: error: 'weight' must be positive, got 0\n"
            "    3 |   - {name: mmlu, weight: 0}\n"
            "      |                          ^\n");
  EvalSpec e = spec("dataset_name: e\ndatasets:\n  - {name: mmlu, weight: 2}\n"
                    "sampling: {total_samples: 5}\n");
  EXPECT_TRUE(e.sample.to_json()["datasets"][0]["weight"].is_number_float());
  EXPECT_EQ(e.sample.datasets[0].weight, 2.0);
}

TEST_F(EvalTest, EmptyDatasetsAndMissingSampling) {
  EXPECT_EQ(check("dataset_name: e\ndatasets: []\n"),
            "pipline/3-eval/e.yaml: error: missing required field 'sampling'\n"
            "pipline/3-eval/e.yaml:2:11: error: 'datasets' is empty\n"
            "    2 | datasets: []\n"
            "      |           ^\n");
  EXPECT_EQ(check("dataset_name: e\ndatasets: [{name: gsm8k}]\nsampling: {seed: 1}\n"),
            "pipline/3-eval/e.yaml:3:1: error: missing required field 'total_samples' in "
            "'sampling'\n"
            "    3 | sampling: {seed: 1}\n"
            "      | ^~~~~~~~\n");
}

TEST_F(EvalTest, DevicesMustBeProjectDevices) {
  write("pipline/project.yaml", "resources:\n  devices: [0, 1]\n");
  EXPECT_EQ(check(std::string(kEval) + "gpu_resources:\n  devices: [1, 3]\n"),
            "pipline/3-eval/e.yaml:8:16: error: GPU 3 is not among the project's devices [0, 1] "
            "(pipline/project.yaml)\n"
            "    8 |   devices: [1, 3]\n"
            "      |                ^\n");
  EXPECT_EQ(spec(std::string(kEval) + "gpu_resources:\n  devices: [1]\n").devices,
            std::vector<int>{1});
}

TEST_F(EvalTest, DevicesOnACpuProjectAreIgnored) {
  EXPECT_EQ(check(std::string(kEval) + "gpu_resources:\n  devices: [0]\n"),
            "pipline/3-eval/e.yaml:8:3: warning: 'devices' is ignored: the project runs on the "
            "CPU (no devices in pipline/project.yaml)\n"
            "    8 |   devices: [0]\n"
            "      |   ^~~~~~~\n");
  EXPECT_TRUE(spec(std::string(kEval) + "gpu_resources:\n  devices: [0]\n").devices.empty());
}

TEST_F(EvalTest, DataParallelNeedsThatManyOfTheEvalsGpus) {
  write("pipline/project.yaml", "resources:\n  devices: [0, 1, 2]\n");
  EXPECT_EQ(check(std::string(kEval) + "gpu_resources:\n  data_parallel: 4\n"),
            "pipline/3-eval/e.yaml:8:18: error: data_parallel 4 needs 4 GPUs, but this eval may use only "
            "[0, 1, 2] (the devices of pipline/project.yaml)\n"
            "    8 |   data_parallel: 4\n"
            "      |                  ^\n");
  EXPECT_EQ(check(std::string(kEval) + "gpu_resources:\n  devices: [2]\n  data_parallel: 2\n"),
            "pipline/3-eval/e.yaml:9:18: error: data_parallel 2 needs 2 GPUs, but this eval may use only "
            "[2] (its 'devices')\n"
            "    9 |   data_parallel: 2\n"
            "      |                  ^\n");
  EXPECT_EQ(check(std::string(kEval) + "gpu_resources:\n  data_parallel: 0\n"),
            "pipline/3-eval/e.yaml:8:18: error: 'data_parallel' must be positive, got 0\n"
            "    8 |   data_parallel: 0\n"
            "      |                  ^\n");
  EvalSpec e = spec(std::string(kEval) + "gpu_resources:\n  devices: [0, 2]\n  data_parallel: 2\n");
  EXPECT_EQ(e.generate.data_parallel, 2);
  EXPECT_EQ(e.generate.to_json()["data_parallel"], 2);
}

TEST_F(EvalTest, DataParallelOnACpuProjectRunsThatManyCpuWorkers) {
  EXPECT_EQ(check(std::string(kEval) + "gpu_resources:\n  data_parallel: 2\n"), "");
  EXPECT_EQ(spec(std::string(kEval) + "gpu_resources:\n  data_parallel: 2\n").generate.data_parallel, 2);
  EXPECT_EQ(spec(kEval).generate.data_parallel, 1);  // default: one process
  EXPECT_FALSE(spec(kEval).generate.to_json().contains("data_parallel"));
}

TEST_F(EvalTest, NothingButSamplingInputsInSampleParams) {
  EvalSpec a = spec(kEval);
  EvalSpec b = spec(std::string("# comment\n") + kEval +
                    "output: {work_dir: elsewhere}\ngpu_resources: {tensor_parallel_size: 1}\n");
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_EQ(a.generate, b.generate);
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(b.work_dir, "elsewhere");
  write("pipline/3-eval/e.yaml", std::string(kEval));
  std::string renamed = kEval;
  renamed.replace(renamed.find("mix"), 3, "other");
  EvalSpec c = spec(renamed);
  EXPECT_EQ(a.sample, c.sample);
}

// ---- lm-evaluation-harness tasks ---------------------------------------------------------------

class LmEvalConfigTest : public EvalTest {
 protected:
  void SetUp() override {
    EvalTest::SetUp();
    mkdir("data/datasets/hellaswag");
    mkdir("data/datasets/wikitext");
  }
};

TEST_F(LmEvalConfigTest, MultipleChoiceTasksHaveNoTokenBudgetButAMaxLength) {
  EvalSpec e = spec("dataset_name: mc\ndatasets:\n  - {name: hellaswag}\n  - {name: gsm8k}\nsampling: {total_samples: 4}\n");
  EXPECT_EQ(e.generate.to_json()["max_new_tokens"], json::parse(R"({"gsm8k": 1024})"));
  EXPECT_EQ(e.generate.to_json()["max_length"], 0);  // the model's, as lm-eval's HFLM
  EXPECT_EQ(e.sample.datasets[0].task_type, "commonsense");
  EXPECT_EQ(e.sample.datasets[0].few_shot_num, 0);
}

// Choices scored with one prefill of their shared context: in the key of every eval with
// multiple-choice items (static batching ran one forward per choice before), of no other.
TEST_F(LmEvalConfigTest, EvalsWithChoicesKeyTheirSharedContextPrefillOthersDoNot) {
  EXPECT_EQ(spec("dataset_name: mc\ndatasets:\n  - {name: hellaswag}\nsampling: {total_samples: 4}\n")
                .generate.to_json()["choice_prefill"], "shared");
  EXPECT_EQ(spec(std::string(kEval) + "mode: loglikelihood\n").generate.to_json()["choice_prefill"], "shared");
  EXPECT_FALSE(spec(kEval).generate.to_json().contains("choice_prefill"));
  EXPECT_FALSE(spec("dataset_name: p\ndatasets: [{name: wikitext}]\n").generate.to_json().contains("choice_prefill"));
}

TEST_F(LmEvalConfigTest, MaxLengthIsAGenerationSetting) {
  EvalSpec a = spec("dataset_name: p\ndatasets: [{name: wikitext}]\n");
  EvalSpec b = spec("dataset_name: p\ndatasets: [{name: wikitext}]\ngeneration: {max_length: 2048}\n");
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_EQ(b.generate.to_json()["max_length"], 2048);
  EXPECT_NE(a.generate, b.generate);
}

TEST_F(LmEvalConfigTest, PerplexityOnlyNeedsNoSampling) {
  EvalSpec e = spec("dataset_name: p\ndatasets: [{name: wikitext}]\n");
  EXPECT_EQ(e.sample.total_samples, 0);
  EXPECT_NE(check("dataset_name: p\ndatasets: [{name: wikitext}]\nsampling: {total_samples: 5}\n")
                .find("'total_samples' draws nothing here: perplexity tasks evaluate every document"),
            std::string::npos);
  EXPECT_NE(check("dataset_name: p\ndatasets: [{name: wikitext}, {name: hellaswag}]\n").find("sampling"),
            std::string::npos);
}

TEST_F(LmEvalConfigTest, FewShotIsRejectedForLmEvalTasks) {
  EXPECT_NE(check("dataset_name: p\ndatasets: [{name: hellaswag, few_shot_num: 1}]\nsampling: {total_samples: 4}\n")
                .find("few_shot_num must be in [0, 0] for hellaswag, got 1"),
            std::string::npos)
      << diags_.render();
}

TEST_F(LmEvalConfigTest, MaxLengthWithoutLmEvalTasksIsIgnoredWithAWarning) {
  EXPECT_NE(check(std::string(kEval) + "generation: {max_length: 64}\n").find("'max_length' is ignored"),
            std::string::npos);
}

}  // namespace
}  // namespace qb::config::testing
