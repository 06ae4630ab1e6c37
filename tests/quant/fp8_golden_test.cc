// The quantize step's FP8 checkpoints (W8A8-FP8 static / dynamic / block, GPTQ, FP8 KV cache)
// against llm-compressor 0.14.0.1's oneshot with the same recipes and calibration tokens
// (fixtures: tests/golden/scripts/fp8_golden.py -> tests/golden/quant/fp8/oneshot/).
//
// Expected agreement (as for int, quantize_golden_test.cc):
//   RTN: e4m3 codes, weight scales, static input scales, KV-cache k_scale / v_scale and the
//   quantization_config JSON — bit for bit (the preset and the same recipe written as
//   config_groups give identical files).
//   GPTQ: <= 2% of codes differ, each by at most 2 e4m3 steps (the solve's kernels may sum in
//   another order on another CPU); measured here: printed and recorded.
#include <gtest/gtest.h>

#include "quant/recipe_json.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "steps/model/kv_cache.h"
#include "steps/model/model.h"
#include "steps/qmath/fp8.h"
#include "steps/model_io/checkpoint.h"
#include "steps/model_io/safetensors.h"
#include "steps/quant/quantize.h"
#include "util/fs.h"
#include "tensor_compare.h"

namespace qb::quant {
namespace {

using ::qb::test_tensors::rel_diff;

using nlohmann::json;

const std::string kRoot = QB_SOURCE_DIR;
const std::string kTiny = kRoot + "/tests/golden/models/qwen3-tiny";
const std::string kBlockModel = kRoot + "/tests/golden/quant/fp8/block/model";
const std::string kGolden = kRoot + "/tests/golden/quant/fp8/oneshot/";

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::vector<Sample> golden_samples() {
  std::vector<Sample> out;
  const json calibration = read_json(kGolden + "calibration.json");  // outlives the loop
  for (const auto& s : calibration["input_ids"]) out.push_back(s.get<Sample>());
  EXPECT_EQ(out.size(), 4u);
  return out;
}

// The recipes fp8_golden.py gives oneshot.
json recipe_json(const std::string& variant) {
  const json calib = {{"source_kind", "txt"}, {"num_samples", 4}, {"seq_len", 16}, {"seed", 0}};
  const json kv = {{"num_bits", 8}, {"type", "float"}, {"strategy", "tensor"}, {"dynamic", false},
                   {"symmetric", true}};
  json r = {{"modifier", variant.rfind("gptq", 0) == 0 ? "GPTQModifier" : "QuantizationModifier"},
            {"ignore", {"lm_head"}}};
  if (variant == "fp8_dynamic_groups") {
    r["config_groups"] = {
        {"group_0",
         {{"targets", {"Linear"}},
          {"weights", {{"num_bits", 8}, {"type", "float"}, {"symmetric", true}, {"strategy", "channel"},
                       {"dynamic", false}}},
          {"input_activations", {{"num_bits", 8}, {"type", "float"}, {"symmetric", true},
                                 {"strategy", "token"}, {"dynamic", true}}}}}};
  } else {
    r["scheme"] = variant == "fp8_static"                                    ? "FP8"
                  : variant.find("block") != std::string::npos             ? "FP8_BLOCK"
                                                                             : "FP8_DYNAMIC";
  }
  if (variant == "fp8_dynamic_kv") r["kv_cache_scheme"] = kv;
  if (variant == "fp8_dynamic_kv_head") {
    r["kv_cache_scheme"] = kv;
    r["kv_cache_scheme"]["strategy"] = "attn_head";
  }
  if (variant == "fp8_static" || variant.rfind("gptq", 0) == 0 || variant.find("_kv") != std::string::npos)
    r["calibration"] = calib;
  return r;
}

// An e4m3 code's position on the number line (adjacent values differ by 1).
at::Tensor ordinal(const at::Tensor& q) {
  auto b = q.contiguous().view(at::kByte).to(at::kInt);
  auto mag = at::bitwise_and(b, 0x7f);
  return at::where(at::bitwise_and(b, 0x80).ne(0), -mag, mag);
}

// The quantize step on `recipe` (recipe_json's form) with fp8_golden.py's calibration tokens:
// `model_dir` -> `out`.
Status quantize_to(const json& recipe, const std::string& model_dir,
                   const std::filesystem::path& out) {
  auto r = recipe_from_json(recipe);
  if (!r.is_ok()) return r.status();
  QuantizeRequest req;
  req.recipe = *r;
  req.model_dir = model_dir;
  req.output_dir = out;
  req.calibration_samples = golden_samples();
  return run_quantize(req);
}

// The checkpoint of `variant` (fp8_golden.py's recipes and models), quantized on the CPU.
std::filesystem::path quantize_variant(const std::string& variant, const fs::TempDir& dir) {
  const std::filesystem::path out = dir.path() / variant;
  const Status st = quantize_to(recipe_json(variant),
                                variant.find("block") != std::string::npos ? kBlockModel : kTiny, out);
  EXPECT_TRUE(st.is_ok()) << variant << ": " << st.to_string();
  return out;
}

class Fp8OneshotGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(Fp8OneshotGolden, MatchesLlmCompressor) {
  const std::string variant = GetParam();
  auto dir = fs::TempDir::create(::testing::TempDir(), "fp8q_").value();
  const std::filesystem::path out = quantize_variant(variant, dir);
  const std::string model_dir = variant.find("block") != std::string::npos ? kBlockModel : kTiny;

  auto ckpt = model_io::Checkpoint::open(out);
  ASSERT_TRUE(ckpt.is_ok()) << ckpt.status().to_string();
  const json expect_cfg = read_json(kGolden + variant + "/quantization_config.json");
  EXPECT_EQ(ckpt->config()["quantization_config"], expect_cfg)
      << ckpt->config()["quantization_config"].dump(2);

  auto golden = model_io::SafetensorsReader::open(kGolden + variant + "/quantized.safetensors");
  ASSERT_TRUE(golden.is_ok());
  const bool gptq = variant.rfind("gptq", 0) == 0;
  int64_t codes = 0, differing = 0;
  int max_step = 0;
  for (const auto& e : golden->entries()) {
    ASSERT_TRUE(ckpt->has(e.name)) << e.name;
    EXPECT_EQ(ckpt->info(e.name)->dtype, e.dtype) << e.name;
    EXPECT_EQ(ckpt->info(e.name)->shape, e.shape) << e.name;
    const at::Tensor mine = *ckpt->load(e.name), ref = *golden->load(e);
    if (gptq && e.name.ends_with(".weight")) {
      const auto steps = (ordinal(mine) - ordinal(ref)).abs();
      codes += steps.numel();
      differing += steps.gt(0).sum().item<int64_t>();
      max_step = std::max(max_step, steps.max().item<int>());
      continue;
    }
    EXPECT_TRUE(at::equal(mine, ref)) << e.name << ": not bit-identical";
  }
  if (variant.find("_kv") != std::string::npos) {
    EXPECT_TRUE(golden->find("model.layers.1.self_attn.v_scale")) << "the fixture has KV scales";
  }
  if (gptq) {
    std::cout << variant << ": " << differing << " of " << codes << " e4m3 codes differ (max "
              << max_step << " steps)\n";
    RecordProperty("gptq_code_mismatches", static_cast<int>(differing));
    EXPECT_LE(max_step, 2);
    EXPECT_LE(static_cast<double>(differing), 0.02 * std::max<int64_t>(codes, 1));
  }
  // Every other tensor is copied unchanged from the source model.
  auto src = model_io::Checkpoint::open(model_dir);
  for (const auto& name : src->tensor_names()) {
    if (golden->find(name)) continue;
    if (name.find("_proj.") != std::string::npos && name != "lm_head.weight") continue;
    EXPECT_TRUE(at::equal(*ckpt->load(name), *src->load(name))) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, Fp8OneshotGolden,
                         ::testing::Values("fp8_dynamic", "fp8_dynamic_groups", "fp8_static",
                                           "gptq_fp8_dynamic", "fp8_dynamic_kv",
                                           "fp8_dynamic_kv_head", "fp8_block", "gptq_fp8_block"));

// The written checkpoint loads in qbuild's runtime as W8A8-FP8 (an Fp8Linear per targeted
// module) with an FP8 KV cache, and its logits stay close to the unquantized model's.
TEST(Fp8Checkpoint, LoadsAndRunsWithAnFp8KvCache) {
  auto dir = fs::TempDir::create(::testing::TempDir(), "fp8run_").value();
  auto q = model::Model::load(quantize_variant("fp8_dynamic_kv", dir));
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  auto base = model::Model::load(kTiny);
  ASSERT_TRUE(base.is_ok());
  EXPECT_TRUE(q->fp8_kv_cache());
  EXPECT_NE(q->linear("model.layers.0.self_attn.q_proj")->describe().find("w8a8-fp8"), std::string::npos)
      << q->linear("model.layers.0.self_attn.q_proj")->describe();
  EXPECT_NE(q->linear("lm_head")->describe().find("dense"), std::string::npos);
  const auto ids = at::tensor(golden_samples()[0]).reshape({1, -1});
  const auto valid = at::ones_like(ids, at::kBool);
  const auto lq = q->forward(ids, valid), lb = base->forward(ids, valid);
  const double rel = ((lq - lb).abs().max() / lb.abs().max()).item<double>();
  EXPECT_GT(rel, 0.0);   // it is quantized
  EXPECT_LT(rel, 0.1);   // and still the same model
  RecordProperty("fp8_vs_base_max_rel_logit_diff", std::to_string(rel));
}

// Decoding through the FP8 cache (e4m3 buffers, KvCache::create_fp8) computes what the full
// forward's emulation computes: every key and value rounded through e4m3 with its scale.
TEST(Fp8Checkpoint, DecodingThroughTheFp8CacheMatchesTheEmulatedForward) {
  for (const std::string variant : {"fp8_dynamic_kv", "fp8_dynamic_kv_head"}) {
    auto dir = fs::TempDir::create(::testing::TempDir(), "fp8kv_").value();
    auto m = model::Model::load(quantize_variant(variant, dir));
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    const auto ids = at::tensor(golden_samples()[1]).reshape({1, -1});  // [1, T]
    const int64_t t = ids.size(1);
    const auto full = m->forward(ids, at::ones_like(ids, at::kBool));      // [1, T, V]
    auto cache = m->new_cache(1, t);
    ASSERT_TRUE(cache.fp8()) << variant;
    EXPECT_EQ(cache.keys(0).scalar_type(), at::kFloat8_e4m3fn);
    EXPECT_EQ(cache.bytes(), m->config().num_layers * 2 * t * m->config().num_kv_heads *
                                 m->config().head_dim);  // one byte per element
    const auto prefix = ids.narrow(1, 0, t - 1);
    m->forward(prefix, at::ones_like(prefix, at::kBool), &cache);
    const auto last = ids.narrow(1, t - 1, 1);
    const auto step = m->forward(last, at::ones_like(last, at::kBool), &cache);  // [1, 1, V]
    const double diff = (step.select(1, 0) - full.select(1, t - 1)).abs().max().item<double>();
    EXPECT_LT(diff, 1e-4) << variant;  // the same values; attention over a cache sums differently
  }
}

TEST(Fp8KvCache, StoresE4m3CodesAndReturnsThemDequantized) {
  model::ModelConfig c;
  c.num_layers = 1;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  const auto ks = at::tensor({0.5f, 0.25f}).reshape({2, 1, 1}), vs = at::tensor({0.125f});
  auto cache = model::KvCache::create_fp8(c, 1, 3, at::kFloat, at::kCPU, {{ks, vs}});
  auto valid = at::ones({1, 2}, at::kBool);
  cache.begin_step(valid);
  const auto k = at::randn({1, 2, 2, 4}) * 3, v = at::randn({1, 2, 2, 4});
  auto [kr, vr] = cache.append(0, k, v);
  // Stored: e4m3(k / scale); returned: those codes times the scale.
  EXPECT_TRUE(at::equal(cache.keys(0).narrow(2, 0, 2).view(at::kByte),
                        qmath::round_to_fp8(k / ks).view(at::kByte)));
  EXPECT_TRUE(at::equal(kr, qmath::fp8_kv_fake_quantize(k, ks)));
  EXPECT_TRUE(at::equal(vr, qmath::fp8_kv_fake_quantize(v, vs)));
  EXPECT_EQ(cache.bytes(), 2 * 1 * 2 * 3 * 4);
}

// Continuous batching on an FP8 cache: copy_rows() moves the e4m3 codes of prefilled rows, and a
// one-token step with per-row slots writes row b's codes at its own slot()[b].
TEST(Fp8KvCache, PerRowSlotsAndCopyRowsMoveE4m3Codes) {
  model::ModelConfig c;
  c.num_layers = 1;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  const auto ks = at::tensor({0.5f, 0.25f}).reshape({2, 1, 1}), vs = at::tensor({0.125f});
  auto src = model::KvCache::create_fp8(c, 2, 3, at::kFloat, at::kCPU, {{ks, vs}});
  src.begin_step(at::ones({2, 3}, at::kBool));
  const auto k = at::randn({2, 2, 3, 4}) * 3, v = at::randn({2, 2, 3, 4});
  (void)src.append(0, k, v);
  src.advance(3);
  auto pool = model::KvCache::create_fp8(c, 3, 6, at::kFloat, at::kCPU, {{ks, vs}});
  pool.set_row_slots(true);
  ASSERT_TRUE(pool.copy_rows(src, {1}, {2}).is_ok());
  EXPECT_TRUE(at::equal(pool.keys(0).select(0, 2).narrow(1, 0, 3).view(at::kByte),
                        src.keys(0).select(0, 1).view(at::kByte)));
  EXPECT_TRUE(at::equal(pool.values(0).select(0, 2).narrow(1, 0, 3).view(at::kByte),
                        src.values(0).select(0, 1).view(at::kByte)));
  EXPECT_TRUE(pool.slot().equal(at::tensor({0, 0, 3}, at::kLong)));
  // One token per row: rows 0 and 1 at slot 0, row 2 at slot 3.
  pool.begin_step(at::ones({3, 1}, at::kBool));
  const auto k1 = at::randn({3, 2, 1, 4}), v1 = at::randn({3, 2, 1, 4});
  auto [kr, vr] = pool.append(0, k1, v1);
  const auto codes = qmath::round_to_fp8(k1 / ks).view(at::kByte);  // [3, 2, 1, 4]
  for (int64_t b = 0; b < 3; ++b) {
    const int64_t slot = b == 2 ? 3 : 0;
    EXPECT_TRUE(at::equal(pool.keys(0).select(0, b).narrow(1, slot, 1).view(at::kByte), codes.select(0, b))) << b;
    EXPECT_TRUE(at::equal(kr.select(0, b).narrow(1, slot, 1), qmath::fp8_kv_fake_quantize(k1, ks).select(0, b)))
        << b;
  }
  EXPECT_TRUE(at::equal(vr.select(0, 2).narrow(1, 3, 1), qmath::fp8_kv_fake_quantize(v1, vs).select(0, 2)));
}

TEST(Fp8KvCache, CopyRowsRejectsOtherScalesAndNonFp8Sources) {
  model::ModelConfig c;
  c.num_layers = 1;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  const auto ks = at::tensor({0.5f}), vs = at::tensor({0.125f});
  auto dst = model::KvCache::create_fp8(c, 2, 4, at::kFloat, at::kCPU, {{ks, vs}});
  auto other = model::KvCache::create_fp8(c, 1, 2, at::kFloat, at::kCPU, {{ks, at::tensor({0.25f})}});
  EXPECT_EQ(dst.copy_rows(other, {0}, {0}).message(),
            "KV cache copy: the FP8 caches' k_scale / v_scale differ at layer 0 (their e4m3 codes would "
            "mean other values)");
  auto plain = model::KvCache::create(c, 1, 2, at::kFloat8_e4m3fn, at::kCPU);  // e4m3 buffers, no scales
  EXPECT_EQ(dst.copy_rows(plain, {0}, {0}).message(),
            "KV cache copy: one cache is FP8 and the other is not, or their compute dtypes differ");
  auto same = model::KvCache::create_fp8(c, 1, 2, at::kFloat, at::kCPU, {{ks.clone(), vs.clone()}});
  EXPECT_TRUE(dst.copy_rows(same, {0}, {1}).is_ok());
}

// GPTQ with one scale per weight (scheme FP8: per-tensor weights) writes that scale whole; the
// step used to slice it by output rows like a per-channel one.
TEST(Fp8Checkpoint, GptqWithPerTensorWeightsWritesOneScalePerWeight) {
  json r = recipe_json("fp8_static");
  r["modifier"] = "GPTQModifier";
  auto dir = fs::TempDir::create(::testing::TempDir(), "fp8gptqt_").value();
  const Status st = quantize_to(r, kTiny, dir.path() / "out");
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  auto ckpt = model_io::Checkpoint::open(dir.path() / "out");
  ASSERT_TRUE(ckpt.is_ok());
  EXPECT_EQ(ckpt->info("model.layers.0.mlp.down_proj.weight_scale")->shape, std::vector<int64_t>{1});
  EXPECT_EQ(ckpt->load("model.layers.0.mlp.down_proj.weight")->scalar_type(), at::kFloat8_e4m3fn);
}

// ---- on a GPU (skipped without one; scripts/gpu/fp8.sh runs them) ----

model::Model load_on(const std::filesystem::path& dir, at::Device device, at::ScalarType dtype) {
  model::LoadOptions o;
  o.device = device;
  o.dtype = dtype;
  auto m = model::Model::load(dir, o);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return std::move(m).value();
}

// Last-position logits of a prefill of all but the last token and one decode step through the
// model's own cache (FP8 when it has a kv_cache_scheme): [B, V] float32 on the CPU.
at::Tensor decode_logits(const model::Model& m, const at::Tensor& ids_cpu) {
  const auto ids = ids_cpu.to(m.device());
  const int64_t t = ids.size(1);
  auto cache = m.new_cache(ids.size(0), t);
  const auto prefix = ids.narrow(1, 0, t - 1), last = ids.narrow(1, t - 1, 1);
  m.forward(prefix, at::ones_like(prefix, at::kBool), &cache);
  return m.forward(last, at::ones_like(last, at::kBool), &cache).select(1, 0).cpu();
}

at::Tensor golden_ids() {
  std::vector<at::Tensor> rows;
  for (const auto& s : golden_samples()) rows.push_back(at::tensor(s));
  return at::stack(rows);  // [4, 16]
}

// FP8 logits on CUDA (torch._scaled_mm on FP8 tensor cores, activations quantized on the GPU)
// against the CPU's exact emulation of the same checkpoint. Tolerances: fp32 compute, 1e-3 of
// the largest logit (fp32 accumulation order in the tensor cores, and an activation code at a
// rounding boundary may flip); bf16 compute, 3e-2 (bf16 activations and outputs between
// layers, as any bf16 run); and the same top-1 token for >= 90% of the positions.
TEST(Fp8Cuda, LogitsMatchTheCpuEmulation) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  auto dir = fs::TempDir::create(::testing::TempDir(), "fp8cuda_").value();
  const auto ids = golden_ids();
  for (const std::string variant : {"fp8_dynamic", "fp8_static", "fp8_block"}) {
    const auto ckpt = quantize_variant(variant, dir);
    const auto cpu = load_on(ckpt, at::kCPU, at::kFloat);
    const auto ref = cpu.forward(ids, at::ones_like(ids, at::kBool));  // [B, T, V]
    for (const auto dtype : {at::kFloat, at::kBFloat16}) {
      const auto gpu = load_on(ckpt, at::Device("cuda:0"), dtype);
      EXPECT_NE(gpu.linear("model.layers.0.mlp.down_proj")->describe().find("_scaled_mm"),
                std::string::npos)
          << gpu.linear("model.layers.0.mlp.down_proj")->describe();
      const auto dev_ids = ids.to(gpu.device());
      const auto got = gpu.forward(dev_ids, at::ones_like(dev_ids, at::kBool)).cpu();
      const double rel = rel_diff(got, ref);
      const double top1 = got.argmax(-1).eq(ref.argmax(-1)).to(at::kFloat).mean().item<double>();
      std::cout << variant << " " << c10::toString(dtype) << ": max |Δ| / max |logit| " << rel
                << ", top-1 agreement " << top1 << "\n";
      EXPECT_LT(rel, dtype == at::kFloat ? 1e-3 : 3e-2) << variant << " " << dtype;
      EXPECT_GE(top1, 0.9) << variant << " " << dtype;
    }
  }
}

// The FP8-KV decode on CUDA (fused kernels and op by op): against the CPU emulation of the same
// checkpoint (the e4m3 cache on both sides; 3e-2 in bf16), and against the same weights with a bf16 cache (the checkpoint
// without its kv_cache_scheme): the FP8 cache's own error, stated tolerance 0.1 of the largest
// logit with the same top-1 token for >= 3 of 4 rows (a random tiny model: measured values are
// printed).
TEST(Fp8Cuda, KvFp8DecodeMatchesTheBf16CacheDecode) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  auto dir = fs::TempDir::create(::testing::TempDir(), "fp8kvcuda_").value();
  const auto ids = golden_ids();
  for (const std::string variant : {"fp8_dynamic_kv", "fp8_dynamic_kv_head"}) {
    const auto ckpt = quantize_variant(variant, dir);
    const auto cpu = load_on(ckpt, at::kCPU, at::kFloat);
    auto gpu = load_on(ckpt, at::Device("cuda:0"), at::kBFloat16);
    ASSERT_TRUE(gpu.fp8_kv_cache());
    // The fused decode kernels (where the build has them) and the op-by-op path, both into the
    // e4m3 cache.
    const bool fused = gpu.fused_decode();
    const auto ref = decode_logits(cpu, ids), got = decode_logits(gpu, ids);
    gpu.set_fused_decode(false);
    const auto unfused = decode_logits(gpu, ids);
    std::cout << variant << ": decode " << (fused ? "fused" : "op by op") << " vs op by op "
              << rel_diff(got, unfused) << ", op by op vs CPU " << rel_diff(unfused, ref) << "\n";
    EXPECT_LT(rel_diff(unfused, ref), 3e-2) << variant;
    EXPECT_LT(rel_diff(got, unfused), 3e-2) << variant;
    // The same checkpoint without kv_cache_scheme (and without the scales): a bf16 cache.
    const auto plain = dir.path() / (variant + "_bf16kv");
    std::filesystem::create_directories(plain);
    for (const auto& e : std::filesystem::directory_iterator(ckpt))
      std::filesystem::copy(e.path(), plain / e.path().filename());
    json cfg = read_json((plain / "config.json").string());
    cfg["quantization_config"]["kv_cache_scheme"] = nullptr;
    std::ofstream(plain / "config.json") << cfg.dump(2);
    const auto bf16kv = load_on(plain, at::Device("cuda:0"), at::kBFloat16);
    ASSERT_FALSE(bf16kv.fp8_kv_cache());
    const auto base = decode_logits(bf16kv, ids);
    const double vs_cpu = rel_diff(got, ref), vs_bf16 = rel_diff(got, base);
    const int64_t same = got.argmax(-1).eq(base.argmax(-1)).sum().item<int64_t>();
    std::cout << variant << ": FP8-KV decode vs CPU emulation " << vs_cpu << ", vs bf16 KV "
              << vs_bf16 << " (top-1 equal in " << same << " of 4 rows)\n";
    EXPECT_LT(vs_cpu, 3e-2) << variant;
    EXPECT_LT(vs_bf16, 0.1) << variant;
    EXPECT_GE(same, 3) << variant;
  }
}

}  // namespace
}  // namespace qb::quant
