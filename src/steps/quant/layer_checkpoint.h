// Resume of the quantize step at decoder-layer granularity (issue 16, as GPTQModel does;
// llm-compressor cannot): a step killed mid-way — a Slurm preemption or time limit, scancel,
// Ctrl-C, a crash — continues from its last finished layer when it runs again, instead of
// recalibrating an 8B model from layer 0.
//
// The folder is the node's partial folder (the store's partial/<key>/: kept when a step fails or
// is killed, deleted once its artifact is published; runner/step_runner.cc). The node key covers
// the model, the recipe, the calibration data and the device, so a checkpoint is only ever read
// back by a run that would compute the same layers.
//
// <dir>/layer-<NNNNN>/          one per finished decoder layer, written in a temporary folder and
//                               renamed into place whole (a kill leaves a whole layer or none)
//   outcomes.safetensors        per quantized Linear of the layer, "<module>:q" (int8 codes),
//                               ":scale", ":zero_point", and when present ":input_scale" (static
//                               activations) and ":dequantized" (recipes that keep it);
//                               metadata "format" = "1" and "reports" = {module: its
//                               quant_report.json entry} as JSON (doubles round-trip exactly)
//   hidden.safetensors          calibrated runs: the calibration hidden states after the layer
//                               ("hidden:<batch>"), the next layer's input. Only the newest layer
//                               keeps it; the previous layer's is deleted once the new one is in
//                               place (8 GiB for an 8B model's default calibration in bf16).
// Resuming reads the layers 0, 1, ... while they read back; a layer that does not (torn, another
// format) ends the prefix and it and everything after it are recomputed. The resumed artifact is
// the same bytes as an uninterrupted run's (tests/quant/layer_resume_test.cc).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/quant/compressed_tensors.h"
#include "util/status.h"

namespace qb::quant {

inline constexpr int kLayerCheckpointFormat = 1;

// One quantized Linear: what the write phase needs, and its report entry.
struct LinearOutcome {
  QuantizedLinear ql;
  nlohmann::json report;
};

class LayerCheckpoints {
 public:
  explicit LayerCheckpoints(std::filesystem::path dir) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }

  struct Resumed {
    std::int64_t layers = 0;                       // layers [0, layers) are finished
    std::map<std::string, LinearOutcome> outcomes;  // their Linears, by module name (on the CPU)
    std::vector<at::Tensor> hidden;                 // with_hidden: the states after layers - 1
  };
  // The finished prefix of at most `num_layers` layers. With `with_hidden` the prefix ends at the
  // newest layer whose hidden states read back (a calibrated run resumes only from there).
  // Unreadable checkpoints are not errors: they shorten the prefix (logged).
  Resumed load(std::int64_t num_layers, bool with_hidden) const;

  // Records layer `layer` as finished: its Linears' outcomes and, for a calibrated run, the
  // hidden states after it (then drops the previous layer's).
  Status save(std::int64_t layer, const std::map<std::string, const LinearOutcome*>& outcomes,
              const std::vector<at::Tensor>* hidden) const;

  std::filesystem::path layer_dir(std::int64_t layer) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace qb::quant
