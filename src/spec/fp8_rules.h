// The rules of FP8 (e4m3) recipes: a config group with `type: float` weights or activations,
// and the `kv_cache_scheme`. What compressed-tensors 0.19.0 accepts (quantization/quant_args.py
// QuantizationArgs.validate_model_after, quant_scheme.py) narrowed to what vLLM loads and
// qbuild's runtime computes as vLLM does:
//
//   weights      float, num_bits 8, symmetric, static; strategy tensor | channel | block
//                (vLLM CompressedTensorsConfig._is_fp8_w8a8); block_structure [n, k] of positive
//                sizes exactly with strategy block, square (vLLM quantizes the activations of a
//                block layer in groups of block_structure[0] along the input dimension,
//                CompressedTensorsW8A8Fp8.__init__; the GEMM pairs them with the weight's
//                k-blocks); observer memoryless_minmax (qbuild has no fp8 MSE search).
//   activations  required (fp8 weight-only, W8A16-FP8, is not built); float, num_bits 8,
//                symmetric; static: per tensor only; dynamic: per token with tensor/channel
//                weights (what vLLM runs whatever the config says), per group of
//                block_structure[1] with block weights.
//   kv cache     float, num_bits 8, symmetric, static; strategy tensor | attn_head
//                (vLLM CompressedTensorsConfig._validate_kv_cache_scheme); observer minmax
//                (llm-compressor's default when none is written), static_minmax or
//                memoryless_minmax.
//
// Messages quote compressed-tensors' or vLLM's own where one of them rejects the recipe.
#pragma once

#include <string>

#include "spec/issues.h"
#include "spec/quant_recipe.h"

namespace qb::spec {

// True when the group is an FP8 group (weights or activations of type float): its rules are
// validate_fp8_group's, not the int rules of quant_recipe.cc.
bool is_fp8_group(const ConfigGroup& g);

// Every rule above for one group at canonical path `at` ("config_groups.group_0").
void validate_fp8_group(const ConfigGroup& g, Modifier modifier, const std::string& at,
                        Issues& out);

// The kv_cache_scheme at canonical path `at` ("kv_cache_scheme").
void validate_kv_cache_scheme(const QuantArgs& kv, const std::string& at, Issues& out);

// e4m3's largest finite value (torch.finfo(torch.float8_e4m3fn).max): fp8 scales are
// absmax / kFp8Max.
inline constexpr double kFp8Max = 448.0;

}  // namespace qb::spec
