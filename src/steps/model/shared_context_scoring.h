// Log-likelihood scoring with shared contexts: a multiple-choice item scores several
// continuations (" A" .. " D") after one context, and score_continuations() runs the context
// once per continuation. Here each distinct context is prefilled once into a KV cache; its rows
// are copied (KvCache::copy_rows) to one row per continuation, and only the continuations'
// tokens but the last run on top. A one-token continuation (MMLU's letters) needs no forward
// of its own at all: its log-probability comes from the context's last position. For four
// choices this is about four times less prefill.
//
// The scores are those of score_continuations() up to low-precision arithmetic (the same
// layers over the same keys and values, in other batch shapes): on the CPU fixtures within a
// few ulps (tests/model/continuous_batching_test.cc).
#pragma once

#include <vector>

#include "steps/model/generate.h"
#include "util/status.h"

namespace qb::model {

// As score_continuations(reqs), with requests of identical context sharing its prefill.
// Errors: as score_continuations(). May throw c10::Error (device failures).
Result<std::vector<ContinuationScore>> score_continuations_shared(const Model& model,
                                                                  const std::vector<ScoreRequest>& reqs);

}  // namespace qb::model
