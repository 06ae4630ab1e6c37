// The pre-tokenizer of a byte-level BPE tokenizer.json: zero or more Split steps (a regex,
// behaviour "Isolated": every match and every gap between matches becomes a piece), then the
// ByteLevel step (an optional prefix space for each piece not starting with one, then, with
// `use_regex`, a split by GPT-2's own pattern). Qwen2/Qwen3 and Llama-3 use [Split, ByteLevel
// without regex]; GPT-2 uses ByteLevel alone with its regex.
//
// The mapping of bytes to the byte-level alphabet, ByteLevel's last part, is fused into the BPE
// model (bpe.h): pieces stay raw bytes here.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "steps/tokenizer/regex.h"

namespace qb::tok {

// ByteLevel's own pattern (`use_regex: true`), as in GPT-2.
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class PreTokenizer {
 public:
  PreTokenizer() = default;
  // `splits`: the Split steps in order; `byte_level_regex`: set when ByteLevel has use_regex.
  PreTokenizer(std::vector<Regex> splits, bool add_prefix_space,
               std::optional<Regex> byte_level_regex)
      : splits_(std::move(splits)),
        add_prefix_space_(add_prefix_space),
        byte_level_regex_(std::move(byte_level_regex)) {}

  // Appends the pieces of `text` (valid UTF-8) to `pieces`. Pieces view `text`, or `arena` for
  // pieces that got a prefix space; both must outlive their use.
  void split(std::string_view text, std::vector<std::string_view>& pieces,
             std::deque<std::string>& arena) const;

 private:
  std::vector<Regex> splits_;
  bool add_prefix_space_ = false;
  std::optional<Regex> byte_level_regex_;
};

}  // namespace qb::tok
