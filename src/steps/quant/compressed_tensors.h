// Writing quantized Linears in the compressed-tensors 0.19.0 checkpoint format (what
// llm-compressor's save_pretrained(save_compressed=...) writes and vLLM / transformers load).
//
// save_compressed: true
//   int-quantized  (a group with input activations: W8A8)
//     <m>.weight int8 [out, in], <m>.weight_scale [out, 1] | [1] (weight dtype),
//     <m>.input_scale [1] (activation dtype; static activations only)
//   pack-quantized (weight-only)
//     <m>.weight_packed int32 [out, ceil(in·bits/32)] (pack.h), <m>.weight_shape int64 [2],
//     <m>.weight_scale [out, 1] | [out, in/group_size],
//     asymmetric: <m>.weight_zero_point int32 [ceil(out·bits/32), 1 | in/group_size] — the int8
//     zero points packed like the codes but along the output rows (pack.h,
//     pack_int_to_int32_rows), as vLLM's WNA16 kernels read them
//   symmetric zero points are not written (compressed-tensors drops them for vLLM).
// save_compressed: false (format "dense", quantization_status "frozen")
//   <m>.weight = the fake-quantized weight (dequantized codes) in the weight dtype, plus
//   <m>.weight_scale, <m>.weight_zero_point (int8 zeros) and, for static activations,
//   <m>.input_scale and <m>.input_zero_point. llm-compressor stores the original weight there
//   for RTN (its loader re-applies the quantization); qbuild stores the quantized values so a
//   plain dense loader evaluates the quantized weights too. Both give the same forward pass.
//
// quantization_config (config.json), field by field as compressed-tensors'
// QuantizationConfig.from_pretrained writes it: config groups numbered group_0.. in the order
// their first module appears, each {"format", "input_activations", "output_activations": null,
// "targets", "weights"} with every QuantizationArgs field; "ignore" lists every Linear module
// left unquantized (in module order); "format" is the groups' format or "mixed-precision";
// "global_compression_ratio": null, "kv_cache_scheme": null, "quant_method":
// "compressed-tensors", "quantization_status": "compressed" | "frozen", "sparsity_config": {},
// "transform_config" (the input model's, else {}), "version": "0.19.0".
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/qmath/qparams.h"
#include "steps/quant/module_plan.h"
#include "steps/quant/recipe.h"
#include "util/status.h"

namespace qb::quant {

inline constexpr const char* kCompressedTensorsVersion = "0.19.0";

// One quantized Linear, on the CPU.
struct QuantizedLinear {
  at::Tensor q;                        // int8 [out, in]
  qmath::QParams weight_qparams;       // scale in the weight dtype
  at::Tensor dequantized;              // [out, in], weight dtype (needed when !save_compressed)
  std::optional<at::Tensor> input_scale;  // [1], activation dtype (static activations)
};

// "int-quantized" | "pack-quantized" for a group (save_compressed), "dense" otherwise.
const char* group_format(const ConfigGroup& g, bool save_compressed);

// The tensors replacing "<module>.weight" (the bias is written separately, unchanged).
// Errors: packing failures (codes out of range).
Result<std::vector<std::pair<std::string, at::Tensor>>> linear_tensors(
    const std::string& module, const ConfigGroup& g, const QuantizedLinear& ql,
    bool save_compressed);

// compressed-tensors' QuantizationArgs JSON for `a` (every field, as it serialises them).
nlohmann::json quant_args_json(const qmath::QuantArgs& a, qmath::Role role);

// config.json's quantization_config. `tied_lm_head`: the model has an lm_head module sharing
// embed_tokens (not a checkpoint tensor; listed in ignore like any unquantized Linear).
nlohmann::json quantization_config(const std::vector<PlannedLinear>& plan, bool tied_lm_head,
                                   bool save_compressed, const nlohmann::json& transform_config);

}  // namespace qb::quant
