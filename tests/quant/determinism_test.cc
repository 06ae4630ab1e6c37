// The quantize step writes the same bytes for the same inputs and recipe whatever the machine's
// thread count (CPU), and on two runs on the same GPU (issue 15: artifacts are shared between
// machines through the cache, so the same key must give the same bits).
//
// The model is random (hidden 256, GQA 4 / 2 heads of 64, intermediate 1024, 2 layers). MKL
// splits a GEMM's inner dimension across threads when it is long against the output: the GPTQ
// Hessian's xᵀx over a 2048-token sample, and down_proj (1024 inputs) on a 64-token sample. Each
// moved bits of the output (GPTQ codes and the report; static input scales) before the step
// pinned one intra-op thread on the CPU.
#include <gtest/gtest.h>

#include "quant/recipe_json.h"

#include <ATen/Parallel.h>

#include <iostream>
#include <map>

#include "steps/model/random_model.h"
#include "steps/quant/quantize.h"
#include "util/fs.h"
#include "util/hash.h"

namespace qb::quant {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

const stdfs::path& random_model() {
  static const stdfs::path dir = [] {
    auto tmp = fs::TempDir::create(::testing::TempDir(), "quant_det_model_").value();
    stdfs::path path = tmp.path() / "model";
    tmp.release();  // kept for the process: every test here reads it
    model::RandomCheckpointRequest req;
    auto config = model::shape_config("tiny").value();
    config.hidden_size = 256;
    config.num_heads = 4;
    config.num_kv_heads = 2;
    config.head_dim = 64;
    config.intermediate_size = 1024;
    config.vocab_size = 512;
    config.max_position_embeddings = 4096;
    config.tie_word_embeddings = false;
    req.config = config;
    req.dtype = at::kFloat;
    req.seed = 15;
    req.out_dir = path;
    const Status s = model::write_random_checkpoint(req);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return path;
  }();
  return dir;
}

// Short samples for RTN (static input scales come from the forward's GEMMs), long ones for GPTQ
// (its Hessian reduces over tokens).
std::vector<Sample> samples(const std::string& modifier) {
  const bool gptq = modifier == "GPTQModifier";
  const int64_t n = gptq ? 2 : 8, len = gptq ? 2048 : 64;
  auto gen = at::detail::createCPUGenerator(20);
  auto ids = at::randint(512, {n, len}, gen, at::TensorOptions().dtype(at::kInt));
  std::vector<Sample> out;
  for (int64_t i = 0; i < n; ++i) {
    auto row = ids[i].contiguous();
    out.emplace_back(row.data_ptr<int>(), row.data_ptr<int>() + row.numel());
  }
  return out;
}

json recipe_json(const std::string& modifier) {
  json weights = {{"num_bits", 8}, {"type", "int"}, {"symmetric", true}, {"strategy", "channel"}};
  json acts = {{"num_bits", 8},        {"type", "int"},   {"symmetric", true},
               {"strategy", "tensor"}, {"dynamic", false}, {"observer", "static_minmax"}};
  return {{"modifier", modifier},
          {"config_groups",
           {{"group_0",
             {{"targets", {"Linear"}}, {"weights", weights}, {"input_activations", acts}}}}},
          {"ignore", {"lm_head"}},
          {"calibration", {{"source_kind", "txt"}}}};  // the samples are given directly
}

// Every file the step wrote, by name.
std::map<std::string, std::string> run_step(const std::string& modifier, at::Device device,
                                            std::optional<at::ScalarType> dtype,
                                            const stdfs::path& out) {
  auto r = recipe_from_json(recipe_json(modifier));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  QuantizeRequest req;
  req.recipe = *r;
  req.model_dir = random_model();
  req.output_dir = out;
  req.calibration_samples = samples(modifier);
  req.device = device;
  req.compute_dtype = dtype;
  const Status s = run_quantize(req);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  std::map<std::string, std::string> files;
  for (const auto& e : stdfs::directory_iterator(out))
    files[e.path().filename().string()] = fs::read_file(e.path()).value();
  return files;
}

void expect_same_files(const std::map<std::string, std::string>& a,
                       const std::map<std::string, std::string>& b, const std::string& what) {
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << what << ": " << name;
    EXPECT_TRUE(bytes == b.at(name)) << what << ": " << name << " differs";
  }
}

class ThreadCount : public ::testing::TestWithParam<std::string> {};

TEST_P(ThreadCount, OneAndThreeThreadsWriteTheSameBytes) {
  const int saved = at::get_num_threads();
  auto dir = fs::TempDir::create(::testing::TempDir(), "quant_det_").value();
  at::set_num_threads(1);
  const auto one = run_step(GetParam(), at::kCPU, std::nullopt, dir.path() / "one");
  at::set_num_threads(3);
  const auto three = run_step(GetParam(), at::kCPU, std::nullopt, dir.path() / "three");
  at::set_num_threads(saved);
  EXPECT_EQ(at::get_num_threads(), saved);
  expect_same_files(one, three, GetParam());
  EXPECT_TRUE(one.count("model.safetensors") && one.count("quant_report.json"));
  // Printed so that runs on other machines can be compared by eye (the CPU's ISA matters).
  for (const auto& [name, bytes] : one)
    std::cout << GetParam() << " " << name << " xxh3 " << hash_bytes(bytes.data(), bytes.size()).hex()
              << "\n";
}

INSTANTIATE_TEST_SUITE_P(Modifiers, ThreadCount,
                         ::testing::Values("QuantizationModifier", "GPTQModifier"));

// The step leaves the caller's thread count as it found it.
TEST(QuantizeStep, RestoresTheIntraOpThreadCount) {
  const int saved = at::get_num_threads();
  at::set_num_threads(2);
  auto dir = fs::TempDir::create(::testing::TempDir(), "quant_det_").value();
  run_step("QuantizationModifier", at::kCPU, std::nullopt, dir.path() / "out");
  EXPECT_EQ(at::get_num_threads(), 2);
  at::set_num_threads(saved);
}

// On a GPU (skipped without one), as the pipeline runs it (bf16 compute): two runs, the same
// bytes. cuBLAS is deterministic for one GPU model and library version with a single stream;
// the step's kernels use no atomics whose order varies.
TEST(QuantizeStep, OnCudaTwoRunsWriteTheSameBytes) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const std::string modifier : {"QuantizationModifier", "GPTQModifier"}) {
    auto dir = fs::TempDir::create(::testing::TempDir(), "quant_det_cuda_").value();
    const auto a = run_step(modifier, at::Device("cuda:0"), at::kBFloat16, dir.path() / "a");
    const auto b = run_step(modifier, at::Device("cuda:0"), at::kBFloat16, dir.path() / "b");
    expect_same_files(a, b, modifier + " on cuda:0");
  }
}

}  // namespace
}  // namespace qb::quant
