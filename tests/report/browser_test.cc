// The report as a person sees it: rendered by headless Chromium, with no console errors, the
// table's rows and the charts' marks counted in the DOM after Vega drew them, and a screenshot.
#include <gtest/gtest.h>

#include "chromium.h"
#include "report/html_page.h"
#include "report/report.h"
#include "report/report_data.h"
#include "report/vega_bundle.h"
#include "report_fixture.h"

namespace qb::report {
namespace {

namespace fs = std::filesystem;
using testing::count;
using testing::count_marks;
using testing::csv_row;
using testing::kHeader;

std::string console_text(const testing::Rendered& r) {
  std::string s;
  for (const auto& l : r.console) s += l + "\n";
  return s;
}

// Variants in tbody order.
std::vector<std::string> table_order(const std::string& dom) {
  std::vector<std::string> out;
  const std::string tag = "<tr data-variant=\"";
  for (auto at = dom.find(tag, dom.find("<tbody>")); at != std::string::npos; at = dom.find(tag, at + 1)) {
    const auto start = at + tag.size();
    out.push_back(dom.substr(start, dom.find('"', start) - start));
  }
  return out;
}

class Browser : public ::testing::Test {
 protected:
  testing::Project p;
  std::string src, q_dyn, q_gptq, q_none;

  void SetUp() override {
    src = p.add_source("data/models/Org/Base", 4000);
    q_dyn = p.add_quant("m-dyn", testing::recipe("QuantizationModifier", true, true), src, testing::quant_report(2, false));
    q_gptq = p.add_quant("m-gptq", testing::recipe("GPTQModifier", true, true), src, testing::quant_report(3, true));
    q_none = p.add_quant("m-noreport", testing::recipe("QuantizationModifier", false, false), src);
    p.add_run("20260101_000000", "quant", "m-dyn", "ok", 1000, 5, "0");
    p.add_run("20260101_000000", "quant", "m-gptq", "ok", 1000, 8, "1");
    p.add_run("20260101_000000", "score", "m-dyn", "ok", 1009, 1);
    p.add_run("20260101_000000", "score", "m-gptq", "failed", 1009.5, 1);
  }

  void write_csv(const std::string& rows) { p.write("results/demo.csv", std::string(kHeader) + rows); }
  std::string standard_rows() {
    return csv_row("Base", "(source)", "(none)", 0.4, 0.5, "", src, "base model", "120") +
           csv_row("m-dyn", "original", "dyn", 0.3, 0.5, "0.001", q_dyn, "current", "140") +
           csv_row("m-gptq", "original", "gptq", 0.2, 0.25, "0.01", q_gptq, "current", "150") +
           csv_row("m-noreport", "original", "w8", 0.36, 0.45, "0.0005", q_none, "current", "160");
  }

  fs::path write_report() {
    auto s = p.sources();
    auto r = write_reports(s, {"demo"}, {"demo"});
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (r.is_ok()) {
      EXPECT_EQ(r->errors, std::vector<std::string>{});
    }
    return p.root() / "results/demo.html";
  }
};

TEST_F(Browser, RendersTheTableAndEveryChartWithoutConsoleErrors) {
  QB_REQUIRE_CHROMIUM();
  write_csv(standard_rows());
  const auto html = write_report();
  const auto r = testing::render(html, p.root() / "chromium");
  ASSERT_EQ(r.code, 0) << r.log;
  EXPECT_TRUE(r.console.empty()) << console_text(r);
  EXPECT_NE(r.dom.find("<body data-rendered=\"1\">"), std::string::npos) << r.log;
  // The table: every CSV row, the base model first, quantized variants linked to their cards.
  EXPECT_EQ(table_order(r.dom), (std::vector<std::string>{"Base", "m-dyn", "m-gptq", "m-noreport"}));
  EXPECT_NE(r.dom.find("<tr data-variant=\"Base\" class=\"base\">"), std::string::npos);
  EXPECT_NE(r.dom.find("<a href=\"models/m-gptq/README.md\""), std::string::npos);
  EXPECT_NE(r.dom.find(">0.250 ± 0.100 (10)<"), std::string::npos);  // m-gptq's mmlu
  EXPECT_NE(r.dom.find(">50.0 %<"), std::string::npos);              // its mmlu recovery
  // Three scatter plots (size, KL, decode speed), one point, error bar and label per row.
  EXPECT_EQ(count_marks(r.dom, "mark-symbol role-mark points", "path"), 3 * 4);
  EXPECT_EQ(count_marks(r.dom, "mark-rule role-mark errorbars", "line"), 3 * 4);
  EXPECT_EQ(count_marks(r.dom, "mark-text role-mark labels", "text"), 3 * 4);
  // Heatmaps: 2 × 3 and 3 × 3 cells; the model without a report is a marked gap.
  EXPECT_EQ(count_marks(r.dom, "mark-rect role-mark cells", "path"), 6 + 9);
  EXPECT_NE(r.dom.find("no quantization report: the artifact has no quant_report.json"), std::string::npos);
  // The timeline: one bar per step that ran.
  EXPECT_EQ(count_marks(r.dom, "mark-rect role-mark runs", "path"), 4);
  // Recipe differences between the first two variants.
  EXPECT_NE(r.dom.find("recipe.modifier: \"QuantizationModifier\" → \"GPTQModifier\""), std::string::npos);

  const auto png = p.root() / "chromium" / "report.png";
  ASSERT_EQ(testing::screenshot(html, png, p.root() / "chromium"), 0);
  const std::string bytes = testing::slurp(png);
  ASSERT_GT(bytes.size(), 20000u) << png;
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  std::printf("screenshot: %s\n", png.c_str());
}

TEST_F(Browser, APageLoadsNothingFromOutside) {
  write_csv(standard_rows());
  const std::string html = testing::slurp(write_report());
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(count(html, "</script>"), 3);  // the data, Vega, the page's script
}

TEST_F(Browser, ANanAccuracyIsAMarkedCellAndLeftOutOfTheCharts) {
  QB_REQUIRE_CHROMIUM();
  std::string rows = standard_rows();
  const std::string good = csv_row("m-gptq", "original", "gptq", 0.2, 0.25, "0.01", q_gptq, "current", "150");
  std::string bad = good;
  bad.replace(bad.find(",0.225,20,"), 10, ",nan,20,");  // overall_acc
  rows.replace(rows.find(good), good.size(), bad);
  write_csv(rows);
  const auto r = testing::render(write_report(), p.root() / "chromium");
  ASSERT_EQ(r.code, 0) << r.log;
  EXPECT_TRUE(r.console.empty()) << console_text(r);
  EXPECT_NE(r.dom.find("<td class=\"nan\" title=\"not a number in results/demo.csv (line 4)\">NaN</td>"), std::string::npos);
  EXPECT_EQ(count_marks(r.dom, "mark-symbol role-mark points", "path"), 3 * 3);
  EXPECT_NE(r.dom.find("not plotted: m-gptq (NaN accuracy)"), std::string::npos);
  EXPECT_NE(r.dom.find("m-gptq: overall_acc is nan (not a number): shown as a gap"), std::string::npos);
}

TEST_F(Browser, SortingByAColumnKeepsTheBaseModelFirst) {
  QB_REQUIRE_CHROMIUM();
  write_csv(standard_rows());
  // A click on the "overall" header, as a person would (after the page's own script), twice: descending.
  std::string html = testing::slurp(write_report());
  const std::string click =
      "<script>var th = Array.prototype.filter.call(document.querySelectorAll('#results th'), function (t) { return "
      "t.textContent === 'overall'; })[0]; th.click(); th.click();</script>";
  html.insert(html.rfind("</body>"), click);
  p.write("results/sorted.html", html);
  const auto r = testing::render(p.root() / "results/sorted.html", p.root() / "chromium");
  ASSERT_EQ(r.code, 0) << r.log;
  EXPECT_TRUE(r.console.empty()) << console_text(r);
  EXPECT_EQ(table_order(r.dom), (std::vector<std::string>{"Base", "m-noreport", "m-dyn", "m-gptq"}));
  EXPECT_NE(r.dom.find("class=\"desc\">overall</th>"), std::string::npos);
}

// The harness sees a chart that fails: without vega-label the scatter plots cannot be parsed.
TEST_F(Browser, AChartThatFailsIsAConsoleErrorAndMarkedOnThePage) {
  QB_REQUIRE_CHROMIUM();
  write_csv(standard_rows());
  auto vega = load_vega_bundle(vega_dir());
  if (!vega.is_ok()) QB_SKIP_OR_FAIL_IN_CI(vega.status().message());
  const auto cut = vega->find("qbVegaModule(\"vega-label\"");
  ASSERT_NE(cut, std::string::npos);
  const std::string without_label = vega->substr(0, cut) + vega->substr(vega->find("var qbVega = "));
  auto table = ResultsTable::load(p.root() / "results/demo.csv", "results/demo.csv");
  ASSERT_TRUE(table.is_ok());
  auto s = p.sources();
  auto content = gather_report(s, *table, "demo", "");
  ASSERT_TRUE(content.is_ok());
  p.write("results/broken.html", render_page(*content, without_label));
  const auto r = testing::render(p.root() / "results/broken.html", p.root() / "chromium");
  ASSERT_EQ(r.code, 0) << r.log;
  ASSERT_FALSE(r.console.empty()) << r.log;
  EXPECT_NE(console_text(r).find("qbuild report: a chart failed"), std::string::npos) << console_text(r);
  EXPECT_NE(r.dom.find("<body data-rendered=\"error\">"), std::string::npos);
  EXPECT_NE(r.dom.find("This chart failed to render"), std::string::npos);
  EXPECT_EQ(table_order(r.dom).size(), 4u);  // the rest of the page is still there
}

TEST_F(Browser, WithoutRunsOrASecondRecipeThePageSaysSo) {
  QB_REQUIRE_CHROMIUM();
  testing::Project empty;
  const std::string s2 = empty.add_source("data/models/B", 10);
  const std::string q = empty.add_quant("only", testing::recipe("QuantizationModifier", false, false), s2);
  empty.write("results/one.csv", std::string(kHeader) + csv_row("only", "original", "w8", 0.3, 0.5, "", q));
  auto s = empty.sources();
  auto w = write_reports(s, {"one"}, {"one"});
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  const auto r = testing::render(empty.root() / "results/one.html", empty.root() / "chromium");
  ASSERT_EQ(r.code, 0) << r.log;
  EXPECT_TRUE(r.console.empty()) << console_text(r);
  EXPECT_NE(r.dom.find("No step has run yet in this project"), std::string::npos);
  EXPECT_NE(r.dom.find("Only one quantized variant: nothing to compare."), std::string::npos);
  EXPECT_NE(r.dom.find("no base-model row in results/one.csv"), std::string::npos);
  EXPECT_EQ(table_order(r.dom), (std::vector<std::string>{"only"}));
}

}  // namespace
}  // namespace qb::report
