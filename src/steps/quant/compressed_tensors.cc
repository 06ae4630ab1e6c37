// compressed-tensors checkpoint tensors and quantization_config (see compressed_tensors.h).
#include "steps/quant/compressed_tensors.h"

#include "steps/qmath/pack.h"

namespace qb::quant {

using nlohmann::json;

const char* group_format(const ConfigGroup& g, bool save_compressed) {
  if (!save_compressed) return "dense";
  // compressed-tensors' infer_module_format: int weights with (int) input activations ->
  // int-quantized; int weight-only of 1..8 bits -> pack-quantized.
  return g.input_activations ? "int-quantized" : "pack-quantized";
}

Result<std::vector<std::pair<std::string, at::Tensor>>> linear_tensors(
    const std::string& module, const ConfigGroup& g, const QuantizedLinear& ql,
    bool save_compressed) {
  std::vector<std::pair<std::string, at::Tensor>> t;
  const auto& scale = ql.weight_qparams.scale;
  if (!save_compressed) {
    t.emplace_back(module + ".weight", ql.dequantized);
    t.emplace_back(module + ".weight_scale", scale);
    t.emplace_back(module + ".weight_zero_point", ql.weight_qparams.zero_point);
    if (ql.input_scale) {
      t.emplace_back(module + ".input_scale", *ql.input_scale);
      t.emplace_back(module + ".input_zero_point", at::zeros({1}, at::kChar));
    }
    return t;
  }
  if (g.input_activations) {
    t.emplace_back(module + ".weight", ql.q);
    t.emplace_back(module + ".weight_scale", scale);
    if (ql.input_scale) t.emplace_back(module + ".input_scale", *ql.input_scale);
    return t;
  }
  QB_ASSIGN_OR_RETURN_CTX(auto packed, qmath::pack_int_to_int32(ql.q, g.weights.num_bits),
                          module + ".weight_packed");
  t.emplace_back(module + ".weight_packed", packed);
  t.emplace_back(module + ".weight_scale", scale);
  t.emplace_back(module + ".weight_shape",
                 at::tensor({ql.q.size(0), ql.q.size(1)}, at::TensorOptions().dtype(at::kLong)));
  if (!g.weights.symmetric) {
    QB_ASSIGN_OR_RETURN_CTX(auto zp, qmath::pack_int_to_int32_rows(ql.weight_qparams.zero_point, g.weights.num_bits),
                            module + ".weight_zero_point");
    t.emplace_back(module + ".weight_zero_point", zp);
  }
  return t;
}

json quant_args_json(const qmath::QuantArgs& a, qmath::Role role) {
  json observer = nullptr;
  // As llm-compressor records it: weights' observer (memoryless_minmax unless mse), static
  // activations' observer (minmax by default), none for dynamic activations.
  if (auto o = qmath::effective_observer(a, role)) observer = qmath::observer_name(*o);
  // observer_kwargs: only values that differ from the observer defaults (llm-compressor writes
  // what the recipe gave; with defaults that is {}).
  json kw = json::object();
  const qmath::ObserverOptions d;
  const auto& o = a.observer_options;
  if (o.averaging_constant != d.averaging_constant) kw["averaging_constant"] = o.averaging_constant;
  if (o.maxshrink != d.maxshrink) kw["maxshrink"] = o.maxshrink;
  if (o.patience != d.patience) kw["patience"] = o.patience;
  if (o.grid != d.grid) kw["grid"] = o.grid;
  if (o.norm != d.norm) kw["norm"] = o.norm;
  return json{{"actorder", a.actorder == qmath::ActOrder::kWeight ? json("static") : json(nullptr)},
              {"block_structure", nullptr},
              {"dynamic", a.dynamic},
              {"group_size", a.strategy == qmath::Strategy::kGroup ? json(a.group_size)
                                                                   : json(nullptr)},
              {"num_bits", a.num_bits},
              {"observer", observer},
              {"observer_kwargs", kw},
              {"scale_dtype", nullptr},
              {"strategy", qmath::strategy_name(a.strategy)},
              {"symmetric", a.symmetric},
              {"type", qmath::quant_type_name(a.type)},
              // compressed-tensors records the zero points' dtype when it keeps them.
              {"zp_dtype", a.symmetric ? json(nullptr) : json("torch.int8")}};
}

json quantization_config(const std::vector<PlannedLinear>& plan, bool tied_lm_head,
                         bool save_compressed, const json& transform_config) {
  json groups = json::object();
  std::vector<const ConfigGroup*> order;
  json ignore = json::array();
  std::vector<std::string> formats;
  for (const auto& p : plan) {
    if (!p.group) {
      ignore.push_back(p.module);
      continue;
    }
    if (std::find(order.begin(), order.end(), p.group) != order.end()) continue;
    order.push_back(p.group);
    const ConfigGroup& g = *p.group;
    const std::string fmt = group_format(g, save_compressed);
    if (std::find(formats.begin(), formats.end(), fmt) == formats.end()) formats.push_back(fmt);
    groups["group_" + std::to_string(order.size() - 1)] = {
        {"format", fmt},
        {"input_activations", g.input_activations
                                  ? quant_args_json(*g.input_activations,
                                                    qmath::Role::kInputActivation)
                                  : json(nullptr)},
        {"output_activations", nullptr},
        {"targets", g.targets},
        {"weights", quant_args_json(g.weights, qmath::Role::kWeight)}};
  }
  if (tied_lm_head) ignore.push_back("lm_head");
  std::string format = formats.empty() ? "dense" : formats.size() == 1 ? formats[0]
                                                                        : "mixed-precision";
  return json{{"config_groups", groups},
              {"format", format},
              {"global_compression_ratio", nullptr},
              {"ignore", ignore},
              {"kv_cache_scheme", nullptr},
              {"quant_method", "compressed-tensors"},
              {"quantization_status", save_compressed ? "compressed" : "frozen"},
              {"sparsity_config", json::object()},
              {"transform_config",
               transform_config.is_null() ? json::object() : transform_config},
              {"version", kCompressedTensorsVersion}};
}

}  // namespace qb::quant
