// The quantize step on tests/golden/models/qwen3-tiny against llm-compressor 0.14.0.1's oneshot
// with the same recipe and calibration tokens (fixtures: tests/golden/scripts/quant_golden.py).
//
// The quantize step calibrates as llm-compressor does (transformers' eager layers op for op, the
// LengthAwareSampler's order, one intra-op thread on the CPU, as the fixtures were made), so the
// activations, Hessians and GPTQ solves are the same floating-point operations. Expected
// agreement:
//   RTN (codes, packed words, scales, static input scales), the quantization_config JSON and
//   every copied tensor: bit for bit.
//   GPTQ: bit for bit on the machine the fixtures were made on (an AVX-512 Xeon of this
//   workplace: 0 codes differ). The oracle's own GPTQ bits depend on the CPU (MKL's kernels):
//   the gptq_w8a8 fixture first committed, made on another machine with the same script and
//   versions, differed from this machine's oneshot in 3 tensors, one code by 2 steps. So GPTQ
//   codes are held to <= 2 steps on <= 2% of codes, and the count is printed.
#include <gtest/gtest.h>

#include "quant/recipe_json.h"

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "steps/model/model.h"
#include "steps/model_io/checkpoint.h"
#include "steps/model_io/safetensors.h"
#include "steps/qmath/pack.h"
#include "steps/quant/quantize.h"
#include "util/fs.h"
#include "tensor_compare.h"

namespace qb::quant {
namespace {

using ::qb::test_tensors::rel_diff;

using nlohmann::json;

const std::string kRoot = QB_SOURCE_DIR;
const std::string kTiny = kRoot + "/tests/golden/models/qwen3-tiny";
const std::string kGolden = kRoot + "/tests/golden/quant/oneshot/";

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::vector<Sample> golden_samples() {
  std::vector<Sample> out;
  const json calib = read_json(kGolden + "calibration.json");
  for (const auto& s : calib["input_ids"]) out.push_back(s.get<Sample>());
  EXPECT_EQ(out.size(), 4u);
  return out;
}

json group_json(const std::string& act) {
  json weights = {{"num_bits", 8}, {"type", "int"}, {"symmetric", true}, {"strategy", "channel"}};
  json g = {{"targets", {"Linear"}}, {"weights", weights}};
  if (act == "static")
    g["input_activations"] = {{"num_bits", 8},         {"type", "int"},  {"symmetric", true},
                              {"strategy", "tensor"},  {"dynamic", false},
                              {"observer", "static_minmax"}};
  return g;
}

json weight_only(int bits) {
  return {{"group_0",
           {{"targets", {"Linear"}},
            {"weights",
             {{"num_bits", bits}, {"type", "int"}, {"symmetric", true}, {"strategy", "group"},
              {"group_size", 32}}}}}};
}

// The recipes quant_golden.py gives oneshot.
json recipe_json(const std::string& variant) {
  json calib = {{"source_kind", "txt"}, {"num_samples", 4}, {"seq_len", 16}, {"seed", 0}};
  if (variant == "rtn_w8a8_dynamic")
    return {{"modifier", "QuantizationModifier"}, {"scheme", "W8A8"}, {"ignore", {"lm_head"}}};
  if (variant == "rtn_w8a8_static")
    return {{"modifier", "QuantizationModifier"},
            {"config_groups", {{"group_0", group_json("static")}}},
            {"ignore", {"lm_head"}},
            {"calibration", calib}};
  if (variant == "gptq_w8a8")
    return {{"modifier", "GPTQModifier"}, {"scheme", "W8A8"}, {"ignore", {"lm_head"}},
            {"calibration", calib}};
  if (variant == "rtn_w8a16_g32")
    return {{"modifier", "QuantizationModifier"}, {"config_groups", weight_only(8)},
            {"ignore", {"lm_head"}}};
  return {{"modifier", "GPTQModifier"}, {"config_groups", weight_only(4)},
          {"ignore", {"lm_head"}}, {"calibration", calib}};
}

struct QuantRun {
  fs::TempDir dir;
  json report;
};

QuantRun quantize(const std::string& variant, bool save_compressed = true,
                  at::Device device = at::kCPU) {
  auto r = recipe_from_json(recipe_json(variant));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  QuantRun run;
  run.dir = fs::TempDir::create(::testing::TempDir(), "quant_").value();
  QuantizeRequest req;
  req.recipe = *r;
  req.recipe.save_compressed = save_compressed;
  req.model_dir = kTiny;
  req.output_dir = run.dir.path() / "out";
  req.calibration_samples = golden_samples();
  req.device = device;
  req.report = &run.report;
  auto s = run_quantize(req);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return run;
}

// How a checkpoint's quantized tensors compare with a golden's.
struct Agreement {
  std::vector<std::string> differing;  // any bit
  int max_code_step = 0;               // over GPTQ's codes (int8 weights, unpacked words)
  int64_t codes_differing = 0, codes = 0;
  double worst_input_scale = 0;        // relative
};

Agreement compare(const model_io::Checkpoint& ckpt, const model_io::SafetensorsReader& golden,
                  int bits) {
  Agreement a;
  for (const auto& e : golden.entries()) {
    EXPECT_TRUE(ckpt.has(e.name)) << e.name;
    if (!ckpt.has(e.name)) continue;
    EXPECT_EQ(ckpt.info(e.name)->dtype, e.dtype) << e.name;
    EXPECT_EQ(ckpt.info(e.name)->shape, e.shape) << e.name;
    at::Tensor mine = *ckpt.load(e.name), ref = *golden.load(e);
    if (at::equal(mine, ref)) continue;
    a.differing.push_back(e.name);
    if (e.name.ends_with(".input_scale"))
      a.worst_input_scale = std::max(a.worst_input_scale, rel_diff(mine, ref));
    if (e.name.ends_with(".weight_packed")) {
      const auto stem = e.name.substr(0, e.name.size() - std::string("_packed").size());
      const auto cols = ckpt.load(stem + "_shape")->select(0, 1).item<int64_t>();
      mine = *qmath::unpack_int32(mine, bits, cols);
      ref = *qmath::unpack_int32(ref, bits, cols);
    } else if (!e.name.ends_with(".weight")) {
      continue;
    }
    const auto d = (mine.to(at::kInt) - ref.to(at::kInt)).abs();
    a.max_code_step = std::max(a.max_code_step, d.max().item<int>());
    a.codes_differing += d.gt(0).sum().item<int64_t>();
    a.codes += d.numel();
  }
  return a;
}

// GPTQ's bound (see the file comment); prints and records the agreement.
void expect_gptq_agreement(const Agreement& a, const std::string& what) {
  std::cout << what << ": " << a.differing.size() << " tensors differ in any bit; "
            << a.codes_differing << " codes differ (max step " << a.max_code_step
            << "); worst input scale rel diff " << a.worst_input_scale << "\n";
  ::testing::Test::RecordProperty("tensors_differing", static_cast<int>(a.differing.size()));
  ::testing::Test::RecordProperty("gptq_code_mismatches", static_cast<int>(a.codes_differing));
  EXPECT_LE(a.max_code_step, 2) << what;
  EXPECT_LE(static_cast<double>(a.codes_differing), 0.02 * std::max<int64_t>(a.codes, 1)) << what;
  EXPECT_LT(a.worst_input_scale, 1e-5) << what;
}

class OneshotGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(OneshotGolden, MatchesLlmCompressor) {
  const std::string variant = GetParam();
  QuantRun run = quantize(variant);
  const auto out = run.dir.path() / "out";
  auto ckpt = model_io::Checkpoint::open(out);
  ASSERT_TRUE(ckpt.is_ok()) << ckpt.status().to_string();
  auto golden = model_io::SafetensorsReader::open(kGolden + variant + "/quantized.safetensors");
  ASSERT_TRUE(golden.is_ok());

  // quantization_config, field by field.
  const json expect_cfg = read_json(kGolden + variant + "/quantization_config.json");
  EXPECT_EQ(ckpt->config()["quantization_config"], expect_cfg)
      << ckpt->config()["quantization_config"].dump(2);

  // The golden's quantized tensors (names, dtypes, shapes, values), and no stray "weight" of a
  // quantized module.
  const Agreement a = compare(*ckpt, *golden, variant == "gptq_w4a16_g32" ? 4 : 8);
  if (variant.rfind("gptq", 0) == 0) {
    expect_gptq_agreement(a, variant);
    for (const auto& name : a.differing)
      EXPECT_TRUE(name.ends_with(".weight") || name.ends_with(".weight_packed")) << name;
  } else {
    EXPECT_TRUE(a.differing.empty()) << a.differing.size() << " differ, first " << a.differing.front();
  }
  // Every other tensor is copied unchanged from the source model.
  auto src = model_io::Checkpoint::open(kTiny);
  for (const auto& name : src->tensor_names()) {
    if (golden->find(name)) continue;
    if (name.find("_proj.") != std::string::npos) {
      EXPECT_FALSE(ckpt->has(name)) << name << " should have been replaced";
      continue;
    }
    ASSERT_TRUE(ckpt->has(name)) << name;
    EXPECT_TRUE(at::equal(*ckpt->load(name), *src->load(name))) << name;
  }
  EXPECT_EQ(ckpt->tensor_names().size(),
            golden->entries().size() + (src->tensor_names().size() - 14));
  // The report covers every quantized Linear.
  EXPECT_EQ(run.report["linears"].size(), 14u);
  EXPECT_EQ(run.report["ignored"], json::array({"lm_head"}));
}

INSTANTIATE_TEST_SUITE_P(Variants, OneshotGolden,
                         ::testing::Values("rtn_w8a8_dynamic", "rtn_w8a8_static", "gptq_w8a8",
                                           "rtn_w8a16_g32", "gptq_w4a16_g32"));

// On a GPU (skipped without one): the model stays on the host and each layer is moved to the
// device for its turn, the hidden states stay on the device, GPTQ replays CUDA graphs — the
// checkpoint agrees with the CPU's (RTN codes exactly; static input scales to fp32 rounding;
// GPTQ codes within two steps and rarely different: BLAS summation orders differ, and layer 1's
// Hessian comes from layer 0's slightly different quantized outputs).
TEST(QuantizeStep, OnCudaAgreesWithTheCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const std::string variant : {"rtn_w8a8_static", "gptq_w8a8", "gptq_w4a16_g32"}) {
    QuantRun cpu = quantize(variant), gpu = quantize(variant, true, at::Device("cuda:0"));
    EXPECT_EQ(gpu.report["timings"]["hidden_states_on"], "cuda:0") << variant;
    auto a = model_io::Checkpoint::open(cpu.dir.path() / "out");
    auto b = model_io::Checkpoint::open(gpu.dir.path() / "out");
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    ASSERT_EQ(a->tensor_names(), b->tensor_names());
    const bool gptq = variant.rfind("gptq", 0) == 0;
    for (const auto& name : a->tensor_names()) {
      auto x = *a->load(name), y = *b->load(name);
      if (name.ends_with(".input_scale") || name.ends_with(".weight_scale")) {
        EXPECT_LT(rel_diff(y, x), 1e-5) << variant << " " << name;
      } else if (gptq && name.ends_with(".weight_packed")) {
        EXPECT_LE(static_cast<double>(x.ne(y).sum().item<int64_t>()) / x.numel(), 0.05)
            << variant << " " << name;
      } else if (gptq && name.ends_with(".weight") && x.scalar_type() == at::kChar) {
        auto d = (x.to(at::kInt) - y.to(at::kInt)).abs();
        EXPECT_LE(d.max().item<int>(), 2) << variant << " " << name;
        EXPECT_LE(d.gt(0).sum().item<double>() / d.numel(), 0.02) << variant << " " << name;
      } else {
        EXPECT_TRUE(at::equal(x, y)) << variant << " " << name;
      }
    }
  }
}

// ---- eager-attention calibration (tests/golden/quant/eager, quant_golden.py) ----
// A GQA model (8 query / 2 KV heads of 32) and 24 samples of 64-128 tokens, where transformers'
// SDPA and eager forwards differ in the last bits on every sample (sdpa_vs_eager.json).
// llm-compressor calibrates with eager attention, in its LengthAwareSampler's order; so does
// the quantize step (the eager layer path, length_aware_order, one intra-op thread on the CPU).

const std::string kEager = kRoot + "/tests/golden/quant/eager/";

json eager_recipe(const std::string& variant) {
  json calib = {{"source_kind", "txt"}, {"num_samples", 24}, {"seq_len", 128}, {"seed", 0}};
  return {{"modifier", variant == "gptq_w8a8_static" ? "GPTQModifier" : "QuantizationModifier"},
          {"config_groups", {{"group_0", group_json("static")}}},
          {"ignore", {"lm_head"}},
          {"calibration", calib}};
}

QuantRun quantize_eager(const std::string& variant, model::LayerPath path) {
  auto r = recipe_from_json(eager_recipe(variant));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  QuantRun run;
  run.dir = fs::TempDir::create(::testing::TempDir(), "quant_eager_").value();
  QuantizeRequest req;
  req.recipe = *r;
  req.model_dir = kEager + "model";
  req.output_dir = run.dir.path() / "out";
  const json calib = read_json(kEager + "calibration.json");
  for (const auto& s : calib["input_ids"]) req.calibration_samples.push_back(s.get<Sample>());
  req.calibration_path = path;
  req.report = &run.report;
  auto s = run_quantize(req);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return run;
}

Agreement eager_agreement(const QuantRun& run, const std::string& variant) {
  auto ckpt = model_io::Checkpoint::open(run.dir.path() / "out");
  auto golden = model_io::SafetensorsReader::open(kEager + variant + "/quantized.safetensors");
  EXPECT_TRUE(ckpt.is_ok() && golden.is_ok());
  EXPECT_EQ(ckpt->config()["quantization_config"],
            read_json(kEager + variant + "/quantization_config.json"));
  EXPECT_EQ(golden->entries().size(), 14u * 3);  // weight, weight_scale, input_scale
  return compare(*ckpt, *golden, 8);
}

// Static input scales and codes, bit for bit.
TEST(EagerGolden, RtnStaticIsBitIdenticalToLlmCompressor) {
  const Agreement a =
      eager_agreement(quantize_eager("rtn_w8a8_static", model::LayerPath::kEager), "rtn_w8a8_static");
  EXPECT_TRUE(a.differing.empty()) << a.differing.size() << " differ, first " << a.differing.front();
}

// GPTQ with static input scales: bit for bit where the fixtures were made (0 codes differ),
// within GPTQ's bound elsewhere (file comment); the weight scales (from the original weights)
// and layer 0's input scales (before any GPTQ) are exact everywhere.
TEST(EagerGolden, GptqStaticAgreesWithLlmCompressor) {
  const Agreement a = eager_agreement(quantize_eager("gptq_w8a8_static", model::LayerPath::kEager),
                                      "gptq_w8a8_static");
  expect_gptq_agreement(a, "gptq_w8a8_static");
  for (const auto& name : a.differing) {
    EXPECT_FALSE(name.ends_with(".weight_scale")) << name;
    EXPECT_FALSE(name.rfind("model.layers.0.", 0) == 0 && name.ends_with(".input_scale")) << name;
  }
}

class EagerFastPath : public ::testing::TestWithParam<std::string> {};

// The fixture discriminates: calibrated through the fast path (SDPA, fused GEMMs, at::rms_norm),
// static input scales are no longer the reference's bits.
TEST_P(EagerFastPath, CalibrationIsNotBitIdentical) {
  const std::string variant = GetParam();
  const QuantRun run = quantize_eager(variant, model::LayerPath::kFast);
  int input_scales = 0;
  for (const auto& name : eager_agreement(run, variant).differing)
    input_scales += name.ends_with(".input_scale");
  EXPECT_GT(input_scales, 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, EagerFastPath,
                         ::testing::Values("rtn_w8a8_static", "gptq_w8a8_static"));

TEST(QuantizeStep, OutputLoadsInTheRuntimeAndTracksTheDenseModel) {
  for (const std::string variant : {"rtn_w8a8_dynamic", "rtn_w8a8_static", "gptq_w4a16_g32"}) {
    QuantRun run = quantize(variant);
    auto dense = model::Model::load(kTiny);
    auto quant = model::Model::load(run.dir.path() / "out");
    ASSERT_TRUE(dense.is_ok());
    ASSERT_TRUE(quant.is_ok()) << variant << ": " << quant.status().to_string();
    auto ids = at::tensor(golden_samples()[0], at::kLong).unsqueeze(0);
    auto valid = at::ones_like(ids, at::kBool);
    auto a = dense->forward(ids, valid), b = quant->forward(ids, valid);
    ASSERT_TRUE(at::isfinite(b).all().item<bool>()) << variant;
    // Quantization error, not a broken checkpoint: logits within a few % of their spread, and
    // the argmax agrees on most positions.
    const double rel = ((a - b).norm() / a.norm()).item<double>();
    EXPECT_LT(rel, variant == "gptq_w4a16_g32" ? 0.25 : 0.05) << variant;
    const double agree = a.argmax(-1).eq(b.argmax(-1)).to(at::kFloat).mean().item<double>();
    EXPECT_GE(agree, 0.75) << variant;
  }
}

TEST(QuantizeStep, SaveCompressedFalseWritesFrozenFakeQuantizedWeights) {
  QuantRun run = quantize("rtn_w8a8_static", /*save_compressed=*/false);
  auto ckpt = model_io::Checkpoint::open(run.dir.path() / "out");
  ASSERT_TRUE(ckpt.is_ok());
  const auto& qc = ckpt->config()["quantization_config"];
  EXPECT_EQ(qc["format"], "dense");
  EXPECT_EQ(qc["quantization_status"], "frozen");
  EXPECT_EQ(qc["config_groups"]["group_0"]["format"], "dense");
  // weight = codes * scale of the compressed run, in the weight dtype.
  QuantRun compressed = quantize("rtn_w8a8_static");
  auto c = model_io::Checkpoint::open(compressed.dir.path() / "out");
  const std::string m = "model.layers.1.mlp.down_proj";
  auto w = *ckpt->load(m + ".weight");
  EXPECT_EQ(w.scalar_type(), at::kFloat);
  auto expect = c->load(m + ".weight")->to(at::kFloat) * *c->load(m + ".weight_scale");
  EXPECT_TRUE(at::equal(w, expect));
  EXPECT_TRUE(ckpt->has(m + ".weight_zero_point"));
  EXPECT_TRUE(ckpt->has(m + ".input_zero_point"));
  EXPECT_TRUE(at::equal(*ckpt->load(m + ".input_scale"), *c->load(m + ".input_scale")));
}

TEST(QuantizeStep, ReportHasErrorsAndActivationStatistics) {
  QuantRun run = quantize("gptq_w8a8");
  const auto& l = run.report["linears"][0];
  EXPECT_EQ(l["module"], "model.layers.0.self_attn.q_proj");
  EXPECT_EQ(l["method"], "gptq");
  EXPECT_GT(l["gptq_loss"].get<double>(), 0);
  EXPECT_GT(l["weight_rel_error"].get<double>(), 0);
  EXPECT_LT(l["weight_rel_error"].get<double>(), 0.02);
  EXPECT_EQ(l["hessian_samples"], 4);
  const auto& a = l["activations"];
  EXPECT_EQ(a["tokens"], 64);
  EXPECT_LE(a["p99"].get<double>(), a["absmax"].get<double>());
  EXPECT_EQ(run.report["calibration"]["tokens"], 64);
  auto on_disk = json::parse(*fs::read_file(run.dir.path() / "out" / kReportFile));
  EXPECT_EQ(on_disk["linears"].size(), 14u);
}

TEST(QuantizeStep, RejectsAnAlreadyQuantizedModel) {
  QuantRun run = quantize("rtn_w8a8_dynamic");
  QuantizeRequest req;
  req.recipe = *recipe_from_json(recipe_json("rtn_w8a8_dynamic"));
  req.model_dir = run.dir.path() / "out";
  req.output_dir = run.dir.path() / "again";
  EXPECT_EQ(run_quantize(req).message(),
            "quantize: '" + req.model_dir.string() +
                "' is already quantized (config.json has a quantization_config)");
}

TEST(QuantizeStep, GroupSizeMustDivideInFeatures) {
  auto r = recipe_from_json({{"modifier", "QuantizationModifier"}, {"scheme", "W4A16"}});
  QuantizeRequest req;
  req.recipe = *r;
  req.model_dir = kTiny;
  auto dir = fs::TempDir::create(::testing::TempDir(), "quant_").value();
  req.output_dir = dir.path() / "out";
  EXPECT_EQ(run_quantize(req).message(),
            "quantize: model.layers.0.self_attn.q_proj: in_features 64 is not divisible by "
            "group_size 128 (group 'group_0'); ignore the module or change group_size");
}

}  // namespace
}  // namespace qb::quant
