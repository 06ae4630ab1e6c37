// Calibration samples: token-id sequences drawn reproducibly from a text source.
//
//   txt    the whole file is one token stream (encoded without special tokens); num_samples
//          windows of exactly seq_len tokens start at offsets drawn uniformly from
//          [0, n - seq_len] by a std::mt19937_64 seeded with `seed` (the GPTQ / QuaRot
//          convention for WikiText-2). Fails when the stream is shorter than seq_len.
//   jsonl  one JSON object per line; its "text" field (else "prompt", as in qbuild's frozen
//          eval sets) is one document, encoded and truncated to seq_len tokens (llm-compressor's
//          convention: one document per sample, no packing); empty documents are skipped; the
//          documents are shuffled with the seeded generator and the first num_samples kept.
//          Fails when fewer usable documents exist.
//   dataset (a benchmark directory) is not implemented: use a .txt or .jsonl file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "steps/quant/recipe.h"
#include "steps/tokenizer/tokenizer.h"
#include "util/status.h"

namespace qb::quant {

using Sample = std::vector<std::int32_t>;

// Errors name the file (and line for jsonl).
Result<std::vector<Sample>> load_calibration(const CalibrationSettings& settings,
                                             const std::filesystem::path& source,
                                             const tok::Tokenizer& tokenizer);

// The same from text already in memory (`origin` names it in errors).
Result<std::vector<Sample>> calibration_from_text(const CalibrationSettings& settings,
                                                  std::string_view text, const std::string& origin,
                                                  const tok::Tokenizer& tokenizer);

}  // namespace qb::quant
