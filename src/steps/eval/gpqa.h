// GPQA-Diamond as evalscope 1.12.0 evaluates it (benchmarks/gpqa/gpqa_adapter.py, zero-shot):
// the rows of AI-ModelScope/gpqa_diamond (its only split, "train"; columns Question,
// Correct Answer, Incorrect Answer 1..3), each question's four answers stripped and shuffled by
// random.Random(seed).shuffle with seed = the first 8 bytes (big-endian) of
// sha256(Question.strip()) — a fixed order per question, so the gold letter is reproducible —
// then MultipleChoiceTemplate.SINGLE_ANSWER_COT (MMLU's generative template) over the question
// as written; scored as MMLU (parse_answers over A..D). Torch-free; golden prompts from the real
// adapter: tests/golden/scripts/gpqa_oracle.py.
//
// Shuffle seeds (the dataset arg shuffle_seeds, spec/eval_spec.h): one answer order per seed k,
// so a score can be averaged over orders and reported with its spread. Seed 0 is evalscope's
// order above; seed k > 0 hashes "<k>:" + the stripped question instead (k in decimal, no
// padding) and shuffles the same list the same way. In Python (choices = [incorrect 1..3,
// correct], each preprocessed as the adapter does):
//   text = question.strip() if k == 0 else f"{k}:{question.strip()}"
//   seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
//   random.Random(seed).shuffle(choices)
// Golden orders: tests/golden/scripts/gpqa_oracle.py (its "shuffle_seeds" block).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qb::eval {

// FIPS 180-4 SHA-256 of `data`.
std::array<uint8_t, 32> sha256(std::string_view data);

// The adapter's _process_input: the four choices in their shuffled order and the gold index.
// `shuffle_seed` 0 is evalscope's order; k > 0 the derivation above.
struct GpqaChoices {
  std::vector<std::string> choices;
  int gold = 0;
};
GpqaChoices gpqa_shuffle(std::string_view question, const std::string* correct,
                         const std::array<const std::string*, 3>& incorrect,  // nullptr: Python's None
                         std::int64_t shuffle_seed = 0);

}  // namespace qb::eval
