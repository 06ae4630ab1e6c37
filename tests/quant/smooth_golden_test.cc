// The smooth step (SmoothQuantModifier, AWQModifier) and the quantize step after it, against
// llm-compressor 0.14.0.1's oneshot on the same recipes and calibration tokens
// (tests/golden/quant/smooth, made by tests/golden/scripts/quant_golden.py smooth).
//
// Expected agreement (CPU, fp32, one intra-op thread as the fixtures were made):
//   SmoothQuant scales and smoothed weights: bit for bit (held to fp32 rounding: 1e-6 relative);
//   AWQ: the chosen scales bit for bit (the same grid point wins), each mapping's initial and best
//   loss equal to llm-compressor's, smoothed weights bit for bit;
//   the quantized checkpoints: RTN codes within one step on >= 99% (in practice all equal),
//   GPTQ within its bound (quantize_golden_test.cc), quantization_config field by field.
#include <gtest/gtest.h>

#include "quant/recipe_json.h"

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "spec/smooth_spec.h"
#include "steps/model/model.h"
#include "steps/model_io/checkpoint.h"
#include "steps/model_io/safetensors.h"
#include "steps/qmath/pack.h"
#include "steps/quant/quantize.h"
#include "steps/quant/smooth.h"
#include "util/fs.h"
#include "tensor_compare.h"

namespace qb::quant {
namespace {

using ::qb::test_tensors::rel_diff;

using nlohmann::json;

const std::string kRoot = QB_SOURCE_DIR;
const std::string kDir = kRoot + "/tests/golden/quant/smooth/";

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::vector<Sample> samples_of(const std::string& file) {
  std::vector<Sample> out;
  const json j = read_json(file);  // (a range-for over a temporary's member would dangle)
  for (const auto& s : j["input_ids"]) out.push_back(s.get<Sample>());
  return out;
}

json w8a8_static_groups() {
  return {{"group_0",
           {{"targets", {"Linear"}},
            {"weights", {{"num_bits", 8}, {"strategy", "channel"}}},
            {"input_activations",
             {{"num_bits", 8}, {"strategy", "tensor"}, {"dynamic", false}, {"observer", "static_minmax"}}}}}};
}

json int_group(int bits, const std::string& strategy, bool symmetric, int group_size = 0) {
  json w = {{"num_bits", bits}, {"strategy", strategy}, {"symmetric", symmetric}};
  if (group_size) w["group_size"] = group_size;
  return {{"group_0", {{"targets", {"Linear"}}, {"weights", w}}}};
}

struct Variant {
  std::string model;      // folder under tests/golden/quant (relative to smooth/)
  std::string samples;    // calibration.json path
  json recipe;            // recipe_from_json's shape
  bool quantized = true;  // the fixture has a quantized checkpoint
};

// The recipes quant_golden.py's smooth_variants() gives oneshot.
Variant variant(const std::string& name) {
  const std::string calib = kDir + "calibration.json";
  const std::string eager_calib = kRoot + "/tests/golden/quant/eager/calibration.json";
  json cal = {{"source_kind", "txt"}, {"num_samples", 10}, {"seq_len", 48}, {"seed", 0}};
  json cal_eager = {{"source_kind", "txt"}, {"num_samples", 24}, {"seq_len", 128}, {"seed", 0}};
  json sq = {{"SmoothQuantModifier", json::object()}};
  json awq = {{"AWQModifier", json::object()}};
  auto qm = [&](json body, json stages, json c) {
    body["modifier"] = "QuantizationModifier";
    body["ignore"] = {"lm_head"};
    body["stages"] = stages;
    body["calibration"] = c;
    return body;
  };
  // A smoothing stage alone: quantized afterwards by nothing the fixture checks (W8A8 dynamic
  // stands in for the quantization modifier the recipe needs).
  if (name == "sq") return {"model", calib, qm({{"scheme", "W8A8"}}, {sq}, cal), false};
  if (name == "sq_ignore_mlp")
    return {"model", calib,
            qm({{"scheme", "W8A8"}},
               {{{"SmoothQuantModifier",
                  {{"smoothing_strength", 0.6},
                   {"ignore", {"re:.*post_attention_layernorm", "re:.*gate_proj", "re:.*up_proj"}}}}}},
               cal),
            false};
  if (name == "sq_rtn_w8a8_static") return {"model", calib, qm({{"config_groups", w8a8_static_groups()}}, {sq}, cal)};
  if (name == "sq08_gptq_w8a8_static") {
    json r = qm({{"config_groups", w8a8_static_groups()}}, {{{"SmoothQuantModifier", {{"smoothing_strength", 0.8}}}}}, cal);
    r["modifier"] = "GPTQModifier";
    return {"model", calib, r};
  }
  if (name == "awq_w4a16_asym") return {"model", calib, qm({{"scheme", "W4A16_ASYM"}}, {awq}, cal)};
  if (name == "awq_w8a16") return {"model", calib, qm({{"scheme", "W8A16"}}, {awq}, cal)};
  if (name == "awq_both_g64")
    return {"model", calib,
            qm({{"config_groups", int_group(4, "group", true, 64)}},
               {{{"AWQModifier", {{"duo_scaling", "both"}, {"n_grid", 10}}}}}, cal)};
  if (name == "awq_noduo_channel_asym")
    return {"model", calib,
            qm({{"config_groups", int_group(4, "channel", false)}}, {{{"AWQModifier", {{"duo_scaling", false}}}}}, cal)};
  if (name == "awq_qwen2_w4a16_asym") return {"model-qwen2", calib, qm({{"scheme", "W4A16_ASYM"}}, {awq}, cal)};
  // awq_gqa_w4a16_asym
  return {"../eager/model", eager_calib, qm({{"scheme", "W4A16_ASYM"}}, {awq}, cal_eager)};
}

struct StagedRun {
  fs::TempDir dir;
  json smooth_report, quant_report;
  std::map<std::string, at::Tensor> scales;
  std::filesystem::path smoothed() const { return dir.path() / "smoothed"; }
  std::filesystem::path quantized() const { return dir.path() / "quantized"; }
};

StagedRun run(const std::string& name, at::Device device = at::kCPU, bool quantize = true) {
  const Variant v = variant(name);
  auto r = recipe_from_json(v.recipe);
  EXPECT_TRUE(r.is_ok()) << name << ": " << r.status().to_string();
  StagedRun out;
  out.dir = fs::TempDir::create(::testing::TempDir(), "smooth_").value();
  SmoothRequest sr;
  sr.spec = *spec::SmoothSpec::of(*r);
  sr.model_dir = kDir + v.model;
  sr.output_dir = out.smoothed();
  sr.calibration_samples = samples_of(v.samples);
  sr.device = device;
  sr.report = &out.smooth_report;
  sr.scales = &out.scales;
  auto meta = run_smooth(sr);
  EXPECT_TRUE(meta.is_ok()) << name << ": " << meta.status().to_string();
  if (!quantize || !meta.is_ok()) return out;
  QuantizeRequest qr;
  qr.recipe = r->quantization_stage();
  qr.model_dir = out.smoothed();
  qr.output_dir = out.quantized();
  qr.calibration_samples = samples_of(v.samples);
  qr.device = device;
  qr.report = &out.quant_report;
  auto s = run_quantize(qr);
  EXPECT_TRUE(s.is_ok()) << name << ": " << s.to_string();
  return out;
}

// The golden's scales (keyed by smooth layer) against ours (keyed "0:<smooth layer>").
void expect_scales(const StagedRun& r, const std::string& name, bool exact) {
  auto golden = model_io::SafetensorsReader::open(kDir + name + "/scales.safetensors");
  ASSERT_TRUE(golden.is_ok());
  EXPECT_EQ(r.scales.size(), golden->entries().size()) << name;
  int equal = 0;
  for (const auto& e : golden->entries()) {
    auto it = r.scales.find("0:" + e.name);
    ASSERT_NE(it, r.scales.end()) << name << ": no scales for " << e.name;
    const at::Tensor ref = *golden->load(e);
    EXPECT_EQ(it->second.scalar_type(), ref.scalar_type()) << name << " " << e.name;
    if (exact) EXPECT_TRUE(at::equal(it->second, ref)) << name << " " << e.name << " rel " << rel_diff(it->second, ref);
    EXPECT_LT(rel_diff(it->second, ref), 1e-6) << name << " " << e.name;
    equal += at::equal(it->second, ref);
  }
  std::cout << name << ": " << equal << "/" << golden->entries().size() << " scale tensors bit-identical\n";
}

// Every decoder-layer parameter after smoothing, against the golden's.
void expect_smoothed(const StagedRun& r, const std::string& name) {
  auto golden = model_io::SafetensorsReader::open(kDir + name + "/smoothed.safetensors");
  ASSERT_TRUE(golden.is_ok());
  auto ckpt = model_io::Checkpoint::open(r.smoothed());
  ASSERT_TRUE(ckpt.is_ok());
  int equal = 0;
  double worst = 0;
  int compared = 0;
  for (const auto& e : golden->entries()) {
    // With a quantization modifier in the recipe, llm-compressor's state dict also holds the
    // observers' parameters it initialised (weight_scale, input_zero_point, ...): not smoothing.
    if (e.name.ends_with("_scale") || e.name.ends_with("_zero_point")) continue;
    ++compared;
    ASSERT_TRUE(ckpt->has(e.name)) << e.name;
    const at::Tensor mine = *ckpt->load(e.name), ref = *golden->load(e);
    equal += at::equal(mine, ref);
    worst = std::max(worst, rel_diff(mine, ref));
  }
  std::cout << name << ": " << equal << "/" << compared << " smoothed tensors bit-identical, worst relative difference " << worst << "\n";
  EXPECT_GT(compared, 0) << name;
  EXPECT_LT(worst, 1e-6) << name;
}

// Codes of the quantized checkpoint against the golden's (unpacking packed words and zero
// points); returns the fraction of codes more than one step away.
struct Codes {
  std::int64_t total = 0, differing = 0, beyond_one = 0;
};
Codes compare_quantized(const StagedRun& r, const std::string& name, int bits) {
  Codes c;
  auto golden = model_io::SafetensorsReader::open(kDir + name + "/quantized.safetensors");
  auto ckpt = model_io::Checkpoint::open(r.quantized());
  EXPECT_TRUE(golden.is_ok() && ckpt.is_ok());
  EXPECT_EQ(ckpt->config()["quantization_config"], read_json(kDir + name + "/quantization_config.json"));
  for (const auto& e : golden->entries()) {
    EXPECT_TRUE(ckpt->has(e.name)) << name << ": missing " << e.name;
    if (!ckpt->has(e.name)) continue;
    EXPECT_EQ(ckpt->info(e.name)->shape, e.shape) << e.name;
    EXPECT_EQ(ckpt->info(e.name)->dtype, e.dtype) << e.name;
    at::Tensor mine = *ckpt->load(e.name), ref = *golden->load(e);
    if (e.name.ends_with(".weight_packed")) {
      const auto stem = e.name.substr(0, e.name.size() - std::string("_packed").size());
      const auto cols = ckpt->load(stem + "_shape")->select(0, 1).item<int64_t>();
      mine = *qmath::unpack_int32(mine, bits, cols);
      ref = *qmath::unpack_int32(ref, bits, cols);
    } else if (e.name.ends_with(".weight_zero_point") && e.dtype == model_io::DType::kI32) {
      const auto rows = e.shape[0] * 32 / bits;  // packed along dim 0
      mine = qmath::unpack_int32(mine.t().contiguous(), bits, rows)->t();
      ref = qmath::unpack_int32(ref.t().contiguous(), bits, rows)->t();
    } else if (!(e.name.ends_with(".weight") && e.dtype == model_io::DType::kI8)) {
      EXPECT_LT(rel_diff(mine, ref), 1e-6) << name << " " << e.name;
      continue;
    }
    const auto d = (mine.to(at::kInt) - ref.to(at::kInt)).abs();
    c.total += d.numel();
    c.differing += d.gt(0).sum().item<int64_t>();
    c.beyond_one += d.gt(1).sum().item<int64_t>();
  }
  std::cout << name << ": " << c.differing << " of " << c.total << " codes differ, " << c.beyond_one
            << " by more than one step\n";
  return c;
}

TEST(SmoothGolden, SmoothQuantScalesAndWeightsMatchLlmCompressor) {
  for (const std::string name : {"sq", "sq_ignore_mlp"}) {
    StagedRun r = run(name, at::kCPU, /*quantize=*/false);
    expect_scales(r, name, /*exact=*/true);
    expect_smoothed(r, name);
  }
}

TEST(SmoothGolden, SmoothQuantIgnoreSkipsTheMappingAndReportsIt) {
  StagedRun r = run("sq_ignore_mlp", at::kCPU, false);
  const auto& st = r.smooth_report["stages"][0];
  ASSERT_EQ(st["skipped"].size(), 2u);
  EXPECT_EQ(st["skipped"][0]["smooth_layer"], "model.layers.0.post_attention_layernorm");
  EXPECT_EQ(st["mappings"].size(), 2u);
  const auto& m = st["mappings"][0];
  EXPECT_LT(m["activation_absmax_after"].get<double>(), m["activation_absmax_before"].get<double>());
  EXPECT_GT(m["weight_absmax_after"].get<double>(), m["weight_absmax_before"].get<double>());
}

class SmoothQuantPipeline : public ::testing::TestWithParam<std::string> {};

// SmoothQuant, then RTN / GPTQ with static activations on the smoothed model: llm-compressor's
// one oneshot over both modifiers.
TEST_P(SmoothQuantPipeline, MatchesLlmCompressor) {
  const std::string name = GetParam();
  StagedRun r = run(name);
  expect_scales(r, name, true);
  if (name == "sq08_gptq_w8a8_static") expect_smoothed(r, name);
  const Codes c = compare_quantized(r, name, 8);
  if (name.find("gptq") != std::string::npos) {  // quantize_golden_test.cc's GPTQ bound
    EXPECT_LE(c.differing, 0.02 * c.total);
  } else {
    EXPECT_EQ(c.differing, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, SmoothQuantPipeline, ::testing::Values("sq_rtn_w8a8_static", "sq08_gptq_w8a8_static"));

class AwqPipeline : public ::testing::TestWithParam<std::string> {};

// AWQ's chosen scales identical, its losses llm-compressor's, and the quantized codes within one
// step on >= 99% (in practice: all equal).
TEST_P(AwqPipeline, MatchesLlmCompressor) {
  const std::string name = GetParam();
  StagedRun r = run(name);
  expect_scales(r, name, true);
  if (std::filesystem::exists(kDir + name + "/smoothed.safetensors")) expect_smoothed(r, name);
  // Each mapping's loss before (identity scales) and after (the best grid point).
  const json metrics = read_json(kDir + name + "/awq_metrics.json");
  std::vector<json> applied;
  for (const auto& m : r.smooth_report["stages"][0]["mappings"])
    if (!m.contains("skipped")) applied.push_back(m);
  ASSERT_EQ(applied.size(), metrics.size()) << name;
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    EXPECT_EQ(applied[i]["smooth_layer"], metrics[i]["layer_name"]);
    EXPECT_EQ(applied[i]["loss_before"].get<double>(), metrics[i]["initial_error"].get<double>()) << name << " " << i;
    EXPECT_EQ(applied[i]["loss_after"].get<double>(), metrics[i]["best_error"].get<double>()) << name << " " << i;
  }
  const int bits = name == "awq_w8a16" ? 8 : 4;
  const Codes c = compare_quantized(r, name, bits);
  EXPECT_LE(c.beyond_one, 0);
  EXPECT_LE(c.differing, 0.01 * c.total);
}

INSTANTIATE_TEST_SUITE_P(Variants, AwqPipeline,
                         ::testing::Values("awq_w4a16_asym", "awq_w8a16", "awq_both_g64", "awq_noduo_channel_asym",
                                           "awq_qwen2_w4a16_asym", "awq_gqa_w4a16_asym"));

// Grouped-query attention: v_proj -> o_proj is skipped (llm-compressor's shape check), and the
// report says why.
TEST(SmoothGolden, AwqSkipsVToOUnderGroupedQueryAttention) {
  StagedRun r = run("awq_gqa_w4a16_asym", at::kCPU, false);
  const auto& skipped = r.smooth_report["stages"][0]["skipped"];
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0]["smooth_layer"], "model.layers.0.self_attn.v_proj");
  EXPECT_NE(skipped[0]["reason"].get<std::string>().find("grouped-query attention"), std::string::npos);
}

// The equivalence check of the transform step, run on the smoothed fp model: smoothing is exact,
// so the logits agree to fp32 rounding.
TEST(SmoothGolden, TheSmoothedModelPassesTheEquivalenceCheck) {
  StagedRun r = run("awq_w4a16_asym", at::kCPU, false);
  const auto& eq = r.smooth_report["equivalence"];
  EXPECT_EQ(eq["passed"], true);
  EXPECT_LT(eq["max_rel_error"].get<double>(), 1e-5);
  EXPECT_EQ(eq["top1_agreement"].get<double>(), 1.0);
}

// The quantize step never ignores smoothing stages: a recipe that still has them is an error.
TEST(SmoothGolden, TheQuantizeStepRejectsARecipeWithSmoothingStages) {
  auto r = recipe_from_json(variant("sq_rtn_w8a8_static").recipe);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  auto dir = fs::TempDir::create(::testing::TempDir(), "smooth_").value();
  QuantizeRequest qr;
  qr.recipe = *r;
  qr.model_dir = kDir + "model";
  qr.output_dir = dir.path() / "out";
  qr.calibration_samples = samples_of(kDir + "calibration.json");
  const Status s = run_quantize(qr);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("the recipe has smoothing stages (SmoothQuantModifier)"), std::string::npos)
      << s.message();
  EXPECT_FALSE(std::filesystem::exists(qr.output_dir / "model.safetensors"));
}

// On a GPU (skipped without one): the stages on CUDA agree with the CPU — SmoothQuant's scales to
// fp32 rounding, AWQ's chosen scales identical on this fixture, codes within one step on >= 99%.
TEST(SmoothGolden, OnCudaTheStagesAgreeWithTheCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const std::string name : {"sq_rtn_w8a8_static", "awq_w4a16_asym"}) {
    StagedRun cpu = run(name), gpu = run(name, at::Device("cuda:0"));
    ASSERT_EQ(cpu.scales.size(), gpu.scales.size()) << name;
    for (const auto& [k, s] : cpu.scales) EXPECT_LT(rel_diff(gpu.scales.at(k), s), 1e-5) << name << " " << k;
    auto a = model_io::Checkpoint::open(cpu.quantized());
    auto b = model_io::Checkpoint::open(gpu.quantized());
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    ASSERT_EQ(a->tensor_names(), b->tensor_names());
    std::int64_t total = 0, beyond = 0, differing = 0;
    const int bits = name.rfind("awq", 0) == 0 ? 4 : 8;
    for (const auto& n : a->tensor_names()) {
      at::Tensor x = *a->load(n), y = *b->load(n);
      if (n.ends_with(".weight_packed")) {
        const auto cols = a->load(n.substr(0, n.size() - 7) + "_shape")->select(0, 1).item<int64_t>();
        x = *qmath::unpack_int32(x, bits, cols);
        y = *qmath::unpack_int32(y, bits, cols);
      } else if (!(n.ends_with(".weight") && x.scalar_type() == at::kChar)) {
        if (x.is_floating_point()) EXPECT_LT(rel_diff(y, x), 1e-4) << name << " " << n;
        continue;
      }
      const auto d = (x.to(at::kInt) - y.to(at::kInt)).abs();
      total += d.numel();
      differing += d.gt(0).sum().item<int64_t>();
      beyond += d.gt(1).sum().item<int64_t>();
    }
    std::cout << name << " cuda vs cpu: " << differing << " of " << total << " codes differ\n";
    EXPECT_EQ(beyond, 0) << name;
    EXPECT_LE(differing, 0.01 * total) << name;
  }
}

}  // namespace
}  // namespace qb::quant
