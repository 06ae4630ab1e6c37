// The smooth step: a Hugging Face checkpoint in, the same model with a recipe's smoothing stages
// (SmoothQuantModifier, AWQModifier; spec/smooth_spec.h) folded into its weights out — an fp
// checkpoint the quantize step then quantizes, with llm-compressor 0.14.0.1's semantics.
//
// Phases (timed in the report):
//   plan       each stage's mappings resolved per layer (smooth_plan.h); errors before any work
//   stages     each stage is llm-compressor's sequential pipeline over the model the previous
//              stage left (its "independent" pipeline): from the embeddings, one decoder layer at
//              a time, in transformers' eager modules (model.h, LayerPath::kEager), the samples
//              in oneshot's order:
//                SmoothQuant  1. every sample through the layer; the smooth layers' outputs
//                                give per-channel min/max
//                             2. scales (smoothing_math.h) folded into the layer's weights
//                AWQ          1. every sample through the layer; mean |x| at each mapping's
//                                first balance layer
//                             2. every sample through the layer again, and through each
//                                mapping's parent (attention, MLP, o_proj, down_proj) with the
//                                original weights and with each grid point's Q(W·s)/s: the
//                                loss of every grid point accumulated batch by batch (the same
//                                sums llm-compressor forms from its cached parent inputs,
//                                without caching them)
//                             3. each mapping's best scales folded in, in mapping order
//              then every sample through the smoothed layer: the next layer's input. On a GPU
//              the model stays on the host and each layer visits the device for its turn.
//   check      the saved model and the source, both in float32, on fixed prompts
//              (transforms/equivalence.h): smoothing is exact in exact arithmetic, so a large
//              difference is a bug; the step fails above the tolerance
//   write      every tensor of the source, the smoothed layers' norms and projections in the
//              compute dtype (what the quantize step then computes with), config.json and the
//              rest copied; smooth_report.json: per mapping its scales' statistics, AWQ's chosen
//              ratio and loss before/after, the skipped mappings
//
// Determinism: as the quantize step (one intra-op thread on the CPU; fp32 results bit-identical
// to llm-compressor's on the fixtures).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/smooth_spec.h"
#include "steps/model/model.h"
#include "steps/quant/calibration.h"
#include "util/status.h"

namespace qb::quant {

inline constexpr const char* kSmoothReportFile = "smooth_report.json";

struct SmoothRequest {
  spec::SmoothSpec spec;
  std::filesystem::path model_dir;   // unquantized input checkpoint
  std::filesystem::path output_dir;  // created
  std::filesystem::path calibration_source;
  std::filesystem::path tokenizer_dir;  // default: model_dir
  std::vector<Sample> calibration_samples;  // given directly (tests, benchmarks)
  std::int64_t calibration_batch_size = 1;
  at::Device device = at::kCPU;
  std::optional<at::ScalarType> compute_dtype;  // default: the checkpoint's dtype
  model::LayerPath calibration_path = model::LayerPath::kEager;
  // The equivalence check: text prompts (encoded with the source's tokenizer) or token ids;
  // none: transforms::default_prompt_ids. Tolerance on max ‖Δlogits‖/‖logits‖: `max_rel_error`
  // for a float32 compute dtype, `max_rel_error_low_precision` for bf16/fp16 (the smoothed
  // weights are rounded to it: ~1e-2 on real models, while a wrong transform gives ~1).
  std::vector<std::string> equivalence_prompts;
  std::vector<std::vector<int64_t>> equivalence_prompt_ids;
  double max_rel_error = 1e-3;
  double max_rel_error_low_precision = 5e-2;
  bool skip_equivalence = false;  // benchmarks of the stages alone
  nlohmann::json* report = nullptr;  // receives the report, with timings
  // When set, receives each applied mapping's scales (CPU), keyed "<stage index>:<smooth layer>".
  std::map<std::string, at::Tensor>* scales = nullptr;
};

// Returns the artifact metadata: {"equivalence": {...metrics, "tolerance", "passed": true},
// "stages": [...], "timings_s": {...}, "device"}. Errors: invalid_argument for a quantized
// source, mappings the model cannot take (named), bad calibration; kFailedCheck when the
// equivalence check fails. May throw c10::Error (out of memory); the step runner catches it.
Result<nlohmann::json> run_smooth(const SmoothRequest& req);

}  // namespace qb::quant
