// Named model shapes and random weights for them: benchmarks (bench/model) and tests build a
// model of a real architecture without a checkpoint.
//   "qwen3-8b"  Qwen3-8B: 36 layers, hidden 4096, intermediate 12288, 32 / 8 heads of 128,
//               vocab 151936, untied, rope_theta 1e6 (REFERENCE.md)
//   "tiny"      the shape of tests/golden/models/qwen3-tiny: 2 layers, hidden 64, 4 / 2 heads
//               of 16, intermediate 128, vocab 256
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string_view>

#include "steps/model/model.h"
#include "util/status.h"

namespace qb::model {

// Errors: an unknown name (the message lists the known ones).
Result<ModelConfig> shape_config(std::string_view name);

// Linear weights N(0, 1/in), embeddings N(0, 1), norm weights 1, in `dtype` on `device`, drawn
// from at::manual_seed(seed). May throw c10::Error (out of memory).
ModelWeights random_weights(const ModelConfig& config, at::ScalarType dtype, at::Device device,
                            uint64_t seed);

}  // namespace qb::model
