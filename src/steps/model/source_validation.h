// Validating a source model folder (a Hugging Face checkpoint from data/models/) before any step
// works on it, so that a corrupt or inconsistent download fails at its first consumer (the trans,
// quant and base_eval steps) with an error naming the file and the tensor, instead of being
// quantized and published, to fail only in the eval or in vLLM.
//
// Checked (every problem is reported, up to kMaxSourceProblems, before stopping):
//   config.json      parses as a ModelConfig: sizes positive, below model_config.h's bounds and
//                    consistent (heads divisible by KV heads, head_dim even); bos/eos ids inside
//                    vocab_size (config.json and generation_config.json); not already quantized
//                    (a quantization_config holding only a transform_config is accepted)
//   weights          safetensors headers and index (Checkpoint::open); every tensor the config
//                    implies present, with the shape it implies and a float dtype (F32, BF16,
//                    F16, F64); no NaN or Inf in any floating tensor (the first bad element is
//                    named). Tensors the config does not imply are ignored, as the loader does.
//   tokenizer.json   present, loadable (tokenizer.h), its ids (vocabulary + added tokens) fit
//                    in vocab_size
// Messages look like "<dir>/model-00002-of-00004.safetensors: tensor
// 'model.layers.3.self_attn.q_proj.weight': shape [4096, 512] but config.json implies
// [4096, 4096]". The NaN/Inf scan reads every weight byte once (model_io/non_finite.h).
#pragma once

#include <filesystem>

#include "util/status.h"

namespace qb::model {

inline constexpr int kMaxSourceProblems = 20;

// Ok, or invalid_argument (not_found for a missing folder or config.json) listing the problems.
Status validate_source_model(const std::filesystem::path& dir);

}  // namespace qb::model
