// Named model shapes and random weights for them: benchmarks (bench/model) and tests build a
// model of a real architecture without a checkpoint.
//   "qwen3-8b"  Qwen3-8B: 36 layers, hidden 4096, intermediate 12288, 32 / 8 heads of 128,
//               vocab 151936, untied, rope_theta 1e6 (REFERENCE.md)
//   "tiny"      the shape of tests/golden/models/qwen3-tiny: 2 layers, hidden 64, 4 / 2 heads
//               of 16, intermediate 128, vocab 256
//   "demo"      the tiny shape with Qwen3's real vocabulary (151936, untied as Qwen3-8B, bf16): the
//               embedded demo pipeline's model, runnable with the real Qwen3 tokenizer
// write_random_checkpoint() saves one as a Hugging Face folder (`qbuild random-model`).
#pragma once

#include <filesystem>

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "steps/model/model.h"
#include "util/status.h"

namespace qb::model {

// Errors: an unknown name (the message lists the known ones).
Result<ModelConfig> shape_config(std::string_view name);

// Linear weights N(0, 1/in), embeddings N(0, 1), norm weights 1, in `dtype` on `device`, drawn
// from at::manual_seed(seed). May throw c10::Error (out of memory).
ModelWeights random_weights(const ModelConfig& config, at::ScalarType dtype, at::Device device,
                            uint64_t seed);

// The transformers release whose save_pretrained() hf_config_json() mirrors (the golden
// scripts' pin, tests/golden/scripts), written as config.json's "transformers_version".
inline constexpr const char* kHfTransformersVersion = "5.17.0";

// The config.json transformers 5.17 writes for `config` (Qwen3ForCausalLM / Qwen2ForCausalLM /
// LlamaForCausalLM), field for field (Qwen3Config(...).save_pretrained(); RandomModel tests
// compare the key sets), with `dtype` as the stored dtype.
nlohmann::json hf_config_json(const ModelConfig& config, at::ScalarType dtype);

struct RandomCheckpointRequest {
  std::string shape = "demo";          // a shape_config() name
  std::optional<ModelConfig> config;    // instead of the named shape (tests' odd shapes)
  at::ScalarType dtype = at::kBFloat16;
  at::Device device = at::kCPU;         // where the weights are drawn (CUDA: fast for 8B shapes)
  uint64_t seed = 0;
  int64_t layers = 0;                   // > 0: this many decoder layers instead of the shape's
  // RMSNorm weights drawn as 1 + norm_jitter·N(0, 1) (0: all ones). Non-unit norms make the
  // SpinQuant norm fusion do real work, as a trained checkpoint does.
  double norm_jitter = 0.2;
  std::filesystem::path tokenizer_dir;  // its tokenizer files are copied (optional)
  std::filesystem::path out_dir;        // created; must not hold a config.json already
};
// Deterministic for (shape, dtype, device kind, seed, norm_jitter) and the libtorch version.
// Errors: unknown shape, out_dir already a model, I/O, a tokenizer whose ids exceed the vocab.
Status write_random_checkpoint(const RandomCheckpointRequest& req);

}  // namespace qb::model
