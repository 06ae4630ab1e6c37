// Quantization arguments: the plain-struct mirror of compressed-tensors' QuantizationArgs
// (compressed-tensors 0.19.0, quantization/quant_args.py) for the formats qbuild builds: int
// (W8A8, weight-only) and float e4m3 (FP8 W8A8 and the FP8 KV cache; qmath/fp8.h).
//
// Names on the wire ("int", "channel", "static_minmax", ...) are compressed-tensors' own, so a
// QuantArgs round-trips through a recipe and through config.json's quantization_config.
// Whole recipes (presets, which schemes vLLM can load) are validated in spec/quant_recipe.h;
// here the arguments of one tensor's quantization and what the arithmetic itself needs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace qb::spec {

enum class QuantType { kInt, kFloat };  // "int" | "float" (float: fp8 e4m3, num_bits 8 only)

// Which elements share one scale (and zero point):
//   kTensor  one for the whole tensor         scale [1]
//   kChannel one per output row of a weight   scale [out, 1]
//   kGroup   one per `group_size` columns     scale [out, in / group_size]
//   kToken   one per activation row (dynamic) scale [..., 1]
//   kBlock   one per block_structure [rows, cols] tile of a weight (fp8)
//                                              scale [out / rows, in / cols]
//   kAttnHead one per attention head of the KV cache (fp8 kv_cache_scheme)
//                                              scale [num_kv_heads, 1, 1]
enum class Strategy { kTensor, kChannel, kGroup, kToken, kBlock, kAttnHead };

// GPTQ column order. compressed-tensors 0.19 accepts "weight" and its alias "static" (both:
// permute columns by descending diag(H) during GPTQ only; the stored format is unchanged);
// "group"/"dynamic" were removed there and are rejected here too.
enum class ActOrder { kNone, kWeight };

// Observers of llm-compressor 0.14 (observers/min_max.py, observers/mse.py):
//   kMemorylessMinMax  min/max of the last observed batch only
//   kStaticMinMax      running global min/max over every batch
//   kMinMax            first batch's min/max, then min = (1 - c)·min + c·batch_min, c = 0.01
//   kMemorylessMse     grid search over shrink factors p = 1 - i/grid, i < maxshrink·grid,
//                      error Σ|fq(x) - x|^norm, early stop after `patience` steps without any
//                      improvement (the eager CPU path; see observer.h)
//   kMse               kMemorylessMse per batch, then the moving average of kMinMax
// Weights always use a memoryless observer (llm-compressor overrides minmax/static_minmax to
// memoryless_minmax and mse to memoryless_mse for weights).
enum class ObserverKind { kMemorylessMinMax, kStaticMinMax, kMinMax, kMemorylessMse, kMse };

struct ObserverOptions {
  double averaging_constant = 0.01;  // kMinMax, kMse
  double maxshrink = 0.20;           // mse
  int patience = 5;                  // mse
  double grid = 100.0;               // mse
  double norm = 2.4;                 // mse
  bool operator==(const ObserverOptions&) const = default;
};

struct QuantArgs {
  int num_bits = 8;
  QuantType type = QuantType::kInt;
  bool symmetric = true;
  Strategy strategy = Strategy::kTensor;
  std::int64_t group_size = 0;  // > 0 exactly when strategy == kGroup
  // [rows, cols] of one scale's tile, both > 0 exactly when strategy == kBlock ({0, 0} else).
  std::array<std::int64_t, 2> block_structure{0, 0};
  bool dynamic = false;         // scales computed at run time from each input (activations)
  // nullopt: the llm-compressor default for the role (weights: memoryless_minmax; static
  // activations: minmax; dynamic: none). See default_observer().
  std::optional<ObserverKind> observer;
  ObserverOptions observer_options;
  ActOrder actorder = ActOrder::kNone;
  bool operator==(const QuantArgs&) const = default;

  std::int64_t qmin() const { return -(std::int64_t{1} << (num_bits - 1)); }     // -128 for 8 bits
  std::int64_t qmax() const { return (std::int64_t{1} << (num_bits - 1)) - 1; }  //  127 for 8 bits
  bool is_fp8() const { return type == QuantType::kFloat && num_bits == 8; }
};

enum class Role { kWeight, kInputActivation };

// The observer llm-compressor 0.14 actually runs for `args` in `role` (weights are forced to
// the memoryless variant). Dynamic activations have no observer: nullopt.
std::optional<ObserverKind> effective_observer(const QuantArgs& args, Role role);

// Wire names, as compressed-tensors writes them.
const char* quant_type_name(QuantType t);        // "int" | "float"
const char* strategy_name(Strategy s);           // "tensor" | "channel" | "group" | "token"
const char* observer_name(ObserverKind o);       // "memoryless_minmax" | "static_minmax" | ...
Result<QuantType> parse_quant_type(std::string_view s);
Result<Strategy> parse_strategy(std::string_view s);  // also rejects "tensor_group"
Result<ObserverKind> parse_observer(std::string_view s);
Result<ActOrder> parse_actorder(std::string_view s);  // "weight" | "static" -> kWeight; "none"

// Arithmetic preconditions only: int type, 1 <= num_bits <= 8, group_size > 0 iff kGroup.
// Messages: "quantization args: ...".
Status check_int_args(const QuantArgs& args);

// The same for fp8 (qmath/fp8.h): float, num_bits 8, symmetric, block_structure > 0 iff kBlock.
Status check_fp8_args(const QuantArgs& args);

// check_int_args or check_fp8_args by type: what the shared code (observers) accepts.
Status check_quant_args(const QuantArgs& args);

}  // namespace qb::spec
