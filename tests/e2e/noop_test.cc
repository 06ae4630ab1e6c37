// End-to-end behaviour of a no-op build (issue 14 part 7): a build with nothing to do rewrites
// nothing — node files, build.ninja, project.json, links, eval sets, eval outputs and results
// CSVs stay as they are — yet the memos that let it skip that work (cache/checked.memo,
// cache/outputs.memo) never make it skip work it must do: every output that was deleted,
// edited or replaced is written again, every artifact damaged after the memo saw it is found,
// every config edit reruns, and damaged memos are ignored. The no-op memo (runner/noop_memo.h)
// answers a no-op after a no-op without loading anything; every test below that changes
// something after build_twice() reaches it, so each also shows the memo stepping aside.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "e2e_fixture.h"

namespace {

namespace fs = std::filesystem;
using qb::e2e::E2E;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// (inode, mtime in ns) of a file: what changes when it is written again.
std::pair<ino_t, long long> written(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return {0, 0};
  return {st.st_ino, static_cast<long long>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// Every file and link the build writes outside the store, with their (inode, mtime).
std::map<std::string, std::pair<ino_t, long long>> outputs(const fs::path& root) {
  std::map<std::string, std::pair<ino_t, long long>> out;
  for (const char* dir : {"cache/nodes", "data/models", "outputs", "results"})
    for (auto it = fs::recursive_directory_iterator(root / dir); it != fs::recursive_directory_iterator(); ++it)
      if (it->is_symlink() || it->is_regular_file()) {
        out[fs::relative(it->path(), root).string()] = written(it->path());
        if (it->is_symlink()) it.disable_recursion_pending();
      }
  for (const char* f : {"cache/build.ninja", "cache/project.json", "data/mini.jsonl"}) out[f] = written(root / f);
  return out;
}

class NoOp : public E2E {
 protected:
  // Builds everything, then once more: the second build is the no-op that fills the memos.
  void build_twice() {
    auto o = qbuild("");
    ASSERT_EQ(o.code, 0) << o.text;
    o = qbuild("");
    ASSERT_EQ(o.code, 0) << o.text;
    ASSERT_NE(o.text.find("nothing to do (15 cached)"), std::string::npos) << o.text;
  }
  // A no-op build: it succeeds and runs no step.
  void no_op() {
    const auto runs = all_runs().size();
    auto o = qbuild("");
    ASSERT_EQ(o.code, 0) << o.text;
    EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
    EXPECT_EQ(all_runs().size(), runs);
  }
  fs::path model_dir(const std::string& variant) {
    return (root_ / "data/models" / fs::read_symlink(root_ / "data/models" / variant)).lexically_normal();
  }
  std::string node_file_of(const std::string& variant) {
    return "cache/nodes/" + model_dir(variant).filename().string() + ".json";
  }
};

TEST_F(NoOp, ANoOpBuildRewritesNothing) {
  build_twice();
  ASSERT_TRUE(fs::exists(root_ / "cache/checked.memo"));
  ASSERT_TRUE(fs::exists(root_ / "cache/outputs.memo"));
  ASSERT_TRUE(fs::exists(root_ / "outputs/predictions/tiny-rtn-w8/mmlu.jsonl"));
  ASSERT_TRUE(fs::exists(root_ / "outputs/reports/tiny-rtn-w8.json"));
  auto before = outputs(root_);
  ASSERT_GT(before.size(), 20u);
  auto memos = std::make_pair(written(root_ / "cache/checked.memo"), written(root_ / "cache/outputs.memo"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a rewrite would show in the mtime
  no_op();
  EXPECT_EQ(outputs(root_), before);
  EXPECT_EQ(std::make_pair(written(root_ / "cache/checked.memo"), written(root_ / "cache/outputs.memo")), memos)
      << "a no-op that learned nothing rewrote a memo";
}

TEST_F(NoOp, AnEditedOrDeletedResultsCsvIsWrittenAgain) {
  build_twice();
  const std::string csv = slurp(root_ / "results/mini.csv");
  std::ofstream(root_ / "results/mini.csv", std::ios::app) << "a row typed by hand\n";
  no_op();
  EXPECT_EQ(slurp(root_ / "results/mini.csv"), csv);
  fs::remove(root_ / "results/mini.csv");
  no_op();
  EXPECT_EQ(slurp(root_ / "results/mini.csv"), csv);
}

TEST_F(NoOp, ADeletedOrRetargetedModelLinkIsMadeAgain) {
  build_twice();
  const fs::path link = root_ / "data/models/tiny-rtn-w8";
  const auto target = fs::read_symlink(link);
  fs::remove(link);
  no_op();
  EXPECT_EQ(fs::read_symlink(link), target);
  fs::remove(link);
  fs::create_directory_symlink("../../cache", link);
  no_op();
  EXPECT_EQ(fs::read_symlink(link), target);
}

TEST_F(NoOp, ADeletedOrEditedNodeFileIsWrittenAgain) {
  build_twice();
  const fs::path node = root_ / node_file_of("tiny-rtn-w8");
  const std::string text = slurp(node);
  ASSERT_NE(text.find("\"kind\": \"quant\""), std::string::npos) << text;
  fs::remove(node);
  no_op();
  EXPECT_EQ(slurp(node), text);
  std::ofstream(node, std::ios::trunc) << "{}";
  no_op();
  EXPECT_EQ(slurp(node), text);
}

TEST_F(NoOp, DeletedEditedOrStrayEvalOutputsAreSetRight) {
  build_twice();
  const fs::path pred = root_ / "outputs/predictions/tiny-rtn-w8/mmlu.jsonl";
  const fs::path report = root_ / "outputs/reports/tiny-rtn-w8.json";
  const std::string p = slurp(pred), r = slurp(report);
  fs::remove(pred);
  std::ofstream(report, std::ios::trunc) << "edited";
  std::ofstream(root_ / "outputs/predictions/tiny-rtn-w8/gsm8k.jsonl") << "{}\n";  // a dataset no longer evaluated
  no_op();
  EXPECT_EQ(slurp(pred), p);
  EXPECT_EQ(slurp(report), r);
  EXPECT_FALSE(fs::exists(root_ / "outputs/predictions/tiny-rtn-w8/gsm8k.jsonl"));
}

TEST_F(NoOp, ADeletedOrEditedEvalSetIsCopiedAgain) {
  build_twice();
  const std::string set = slurp(root_ / "data/mini.jsonl");
  fs::remove(root_ / "data/mini.jsonl");
  no_op();
  EXPECT_EQ(slurp(root_ / "data/mini.jsonl"), set);
  std::ofstream(root_ / "data/mini.jsonl", std::ios::app) << "{}\n";
  no_op();
  EXPECT_EQ(slurp(root_ / "data/mini.jsonl"), set);
}

TEST_F(NoOp, AnEditedConfigAfterANoOpRerunsItsStepsAndUpdatesTheCsv) {
  build_twice();
  const std::string csv = slurp(root_ / "results/mini.csv");
  write("pipline/2-quant/rtn-dyn.yaml", quant_yaml("rtn-w8a8-dynamic", "-rtn-dyn", "[lm_head, \"re:.*down_proj$\"]"));
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "quant"), 6);
  EXPECT_EQ(count(runs, "ok", "score"), 6);
  EXPECT_NE(slurp(root_ / "results/mini.csv"), csv);
  // Its node files and build.ninja name the new keys.
  const std::string key = model_dir("tiny-rtn-dyn").filename().string();
  EXPECT_TRUE(fs::exists(root_ / ("cache/nodes/" + key + ".json")));
  EXPECT_NE(slurp(root_ / "cache/build.ninja").find(key), std::string::npos);
  // Reverted: the old keys, still cached, and the old CSV again.
  write("pipline/2-quant/rtn-dyn.yaml", quant_yaml("rtn-w8a8-dynamic", "-rtn-dyn", "[lm_head]"));
  o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
  EXPECT_EQ(slurp(root_ / "results/mini.csv"), csv);
}

TEST_F(NoOp, AnArtifactDamagedAfterTheMemoSawItIsQuarantinedAndRebuilt) {
  build_twice();
  const fs::path dir = model_dir("tiny-rtn-w8");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::string bytes = slurp(dir / "part1.json");
  bytes[0] = bytes[0] == 'x' ? 'y' : 'x';  // same size, other bytes
  std::ofstream(dir / "part1.json", std::ios::binary | std::ios::trunc) << bytes;
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("file 'part1.json' does not match its checksum; moved it to cache/quarantine/"),
            std::string::npos)
      << o.text;
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 5);
  fs::remove(model_dir("tiny-rtn-w8") / "part2.json");
  o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("file 'part2.json' is missing"), std::string::npos) << o.text;
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 6);
}

TEST_F(NoOp, DamagedMemosAreIgnoredAndRewritten) {
  build_twice();
  const std::string csv = slurp(root_ / "results/mini.csv");
  for (const char* m : {"cache/checked.memo", "cache/outputs.memo"}) {
    std::string bytes = slurp(root_ / m);
    bytes[bytes.size() / 2] ^= 0x40;
    std::ofstream(root_ / m, std::ios::binary | std::ios::trunc) << bytes;
  }
  fs::remove(root_ / "results/mini.csv");
  fs::remove(model_dir("tiny-rtn-w8") / "part2.json");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("file 'part2.json' is missing"), std::string::npos) << o.text;
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 5);
  EXPECT_EQ(slurp(root_ / "results/mini.csv"), csv);
  // Rewritten whole: the next no-op is answered from them again and changes nothing.
  auto before = outputs(root_);
  no_op();
  EXPECT_EQ(outputs(root_), before);
}

TEST_F(NoOp, ADryRunAndStatusWriteNoMemo) {
  ASSERT_EQ(qbuild("").code, 0);
  fs::remove(root_ / "cache/checked.memo");
  fs::remove(root_ / "cache/outputs.memo");
  ASSERT_EQ(qbuild("-n").code, 0);
  ASSERT_EQ(qbuild("status").code, 0);
  EXPECT_FALSE(fs::exists(root_ / "cache/checked.memo"));
  EXPECT_FALSE(fs::exists(root_ / "cache/outputs.memo"));
}

// ---- the no-op memo (runner/noop_memo.h) ----------------------------------------------------

bool answered_by_memo(const qb::testing::CommandOutput& o) {
  return o.text.find("qbuild: memo") != std::string::npos && o.text.find("qbuild: plan") == std::string::npos;
}

TEST_F(NoOp, TheNextNoOpIsAnsweredByTheMemoAndWritesNothing) {
  build_twice();
  ASSERT_TRUE(fs::exists(root_ / "cache/noop.memo"));
  const auto before = outputs(root_);
  const auto runs = all_runs().size();
  auto o = qbuild("-v");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("qbuild: nothing to do (15 cached)"), std::string::npos) << o.text;
  EXPECT_TRUE(answered_by_memo(o)) << o.text;
  EXPECT_EQ(outputs(root_), before);
  EXPECT_EQ(all_runs().size(), runs);
}

TEST_F(NoOp, AnAddedConfigIsBuiltDespiteTheMemo) {
  build_twice();
  write("pipline/2-quant/rtn-w4.yaml",
        "name: rtn-w4\noutput_suffix: -rtn-w4\nquant_modifiers:\n  QuantizationModifier:\n    config_groups:\n"
        "      group_0:\n        targets: [Linear]\n        weights: {num_bits: 4, type: int, symmetric: true, strategy: channel}\n"
        "    ignore: [lm_head]\n");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("done (6 built, 15 cached)"), std::string::npos) << o.text;  // 2 quant, 2 generate, 2 score
  EXPECT_TRUE(fs::exists(root_ / "data/models/tiny-rtn-w4"));
}

TEST_F(NoOp, AnEditedSourceFileOrANewDatasetFileRebuildsDespiteTheMemo) {
  build_twice();
  write("data/models/tiny/model.safetensors", "weights v2");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(o.text.find("nothing to do"), std::string::npos) << o.text;
  ASSERT_EQ(qbuild("").code, 0);  // a no-op: records the memo again
  ASSERT_TRUE(answered_by_memo(qbuild("-v")));
  write("data/datasets/mmlu/extra.jsonl", "{}\n");  // a new file in a source folder: a new key
  o = qbuild("-v");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_FALSE(answered_by_memo(o)) << o.text;
  EXPECT_EQ(o.text.find("nothing to do"), std::string::npos) << o.text;
}

TEST_F(NoOp, AnotherJobCountOrSelectionIsNotAnsweredByTheMemo) {
  build_twice();
  auto o = qbuild("-v -j 1");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_FALSE(answered_by_memo(o)) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
  o = qbuild("-v --quant-config rtn-w8");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_FALSE(answered_by_memo(o)) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
}

TEST_F(NoOp, ALostIndexAStrayTmpEntryOrADeletedArtifactReachTheFullPath) {
  build_twice();
  fs::remove(root_ / "cache/index.sqlite");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("the index cache/index.sqlite was missing; rebuilt it"), std::string::npos) << o.text;
  ASSERT_EQ(qbuild("").code, 0);
  ASSERT_TRUE(answered_by_memo(qbuild("-v")));
  write("cache/tmp/stray", "left by a crash");
  o = qbuild("-v");
  EXPECT_FALSE(answered_by_memo(o)) << o.text;
  EXPECT_FALSE(fs::exists(root_ / "cache/tmp/stray"));  // the full path cleans tmp/
  ASSERT_TRUE(answered_by_memo(qbuild("-v")));
  fs::remove_all(model_dir("tiny-rtn-w8"));
  o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("done ("), std::string::npos) << o.text;
  EXPECT_TRUE(fs::exists(model_dir("tiny-rtn-w8") / "qbuild-artifact.json"));
}

TEST_F(NoOp, ADamagedNoOpMemoIsIgnoredAndRecordedAgain) {
  build_twice();
  std::string bytes = slurp(root_ / "cache/noop.memo");
  bytes[bytes.size() / 2] ^= 0x40;
  std::ofstream(root_ / "cache/noop.memo", std::ios::binary | std::ios::trunc) << bytes;
  auto o = qbuild("-v");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_FALSE(answered_by_memo(o)) << o.text;
  EXPECT_NE(o.text.find("nothing to do (15 cached)"), std::string::npos) << o.text;
  EXPECT_TRUE(answered_by_memo(qbuild("-v")));
}

// A config warning shows on every build until it is fixed, the memo's answers included; a
// project warning (the index rebuilt) is news told once, never recorded.
TEST_F(NoOp, ConfigWarningsAreRepeatedByTheMemoProjectWarningsAreNotRecorded) {
  fs::create_directories(root_ / "pipline/3-eval/folder.yaml");
  ASSERT_EQ(qbuild("").code, 0);
  ASSERT_EQ(qbuild("").code, 0);
  auto o = qbuild("-v");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_TRUE(answered_by_memo(o)) << o.text;
  EXPECT_NE(o.text.find("pipline/3-eval/folder.yaml: warning: not loaded: it is a folder"), std::string::npos) << o.text;
  fs::remove(root_ / "cache/index.sqlite");
  o = qbuild("-v");
  EXPECT_NE(o.text.find("was missing; rebuilt it"), std::string::npos) << o.text;
  o = qbuild("-v");  // not recorded after the warning: the full path again, which records
  EXPECT_FALSE(answered_by_memo(o)) << o.text;
  EXPECT_EQ(o.text.find("was missing"), std::string::npos) << o.text;
  EXPECT_TRUE(answered_by_memo(qbuild("-v")));
}

// Another qbuild binary (or the same one rebuilt) has its own code versions: no answer from a
// memo the old one recorded.
TEST_F(NoOp, ARebuiltQbuildIsNotAnsweredByTheMemo) {
  const fs::path kit = root_ / "qbuild-copy";
  fs::copy_file(QB_TESTKIT, kit);
  auto run = [&](const std::string& args) {
    return qb::testing::run_command("cd '" + root_.string() + "' && '" + kit.string() + "' " + args);
  };
  ASSERT_EQ(run("").code, 0);
  ASSERT_EQ(run("").code, 0);
  ASSERT_TRUE(answered_by_memo(run("-v")));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  fs::last_write_time(kit, fs::file_time_type::clock::now());
  auto o = run("-v");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_FALSE(answered_by_memo(o)) << o.text;
  EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
}

}  // namespace
