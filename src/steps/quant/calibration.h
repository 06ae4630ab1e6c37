// Calibration samples: token-id sequences drawn reproducibly from a text source.
//
//   txt    the whole file is one token stream of n tokens (encoded without special tokens);
//          num_samples windows of exactly seq_len tokens, drawn as GPTQ's and QuaRot's
//          get_wikitext2 draw them:
//              random.seed(seed)
//              for _ in range(num_samples):
//                  i = random.randint(0, n - seq_len - 1); window = stream[i : i + seq_len]
//          (so the last possible start, n - seq_len, is never drawn, as there). Fails unless
//          n > seq_len.
//   jsonl  one JSON object per line; its "text" field (else "prompt", as in qbuild's frozen
//          eval sets) is one document, encoded and truncated to seq_len tokens (llm-compressor's
//          convention: one document per sample, no packing); empty documents are skipped; then
//              random.seed(seed); random.shuffle(documents); documents[:num_samples]
//          Fails when fewer usable documents exist.
//   dataset (a benchmark directory) is not implemented: use a .txt or .jsonl file.
//
// "random" is CPython's (qb::PyRandom: MT19937, init_by_array seeding, _randbelow by
// rejection on getrandbits): all integer arithmetic, so the samples are the same on every
// platform and standard library. (std::uniform_int_distribution and std::shuffle, used before,
// are implementation-defined: libstdc++ and libc++ draw different windows from the same seed.)
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
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

// The draws themselves (tests pin them against CPython): the start of each txt window in a
// stream of n tokens (requires n > seq_len, n - seq_len < 2^32), and the order random.shuffle
// leaves range(n) in (n < 2^32).
std::vector<std::int64_t> window_starts(std::uint64_t seed, std::int64_t n, std::int64_t seq_len,
                                        std::int64_t num_samples);
std::vector<std::int64_t> shuffled_order(std::uint64_t seed, std::int64_t n);

// The order in which llm-compressor 0.14.0.1's oneshot feeds a calibration set to the model
// when called with shuffle_calibration_samples=False and batch_size=1: its LengthAwareSampler
// takes torch.argsort(lengths, descending=True) — an UNSTABLE sort, so equal-length samples
// (all of them, for txt windows) come out scrambled. PyTorch's CPU sort is libstdc++'s
// std::sort (introsort: median-of-three quicksort down to 16 elements, heapsort past a depth of
// 2·log2(n), a final insertion sort) on (length, index) pairs compared by length alone; that
// algorithm is written out here step for step, so the order does not depend on the standard
// library qbuild is built with. Returns sample indices in feeding order.
// (With the default shuffle_calibration_samples=True, oneshot draws a RandomSampler from
// torch's global RNG, which it does not seed: that order is not reproducible at all.)
std::vector<std::int64_t> length_aware_order(const std::vector<std::int64_t>& lengths);

// The samples a calibrated step runs on, in the order llm-compressor's oneshot feeds them
// (length_aware_order): `given` when not empty (tests, golden runs), else drawn from `source`
// with the tokenizer of `tokenizer_dir`. Errors: no samples, an id outside [0, vocab_size)
// ("<who>: calibration token id 300 is outside the vocabulary (256)").
Result<std::vector<Sample>> prepare_samples(const std::string& who, std::vector<Sample> given,
                                            const std::optional<CalibrationSettings>& settings,
                                            const std::filesystem::path& source,
                                            const std::filesystem::path& tokenizer_dir,
                                            std::int64_t vocab_size);

// Consecutive equal-length samples grouped into batches of at most `batch_size`: int64 [b, T]
// on the CPU, in order.
std::vector<at::Tensor> batch_samples(const std::vector<Sample>& samples, std::int64_t batch_size);

// The same from text already in memory (`origin` names it in errors).
Result<std::vector<Sample>> calibration_from_text(const CalibrationSettings& settings,
                                                  std::string_view text, const std::string& origin,
                                                  const tok::Tokenizer& tokenizer);

}  // namespace qb::quant
