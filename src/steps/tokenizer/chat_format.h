// The prompt Qwen3's chat template renders for one user turn (optionally after a system
// message) with add_generation_prompt=True, as transformers' apply_chat_template produces it:
//
//   [<|im_start|>system\n{system}<|im_end|>\n]<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n
//
// followed by "<think>\n\n</think>\n\n" when thinking is disabled (enable_thinking=False). The
// contents are inserted verbatim (the template does no escaping; special-token text in them is
// then matched as special tokens by encode(..., allow_special=true)). Checked against the real
// template in tests/golden/tokenizer/chat_expected.jsonl.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace qb::tok {

struct ChatOptions {
  std::optional<std::string> system;  // a system message before the user turn
  bool enable_thinking = true;        // false appends the empty <think> block
};

std::string format_chat_prompt(std::string_view user, const ChatOptions& options = {});

// Generation ends at either token (Qwen3's generation_config eos_token_id list).
inline constexpr std::array<std::string_view, 2> kChatStopTokens = {"<|im_end|>",
                                                                    "<|endoftext|>"};

}  // namespace qb::tok
