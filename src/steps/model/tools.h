// The library side of the `qbuild generate` and `qbuild logits` tools: load, run, return
// results (the CLI prints them). Text is tokenized with qb::tok; the chat format is Qwen's ChatML
// (steps/tokenizer/chat_format.h), whose turn ends at <|im_end|> or <|endoftext|>.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/model/device.h"
#include "steps/model/generate.h"
#include "steps/model/model.h"
#include "steps/tokenizer/tokenizer.h"
#include "util/status.h"

namespace qb::model {

struct TextOptions {
  bool chat = false;             // wrap the prompt in ChatML for one user turn
  bool enable_thinking = false;  // chat only: false appends Qwen3's empty <think> block
  int64_t max_new_tokens = 64;
};

struct TextGeneration {
  std::string text;                 // the continuation's bytes (stop token excluded)
  std::vector<int64_t> prompt_ids;  // what the model saw
  std::vector<int64_t> output_ids;  // generated ids (stop token excluded)
  FinishReason finish = FinishReason::kLength;
  int64_t stop_token = -1;
};

// Greedy continuation of one text prompt. Chat mode adds the tokenizer's <|im_end|> and
// <|endoftext|> ids (when it has them) to the stop tokens; the model's eos ids always stop.
// Errors: a prompt id outside the model's vocabulary (tokenizer and model do not match).
Result<TextGeneration> generate_text(const Model& model, const tok::Tokenizer& tokenizer,
                                     std::string_view prompt, const TextOptions& options);

struct ToolModelOptions {
  std::filesystem::path model_dir;
  std::string device = "cpu";
  std::string dtype;  // "" = the checkpoint's
};

// `qbuild generate`: tokenizer from `tokenizer_path`, or the model directory when empty.
Result<TextGeneration> run_generate(const ToolModelOptions& model_opts,
                                    const std::filesystem::path& tokenizer_path,
                                    std::string_view prompt, const TextOptions& options);

// `qbuild logits`: {"logits_last": [[V floats] per sequence]} at each sequence's last position.
Result<nlohmann::json> run_logits(const ToolModelOptions& model_opts,
                                  const std::vector<std::vector<int64_t>>& batch);

}  // namespace qb::model
