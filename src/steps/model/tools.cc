#include "steps/model/tools.h"

#include "steps/tokenizer/chat_format.h"

namespace qb::model {

Result<TextGeneration> generate_text(const Model& model, const tok::Tokenizer& tokenizer,
                                     std::string_view prompt, const TextOptions& options) {
  std::string text(prompt);
  GenerateOptions gen;
  gen.max_new_tokens = options.max_new_tokens;
  if (options.chat) {
    tok::ChatOptions chat;
    chat.enable_thinking = options.enable_thinking;
    text = tok::format_chat_prompt(prompt, chat);
    for (std::string_view stop : tok::kChatStopTokens)
      if (auto id = tokenizer.token_to_id(stop)) gen.stop_token_ids.push_back(*id);
  }
  TextGeneration out;
  for (int32_t id : tokenizer.encode(text)) out.prompt_ids.push_back(id);
  if (out.prompt_ids.empty()) return invalid_argument("the prompt encodes to no tokens");
  // Like vLLM's max_model_len: a request that cannot fit is refused before a cache is sized
  // for it (an absurd budget would otherwise end in an allocation failure).
  const int64_t max_pos = model.config().max_position_embeddings;
  const int64_t want = static_cast<int64_t>(out.prompt_ids.size()) + options.max_new_tokens;
  if (max_pos > 0 && (options.max_new_tokens > max_pos || want > max_pos))
    return invalid_argument("the prompt's " + std::to_string(out.prompt_ids.size()) + " tokens + " +
                            std::to_string(options.max_new_tokens) +
                            " new tokens exceed the model's max_position_embeddings of " +
                            std::to_string(max_pos) + "; lower --max-new-tokens");
  QB_ASSIGN_OR_RETURN_CTX(std::vector<Generation> g, generate_greedy(model, {out.prompt_ids}, gen),
                          "prompt tokenized by " + tokenizer.origin());
  out.output_ids = g[0].tokens;
  out.finish = g[0].finish;
  out.stop_token = g[0].stop_token;
  const std::vector<int32_t> ids(out.output_ids.begin(), out.output_ids.end());
  out.text = tokenizer.decode(ids);
  return out;
}

namespace {
Result<Model> load_tool_model(const ToolModelOptions& o) {
  LoadOptions lo;
  QB_ASSIGN_OR_RETURN(lo.device, parse_device(o.device));
  QB_ASSIGN_OR_RETURN(lo.dtype, parse_dtype_option(o.dtype));
  return Model::load(o.model_dir, lo);
}
}  // namespace

Result<TextGeneration> run_generate(const ToolModelOptions& model_opts,
                                    const std::filesystem::path& tokenizer_path,
                                    std::string_view prompt, const TextOptions& options) {
  QB_ASSIGN_OR_RETURN(Model model, load_tool_model(model_opts));
  QB_ASSIGN_OR_RETURN(tok::Tokenizer tokenizer,
                      tok::Tokenizer::load(tokenizer_path.empty() ? model_opts.model_dir
                                                                  : tokenizer_path));
  return generate_text(model, tokenizer, prompt, options);
}

Result<nlohmann::json> run_logits(const ToolModelOptions& model_opts,
                                  const std::vector<std::vector<int64_t>>& batch) {
  QB_ASSIGN_OR_RETURN(Model model, load_tool_model(model_opts));
  QB_ASSIGN_OR_RETURN(at::Tensor logits, last_logits(model, batch));  // [B, V] fp32 CPU
  const at::Tensor c = logits.contiguous();
  nlohmann::json rows = nlohmann::json::array();
  const float* p = c.data_ptr<float>();
  for (int64_t b = 0; b < c.size(0); ++b)
    rows.push_back(std::vector<float>(p + b * c.size(1), p + (b + 1) * c.size(1)));
  return nlohmann::json{{"logits_last", rows}};
}

}  // namespace qb::model
