// End-to-end behaviour of the engine, one behaviour per test, through the qbuild_testkit
// binary (the real front end + test-only step kinds) on a fresh temporary project each.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e_fixture.h"

namespace {

namespace fs = std::filesystem;
using qb::e2e::E2E;
using qb::e2e::spawn;
using qb::e2e::wait_for_tmp;

// 1 check (the source model) + 1 trans (spinquant) + 4 quant (2 trans × 2 quant) + 1 sample +
// 4 generate + 4 score.
constexpr int kAllSteps = 15;

TEST_F(E2E, FreshBuildRunsEverything) {
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok"), kAllSteps);
  EXPECT_EQ(count(runs, "ok", "quant"), 4);
  EXPECT_EQ(count(runs, "ok", "generate"), 4);
  EXPECT_EQ(count(runs, "ok", "score"), 4);
  EXPECT_TRUE(fs::exists(root_ / "results/mini.csv"));
  EXPECT_TRUE(fs::exists(root_ / "data/mini.jsonl"));
  EXPECT_TRUE(fs::is_symlink(root_ / "data/models/tiny-r1r2-rtn-dyn"));
  EXPECT_TRUE(fs::exists(root_ / "data/models/tiny-r1r2-rtn-dyn/qbuild-artifact.json"));
  EXPECT_TRUE(fs::is_symlink(root_ / "data/models/tiny-r1r2"));
}

TEST_F(E2E, SecondBuildRunsNothing) {
  ASSERT_EQ(qbuild("").code, 0);
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
  EXPECT_EQ(all_runs().size(), static_cast<size_t>(kAllSteps));
}

TEST_F(E2E, EditingOneQuantRerunsOnlyItsDescendants) {
  ASSERT_EQ(qbuild("").code, 0);
  write("pipline/2-quant/rtn-dyn.yaml", quant_yaml("rtn-w8a8-dynamic", "-rtn-dyn", "[lm_head, \"re:.*down_proj$\"]"));
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "quant"), 4 + 2);  // the edited quant, under both transforms
  EXPECT_EQ(count(runs, "ok", "generate"), 4 + 2);  // and their evals
  EXPECT_EQ(count(runs, "ok", "score"), 4 + 2);
  EXPECT_EQ(count(runs, "ok", "trans"), 1);
  EXPECT_EQ(count(runs, "ok", "sample"), 1);
}

TEST_F(E2E, AddingADatasetRerunsOnlySamplingAndEvals) {
  ASSERT_EQ(qbuild("").code, 0);
  write("pipline/3-eval/mini.yaml",
        "dataset_name: mini\ndatasets:\n  - {name: mmlu, weight: 1.0, task_type: knowledge, tags: [en], few_shot_num: 0}\n"
        "  - {name: gsm8k, weight: 1.0, task_type: math, tags: [en], few_shot_num: 0}\n"
        "sampling: {total_samples: 4, seed: 1}\ngpu_resources: {devices: [0], tensor_parallel_size: 1}\n"
        "output: {work_dir: outputs}\nfidelity: {enabled: false}\n");
  auto dry = qbuild("--dry-run");
  EXPECT_NE(dry.text.find("gsm8k"), std::string::npos) << dry.text;  // the reason names the change
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "sample"), 2);
  EXPECT_EQ(count(runs, "ok", "generate"), 4 + 4);  // every variant is evaluated on the new set
  EXPECT_EQ(count(runs, "ok", "score"), 4 + 4);
  EXPECT_EQ(count(runs, "ok", "quant"), 4);     // no model is rebuilt
  EXPECT_EQ(count(runs, "ok", "trans"), 1);
}

// Scoring is its own node: a scorer setting re-scores every variant without regenerating.
TEST_F(E2E, EditingAScorerSettingRerunsOnlyScoreNodes) {
  ASSERT_EQ(qbuild("").code, 0);
  write("pipline/3-eval/mini.yaml",
        "dataset_name: mini\ndatasets:\n  - {name: mmlu, weight: 1.0, task_type: knowledge, tags: [en], few_shot_num: 0}\n"
        "sampling: {total_samples: 4, seed: 1}\ngpu_resources: {devices: [0], tensor_parallel_size: 1}\n"
        "output: {work_dir: outputs}\nfidelity: {enabled: false}\nscoring: {strip_thinking: false}\n");
  auto dry = qbuild("--dry-run");
  ASSERT_EQ(dry.code, 0) << dry.text;
  EXPECT_NE(dry.text.find("4 to run, 11 cached"), std::string::npos) << dry.text;
  EXPECT_NE(dry.text.find("run     score tiny-rtn-w8"), std::string::npos) << dry.text;
  EXPECT_NE(dry.text.find("scoring changed: strip_thinking: true → false"), std::string::npos) << dry.text;
  EXPECT_EQ(dry.text.find("run     generate"), std::string::npos) << dry.text;
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "score"), 4 + 4);
  EXPECT_EQ(count(runs, "ok", "generate"), 4);
  EXPECT_EQ(count(runs, "ok", "quant"), 4);
  EXPECT_EQ(count(runs, "ok", "sample"), 1);
}

TEST_F(E2E, RevertingAnEditRerunsNothing) {
  ASSERT_EQ(qbuild("").code, 0);
  write("pipline/2-quant/rtn-dyn.yaml", quant_yaml("rtn-w8a8-dynamic", "-rtn-dyn", "[lm_head, \"re:.*down_proj$\"]"));
  ASSERT_EQ(qbuild("").code, 0);
  size_t before = all_runs().size();
  write("pipline/2-quant/rtn-dyn.yaml", quant_yaml("rtn-w8a8-dynamic", "-rtn-dyn", "[lm_head]"));
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
  EXPECT_EQ(all_runs().size(), before);
}

TEST_F(E2E, CommentsAndKeyOrderDoNotRebuild) {
  ASSERT_EQ(qbuild("").code, 0);
  write("pipline/2-quant/rtn-wo.yaml",
        "# reformatted, same recipe\noutput_suffix: -rtn-w8\nname: rtn-w8\nquant_modifiers:\n  QuantizationModifier:\n"
        "    ignore: [lm_head]   # the head stays in bf16\n    config_groups:\n      group_0:\n"
        "        weights: {strategy: channel, symmetric: true, type: int, num_bits: 8}\n        targets: [Linear]\n");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
}

TEST_F(E2E, DryRunNamesTheChangedField) {
  ASSERT_EQ(qbuild("").code, 0);
  write("pipline/2-quant/rtn-dyn.yaml", quant_yaml("rtn-w8a8-dynamic", "-rtn-dyn", "[lm_head, model.norm]"));
  auto o = qbuild("--dry-run");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("run     quant tiny-rtn-dyn"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("recipe changed: ignore: [\"lm_head\"] → [\"lm_head\",\"model.norm\"]"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("input changed: model 'tiny-rtn-dyn' (rebuilt in this run)"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("6 to run, 9 cached"), std::string::npos) << o.text;
  EXPECT_EQ(all_runs().size(), static_cast<size_t>(kAllSteps));  // a dry run runs nothing
}

TEST_F(E2E, DryRunOnAFreshProjectSaysNeverBuilt) {
  auto o = qbuild("-n");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("new: never built"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("15 to run, 0 cached"), std::string::npos) << o.text;
  EXPECT_FALSE(fs::exists(root_ / "cache/build.ninja"));
}

TEST_F(E2E, DeletedResultsCsvIsRegeneratedWithoutRuns) {
  ASSERT_EQ(qbuild("").code, 0);
  std::ifstream in(root_ / "results/mini.csv");
  std::string before((std::istreambuf_iterator<char>(in)), {});
  fs::remove(root_ / "results/mini.csv");
  ASSERT_EQ(qbuild("results/mini.csv").code, 0);
  std::ifstream in2(root_ / "results/mini.csv");
  std::string after((std::istreambuf_iterator<char>(in2)), {});
  EXPECT_EQ(before, after);
  EXPECT_EQ(all_runs().size(), static_cast<size_t>(kAllSteps));
}

TEST_F(E2E, DeletedIndexIsRebuiltAndNothingReruns) {
  ASSERT_EQ(qbuild("").code, 0);
  fs::remove(root_ / "cache/index.sqlite");
  fs::remove(root_ / "cache/index.sqlite-wal");
  fs::remove(root_ / "cache/index.sqlite-shm");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("index cache/index.sqlite was missing; rebuilt it"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
  EXPECT_TRUE(fs::exists(root_ / "results/mini.csv"));
}

TEST_F(E2E, CorruptIndexIsRebuiltAndNothingReruns) {
  ASSERT_EQ(qbuild("").code, 0);
  fs::remove(root_ / "cache/index.sqlite-wal");
  fs::remove(root_ / "cache/index.sqlite-shm");
  write("cache/index.sqlite", std::string(8192, 'x'));
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("the index was unusable"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
}

TEST_F(E2E, ArtifactDeletedBehindTheIndexIsRebuilt) {
  ASSERT_EQ(qbuild("").code, 0);
  auto link = fs::read_symlink(root_ / "data/models/tiny-rtn-w8");
  auto dir = (root_ / "data/models" / link).lexically_normal();
  fs::remove_all(dir);
  auto o = qbuild("-n");
  EXPECT_NE(o.text.find("artifact missing from cache/ (deleted?)"), std::string::npos) << o.text;
  ASSERT_EQ(qbuild("").code, 0);
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 5);
  EXPECT_TRUE(fs::exists(dir / "qbuild-artifact.json"));
}

TEST_F(E2E, ArtifactWithAMissingFileIsRemovedAndRebuilt) {
  ASSERT_EQ(qbuild("").code, 0);
  auto dir = (root_ / "data/models" / fs::read_symlink(root_ / "data/models/tiny-rtn-w8")).lexically_normal();
  fs::remove(dir / "part2.json");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("file 'part2.json' is missing; moved it to cache/quarantine/"), std::string::npos) << o.text;
  EXPECT_TRUE(fs::exists(dir / "part2.json"));
}

TEST_F(E2E, SelectionFlagsRestrictTheVariants) {
  auto o = qbuild("--trans-config original --quant-config rtn-w8");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "trans"), 0);
  EXPECT_EQ(count(runs, "ok", "quant"), 1);
  EXPECT_EQ(count(runs, "ok", "generate"), 1);
  EXPECT_EQ(count(runs, "ok", "score"), 1);
  EXPECT_TRUE(fs::exists(root_ / "data/models/tiny-rtn-w8"));
  EXPECT_FALSE(fs::exists(root_ / "data/models/tiny-rtn-dyn"));
}

TEST_F(E2E, UnknownSelectionIsAUsageError) {
  auto o = qbuild("--quant-config nope");
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("--quant-config 'nope' matches no config; there are: rtn-w8a8-dynamic, rtn-w8"), std::string::npos) << o.text;
}

TEST_F(E2E, TargetBuildsOnlyWhatItNeeds) {
  auto o = qbuild("data/models/tiny-r1r2-rtn-w8");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok"), 3);  // the source's check, the transform and that quant
  EXPECT_EQ(count(runs, "ok", "trans"), 1);
}

TEST_F(E2E, UnknownTargetListsTheValidOnes) {
  auto o = qbuild("results/nope.csv");
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("unknown target 'results/nope.csv'"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("results/mini.csv"), std::string::npos) << o.text;
}

TEST_F(E2E, NamesWithSpacesDollarsAndColonsAreEscaped) {
  write("pipline/2-quant/rtn-wo.yaml",
        "name: rtn w8 $x:y\noutput_suffix: \"-a b$c:d\"\nquant_modifiers:\n  QuantizationModifier:\n    config_groups:\n"
        "      group_0:\n        targets: [Linear]\n        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_TRUE(fs::exists(root_ / "data/models/tiny-a b$c:d/qbuild-artifact.json"));
  EXPECT_TRUE(fs::exists(root_ / "data/models/tiny-r1r2-a b$c:d/qbuild-artifact.json"));
  EXPECT_EQ(qbuild("").text.find("nothing to do") != std::string::npos, true);
  auto o2 = qbuild("'tiny-a b$c:d'");
  EXPECT_EQ(o2.code, 0) << o2.text;
}

TEST_F(E2E, AStepKindNotBuiltInSaysSoAndBuildsTheRest) {
  auto o = qbuild("", "QBUILD_TESTKIT_WITHOUT=generate");
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("8 step(s) cannot run: step kind(s) generate not available in this build"), std::string::npos)
      << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "quant"), 4);
  EXPECT_EQ(count(runs, "ok", "score"), 0);
  auto n = qbuild("-n", "QBUILD_TESTKIT_WITHOUT=generate");
  EXPECT_NE(n.text.find("step kind 'generate' is not available in this build of qbuild"), std::string::npos) << n.text;
}

TEST_F(E2E, AFailedStepFailsTheBuildAndRerunsAlone) {
  auto o = qbuild("-k 0", "QBUILD_TESTKIT_FAIL=tiny-rtn-w8");
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("testkit: failing 'tiny-rtn-w8' on request"), std::string::npos) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "failed"), 1);
  EXPECT_EQ(count(runs, "ok"), kAllSteps - 3);  // the failed quant and its generate + score are missing
  auto o2 = qbuild("");
  ASSERT_EQ(o2.code, 0) << o2.text;
  EXPECT_EQ(count(all_runs(), "ok"), kAllSteps);
}

TEST_F(E2E, ConfigErrorsExitThreeAndBuildNothing) {
  write("pipline/2-quant/bad.yaml", "name: bad\noutput_suffix: ../x\nquant_modifiers: {}\n");
  auto o = qbuild("");
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("pipline/2-quant/bad.yaml:2:"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("nothing was built"), std::string::npos) << o.text;
  EXPECT_FALSE(fs::exists(root_ / "cache/objects"));
}

// [started, ended] of the runs of a status "ok" with a GPU, by GPU id.
std::map<std::string, std::vector<std::pair<double, double>>> gpu_intervals(const nlohmann::json& runs) {
  std::map<std::string, std::vector<std::pair<double, double>>> by;
  for (const auto& r : runs)
    if (r["status"] == "ok" && r["gpu"] != "") by[r["gpu"]].push_back({r["started"], r["ended"]});
  for (auto& [gpu, v] : by) std::sort(v.begin(), v.end());
  return by;
}

// Issue 15 #23: parallel CPU steps oversubscribed the cores. On a CPU-only project the build
// runs -j steps at once and gives each cores / j intra-op threads (at least one).
TEST_F(E2E, ParallelCpuStepsShareTheCores) {
  ASSERT_EQ(qbuild("-j 2").code, 0);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto project = nlohmann::json::parse(std::ifstream(root_ / "cache/project.json"));
  EXPECT_EQ(project["cpu_threads"], std::max(1, cores / 2)) << project.dump();
  std::ifstream in(root_ / "cache/build.ninja");
  std::string ninja((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(ninja.find("pool gpu\n  depth = 2\n"), std::string::npos) << ninja;
  ASSERT_EQ(qbuild("-j 1 --dry-run").code, 0);
  write("pipline/2-quant/rtn-wo.yaml",
        "name: rtn-w8\noutput_suffix: -rtn-w8\nquant_modifiers:\n  QuantizationModifier:\n    config_groups:\n"
        "      group_0:\n        targets: [Linear]\n        weights: {num_bits: 8, type: int, symmetric: true, strategy: group, group_size: 128}\n"
        "    ignore: [lm_head]\n");
  ASSERT_EQ(qbuild("-j 1").code, 0);
  project = nlohmann::json::parse(std::ifstream(root_ / "cache/project.json"));
  EXPECT_EQ(project["cpu_threads"], cores);
}

TEST_F(E2E, GpuStepsGetOneDeviceEach) {
  write("pipline/project.yaml", "resources:\n  devices: [0, 5]\n");
  auto o = qbuild("-j 4", "QBUILD_TESTKIT_SLEEP=quant:0.3");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  // No device ran two steps at once, and the two devices did run steps at the same time.
  auto by = gpu_intervals(runs);
  ASSERT_EQ(by.size(), 2u) << runs.dump();
  for (const auto& [gpu, v] : by)
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LE(v[i - 1].second, v[i].first) << "GPU " << gpu << " ran two steps at once";
  bool overlap = false;
  for (const auto& a : by["0"])
    for (const auto& b : by["5"]) overlap |= a.first < b.second && b.first < a.second;
  EXPECT_TRUE(overlap) << runs.dump();
  for (const auto& r : runs) {
    if (r["kind"] == "sample" || r["kind"] == "score" || r["kind"] == "check") {
      EXPECT_EQ(r["gpu"], "");  // CPU kinds
    } else if (r["kind"] == "generate") {
      EXPECT_EQ(r["gpu"], "0") << r.dump();  // the eval config allows only GPU 0
    } else {
      EXPECT_TRUE(r["gpu"] == "0" || r["gpu"] == "5") << r.dump();
    }
  }
  // The step saw only its device.
  auto link = fs::read_symlink(root_ / "data/models/tiny-rtn-w8");
  std::ifstream m((root_ / "data/models" / link / "qbuild-artifact.json").lexically_normal());
  auto j = nlohmann::json::parse(m);
  std::string env = j["meta"]["gpu_env"];
  EXPECT_TRUE(env == "0" || env == "5") << env;
}

// A data-parallel generate node holds data_parallel GPUs at once (runner/gpu_claim.h) and its
// process sees all of them (its workers each narrow it to one); other GPU steps hold one.
TEST_F(E2E, ADataParallelGenerateNodeHoldsThatManyGpusAtOnce) {
  write("pipline/project.yaml", "resources:\n  devices: [0, 5]\n");
  write("pipline/3-eval/mini.yaml",
        "dataset_name: mini\ndatasets:\n  - {name: mmlu, weight: 1.0, task_type: knowledge, tags: [en], few_shot_num: 0}\n"
        "sampling: {total_samples: 4, seed: 1}\ngpu_resources: {data_parallel: 2}\n"
        "output: {work_dir: outputs}\nfidelity: {enabled: false}\n");
  auto o = qbuild("-j 4", "QBUILD_TESTKIT_SLEEP=quant:0.2");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  int generates = 0;
  std::vector<std::pair<double, double>> busy;  // every GPU run, on either device
  for (const auto& r : runs) {
    if (r["status"] != "ok" || r["gpu"] == "") continue;
    busy.push_back({r["started"], r["ended"]});
    if (r["kind"] == "generate") {
      ++generates;
      EXPECT_EQ(r["gpu"], "0,5") << r.dump();
    } else {
      EXPECT_TRUE(r["gpu"] == "0" || r["gpu"] == "5") << r.dump();
    }
  }
  EXPECT_EQ(generates, 4);
  // A generate run overlaps no other GPU run: it held both devices.
  for (const auto& r : runs) {
    if (r["status"] != "ok" || r["kind"] != "generate") continue;
    const double s = r["started"], e = r["ended"];
    int overlapping = 0;
    for (const auto& [bs, be] : busy) overlapping += bs < e && s < be;
    EXPECT_EQ(overlapping, 1) << r.dump();  // itself
  }
  // The step's process saw both devices.
  for (const auto& r : runs) {
    if (r["status"] != "ok" || r["kind"] != "generate") continue;
    std::string key = r["key"];
    auto m = nlohmann::json::parse(std::ifstream(root_ / "cache/objects" / key.substr(0, 2) / key / "qbuild-artifact.json"));
    EXPECT_EQ(m["meta"]["gpu_env"], "0,5");
    EXPECT_EQ(m["meta"]["device"], "cuda:0,5");
    break;
  }
}

TEST_F(E2E, AStepWaitsForABusyGpuAndItsRunStartsWhenItGetsIt) {
  write("pipline/project.yaml", "resources:\n  devices: [0]\n");
  fs::create_directories(root_ / "cache/locks");
  int fd = ::open((root_ / "cache/locks/gpu0.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // someone else (another project's qbuild, say) holds GPU 0
  double released = 0;
  std::thread holder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    released = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    ::close(fd);
  });
  auto o = qbuild("-j 2");
  holder.join();
  ASSERT_EQ(o.code, 0) << o.text;
  int gpu_runs = 0;
  for (const auto& r : all_runs())
    if (r["gpu"] == "0") {
      ++gpu_runs;
      EXPECT_GE(r["started"].get<double>(), released - 0.05) << r.dump();
    }
  EXPECT_GT(gpu_runs, 0);
  // The wait is in the first GPU step's log and its artifact's metadata.
  bool logged = false;
  for (const auto& inv : fs::directory_iterator(root_ / "logs"))
    for (const auto& f : fs::directory_iterator(inv.path())) {
      std::ifstream in(f.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      logged |= text.find("waiting for a free GPU") != std::string::npos &&
                text.find("after waiting") != std::string::npos;
    }
  EXPECT_TRUE(logged);
}

TEST_F(E2E, SigkillDuringAStepLeavesNoArtifactAndTheNextRunCompletes) {
  pid_t pid = spawn(root_, "QBUILD_TESTKIT_SLEEP=quant:30", "");
  ASSERT_TRUE(wait_for_tmp(root_, "quant"));
  ::kill(-pid, SIGKILL);
  int st;
  ::waitpid(pid, &st, 0);
  // Whatever was being written is invisible: every object folder is complete, or empty (Ninja
  // creates an edge's output folder before running it).
  int complete = 0;
  for (auto& shard : fs::directory_iterator(root_ / "cache/objects"))
    for (auto& obj : fs::directory_iterator(shard)) {
      if (fs::is_empty(obj.path())) continue;
      EXPECT_TRUE(fs::exists(obj.path() / "qbuild-artifact.json")) << obj.path();
      EXPECT_TRUE(fs::exists(obj.path() / "part2.json") || fs::exists(obj.path() / "eval_set.jsonl")) << obj.path();
      ++complete;
    }
  (void)complete;
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(count(all_runs(), "ok"), kAllSteps);
  EXPECT_TRUE(fs::is_empty(root_ / "cache/tmp"));
}

TEST_F(E2E, CtrlCStopsTheBuildAndTheNextRunCompletes) {
  pid_t pid = spawn(root_, "QBUILD_TESTKIT_SLEEP=quant:30", "");
  ASSERT_TRUE(wait_for_tmp(root_, "quant"));
  ::kill(-pid, SIGINT);  // what a terminal does: the whole foreground group
  int st;
  ::waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  EXPECT_GE(count(all_runs(), "interrupted"), 1);
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(count(all_runs(), "ok"), kAllSteps);
}

TEST_F(E2E, ASecondInvocationWaitsOrFailsWithNoWait) {
  pid_t pid = spawn(root_, "QBUILD_TESTKIT_SLEEP=quant:2", "");
  ASSERT_TRUE(wait_for_tmp(root_, "quant"));
  auto busy = qbuild("--no-wait");
  EXPECT_EQ(busy.code, 4) << busy.text;
  EXPECT_NE(busy.text.find("another qbuild is running in this project"), std::string::npos) << busy.text;
  auto waited = qbuild("");  // waits for the first to finish, then has nothing left to do
  EXPECT_EQ(waited.code, 0) << waited.text;
  EXPECT_NE(waited.text.find("waiting for another qbuild"), std::string::npos) << waited.text;
  int st;
  ::waitpid(pid, &st, 0);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_EQ(count(all_runs(), "ok"), kAllSteps);
}

TEST_F(E2E, ExplainShowsWhatWentIntoTheKey) {
  auto o = qbuild("explain data/models/tiny-rtn-w8");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("quant tiny-rtn-w8  key "), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("salt = qbuild-node-v1"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("kind = quant"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("params = {"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("input:model = "), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("why: new: never built"), std::string::npos) << o.text;
}

TEST_F(E2E, StepLogsAndReplayScriptsAreWrittenPerInvocation) {
  ASSERT_EQ(qbuild("").code, 0);
  auto runs = all_runs();
  std::string log;
  for (const auto& r : runs)
    if (r["name"] == "tiny-rtn-w8" && r["kind"] == "quant") log = r["log"];
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.find("tiny-rtn-w8_quant.log"), std::string::npos) << log;
  fs::path script = root_ / fs::path(log).replace_extension(".sh");
  ASSERT_TRUE(fs::exists(script));
  int rc = std::system(("sh '" + script.string() + "' > /dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 0);
  EXPECT_EQ(count(all_runs(), "hit"), 1);  // replaying a cached step is a hit
}

TEST_F(E2E, GcDeletesObjectsNoConfigNeeds) {
  ASSERT_EQ(qbuild("").code, 0);
  fs::remove(root_ / "pipline/2-quant/rtn-wo.yaml");
  auto dry = qbuild("gc --dry-run --all");
  ASSERT_EQ(dry.code, 0) << dry.text;
  // 2 quant + 2 generate + 2 score
  EXPECT_NE(dry.text.find("would free 6 object(s)"), std::string::npos) << dry.text;
  auto o = qbuild("gc --all");
  EXPECT_NE(o.text.find("freed 6 object(s)"), std::string::npos) << o.text;
  EXPECT_NE(qbuild("").text.find("nothing to do"), std::string::npos);
}

TEST_F(E2E, ResultsKeepRowsOfRemovedVariantsAsStale) {
  ASSERT_EQ(qbuild("").code, 0);
  fs::remove(root_ / "pipline/2-quant/rtn-wo.yaml");
  ASSERT_EQ(qbuild("").code, 0);
  std::ifstream in(root_ / "results/mini.csv");
  std::string csv((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(csv.find("tiny-rtn-w8,original,rtn-w8,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("stale (not in the current configs)"), std::string::npos) << csv;
  EXPECT_NE(csv.find("mmlu_acc"), std::string::npos) << csv;
}

TEST_F(E2E, GraphPrintsDot) {
  auto o = qbuild("graph");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("digraph qbuild {"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("-> "), std::string::npos);
}

}  // namespace
