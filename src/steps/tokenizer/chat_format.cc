// Qwen3 ChatML rendering; see chat_format.h.
#include "steps/tokenizer/chat_format.h"

namespace qb::tok {

std::string format_chat_prompt(std::string_view user, const ChatOptions& options) {
  std::string out;
  out.reserve(user.size() + (options.system ? options.system->size() : 0) + 96);
  if (options.system) {
    out += "<|im_start|>system\n";
    out += *options.system;
    out += "<|im_end|>\n";
  }
  out += "<|im_start|>user\n";
  out += user;
  out += "<|im_end|>\n<|im_start|>assistant\n";
  if (!options.enable_thinking) out += "<think>\n\n</think>\n\n";
  return out;
}

}  // namespace qb::tok
