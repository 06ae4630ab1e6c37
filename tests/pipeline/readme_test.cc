// The README's commands, as a user types them, on a copy of the embedded demo project (its
// pipline/, rules/ and data/, with the demo model generated as scripts/demo.sh does): the first
// build, the incremental session (edit → --dry-run reasons → only descendants rerun → revert →
// nothing runs), targets, inspection commands and the model tools.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pipeline_test_util.h"
#include "report/chromium.h"

namespace {

namespace fs = std::filesystem;

using namespace qb::pipeline_test;

class Readme : public ::testing::Test {
 protected:
  // Each test builds its own copy (ctest runs tests as separate, possibly parallel processes).
  void SetUp() override {
    root_ = fs::path(QB_BINARY_DIR) / "readme-projects" / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_ / "data");
    const fs::path src(QB_SOURCE_DIR);
    fs::copy(src / "rules", root_ / "rules", fs::copy_options::recursive);
    fs::copy(src / "pipline", root_ / "pipline", fs::copy_options::recursive);
    for (const char* d : {"datasets", "calibration", "tokenizers"})
      fs::copy(src / "data" / d, root_ / "data" / d, fs::copy_options::recursive);
    // As scripts/demo.sh does.
    auto o = run("random-model --shape demo --seed 0 --tokenizer data/tokenizers/qwen3 --out data/models/demo/qwen3-demo");
    ASSERT_EQ(o.code, 0) << o.text;
    first_ = run("");
  }

  Out run(const std::string& args) { return run_qbuild(root_, args); }

  int ok_runs(const std::string& kind = "") {
    auto j = nlohmann::json::parse(run("runs --all --json").text, nullptr, false);
    int c = 0;
    if (j.is_discarded()) return -1;
    for (const auto& r : j) c += r["status"] == "ok" && (kind.empty() || r["kind"] == kind);
    return c;
  }

  void targets_and_inspection();
  void model_tools();
  void report_in_the_browser();

  fs::path root_;
  Out first_;
};

const char* kQuant = "pipline/2-quant/rtn-w8a8-dynamic.yaml";

// The demo, then every inspection command and tool of the README on the built project.
TEST_F(Readme, TheDemoThenEveryCommand) {
  ASSERT_EQ(first_.code, 0) << first_.text;
  EXPECT_NE(first_.text.find("done (37 built"), std::string::npos) << first_.text;
  std::string csv = read(root_ / "results/demo_mmlu_gsm8k.csv");
  std::stringstream s(csv);
  std::vector<std::string> rows;
  for (std::string l; std::getline(s, l);) rows.push_back(l);
  ASSERT_EQ(rows.size(), 1u + 1 + 10) << csv;  // header, base model, 2 trans × 5 quant
  EXPECT_NE(rows[0].find("fidelity_kl"), std::string::npos);
  EXPECT_EQ(rows[1].rfind("qwen3-demo,(source),(none)", 0), 0u) << rows[1];
  EXPECT_TRUE(fs::exists(root_ / "outputs/demo/reports/qwen3-demo-r1r2-gptq-W8A8-dynamic.json"));
  EXPECT_TRUE(fs::exists(root_ / "outputs/demo/predictions/qwen3-demo-rtn-W8A8-static/gsm8k.jsonl"));
  // The SmoothQuant variant: a smooth node (checked against the source) before its quant node.
  EXPECT_EQ(ok_runs("smooth"), 2);
  EXPECT_TRUE(fs::exists(root_ / "outputs/demo/reports/qwen3-demo-smoothquant-rtn-W8A8-static.json"));
  EXPECT_TRUE(fs::exists(root_ / "data/demo_mmlu_gsm8k.jsonl"));
  // The report and the model cards (README: "The report").
  EXPECT_NE(first_.text.find("qbuild: report results/demo_mmlu_gsm8k.html"), std::string::npos) << first_.text;
  const std::string html = read(root_ / "results/demo_mmlu_gsm8k.html");
  EXPECT_NE(html.find("\"variant\":\"qwen3-demo-r1r2-gptq-W8A8-dynamic\",\"metrics\":[\"weight_rel_error\",\"gptq_loss\""),
            std::string::npos);  // its heatmap, from the real quant report
  // A smoothed variant's recipe shows its stages, and its card the source model past the smooth
  // and trans nodes.
  EXPECT_NE(html.find("SmoothQuantModifier"), std::string::npos);
  for (const char* v : {"qwen3-demo-rtn-W8A8-dynamic", "qwen3-demo-r1r2-gptq-W8A8-dynamic",
                        "qwen3-demo-r1r2-smoothquant-rtn-W8A8-static"}) {
    const auto card = root_ / "results/models" / v / "README.md";
    EXPECT_NE(read(card).find("base_model: demo/qwen3-demo\n"), std::string::npos) << card;
    EXPECT_TRUE(fs::exists(root_ / "results/models" / v / "config.json")) << v;
  }
  report_in_the_browser();
  targets_and_inspection();
  model_tools();
}

TEST_F(Readme, TheIncrementalSession) {
  ASSERT_EQ(first_.code, 0) << first_.text;
  auto again = run("");
  EXPECT_NE(again.text.find("nothing to do (37 cached)"), std::string::npos) << again.text;
  const std::string original = read(root_ / kQuant);
  std::string edited = original;
  auto at = edited.find("ignore: [lm_head]");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 17, "ignore: [lm_head, \"re:.*down_proj$\"]");
  std::ofstream(root_ / kQuant) << edited;
  auto dry = run("--dry-run");
  EXPECT_EQ(dry.code, 0) << dry.text;
  for (const char* line : {"run     quant qwen3-demo-rtn-W8A8-dynamic",
                           "recipe changed: ignore: [\"lm_head\"] → [\"lm_head\",\"re:.*down_proj$\"]",
                           "run     quant qwen3-demo-r1r2-rtn-W8A8-dynamic",
                           "input changed: model 'qwen3-demo-rtn-W8A8-dynamic' (rebuilt in this run)",
                           "run     generate qwen3-demo-r1r2-rtn-W8A8-dynamic",
                           "input changed: generation 'qwen3-demo-r1r2-rtn-W8A8-dynamic' (rebuilt in this run)",
                           "run     score qwen3-demo-r1r2-rtn-W8A8-dynamic", "6 to run, 31 cached"})
    EXPECT_NE(dry.text.find(line), std::string::npos) << line << "\n" << dry.text;
  const int before = ok_runs();
  auto o = run("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(ok_runs(), before + 6);
  std::ofstream(root_ / kQuant) << original;  // git checkout
  auto reverted = run("");
  EXPECT_NE(reverted.text.find("nothing to do"), std::string::npos) << reverted.text;
  EXPECT_EQ(ok_runs(), before + 6);
}

// The demo's report as the README shows it: the real quant reports' heatmaps, the real first
// build's timeline, drawn by headless Chromium without a console message.
void Readme::report_in_the_browser() {
  using namespace qb::report::testing;
  if (chromium_binary().empty()) {
    if (in_ci()) ADD_FAILURE() << "chromium is not installed; under CI the demo's report must be rendered";
    return;
  }
  const auto r = render(root_ / "results/demo_mmlu_gsm8k.html", root_ / "chromium");
  ASSERT_EQ(r.code, 0) << r.log;
  for (const auto& line : r.console) ADD_FAILURE() << line;
  EXPECT_NE(r.dom.find("<body data-rendered=\"1\">"), std::string::npos) << r.log;
  EXPECT_EQ(count(r.dom, "<tr data-variant=\""), 1 + 10);
  // Three scatter plots (size, KL, decode speed), one point per row.
  EXPECT_EQ(count_marks(r.dom, "mark-symbol role-mark points", "path"), 3 * 11);
  // Ten heatmaps of 2 layers × 7 projections (lm_head is not quantized).
  EXPECT_EQ(count_marks(r.dom, "mark-rect role-mark cells", "path"), 10 * 2 * 7);
  // The first build's 37 steps.
  EXPECT_EQ(count_marks(r.dom, "mark-rect role-mark runs", "path"), 37);
}

void Readme::targets_and_inspection() {
  EXPECT_NE(run("results/demo_mmlu_gsm8k.csv").text.find("nothing to do"), std::string::npos);
  EXPECT_EQ(run("data/models/qwen3-demo-rtn-W8A8-dynamic").code, 0);
  auto ex = run("explain data/models/qwen3-demo-rtn-W8A8-dynamic");
  EXPECT_EQ(ex.code, 0) << ex.text;
  EXPECT_NE(ex.text.find("params = "), std::string::npos) << ex.text;
  auto st = run("status");
  EXPECT_NE(st.text.find("equivalence:"), std::string::npos) << st.text;
  EXPECT_EQ(run("runs").code, 0);
  EXPECT_NE(run("graph").text.find("digraph"), std::string::npos);
  EXPECT_EQ(run("gc --dry-run").code, 0);
  auto report = run("report results/demo_mmlu_gsm8k.html");
  EXPECT_EQ(report.code, 0) << report.text;
  EXPECT_NE(report.text.find("report: results/demo_mmlu_gsm8k.html\n"), std::string::npos) << report.text;
  auto verify = run("verify");
  EXPECT_EQ(verify.code, 0) << verify.text;
  EXPECT_NE(verify.text.find("verified 37 object(s)"), std::string::npos) << verify.text;
  auto sel = run("--trans-config original --quant-config rtn-w8a8-dynamic --dry-run");
  EXPECT_EQ(sel.code, 0) << sel.text;
  auto real = run("--pipeline pipline/qwen3-8b --dry-run");
  EXPECT_EQ(real.code, 3) << real.text;  // no Qwen3-8B here: it says what is missing and where
  EXPECT_NE(real.text.find("input model directory 'data/models/Qwen/Qwen3-8B' does not exist; see data/HELP.md"),
            std::string::npos)
      << real.text;
}

void Readme::model_tools() {
  auto t = run("tokenize --tokenizer data/tokenizers/qwen3 \"Hello, world\"");
  EXPECT_EQ(t.text, "9707 11 1879\n");
  auto d = run("detokenize --tokenizer data/tokenizers/qwen3 9707 11 1879");
  EXPECT_EQ(d.text, "Hello, world\n");
  auto g = run("generate --model data/models/qwen3-demo-rtn-W8A8-dynamic --chat --max-new-tokens 16 \"Hi\"");
  EXPECT_EQ(g.code, 0) << g.text;
  auto l = run("logits --model data/models/demo/qwen3-demo --ids \"1 17 300\" --ids \"5 6\" --out logits.json");
  EXPECT_EQ(l.code, 0) << l.text;
  auto j = nlohmann::json::parse(read(root_ / "logits.json"));
  ASSERT_EQ(j["logits_last"].size(), 2u);
  EXPECT_EQ(j["logits_last"][0].size(), 151936u);
  auto r = run("random-model --shape tiny --out tiny-model");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_TRUE(fs::exists(root_ / "tiny-model/model.safetensors"));
}

}  // namespace
