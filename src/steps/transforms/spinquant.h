// The SpinQuant transform step: source Hugging Face model → rotated fp32 model.
//
//   load       open the checkpoint, read its config, build the plan (spinquant_plan.h)
//   fuse       untie, center (optional), fuse RMSNorms, rotate R1/R2/R4 — float64 on the device,
//              tensor by tensor (fusion.h); results kept as fp32 on the CPU
//   check      source and transformed model (fp32, on the device, via qb::model) on fixed
//              prompts; kFailedCheck when max_rel_error exceeds the tolerance (equivalence.h)
//   save       fp32 checkpoint (qb::model_io::save_checkpoint), config.json with the
//              compressed-tensors transform_config (transform_config.h), the source's other
//              small files (tokenizer, chat template…) copied
// Nothing is written when a stage fails. The step runner gives output_dir as a fresh temporary
// directory and publishes it on success.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/model_io/checkpoint.h"
#include "steps/transforms/spinquant_params.h"
#include "util/status.h"

namespace qb::transforms {

struct EquivalenceOptions {
  // The step fails when max over prompts of ‖Δlogits‖/‖logits‖ exceeds this. fp32 storage of
  // float64 rotations leaves ~1e-6 (tiny models) to ~1e-4 (36 layers); a wrong rotation ~1.
  double max_rel_error = 1e-3;
  std::vector<std::string> prompts;              // text, encoded with the source's tokenizer.json
  std::vector<std::vector<int64_t>> prompt_ids;  // token ids, used as given (after `prompts`)
  // Both empty: default_prompt_ids(vocab_size) (equivalence.h).
};

struct SpinQuantRequest {
  std::filesystem::path input_dir;   // a Hugging Face model directory (unquantized)
  std::filesystem::path output_dir;  // created if needed
  SpinQuantParams params;
  at::Device device = at::kCPU;
  EquivalenceOptions equivalence;
  model_io::SaveOptions save;
};

// Runs the step. Returns the artifact metadata:
//   {"params": SpinQuantParams::to_json(), "rotations": {"R1": {"type", "size", "block_size"[, "seed"]}, …},
//    "equivalence": {max_rel_error, max_abs_logit_diff, mean_kl, top1_agreement, num_prompts,
//                    num_tokens, "tolerance", "passed": true},
//    "timings_s": {"load", "fuse_rotate", ["to_host",] "equivalence", "save"}, "device": "cpu"}
// (tensors are read inside the fusion loop, one at a time; "load" counts those reads, including
// the copy to the device, "to_host" (GPU only) the copies of the fp32 results back to host
// memory, and "fuse_rotate" the rest of the loop: the float64 fusion and rotations.)
// Errors: invalid_argument for a quantized/already transformed source or parameters the model
// cannot take (named rotation and size); kFailedCheck when the equivalence check fails (the
// message carries the metrics); I/O errors from reading and writing checkpoints.
Result<nlohmann::json> run_spinquant(const SpinQuantRequest& request);

}  // namespace qb::transforms
