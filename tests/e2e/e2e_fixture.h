// The fixture the end-to-end tests share: a fresh temporary project per test (two transforms ×
// two quantizations, one eval config) driven through the qbuild_testkit binary, and helpers to
// run qbuild in the background and wait for a step to be writing.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace qb::e2e {

namespace fs = std::filesystem;

using Out = qb::testing::CommandOutput;

class E2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::path(QB_BINARY_DIR) / "e2e-projects" / info->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
    fs::copy(fs::path(QB_SOURCE_DIR) / "rules", root_ / "rules");
    write("data/models/tiny/config.json", R"({"model_type": "qwen3"})");
    write("data/models/tiny/model.safetensors", "weights v1");
    write("data/datasets/mmlu/test.jsonl", R"({"question": "q", "subject": "s", "choices": ["a","b","c","d"], "answer": 0})" "\n");
    write("data/datasets/gsm8k/test.jsonl", R"({"question": "1+1?", "answer": "#### 2"})" "\n");
    write("data/calib.txt", "calibration text\n");
    write("pipline/1-trans/original.yaml", "name: original\ninput_model: data/models/tiny\noutput_suffix: null\n");
    write("pipline/1-trans/spin.yaml",
          "name: spinquant-r1r2\ninput_model: data/models/tiny\noutput_suffix: -r1r2\n"
          "quant_modifiers:\n  SpinQuantModifier:\n    rotations: [R1, R2]\n    transform_type: random-hadamard\n");
    write("pipline/2-quant/rtn-dyn.yaml", quant_yaml("rtn-w8a8-dynamic", "-rtn-dyn", "[lm_head]"));
    write("pipline/2-quant/rtn-wo.yaml",
          "name: rtn-w8\noutput_suffix: -rtn-w8\nquant_modifiers:\n  QuantizationModifier:\n    config_groups:\n"
          "      group_0:\n        targets: [Linear]\n        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n"
          "    ignore: [lm_head]\n");
    write("pipline/3-eval/mini.yaml",
          "dataset_name: mini\ndatasets:\n  - {name: mmlu, weight: 1.0, task_type: knowledge, tags: [en], few_shot_num: 0}\n"
          "sampling: {total_samples: 4, seed: 1}\ngpu_resources: {devices: [0], tensor_parallel_size: 1}\n"
          "output: {work_dir: outputs}\nfidelity: {enabled: false}\n");
  }

  static std::string quant_yaml(const std::string& name, const std::string& suffix, const std::string& ignore) {
    return "name: " + name + "\noutput_suffix: " + suffix +
           "\nquant_modifiers:\n  QuantizationModifier:\n    config_groups:\n      group_0:\n        targets: [Linear]\n"
           "        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n"
           "        input_activations: {num_bits: 8, type: int, symmetric: true, strategy: token, dynamic: true}\n"
           "    ignore: " + ignore + "\n";
  }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }

  Out qbuild(const std::string& args, const std::string& env = "") {
    return qb::testing::run_command("cd '" + root_.string() + "' && " + env + " '" QB_TESTKIT "' " +
                                    args);
  }

  // Runs recorded by every invocation so far, by status.
  nlohmann::json all_runs() {
    auto o = qbuild("runs --all --json");
    auto j = nlohmann::json::parse(o.text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << o.text;
    return j.is_discarded() ? nlohmann::json::array() : j;
  }
  int count(const nlohmann::json& runs, const std::string& status, const std::string& kind = "") {
    int c = 0;
    for (const auto& r : runs) c += r["status"] == status && (kind.empty() || r["kind"] == kind);
    return c;
  }

  fs::path root_;
};

// Starts qbuild in the background (own process group); returns its pid.
inline pid_t spawn(const fs::path& root, const std::string& env_kv, const std::string& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(root.c_str()) != 0) ::_exit(127);
    if (!env_kv.empty()) ::putenv(const_cast<char*>(env_kv.c_str()));
    std::freopen("/dev/null", "w", stdout);
    std::freopen((root / "bg.log").c_str(), "w", stderr);
    if (args.empty()) ::execl(QB_TESTKIT, QB_TESTKIT, "-j", "1", static_cast<char*>(nullptr));
    else ::execl(QB_TESTKIT, QB_TESTKIT, args.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  return pid;
}

// Waits until a step is writing (a temporary artifact folder exists) — with `kind`, a step of
// that kind (its log exists: with -j 1 it is the one running), not a fast one about to finish.
inline bool wait_for_tmp(const fs::path& root, const std::string& kind = "") {
  for (int i = 0; i < 400; ++i) {
    std::error_code ec;
    bool writing = fs::exists(root / "cache/tmp", ec) && !fs::is_empty(root / "cache/tmp", ec);
    bool started = kind.empty();
    for (const auto& inv : fs::directory_iterator(root / "logs", ec))
      for (const auto& f : fs::directory_iterator(inv.path(), ec))
        if (f.path().filename().string().ends_with("_" + kind + ".log")) started = true;
    if (writing && started) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace qb::e2e
