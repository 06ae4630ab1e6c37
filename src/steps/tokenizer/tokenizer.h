// A byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json (Qwen2/Qwen3, GPT-2,
// Llama-3 style), producing the same ids as the `tokenizers` package (pinned 0.23.3 in the
// golden tests) for the configurations it accepts.
//
// encode(text): added tokens are found in the raw text (added_tokens.h); the text between them
// is normalized (none or NFC), split by the pre-tokenizer (Split regexes, then ByteLevel) and
// each piece BPE-merged (bpe.h). No template tokens are added: the post_processor is ignored, as
// with `add_special_tokens=False` (Qwen's adds nothing anyway). Invalid UTF-8 in the input is
// first replaced by U+FFFD per maximal subpart, i.e. encode(b) == tokenizers.encode(
// b.decode("utf-8", "replace")); callers wanting an error check find_invalid_utf8() (utf8.h).
//
// decode(ids): each token's symbols are mapped back to bytes (a token with a code point outside
// the byte alphabet, e.g. an added token such as "<｜x｜>", contributes its own UTF-8), and the
// bytes are concatenated exactly; the result may be invalid UTF-8 when the ids cut a character
// (the `tokenizers` package would show U+FFFD there; to_valid_utf8() gives that). Ids outside
// the vocabulary are skipped, as there; check_ids() reports them.
//
// Accepted tokenizer.json: model BPE (no byte_fallback, no dropout, no subword prefix/suffix;
// merges as "a b" strings or [a, b] pairs; ignore_merges honoured); normalizer null, NFC or a
// Sequence of NFC; pre_tokenizer ByteLevel, or a Sequence of Split (Regex or String pattern,
// behaviour Isolated, invert false) steps ending with ByteLevel; decoder ByteLevel. Anything
// else is an error naming the file and the field.
//
// Thread-safe: a loaded Tokenizer is immutable apart from an internal, locked word cache; copies
// share it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "steps/tokenizer/added_tokens.h"
#include "util/status.h"

namespace qb::tok {

class Tokenizer {
 public:
  // `path`: a tokenizer.json file, or a directory holding tokenizer.json. tokenizer_config.json
  // is read when it sits in that directory (for a file: only when the file is named
  // tokenizer.json) and supplies eos/pad/bos ids.
  static Result<Tokenizer> load(const std::filesystem::path& path);

  // The same from memory; `origin` / `config_origin` name the sources in error messages;
  // `config_json` may be empty (no config).
  static Result<Tokenizer> from_json(std::string_view tokenizer_json, const std::string& origin,
                                     std::string_view config_json = {},
                                     const std::string& config_origin = "tokenizer_config.json");

  // Ids of `text`. allow_special=false treats special added tokens in the text as plain text
  // (the `tokenizers` package's encode_special_tokens=True); non-special added tokens such as
  // Qwen's <think> still match.
  std::vector<std::int32_t> encode(std::string_view text, bool allow_special = true) const;

  // The bytes the ids stand for; skip_special drops special added tokens.
  std::string decode(std::span<const std::int32_t> ids, bool skip_special = false) const;
  // The bytes of one token ("" for an id outside the vocabulary).
  const std::string& token_bytes(std::int32_t id) const;

  // Ok when every id names a token; else "id 999999 at position 2 is not in the vocabulary
  // (ids 0..151668)".
  Status check_ids(std::span<const std::int32_t> ids) const;

  // The id of a vocabulary symbol string ("Ġhello") or an added token's content.
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // The symbol string or added-token content of `id`; "" when there is none.
  std::string id_to_token(std::int32_t id) const;
  // One past the largest id (vocabulary and added tokens): 151,669 for Qwen3.
  std::int32_t vocab_size() const;

  const std::vector<AddedToken>& added_tokens() const;  // in id order
  std::vector<AddedToken> special_tokens() const;       // those with special=true
  bool is_special(std::int32_t id) const;

  // From tokenizer_config.json (eos_token, pad_token, bos_token), when present and not null.
  std::optional<std::int32_t> eos_id() const;
  std::optional<std::int32_t> pad_id() const;
  std::optional<std::int32_t> bos_id() const;

  const std::string& origin() const;  // the path it was loaded from

  struct Impl;

 private:
  Tokenizer() = default;  // only load() / from_json() make one
  std::shared_ptr<const Impl> impl_;
};

}  // namespace qb::tok
