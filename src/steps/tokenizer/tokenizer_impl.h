// The state behind a Tokenizer (private to this folder): built by tokenizer_load.cc, used by
// tokenizer.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "steps/tokenizer/added_tokens.h"
#include "steps/tokenizer/bpe.h"
#include "steps/tokenizer/normalizer.h"
#include "steps/tokenizer/pre_tokenizer.h"
#include "steps/tokenizer/tokenizer.h"

namespace qb::tok {

enum class IdKind : std::uint8_t { kNone, kVocab, kAdded, kSpecial };

struct Tokenizer::Impl {
  std::string origin;
  NormalizerKind normalizer = NormalizerKind::kNone;
  PreTokenizer pre_tokenizer;
  BpeModel bpe;

  std::vector<AddedToken> added;  // sorted by id
  Vocab added_by_content;
  AddedTokenMatcher raw_matcher;         // normalized: false
  AddedTokenMatcher normalized_matcher;  // normalized: true, matched in normalized text

  // Indexed by id, size vocab_size.
  std::vector<std::string> id_to_token;
  std::vector<std::string> token_bytes;
  std::vector<IdKind> kinds;

  std::optional<std::int32_t> eos, pad, bos;
};

}  // namespace qb::tok
