// `qbuild report` and the report a build writes, through the test-kit front end (the real CLI
// with test-only step kinds): what is written, the CSV's speed columns, and every bad input.
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/e2e_fixture.h"
#include "chromium.h"
#include "report_fixture.h"

namespace {

namespace fs = std::filesystem;
using qb::report::testing::slurp;

class ReportCli : public qb::e2e::E2E {};

TEST_F(ReportCli, ABuildWritesTheReportAndTheModelCards) {
  auto o = qbuild("-j 1");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("qbuild: report results/mini.html"), std::string::npos) << o.text;
  const std::string html = slurp(root_ / "results/mini.html");
  EXPECT_NE(html.find("<title>qbuild report — mini</title>"), std::string::npos);
  EXPECT_NE(html.find("\"variant\":\"tiny-r1r2-rtn-dyn\""), std::string::npos);
  // The test kit's quantized models have no quant report: a marked gap, not a failure.
  EXPECT_NE(html.find("no quantization report: the artifact has no quant_report.json"), std::string::npos);
  for (const char* v : {"tiny-rtn-dyn", "tiny-rtn-w8", "tiny-r1r2-rtn-dyn", "tiny-r1r2-rtn-w8"}) {
    const auto card = root_ / "results/models" / v / "README.md";
    ASSERT_TRUE(fs::exists(card)) << card;
    EXPECT_NE(slurp(card).find(std::string("# ") + v + "\n"), std::string::npos);
    EXPECT_TRUE(fs::is_symlink(root_ / "results/models" / v / "part1.json"));
  }
}

// The speed and memory columns come after every older column, which keep their order.
TEST_F(ReportCli, ResultsCsvGainsSpeedColumnsAtTheEnd) {
  ASSERT_EQ(qbuild("-j 1").code, 0);
  const std::string csv = slurp(root_ / "results/mini.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "variant,trans,quant,mmlu_acc,mmlu_n,mmlu_stderr,status,model_key,eval_set_key,eval_key,generate_key,"
            "qbuild_version,prefill_tokens_per_s,decode_tokens_per_s,peak_gpu_gib,peak_rss_gib,generate_device");
  // The generate step's peak memory and device (the test kit's generations record no rates).
  const std::string row = csv.substr(csv.find('\n') + 1, csv.find('\n', csv.find('\n') + 1) - csv.find('\n') - 1);
  EXPECT_NE(row.find(",0.1.0,,,,"), std::string::npos) << row;  // no rates, no GPU peak
  EXPECT_EQ(row.substr(row.rfind(',') + 1), "cpu") << row;       // (the project lists no GPU)
}

TEST_F(ReportCli, ANoOpBuildDoesNotRewriteTheReport) {
  ASSERT_EQ(qbuild("-j 1").code, 0);
  struct stat before {};
  ASSERT_EQ(::stat((root_ / "results/mini.html").c_str(), &before), 0);
  auto o = qbuild("-j 1");
  ASSERT_EQ(o.code, 0) << o.text;
  ASSERT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
  struct stat after {};
  ASSERT_EQ(::stat((root_ / "results/mini.html").c_str(), &after), 0);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  EXPECT_EQ(before.st_ino, after.st_ino);
}

// The page follows the CSV: what finished is shown, the failed step is in the timeline.
TEST_F(ReportCli, AFailedBuildWritesTheReportOfWhatFinished) {
  auto o = qbuild("-j 1 -k 0", "QBUILD_TESTKIT_FAIL=tiny-rtn-w8");
  ASSERT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("qbuild: report results/mini.html"), std::string::npos) << o.text;
  const std::string html = slurp(root_ / "results/mini.html");
  EXPECT_NE(html.find("\"variant\":\"tiny-r1r2-rtn-dyn\""), std::string::npos);
  EXPECT_EQ(html.find("\"variant\":\"tiny-rtn-w8\""), std::string::npos);
  EXPECT_NE(html.find("\"name\":\"tiny-rtn-w8\",\"status\":\"failed\""), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "results/models/tiny-rtn-w8"));
}

// The memo lets a no-op build skip the report, never a report or card someone deleted.
TEST_F(ReportCli, ANoOpBuildWritesADeletedReportCardOrLinkAgain) {
  ASSERT_EQ(qbuild("-j 1").code, 0);
  ASSERT_EQ(qbuild("-j 1").code, 0);  // the no-op that finds the reports up to date
  const std::string html = slurp(root_ / "results/mini.html");
  const auto card = root_ / "results/models/tiny-rtn-dyn/README.md";
  const std::string card_text = slurp(card);
  const auto link = root_ / "results/models/tiny-rtn-dyn/part1.json";
  for (const fs::path& gone : {root_ / "results/mini.html", card, link}) {
    fs::remove(gone);
    auto o = qbuild("-j 1");
    ASSERT_EQ(o.code, 0) << o.text;
    EXPECT_NE(o.text.find("nothing to do"), std::string::npos) << o.text;
    EXPECT_EQ(slurp(root_ / "results/mini.html"), html) << gone;
    EXPECT_EQ(slurp(card), card_text) << gone;
    EXPECT_TRUE(fs::is_symlink(link)) << gone;
  }
}

// A build that ran a step leaves the scores alone (here: the source model's check, whose
// artifact was deleted) yet changes the page's timeline: the page is written again although
// its CSV is the same.
TEST_F(ReportCli, AStepThatRanRewritesThePageThoughTheCsvIsTheSame) {
  ASSERT_EQ(qbuild("-j 1").code, 0);
  const std::string csv = slurp(root_ / "results/mini.csv");
  int removed = 0;
  for (const auto& shard : fs::directory_iterator(root_ / "cache/objects"))
    for (const auto& obj : fs::directory_iterator(shard.path()))
      if (slurp(obj.path() / "qbuild-artifact.json").find("\"kind\": \"check\"") != std::string::npos) {
        fs::remove_all(obj.path());
        ++removed;
      }
  ASSERT_EQ(removed, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // another invocation name (seconds)
  auto o = qbuild("-j 1");
  ASSERT_EQ(o.code, 0) << o.text;
  ASSERT_NE(o.text.find("done (1 built"), std::string::npos) << o.text;
  EXPECT_EQ(slurp(root_ / "results/mini.csv"), csv);
  EXPECT_NE(o.text.find("qbuild: report results/mini.html"), std::string::npos) << o.text;
  const std::string html = slurp(root_ / "results/mini.html");
  const auto at = html.find("\"timeline\":"), end = html.find("\"recipes\":", at);
  ASSERT_NE(end, std::string::npos);
  const std::string timeline = html.substr(at, end - at);
  EXPECT_EQ(qb::report::testing::count(timeline, "\"kind\":"), 1) << timeline;
  EXPECT_NE(timeline.find("\"kind\":\"check\""), std::string::npos) << timeline;
}

TEST_F(ReportCli, AMissingChartingLibraryIsABuildWarningAndAReportError) {
  auto o = qbuild("-j 1", "QBUILD_VEGA_DIR=/nonexistent/vega");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("qbuild: warning: the reports were not written: the charting library Vega is not installed: "
                        "'/nonexistent/vega/vega-util.min.js' does not exist (Debian/Ubuntu: apt-get install libjs-vega"),
            std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find("qbuild: done"), std::string::npos);
  auto r = qbuild("report", "QBUILD_VEGA_DIR=/nonexistent/vega");
  EXPECT_EQ(r.code, 1) << r.text;
  EXPECT_NE(r.text.find("qbuild: error: the charting library Vega is not installed"), std::string::npos) << r.text;
}

TEST_F(ReportCli, ReportCommandWritesEveryEvalConfigsReport) {
  ASSERT_EQ(qbuild("-j 1").code, 0);
  fs::remove(root_ / "results/mini.html");
  auto o = qbuild("report");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("report: results/mini.html\n"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("model card: results/models/tiny-rtn-dyn/README.md\n"), std::string::npos) << o.text;
  EXPECT_TRUE(fs::exists(root_ / "results/mini.html"));
  const std::string abs = (root_ / "results/mini.html").string();
  for (const std::string t : {"results/mini.csv", "results/mini.html", "mini", "./results/mini.csv", abs.c_str()}) {
    auto r = qbuild("report " + t);
    EXPECT_EQ(r.code, 0) << t << ": " << r.text;
  }
}

TEST_F(ReportCli, UnknownTargetIsAUsageErrorNamingTheReports) {
  auto o = qbuild("report results/mnii.html");
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("qbuild: error: unknown report target 'results/mnii.html'; did you mean 'mini'?; reports are "
                        "results/<dataset_name>.html for the eval configs: results/mini.html"),
            std::string::npos)
      << o.text;
}

TEST_F(ReportCli, APipelineWithoutEvalConfigsHasNoReport) {
  fs::remove(root_ / "pipline/3-eval/mini.yaml");
  auto o = qbuild("report");
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("qbuild: error: the pipeline 'pipline' has no eval config, so there is no report to write"),
            std::string::npos)
      << o.text;
  auto t = qbuild("report results/mini.html");
  EXPECT_EQ(t.code, 2) << t.text;
  EXPECT_NE(t.text.find("unknown report target 'results/mini.html'; reports are results/<dataset_name>.html for the "
                        "eval configs (there are none)"),
            std::string::npos)
      << t.text;
}

// A CSV whose eval config is gone (its rows are kept until gc) can still be reported by name.
TEST_F(ReportCli, ACsvNoConfigNamesAnyMoreCanStillBeReported) {
  ASSERT_EQ(qbuild("-j 1").code, 0);
  fs::rename(root_ / "pipline/3-eval/mini.yaml", root_ / "pipline/3-eval/other.yaml");
  std::string cfg = slurp(root_ / "pipline/3-eval/other.yaml");
  const auto at = cfg.find("dataset_name: mini");
  ASSERT_NE(at, std::string::npos) << cfg;
  write("pipline/3-eval/other.yaml", cfg.replace(at, 18, "dataset_name: other"));
  fs::remove(root_ / "results/mini.html");
  auto o = qbuild("report results/mini.csv");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("report: results/mini.html\n"), std::string::npos) << o.text;
  EXPECT_NE(slurp(root_ / "results/mini.html").find("\"variant\":\"tiny-rtn-dyn\""), std::string::npos);
}

TEST_F(ReportCli, AReportBeforeAnyBuildSaysHowToBuildTheCsv) {
  auto o = qbuild("report");
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("qbuild: error: report results/mini.html not written: results/mini.csv does not exist: build it "
                        "first (`qbuild results/mini.csv`)"),
            std::string::npos)
      << o.text;
}

TEST_F(ReportCli, ACorruptCsvIsAnErrorNamingItsLine) {
  ASSERT_EQ(qbuild("-j 1").code, 0);
  std::string csv = slurp(root_ / "results/mini.csv");
  csv.insert(csv.find('\n') + 1, "broken,row\n");
  write("results/mini.csv", csv);
  auto o = qbuild("report");
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("results/mini.csv:2: 2 field(s), but the header has 17 column(s)"), std::string::npos) << o.text;
}

TEST_F(ReportCli, HelpExplainsWhatTheReportHolds) {
  auto o = qbuild("report --help");
  EXPECT_EQ(o.code, 0) << o.text;
  for (const char* s : {"results/<dataset_name>.html", "results/models/<variant>/README.md", "libjs-vega",
                        "QBUILD_VEGA_DIR", "per-module quantization error"})
    EXPECT_NE(o.text.find(s), std::string::npos) << s << "\n" << o.text;
}

}  // namespace
