// Wire names and basic checks for QuantArgs (see quant_args.h).
#include "spec/quant_args.h"

#include <string>

namespace qb::spec {

std::optional<ObserverKind> effective_observer(const QuantArgs& args, Role role) {
  if (role == Role::kWeight) {
    // llm-compressor 0.14 calibration.py initialize_observer: weights are always memoryless.
    if (args.observer == ObserverKind::kMse || args.observer == ObserverKind::kMemorylessMse)
      return ObserverKind::kMemorylessMse;
    return ObserverKind::kMemorylessMinMax;
  }
  if (args.dynamic) return std::nullopt;
  // QuantizationMixin._apply_observer_overrides: static activations default to "minmax".
  return args.observer.value_or(ObserverKind::kMinMax);
}

const char* quant_type_name(QuantType t) { return t == QuantType::kInt ? "int" : "float"; }

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::kTensor: return "tensor";
    case Strategy::kChannel: return "channel";
    case Strategy::kGroup: return "group";
    case Strategy::kToken: return "token";
    case Strategy::kBlock: return "block";
    case Strategy::kAttnHead: return "attn_head";
  }
  return "?";
}

const char* observer_name(ObserverKind o) {
  switch (o) {
    case ObserverKind::kMemorylessMinMax: return "memoryless_minmax";
    case ObserverKind::kStaticMinMax: return "static_minmax";
    case ObserverKind::kMinMax: return "minmax";
    case ObserverKind::kMemorylessMse: return "memoryless_mse";
    case ObserverKind::kMse: return "mse";
  }
  return "?";
}

Result<QuantType> parse_quant_type(std::string_view s) {
  if (s == "int") return QuantType::kInt;
  if (s == "float") return QuantType::kFloat;
  return invalid_argument("unknown quantization type '" + std::string(s) +
                          "' (expected int or float)");
}

Result<Strategy> parse_strategy(std::string_view s) {
  if (s == "tensor") return Strategy::kTensor;
  if (s == "channel") return Strategy::kChannel;
  if (s == "group") return Strategy::kGroup;
  if (s == "token") return Strategy::kToken;
  if (s == "block") return Strategy::kBlock;
  if (s == "attn_head") return Strategy::kAttnHead;
  if (s == "tensor_group")
    return invalid_argument("strategy '" + std::string(s) +
                            "' is not supported by qbuild (tensor, channel, group, token, block, "
                            "attn_head)");
  return invalid_argument("unknown strategy '" + std::string(s) +
                          "' (expected tensor, channel, group, token, block or attn_head)");
}

Result<ObserverKind> parse_observer(std::string_view s) {
  if (s == "memoryless_minmax") return ObserverKind::kMemorylessMinMax;
  if (s == "static_minmax") return ObserverKind::kStaticMinMax;
  if (s == "minmax") return ObserverKind::kMinMax;
  if (s == "memoryless_mse") return ObserverKind::kMemorylessMse;
  if (s == "mse") return ObserverKind::kMse;
  return invalid_argument("unknown observer '" + std::string(s) +
                          "' (expected memoryless_minmax, static_minmax, minmax, "
                          "memoryless_mse or mse)");
}

Result<ActOrder> parse_actorder(std::string_view s) {
  if (s == "weight" || s == "static") return ActOrder::kWeight;
  if (s == "none") return ActOrder::kNone;
  if (s == "group" || s == "dynamic")
    return invalid_argument("actorder '" + std::string(s) +
                            "' was removed in compressed-tensors 0.19; use 'weight' or none");
  return invalid_argument("unknown actorder '" + std::string(s) +
                          "' (expected weight, static or none)");
}

Status check_int_args(const QuantArgs& args) {
  if (args.type != QuantType::kInt)
    return invalid_argument("quantization args: expected type int, got float (fp8 has its own "
                            "functions: qmath/fp8.h)");
  if (args.num_bits < 1 || args.num_bits > 8)
    return invalid_argument("quantization args: num_bits " + std::to_string(args.num_bits) +
                            " is out of range [1, 8]");
  if (args.strategy == Strategy::kGroup && args.group_size <= 0)
    return invalid_argument("quantization args: strategy group requires group_size > 0");
  if (args.strategy != Strategy::kGroup && args.group_size > 0)
    return invalid_argument("quantization args: group_size requires strategy group");
  if (args.strategy == Strategy::kBlock || args.strategy == Strategy::kAttnHead)
    return invalid_argument(std::string("quantization args: strategy ") +
                            strategy_name(args.strategy) + " requires type float (fp8)");
  return Status::ok();
}

Status check_fp8_args(const QuantArgs& args) {
  if (!args.is_fp8())
    return invalid_argument("quantization args: fp8 needs type float with num_bits 8, got " +
                            std::string(quant_type_name(args.type)) + " with num_bits " +
                            std::to_string(args.num_bits));
  if (!args.symmetric)
    return invalid_argument("quantization args: fp8 quantization is symmetric only");
  if (args.strategy == Strategy::kGroup && args.group_size <= 0)
    return invalid_argument("quantization args: strategy group requires group_size > 0");
  if (args.strategy != Strategy::kGroup && args.group_size > 0)
    return invalid_argument("quantization args: group_size requires strategy group");
  const bool has_block = args.block_structure[0] > 0 || args.block_structure[1] > 0;
  if (args.strategy == Strategy::kBlock &&
      (args.block_structure[0] <= 0 || args.block_structure[1] <= 0))
    return invalid_argument("quantization args: strategy block requires a block_structure of two "
                            "positive sizes");
  if (args.strategy != Strategy::kBlock && has_block)
    return invalid_argument("quantization args: block_structure requires strategy block");
  return Status::ok();
}

Status check_quant_args(const QuantArgs& args) {
  return args.type == QuantType::kFloat ? check_fp8_args(args) : check_int_args(args);
}

}  // namespace qb::spec
