// The evaluate stage end to end: `qbuild` with its real step kinds on a temporary project whose
// source model is a `qbuild random-model` (the demo shape: Qwen3 vocabulary, 2 tiny layers) and
// whose datasets are the demo sets of data/datasets/ in one file format at a time.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pipeline_test_util.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using namespace qb::pipeline_test;

// The CSV as rows of name -> value (no quoted commas in these files).
std::vector<std::map<std::string, std::string>> csv_rows(const fs::path& p) {
  auto ls = lines(read(p));
  std::vector<std::map<std::string, std::string>> rows;
  if (ls.empty()) return rows;
  auto split = [](const std::string& l) {
    std::vector<std::string> f;
    std::stringstream s(l);
    for (std::string x; std::getline(s, x, ',');) f.push_back(x);
    if (!l.empty() && l.back() == ',') f.push_back("");
    return f;
  };
  auto head = split(ls[0]);
  for (size_t i = 1; i < ls.size(); ++i) {
    auto f = split(ls[i]);
    std::map<std::string, std::string> r;
    for (size_t k = 0; k < head.size() && k < f.size(); ++k) r[head[k]] = f[k];
    rows.push_back(r);
  }
  return rows;
}

class Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();
    for (char& c : name)
      if (c == '/') c = '_';
    root_ = fs::path(QB_BINARY_DIR) / "pipeline-projects" / name;
    fs::remove_all(root_);
    fs::create_directories(root_ / "data/models");
    fs::copy(fs::path(QB_SOURCE_DIR) / "rules", root_ / "rules");
    auto o = run("random-model --shape demo --seed 3 --dtype float32 --tokenizer '" QB_SOURCE_DIR
                 "/data/tokenizers/qwen3' --out data/models/demo");
    ASSERT_EQ(o.code, 0) << o.text;
    write("pipline/1-trans/original.yaml", "name: original\ninput_model: data/models/demo\noutput_suffix: null\n");
    write("pipline/2-quant/rtn.yaml",
          "name: rtn-w8a8-dynamic\noutput_suffix: -rtn\nquant_modifiers:\n  QuantizationModifier:\n"
          "    config_groups:\n      group_0:\n        targets: [Linear]\n"
          "        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n"
          "        input_activations: {num_bits: 8, type: int, symmetric: true, strategy: token, dynamic: true}\n"
          "    ignore: [lm_head]\n");
  }

  // Copies the demo datasets, only the files of one format ("jsonl", "csv", "parquet").
  void copy_datasets(const std::string& format) {
    const fs::path src = fs::path(QB_SOURCE_DIR) / "data/datasets";
    for (const auto& e : fs::recursive_directory_iterator(src)) {
      if (!e.is_regular_file() || e.path().extension() != "." + format) continue;
      fs::path to = root_ / "data/datasets" / fs::relative(e.path(), src);
      fs::create_directories(to.parent_path());
      fs::copy_file(e.path(), to);
    }
  }

  void eval_config(const std::string& extra, int total = 8) {
    write("pipline/3-eval/mini.yaml",
          "dataset_name: mini\ndatasets:\n"
          "  - {name: mmlu, dataset_dir: data/datasets/demo_mmlu, weight: 1.0, few_shot_num: 0}\n"
          "  - {name: gsm8k, dataset_dir: data/datasets/demo_gsm8k, weight: 1.0, few_shot_num: 1}\n"
          "sampling: {total_samples: " + std::to_string(total) + ", seed: 7}\n"
          "output: {work_dir: outputs/mini}\n" + extra);
  }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }

  Out run(const std::string& args) { return run_qbuild(root_, args); }

  json runs() {
    auto o = run("runs --all --json");
    auto j = json::parse(o.text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << o.text;
    return j.is_discarded() ? json::array() : j;
  }

  // The manifest of the one artifact of `kind`.
  json artifact_meta(const std::string& kind) {
    for (const auto& r : runs())
      if (r["kind"] == kind && r["status"] == "ok") {
        std::string key = r["key"];
        return json::parse(read(root_ / "cache/objects" / key.substr(0, 2) / key / "qbuild-artifact.json"))["meta"];
      }
    ADD_FAILURE() << "no ok run of kind " << kind;
    return json::object();
  }

  fs::path root_;
};

class EvalFormats : public Pipeline, public ::testing::WithParamInterface<std::string> {};

TEST_P(EvalFormats, EvaluatesAndWritesPredictionsReportsAndCsv) {
  copy_datasets(GetParam());
  eval_config("generation: {max_new_tokens: 12, batch_size: 3}\n");
  auto o = run("");
  ASSERT_EQ(o.code, 0) << o.text;
  // Predictions per variant and dataset, reports, configs — the base model included.
  for (const std::string v : {"demo", "demo-rtn"}) {
    size_t items = 0;
    for (const std::string ds : {"mmlu", "gsm8k"}) {
      auto ls = lines(read(root_ / "outputs/mini/predictions" / v / (ds + ".jsonl")));
      items += ls.size();
      for (const auto& l : ls) {
        auto j = json::parse(l);
        for (const char* k : {"index", "prompt", "output", "extracted", "gold", "correct", "finish"})
          EXPECT_TRUE(j.contains(k)) << k << " in " << l;
        EXPECT_LE(j["output_tokens"].get<int>(), 12);
      }
    }
    EXPECT_EQ(items, 8u) << v;
    auto report = json::parse(read(root_ / "outputs/mini/reports" / (v + ".json")));
    EXPECT_EQ(report["overall"]["n"], 8);
    EXPECT_TRUE(fs::exists(root_ / "outputs/mini/configs" / (v + ".json")));
  }
  auto rows = csv_rows(root_ / "results/mini.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["status"], "base model");
  EXPECT_EQ(rows[1]["variant"], "demo-rtn");
  for (const char* col : {"mmlu_acc", "mmlu_stderr", "mmlu_n", "gsm8k_acc", "gsm8k_n", "overall_acc"})
    EXPECT_FALSE(rows[1][col].empty()) << col;
  EXPECT_EQ(std::stoi(rows[1]["mmlu_n"]) + std::stoi(rows[1]["gsm8k_n"]), 8);
  // Fidelity against the base: small but non-zero KL for int8, agreement and a McNemar p-value.
  double kl = std::stod(rows[1]["fidelity_kl"]);
  EXPECT_GT(kl, 0.0);
  EXPECT_LT(kl, 0.1);
  double top1 = std::stod(rows[1]["fidelity_top1"]);
  EXPECT_GE(top1, 0.5);
  EXPECT_LE(top1, 1.0);
  double p = std::stod(rows[1]["fidelity_mcnemar_p"]);
  EXPECT_GE(p, 0.0);
  EXPECT_LE(p, 1.0);
  EXPECT_TRUE(rows[0]["fidelity_kl"].empty());
  // A second run does nothing.
  auto again = run("");
  ASSERT_EQ(again.code, 0) << again.text;
  EXPECT_NE(again.text.find("nothing to do"), std::string::npos) << again.text;
}

INSTANTIATE_TEST_SUITE_P(AllFormats, EvalFormats, ::testing::Values("jsonl", "csv", "parquet"));

// Issue 18 part 4: gpu_resources.data_parallel splits each generate node's items over worker
// processes (`qbuild generate-worker`), here two on the CPU; merged in item order they give
// the predictions one process gives. N is part of the generate key (eval_spec.h), so the
// change regenerates without re-sampling.
TEST_F(Pipeline, TwoDataParallelWorkersGiveThePredictionsOfOneProcess) {
  copy_datasets("jsonl");
  eval_config("generation: {max_new_tokens: 12, batch_size: 3}\n");
  ASSERT_EQ(run("").code, 0);
  auto predictions = [&] {
    std::map<std::string, std::vector<json>> by;
    for (const std::string v : {"demo", "demo-rtn"})
      for (const std::string ds : {"mmlu", "gsm8k"})
        for (const auto& l : lines(read(root_ / "outputs/mini/predictions" / v / (ds + ".jsonl"))))
          by[v + "/" + ds].push_back(json::parse(l));
    return by;
  };
  const auto one = predictions();
  eval_config("generation: {max_new_tokens: 12, batch_size: 3}\ngpu_resources: {data_parallel: 2}\n");
  auto dry = run("--dry-run");
  ASSERT_EQ(dry.code, 0) << dry.text;
  EXPECT_NE(dry.text.find("run     generate"), std::string::npos) << dry.text;
  EXPECT_EQ(dry.text.find("run     sample"), std::string::npos) << dry.text;  // the eval set stays
  auto o = run("");
  ASSERT_EQ(o.code, 0) << o.text;
  const auto two = predictions();
  ASSERT_EQ(one.size(), two.size());
  for (const auto& [file, rows] : one) {
    ASSERT_EQ(rows.size(), two.at(file).size()) << file;
    for (size_t i = 0; i < rows.size(); ++i)
      for (const char* k : {"index", "prompt", "output", "output_tokens", "finish", "extracted", "correct"})
        EXPECT_EQ(rows[i][k], two.at(file)[i][k]) << file << " row " << i << " " << k;
  }
  // The generate artifacts: per variant, one from each run. Tokens equal; the variant's KL
  // against the base only to its low bits (why data_parallel is in the key: eval_spec.h).
  std::map<std::string, std::map<int, std::vector<json>>> gen;  // name -> workers -> outputs.jsonl rows
  for (const auto& r : runs()) {
    if (r["kind"] != "generate" || r["status"] != "ok") continue;
    std::string key = r["key"];
    const fs::path dir = root_ / "cache/objects" / key.substr(0, 2) / key;
    auto meta = json::parse(read(dir / "qbuild-artifact.json"))["meta"];
    auto& rows = gen[r["name"].get<std::string>()][meta["generation"].value("workers", 1)];
    for (const auto& l : lines(read(dir / "outputs.jsonl"))) rows.push_back(json::parse(l));
  }
  ASSERT_EQ(gen.size(), 2u);
  double kl_diff = 0;
  for (auto& [name, by] : gen) {
    ASSERT_EQ(by.size(), 2u) << name << ": a run with one process and one with two workers";
    ASSERT_EQ(by[1].size(), by[2].size()) << name;
    for (size_t i = 0; i < by[1].size(); ++i) {
      json a = by[1][i], b = by[2][i];
      if (a.contains("kl")) kl_diff = std::max(kl_diff, std::abs(a["kl"].get<double>() - b["kl"].get<double>()));
      a.erase("kl");
      b.erase("kl");
      EXPECT_EQ(a, b) << name << " item " << i;
    }
  }
  EXPECT_LE(kl_diff, 1e-6);
  std::printf("largest |KL(one process) - KL(two workers)| of an item: %.3g\n", kl_diff);
}

// Issue 21: GPQA-Diamond asked in three answer orders. The eval set holds one item per
// (question, seed), the report each seed's accuracy and the spread, the CSV the mean as
// gpqa_diamond_acc and the seed columns; another seed list re-samples and regenerates.
TEST_F(Pipeline, GpqaShuffleSeedsReachTheReportAndTheCsv) {
  copy_datasets("jsonl");
  auto config = [&](const std::string& seeds) {
    write("pipline/3-eval/mini.yaml",
          "dataset_name: mini\ndatasets:\n"
          "  - {name: gpqa_diamond, dataset_dir: data/datasets/demo_gpqa_diamond, shuffle_seeds: " + seeds + "}\n"
          "sampling: {total_samples: 5, seed: 7}\noutput: {work_dir: outputs/mini}\n"
          "generation: {max_new_tokens: 6, batch_size: 8}\n");
  };
  config("[0, 1, 2]");
  auto o = run("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto ls = lines(read(root_ / "outputs/mini/predictions/demo-rtn/gpqa_diamond.jsonl"));
  ASSERT_EQ(ls.size(), 15u);
  for (size_t i = 0; i < ls.size(); ++i) EXPECT_EQ(json::parse(ls[i])["shuffle_seed"], static_cast<int>(i % 3)) << i;
  auto report = json::parse(read(root_ / "outputs/mini/reports/demo-rtn.json"));
  const json& sd = report["datasets"][0]["shuffle_seeds"];
  ASSERT_EQ(sd["seeds"].size(), 3u);
  EXPECT_EQ(sd["questions"], 5);
  double mean = 0;
  for (const auto& k : sd["seeds"]) mean += k["acc"].get<double>() / 3;
  EXPECT_NEAR(report["datasets"][0]["acc"].get<double>(), mean, 1e-12);
  auto rows = csv_rows(root_ / "results/mini.csv");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.at("gpqa_diamond_n"), "15");
    EXPECT_EQ(r.at("gpqa_diamond_seeds"), "3");
    const double acc = std::stod(r.at("gpqa_diamond_acc"));
    EXPECT_LE(std::stod(r.at("gpqa_diamond_seed_min")), acc + 1e-12);
    EXPECT_GE(std::stod(r.at("gpqa_diamond_seed_max")), acc - 1e-12);
    EXPECT_GE(std::stod(r.at("gpqa_diamond_seed_std")), 0.0);
  }
  config("[0, 1]");
  auto dry = run("--dry-run");
  ASSERT_EQ(dry.code, 0) << dry.text;
  EXPECT_NE(dry.text.find("run     sample"), std::string::npos) << dry.text;
  EXPECT_NE(dry.text.find("run     generate"), std::string::npos) << dry.text;
  EXPECT_EQ(dry.text.find("run     quant"), std::string::npos) << dry.text;  // the models stay
}

TEST_F(Pipeline, LoglikelihoodModeScoresMmluFromContinuations) {
  copy_datasets("jsonl");
  eval_config("mode: loglikelihood\ngeneration: {max_new_tokens: 8, batch_size: 4}\nfidelity: {enabled: false}\n");
  auto o = run("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto ls = lines(read(root_ / "outputs/mini/predictions/demo-rtn/mmlu.jsonl"));
  ASSERT_FALSE(ls.empty());
  for (const auto& l : ls) {
    auto j = json::parse(l);
    ASSERT_EQ(j["loglikelihoods"].size(), 4u) << l;
    // The answer is the continuation with the highest log-likelihood.
    auto ll = j["loglikelihoods"].get<std::vector<double>>();
    size_t best = std::max_element(ll.begin(), ll.end()) - ll.begin();
    EXPECT_EQ(j["extracted"], std::string(1, static_cast<char>('A' + best)));
  }
  auto rows = csv_rows(root_ / "results/mini.csv");
  ASSERT_EQ(rows.size(), 1u);  // no base row without fidelity
  EXPECT_TRUE(rows[0].find("fidelity_kl") == rows[0].end() || rows[0]["fidelity_kl"].empty());
}

TEST_F(Pipeline, AKilledEvalResumesFromItsCompletedItems) {
  copy_datasets("jsonl");
  eval_config("generation: {max_new_tokens: 48, batch_size: 1}\nfidelity: {enabled: false}\n", 16);
  ASSERT_EQ(run("data/models/demo-rtn").code, 0);  // the model first, so the kill lands in the eval
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(root_.c_str()) != 0) ::_exit(127);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execl(QB_QBUILD, QB_QBUILD, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  // Kill once a few items are on disk.
  fs::path partial;
  size_t seen = 0;
  bool exited = false;
  for (int i = 0; i < 12000 && seen < 3 && !exited; ++i) {  // up to a minute on a loaded machine
    int status = 0;
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / "cache/partial", ec))
      if (fs::exists(e.path() / "predictions.jsonl")) partial = e.path() / "predictions.jsonl";
    if (!partial.empty()) seen = lines(read(partial)).size();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Everything dies, as in a crash: qbuild and Ninja (this process group) and the step, which
  // Ninja runs in a process group of its own.
  ::kill(-pid, SIGKILL);
  std::system(("pkill -KILL -f -- '--project " + root_.string() + " step'").c_str());
  int st;
  ::waitpid(pid, &st, 0);
  ASSERT_FALSE(exited) << "qbuild finished before the eval wrote 3 items";
  ASSERT_GE(seen, 3u) << "the eval never wrote 3 items";
  std::string written = read(partial);
  written.resize(written.rfind('\n') == std::string::npos ? 0 : written.rfind('\n') + 1);  // complete lines
  const auto done_before = lines(written);
  ASSERT_LT(done_before.size(), 16u) << "the eval finished before the kill";
  // A line torn by the crash (no newline): ignored, and cut so that new lines start cleanly.
  { std::ofstream(partial, std::ios::app) << "{\"index\": 15, \"outp"; }

  auto o = run("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto meta = artifact_meta("generate");
  EXPECT_EQ(meta["generation"]["resumed_items"].get<size_t>(), done_before.size());
  EXPECT_FALSE(fs::exists(partial)) << "the partial results outlived the published artifact";
  // The resumed items are the earlier run's outputs, and the whole result equals a run that was
  // never interrupted (greedy decoding, one item per batch: deterministic).
  std::map<int, std::string> earlier;
  for (const auto& l : done_before) earlier[json::parse(l)["index"]] = json::parse(l)["output"];
  std::map<int, std::string> final_out;
  for (const std::string ds : {"mmlu", "gsm8k"})
    for (const auto& l : lines(read(root_ / "outputs/mini/predictions/demo-rtn" / (ds + ".jsonl"))))
      final_out[json::parse(l)["index"]] = json::parse(l)["output"];
  for (const auto& [i, out] : earlier) EXPECT_EQ(final_out[i], out) << i;
  std::string resumed_report = read(root_ / "outputs/mini/reports/demo-rtn.json");
  fs::remove_all(root_ / "cache");
  fs::remove_all(root_ / "outputs");
  ASSERT_EQ(run("").code, 0);
  auto fresh = json::parse(read(root_ / "outputs/mini/reports/demo-rtn.json"));
  auto resumed = json::parse(resumed_report);
  EXPECT_EQ(fresh["datasets"], resumed["datasets"]);
  EXPECT_EQ(fresh["overall"], resumed["overall"]);
}

TEST_F(Pipeline, ADroppedDatasetLeavesNoStalePredictions) {
  copy_datasets("jsonl");
  eval_config("generation: {max_new_tokens: 4, batch_size: 8}\nfidelity: {enabled: false}\n");
  ASSERT_EQ(run("").code, 0);
  ASSERT_TRUE(fs::exists(root_ / "outputs/mini/predictions/demo-rtn/gsm8k.jsonl"));
  write("pipline/3-eval/mini.yaml",
        "dataset_name: mini\ndatasets:\n  - {name: mmlu, dataset_dir: data/datasets/demo_mmlu, few_shot_num: 0}\n"
        "sampling: {total_samples: 4, seed: 7}\noutput: {work_dir: outputs/mini}\n"
        "generation: {max_new_tokens: 4, batch_size: 8}\nfidelity: {enabled: false}\n");
  auto o = run("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_TRUE(fs::exists(root_ / "outputs/mini/predictions/demo-rtn/mmlu.jsonl"));
  EXPECT_FALSE(fs::exists(root_ / "outputs/mini/predictions/demo-rtn/gsm8k.jsonl"));
}

TEST_F(Pipeline, AModelWithoutATokenizerIsAClearError) {
  copy_datasets("jsonl");
  eval_config("fidelity: {enabled: false}\n");
  fs::remove(root_ / "data/models/demo/tokenizer.json");
  auto o = run("");
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("has no tokenizer.json"), std::string::npos) << o.text;
}

// compute_dtype has one route: project.yaml → the spec of every node it affects (hashed) → the
// value the step computes with → the manifest.
TEST_F(Pipeline, ComputeDtypeIsInTheKeyAndIsWhatTheStepRecords) {
  copy_datasets("jsonl");
  eval_config("generation: {max_new_tokens: 4, batch_size: 8}\nfidelity: {enabled: false}\n", 4);
  ASSERT_EQ(run("").code, 0);
  auto quant_meta = [&](const std::string& dtype) {
    for (const auto& r : runs())
      if (r["kind"] == "quant" && r["status"] == "ok") {
        std::string key = r["key"];
        auto m = json::parse(read(root_ / "cache/objects" / key.substr(0, 2) / key / "qbuild-artifact.json"));
        if (m["params"]["compute_dtype"] == dtype) return m;
      }
    return json();
  };
  json f32 = quant_meta("float32");
  ASSERT_FALSE(f32.is_null());
  EXPECT_EQ(f32["meta"]["compute_dtype"], "float32");
  write("pipline/project.yaml", "resources:\n  compute_dtype: bfloat16\n");
  auto dry = run("--dry-run");
  ASSERT_EQ(dry.code, 0) << dry.text;
  EXPECT_NE(dry.text.find("run     quant demo-rtn"), std::string::npos) << dry.text;
  EXPECT_NE(dry.text.find("recipe changed: compute_dtype: \"float32\" → \"bfloat16\""), std::string::npos) << dry.text;
  EXPECT_NE(dry.text.find("generation changed: compute_dtype: \"float32\" → \"bfloat16\""), std::string::npos)
      << dry.text;
  EXPECT_EQ(dry.text.find("run     sample"), std::string::npos) << dry.text;  // the eval set does not depend on it
  ASSERT_EQ(run("").code, 0);
  json bf16 = quant_meta("bfloat16");
  ASSERT_FALSE(bf16.is_null());
  EXPECT_NE(bf16["key"], f32["key"]);
  EXPECT_EQ(bf16["meta"]["compute_dtype"], "bfloat16");
  EXPECT_EQ(artifact_meta("generate")["compute_dtype"].is_string(), true);
}

TEST_F(Pipeline, ASourceModelWithANaNFailsAtItsFirstStepAndPublishesNothing) {
  // Put a NaN into one weight of the float32 source, in place (safetensors: u64 header length,
  // JSON header, data section).
  const std::string tensor = "model.layers.1.mlp.down_proj.weight";
  const fs::path file = root_ / "data/models/demo/model.safetensors";
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  std::uint64_t header_len = 0;
  f.read(reinterpret_cast<char*>(&header_len), 8);
  std::string header(header_len, '\0');
  f.read(header.data(), static_cast<std::streamsize>(header_len));
  const auto h = json::parse(header);
  ASSERT_EQ(h[tensor]["dtype"], "F32");
  const std::uint64_t at = 8 + header_len + h[tensor]["data_offsets"][0].get<std::uint64_t>() + 4 * 130;  // element [1, 2]
  const float nan = std::numeric_limits<float>::quiet_NaN();
  f.seekp(static_cast<std::streamoff>(at));
  f.write(reinterpret_cast<const char*>(&nan), 4);
  f.close();

  auto o = run("data/models/demo-rtn");
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("data/models/demo/model.safetensors: tensor '" + tensor + "': element [1, 2] is NaN"),
            std::string::npos)
      << o.text;
  EXPECT_FALSE(fs::exists(root_ / "data/models/demo-rtn"));
  // Ninja creates the folder of the edge's output (the manifest) before the step runs; nothing
  // may be in it.
  for (const auto& e : fs::recursive_directory_iterator(root_ / "cache/objects"))
    EXPECT_FALSE(e.is_regular_file()) << "published: " << e.path();
}

TEST_F(Pipeline, RandomModelRefusesToOverwriteAModel) {
  auto o = run("random-model --shape demo --out data/models/demo");
  EXPECT_NE(o.code, 0);
  EXPECT_NE(o.text.find("already holds a model"), std::string::npos) << o.text;
  auto bad = run("random-model --shape nonesuch --out data/models/x");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.text.find("unknown model shape 'nonesuch'"), std::string::npos) << bad.text;
}

}  // namespace

namespace {

TEST_F(Pipeline, HelpListsEveryStepKindWithItsDevice) {
  auto o = run("--help");
  EXPECT_EQ(o.code, 0);
  for (const char* line : {"  generate     run a model over an eval set", "  score        score raw outputs",
                           "  quant        RTN / GPTQ", "  sample       draw the frozen eval set",
                           "  trans        SpinQuant rotations"})
    EXPECT_NE(o.text.find(line), std::string::npos) << line << "\n" << o.text;
  EXPECT_NE(o.text.find("checkpoint [gpu]"), std::string::npos);
}

}  // namespace
