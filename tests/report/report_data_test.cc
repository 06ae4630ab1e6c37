// The page's content gathered from a store: sizes, quantize times, heatmaps, gaps, the timeline
// and the recipe differences.
#include <gtest/gtest.h>

#include "report/report_data.h"
#include "report_fixture.h"

namespace qb::report {
namespace {

using nlohmann::json;
using testing::csv_row;
using testing::kHeader;
using testing::Project;

TEST(Heatmap, OneCellPerLinearByLayerAndModuleInDecoderOrder) {
  json qr = {{"linears",
              {{{"module", "model.layers.10.mlp.down_proj"}, {"weight_rel_error", 0.3}},
               {{"module", "model.layers.2.self_attn.q_proj"}, {"weight_rel_error", 0.1}, {"gptq_loss", 2.0}},
               {{"module", "model.layers.2.mlp.down_proj"}, {"weight_rel_error", 0.2}},
               {{"module", "lm_head"}, {"weight_rel_error", 0.4}}}}};
  auto h = heatmap_of("v", qr);
  EXPECT_EQ(h["layers"], json({"2", "10", "head"}));  // numeric order, not "10" < "2"
  EXPECT_EQ(h["modules"], json({"q_proj", "down_proj", "lm_head"}));
  EXPECT_EQ(h["metrics"], json({"weight_rel_error", "gptq_loss"}));
  ASSERT_EQ(h["cells"].size(), 4u);
  EXPECT_EQ(h["cells"][0]["layer"], "10");
  EXPECT_EQ(h["cells"][0]["module"], "down_proj");
  EXPECT_EQ(h["cells"][3]["layer"], "head");
  EXPECT_FALSE(h["cells"][0].contains("gptq_loss"));
}

TEST(Timeline, GpuStepsByDeviceCpuStepsPackedIntoLanes) {
  std::vector<store::RunRow> runs;
  auto run = [&](const std::string& inv, const std::string& kind, const std::string& status, double start, double end,
                 const std::string& gpu) {
    store::RunRow r;
    r.invocation = inv;
    r.kind = kind;
    r.name = kind + std::to_string(runs.size());
    r.status = status;
    r.started = start;
    r.ended = end;
    r.gpu = gpu;
    r.host = "h";
    runs.push_back(r);
  };
  run("old", "quant", "ok", 1, 5, "0");
  run("new", "quant", "ok", 100, 110, "0");
  run("new", "generate", "ok", 101, 120, "1");
  run("new", "score", "ok", 111, 112, "");
  run("new", "score", "ok", 111.5, 113, "");  // overlaps the first score: a second CPU lane
  run("new", "score", "ok", 114, 115, "");    // after both: the first lane again
  run("new", "sample", "hit", 99, 99, "");    // a cache hit is no work
  auto t = timeline_of(runs);
  EXPECT_EQ(t["invocation"], "new");
  ASSERT_EQ(t["runs"].size(), 5u);
  std::vector<std::string> lanes;
  for (const auto& r : t["runs"]) lanes.push_back(r["lane"]);
  EXPECT_EQ(lanes, (std::vector<std::string>{"GPU 0", "GPU 1", "CPU 1", "CPU 2", "CPU 1"}));
  EXPECT_DOUBLE_EQ(t["runs"][0]["start"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(t["runs"][1]["end"].get<double>(), 20.0);
}

TEST(Timeline, TheLastInvocationThatRanStepsNotANoOpOne) {
  store::RunRow ran{0, "first", "k", "quant", "m", "ok", 10, 20, 10, "h", "", "", "", 1};
  store::RunRow hit{0, "second", "k", "quant", "m", "hit", 30, 30, 0, "h", "", "", "", 2};
  auto t = timeline_of({ran, hit});
  EXPECT_EQ(t["invocation"], "first");
  EXPECT_TRUE(timeline_of({hit}).is_null());
  EXPECT_TRUE(timeline_of({}).is_null());
}

TEST(Timeline, HostsAreNamedWhenRunsComeFromSeveral) {
  store::RunRow a{0, "i", "k", "quant", "m", "ok", 10, 20, 10, "node1", "0", "", "", 1};
  store::RunRow b{0, "i", "k", "quant", "n", "ok", 10, 20, 10, "node2", "0", "", "", 2};
  auto t = timeline_of({a, b});
  EXPECT_EQ(t["runs"][0]["lane"], "GPU 0 @ node1");
  EXPECT_EQ(t["runs"][1]["lane"], "GPU 0 @ node2");
}

class Gather : public ::testing::Test {
 protected:
  Project p;
};

TEST_F(Gather, SizesTimesHeatmapsAndRecipeDifferences) {
  const std::string src = p.add_source("data/models/Org/Base", 4000);
  const std::string q1 = p.add_quant("m-dyn", testing::recipe("QuantizationModifier", true, true), src, testing::quant_report(2, false));
  const std::string q2 = p.add_quant("m-gptq", testing::recipe("GPTQModifier", true, true), src, testing::quant_report(3, true));
  auto t = ResultsTable::parse(std::string(kHeader) + csv_row("Base", "(source)", "(none)", 0.4, 0.5, "", src, "base model") +
                                   csv_row("m-dyn", "original", "dyn", 0.3, 0.5, "0.001", q1) +
                                   csv_row("m-gptq", "original", "gptq", 0.2, 0.25, "0.01", q2),
                               "results/demo.csv");
  ASSERT_TRUE(t.is_ok());
  auto s = p.sources();
  auto r = gather_report(s, *t, "demo", "2026-01-01T00:00:00Z");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const auto& rows = (*r)["rows"];
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0]["base"].get<bool>());
  EXPECT_EQ(rows[0]["size_bytes"], 4000);  // the source folder's *.safetensors
  EXPECT_TRUE(rows[0]["card"].is_null());
  EXPECT_EQ(rows[1]["size_bytes"], 1000);  // the artifact's, from its manifest
  EXPECT_DOUBLE_EQ(rows[1]["quant_seconds"].get<double>(), 12.5);
  EXPECT_EQ(rows[1]["card"], "models/m-dyn/README.md");
  EXPECT_DOUBLE_EQ(rows[2]["recovery"]["mmlu"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(rows[2]["num"]["decode_tokens_per_s"].get<double>(), 150.0);
  EXPECT_EQ(rows[2]["text"]["generate_device"], "cpu");
  ASSERT_EQ((*r)["heatmaps"].size(), 2u);
  EXPECT_EQ((*r)["heatmaps"][1]["cells"].size(), 9u);  // 3 layers × 3 modules
  EXPECT_EQ((*r)["heatmaps"][1]["metrics"], json({"weight_rel_error", "gptq_loss", "input_absmax", "input_p99"}));
  EXPECT_EQ((*r)["recipes"]["variants"], json({"m-dyn", "m-gptq"}));
  EXPECT_EQ((*r)["recipes"]["diffs"]["m-dyn\tm-gptq"],
            json({"recipe.modifier: \"QuantizationModifier\" → \"GPTQModifier\""}));
  EXPECT_EQ((*r)["recipes"]["diffs"]["m-gptq\tm-dyn"],
            json({"recipe.modifier: \"GPTQModifier\" → \"QuantizationModifier\""}));
  EXPECT_EQ((*r)["gaps"], json::array());
  EXPECT_EQ((*r)["benchmarks"], json({"gsm8k", "mmlu", "overall"}));
  EXPECT_EQ((*r)["recovery_from"], "ratio");
  EXPECT_EQ((*r)["as_of"], "2026-01-01T00:00:00Z");
}

TEST_F(Gather, AVariantWithoutAQuantReportIsAMarkedGap) {
  const std::string src = p.add_source("data/models/Base", 4000);
  const std::string q = p.add_quant("m", testing::recipe("QuantizationModifier", false, false), src);  // no report
  auto t = ResultsTable::parse(std::string(kHeader) + csv_row("m", "original", "w8", 0.3, 0.5, "0.001", q), "r.csv");
  ASSERT_TRUE(t.is_ok());
  auto s = p.sources();
  auto r = gather_report(s, *t, "d", "");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ((*r)["heatmaps"][0]["missing"], "no quantization report: the artifact has no quant_report.json");
}

TEST_F(Gather, ACorruptQuantReportIsAMarkedGapNamingTheFile) {
  const std::string src = p.add_source("data/models/Base", 4000);
  const std::string q = p.add_quant("m", testing::recipe("QuantizationModifier", false, false), src, json{{"x", 1}});
  auto t = ResultsTable::parse(std::string(kHeader) + csv_row("m", "original", "w8", 0.3, 0.5, "0.001", q), "r.csv");
  ASSERT_TRUE(t.is_ok());
  auto s = p.sources();
  auto r = gather_report(s, *t, "d", "");
  ASSERT_TRUE(r.is_ok());
  const std::string why = (*r)["heatmaps"][0]["missing"];
  EXPECT_NE(why.find("quant_report.json: not a quantization report"), std::string::npos) << why;
}

TEST_F(Gather, AModelNoLongerInTheStoreIsAGap) {
  auto t = ResultsTable::parse(std::string(kHeader) + csv_row("gone", "original", "w8", 0.3, 0.5, "0.001",
                                                              "0123456789abcdef0123456789abcdef", "stale (not in the current configs)"),
                               "r.csv");
  ASSERT_TRUE(t.is_ok());
  auto s = p.sources();
  auto r = gather_report(s, *t, "d", "");
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE((*r)["rows"][0]["size_bytes"].is_null());
  EXPECT_EQ((*r)["heatmaps"][0]["missing"], "no quantization report: the model is not in the store");
  bool named = false;
  for (const auto& g : (*r)["gaps"])
    named |= g.get<std::string>() == "gone: model 0123456789abcdef0123456789abcdef is neither in the store (deleted by "
                                     "`qbuild gc`?) nor a source of the current configs";
  EXPECT_TRUE(named) << (*r)["gaps"].dump();
}

TEST_F(Gather, NanCellsAreNullAndListedAsGaps) {
  auto t = ResultsTable::parse("variant,status,mmlu_acc,fidelity_kl\nb,base model,0.5,\nv,current,nan,0.1\n", "results/d.csv");
  ASSERT_TRUE(t.is_ok());
  auto s = p.sources();
  auto r = gather_report(s, *t, "d", "");
  ASSERT_TRUE(r.is_ok());
  const auto& v = (*r)["rows"][1];
  EXPECT_TRUE(v["num"]["mmlu_acc"].is_null());
  EXPECT_EQ(v["not_finite"], json({"mmlu_acc"}));
  EXPECT_TRUE(v["recovery"]["mmlu"].is_null());
  bool named = false;
  for (const auto& g : (*r)["gaps"]) named |= g.get<std::string>().find("results/d.csv:3: v: mmlu_acc is nan") == 0;
  EXPECT_TRUE(named) << (*r)["gaps"].dump();
}

TEST_F(Gather, NoBaseRowIsAGapAndUnknownColumnsAreShownAsTheyAre) {
  auto t = ResultsTable::parse("variant,status,mmlu_acc,wikitext_word_perplexity\nv,current,0.5,12.5\n", "results/d.csv");
  ASSERT_TRUE(t.is_ok());
  auto s = p.sources();
  auto r = gather_report(s, *t, "d", "");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)["extra_columns"], json({"wikitext_word_perplexity"}));
  EXPECT_EQ((*r)["rows"][0]["text"]["wikitext_word_perplexity"], "12.5");
  EXPECT_NE((*r)["gaps"][0].get<std::string>().find("no base-model row in results/d.csv"), std::string::npos);
}

TEST_F(Gather, TimelineComesFromTheIndexRuns) {
  p.add_run("20260101_000000", "quant", "m", "ok", 1000, 5, "0");
  p.add_run("20260101_000000", "generate", "m", "failed", 1005, 2, "0");
  auto t = ResultsTable::parse("variant,status\nv,current\n", "r.csv");
  ASSERT_TRUE(t.is_ok());
  auto s = p.sources();
  auto r = gather_report(s, *t, "d", "");
  ASSERT_TRUE(r.is_ok());
  const auto& tl = (*r)["timeline"];
  EXPECT_EQ(tl["invocation"], "20260101_000000");
  ASSERT_EQ(tl["runs"].size(), 2u);
  EXPECT_EQ(tl["runs"][1]["status"], "failed");
  EXPECT_DOUBLE_EQ(tl["runs"][1]["end"].get<double>(), 7.0);
}

}  // namespace
}  // namespace qb::report
